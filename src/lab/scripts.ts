/**
 * The shell/perl programs that build and run the namespace fleet. They are plain text generated here and written
 * under the lab directory, so that the very same fleet runs on the machine (tier 1) and inside the VM (tier 2)
 * without a node process in the guest (node costs 1–2 s per start under TCG).
 */
import { q } from '../shell.ts';
import { bridgeName, switchPort, nsNames } from './paths.ts';
import { JUMP_ADDRESS, MGMT_NET, MGMT_PREFIX, type LabTopology } from './topology.ts';

/**
 * PID 1 of a host. Runs inside `nsenter --net=/run/netns/NS unshare --mount --uts --pid --fork --kill-child --propagation private`.
 * usage: host-init.sh HOSTDIR HOSTNAME MGMT_ADDRESS SSHDIR USR (ro | rw) INIT (plain | systemd) CGROUP
 */
export const HOST_INIT = `#!/bin/busybox sh
# lvsplay lab host init: private /etc /var /usr/local /run /root /tmp, own /proc and /sys, hostname, net.* sysctls only,
# sshd, then an orphan reaper or (lab_init: systemd) systemd as PID 1 in its own cgroup namespace, like a container.
# Tools are busybox applets (static): under TCG every dynamically linked exec costs ~0.3 s.
set -eu
H=$1 NAME=$2 ADDR=$3 SSH=$4 USR=$5 INIT=$6 CGROUP=$7
B=/bin/busybox
# keep a handle on the host dir: the lab dir may sit under /tmp, which gets covered below
cd "$H"
$B mount -t proc -o nosuid,nodev,noexec proc /proc
$B mount -t sysfs -o nosuid,nodev,noexec sysfs /sys
$B mount -t overlay overlay -o "lowerdir=/etc,upperdir=$H/etc.upper,workdir=$H/etc.work" /etc
$B mount -t overlay overlay -o "lowerdir=/var,upperdir=$H/var.upper,workdir=$H/var.work" /var
# /usr (with usrmerge: /bin /sbin /lib too) is the machine's: read-only, so a package install fails instead of
# changing the machine; or (lab_writable_usr) the host's own copy-on-write layer over it, where dpkg can install.
# /usr/local is the host's own either way (scripts a playbook installs there, e.g. health checks)
if [ "$USR" = rw ]; then
  $B mount -t overlay overlay -o "lowerdir=/usr,upperdir=$H/usr.upper,workdir=$H/usr.work" /usr
else
  $B mount -o rbind /usr /usr
  $B mount -o remount,bind,ro /usr
fi
$B mount -t overlay overlay -o "lowerdir=/usr/local,upperdir=$H/usrlocal.upper,workdir=$H/usrlocal.work" /usr/local
$B mount -t tmpfs -o mode=755,nosuid,nodev tmpfs /run
$B mkdir -p /run/sshd /run/lock /run/lvsplay
$B cp "$SSH/host_ed25519_key" "$SSH/authorized_keys" "$SSH/host_sshd_config" /run/lvsplay/
$B chmod 600 /run/lvsplay/host_ed25519_key
# never the machine's /root (its dotfiles and credentials)
$B mount -t tmpfs -o mode=700 tmpfs /root
$B mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /tmp
if [ "$INIT" = systemd ]; then
  # a private /dev: systemd creates /dev/log and mounts on /dev/*, none of which may reach the machine's /dev
  $B mkdir -p /run/lvsplay/dev
  $B mount -o rbind /dev /run/lvsplay/dev
  $B mount -t tmpfs -o mode=755,nosuid tmpfs /dev
  for n in null zero full random urandom tty; do : > /dev/$n; $B mount -o bind /run/lvsplay/dev/$n /dev/$n; done
  $B umount -l /run/lvsplay/dev
  $B mkdir -p /dev/pts /dev/shm
  $B mount -t devpts -o newinstance,ptmxmode=0666,mode=0620 devpts /dev/pts
  $B ln -s pts/ptmx /dev/ptmx
  $B ln -s /proc/self/fd /dev/fd
  # the host's own cgroup, which sshd and everything after it inherit; systemd gets a cgroup namespace rooted there
  $B mount -t cgroup2 -o nosuid,nodev,noexec cgroup2 /sys/fs/cgroup
  $B mkdir -p "/sys/fs/cgroup/$CGROUP"
  echo $$ > "/sys/fs/cgroup/$CGROUP/cgroup.procs"
fi
$B mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /dev/shm
$B hostname "$NAME"
echo "$NAME" > /etc/hostname
# /proc/sys read-only except net.* (those belong to this host's network namespace)
$B mount -o bind /proc/sys /proc/sys
$B mount -o remount,bind,ro /proc/sys
$B mount -o bind /proc/sys/net /proc/sys/net
$B mount -o remount,bind,rw /proc/sys/net
/usr/sbin/sshd -f /run/lvsplay/host_sshd_config -o "ListenAddress=$ADDR"
# listening on port 22 (0x0016) in this namespace
i=0
until $B grep -q '^ *[0-9]*: [0-9A-F]*:0016 [0-9A-F]*:0000 0A' /proc/net/tcp; do
  i=$((i + 1)); [ $i -lt 600 ] || { echo "sshd did not listen on $ADDR:22" >&2; exit 1; }
  $B sleep 0.1
done
if [ "$INIT" = systemd ]; then
  # a minimal boot: a target of our own, and units that would act on the machine rather than on this host masked
  # (remounting the shared root, loading kernel modules, udev, kernel file systems, binfmt, global sysctls, the
  # clock) or reconfigure its network behind the lab's back
  $B mkdir -p /etc/systemd/system
  for u in systemd-remount-fs.service systemd-modules-load.service systemd-sysctl.service systemd-udevd.service \
    systemd-udev-trigger.service systemd-udev-settle.service systemd-binfmt.service proc-sys-fs-binfmt_misc.automount \
    proc-sys-fs-binfmt_misc.mount sys-kernel-debug.mount sys-kernel-tracing.mount sys-kernel-config.mount \
    sys-fs-fuse-connections.mount dev-hugepages.mount dev-mqueue.mount systemd-random-seed.service \
    systemd-journald-audit.socket systemd-hwdb-update.service systemd-firstboot.service ldconfig.service \
    getty.target console-getty.service systemd-logind.service systemd-timesyncd.service systemd-pstore.service \
    e2scrub_reap.service networking.service systemd-networkd.service NetworkManager.service systemd-resolved.service; do
    $B ln -sf /dev/null "/etc/systemd/system/$u"
  done
  printf '[Unit]\nDescription=lvsplay lab host %s\nDefaultDependencies=no\n' "$NAME" > /etc/systemd/system/lvsplay-lab.target
  # ready once systemd has finished starting (the service step asks systemd only when /run/systemd/system exists)
  ( i=0
    until [ -d /run/systemd/system ] && case "$($B timeout 60 systemctl is-system-running --wait 2>/dev/null)" in running|degraded) true;; *) false;; esac; do
      i=$((i + 1)); [ $i -lt 600 ] || exit 1; $B sleep 0.1
    done
    : > ready ) &
  exec /usr/bin/unshare --cgroup $B sh -c "$B umount /sys/fs/cgroup && $B mount -t cgroup2 -o nosuid,nodev,noexec cgroup2 /sys/fs/cgroup && exec env container=lvsplay-lab /lib/systemd/systemd --system --unit=lvsplay-lab.target"
fi
: > ready
# minimal init: reap every orphan until killed (teardown sends SIGKILL to the unshare parent)
exec perl -e '$SIG{CHLD} = sub {}; while (1) { sleep 3600 if waitpid(-1, 0) <= 0 }'
`;

/**
 * Loopback forwarder for the jump host, inetd style: per accepted connection it runs CMD with the socket as
 * stdin/stdout (CMD = nsenter --net=/run/netns/CTL sshd -i), so the listening socket lives in the root namespace while every
 * ssh session lives in the control namespace. perl is Essential on Debian: no extra package.
 * usage: jump.pl ADDR PORT READYFILE CMD...
 */
export const JUMP_PL = `#!/usr/bin/perl
use strict;
use warnings;
use IO::Socket::INET;
my ($addr, $port, $ready, @cmd) = @ARGV;
my $srv = IO::Socket::INET->new(LocalAddr => $addr, LocalPort => $port, Proto => 'tcp', Listen => 128, ReuseAddr => 1)
  or die "lvsplay lab jump: cannot listen on $addr:$port: $@\\n";
open(my $f, '>', $ready) or die "$ready: $!\\n";
close $f;
$SIG{CHLD} = 'IGNORE';    # children are reaped by the kernel
while (1) {
  my $c = $srv->accept or next;
  my $pid = fork;
  if (defined $pid && $pid == 0) {
    $SIG{CHLD} = 'DEFAULT';    # sshd must wait for its own children
    close $srv;
    open(STDIN, '<&', $c) or die "stdin: $!\\n";
    open(STDOUT, '>&', $c) or die "stdout: $!\\n";
    close $c;
    exec(@cmd) or die "exec $cmd[0]: $!\\n";
  }
  close $c;
}
`;

const SSHD_COMMON = `PubkeyAuthentication yes
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
X11Forwarding no
AllowAgentForwarding no
PrintMotd no
PrintLastLog no
LogLevel ERROR
`;

/** sshd of a lab host (the orchestrator opens one connection per host, many sessions). */
export const HOST_SSHD_CONFIG = `# lvsplay lab host sshd
Port 22
HostKey /run/lvsplay/host_ed25519_key
AuthorizedKeysFile /run/lvsplay/authorized_keys
PidFile /run/sshd.pid
${SSHD_COMMON}MaxStartups 200
MaxSessions 100
AllowTcpForwarding yes
AcceptEnv LANG LC_*
Subsystem sftp /usr/lib/openssh/sftp-server
`;

/** sshd of the jump host, inetd mode: forwarding only, no sessions (MaxSessions 0), so it runs nothing. */
export function jumpSshdConfig(sshDir: string): string {
  return `# lvsplay lab jump host sshd (inetd mode, control namespace)
HostKey ${sshDir}/host_ed25519_key
AuthorizedKeysFile ${sshDir}/authorized_keys
PidFile none
${SSHD_COMMON}MaxSessions 0
PermitTTY no
AllowTcpForwarding local
PermitOpen any
`;
}

export interface FleetContext {
  binDir: string; // host-init.sh, jump.pl
  sshDir: string;
  hostsDir: string; // per-host upper/work dirs: must be on a real filesystem (not overlayfs)
  pidsFile: string;
  logFile: string;
  jumpListen: string; // 127.0.0.1 on the machine, 0.0.0.0 inside the VM (reached through hostfwd)
  jumpPort: number;
  jumpReady: string; // file written once the jump listens
  /** seconds to wait for every host's sshd */
  readyTimeout: number;
}

/** Every cgroup of lab ID starts with this (teardown removes them all). */
export function labCgroupPrefix(id: string): string {
  return `lvsplay-${id}-`;
}

/** The cgroup (under the cgroup2 root) of a lab host that runs systemd. */
function labCgroup(id: string, host: string): string {
  return labCgroupPrefix(id) + host;
}

/** The script that builds the whole fleet: namespaces, bridges, veths, addresses, hosts, the jump. */
/** the reachability check: hosts pinged at once, and tries per host (see upScript) */
const PING_WAVE = 32;
const PING_TRIES = 5;

export function upScript(t: LabTopology, id: string, c: FleetContext): string {
  const ns = nsNames(id);
  const L: string[] = [];
  const add = (s: string) => L.push(s);
  add(`#!/bin/sh
# generated by lvsplay lab: builds the namespace fleet of lab ${id}
set -eu
PIDS=${q(c.pidsFile)}
B=/bin/busybox
# hosts and the jump start with a clean environment (not the one of whoever ran lab up)
PATH_CLEAN=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
# remember every process we start with its start time (/proc/PID/stat field 22), so that teardown kills exactly
# these; shell builtins only (every exec is slow under TCG)
started() {
  read -r s < "/proc/$3/stat"
  r=$1 n=$2 p=$3
  set -- \${s##*) }
  shift 19
  echo "$r $n $p $1" >> "$PIDS"
}
# progress with the uptime clock (builtins only)
stage() { read -r up _ < /proc/uptime; echo "[$up s] $*"; }
stage building ${t.hosts.length} hosts`);
  // namespaces (a failed step leaves only names teardown knows about)
  const all = [ns.switch, ns.ctl, ...t.hosts.map((h) => ns.host(h.name))];
  add(`ip -batch - <<'EOF'\n${all.map((n) => `netns add ${n}`).join('\n')}\nEOF`);

  // the switch: one bridge per net, ports to every host NIC and to the control namespace
  const sw: string[] = ['link set lo up'];
  t.nets.forEach((net, i) => {
    const br = bridgeName(net, i);
    sw.push(`link add ${br} type bridge stp_state 0 forward_delay 0 mcast_snooping 0`, `link set ${br} up`);
  });
  const bridgeOf = (net: string) => bridgeName(net, t.nets.indexOf(net));
  sw.push(`link add ctl0 type veth peer name eth0 netns ${ns.ctl}`, `link set ctl0 master ${bridgeOf(MGMT_NET)} up`);
  t.hosts.forEach((h, hi) =>
    h.nics.forEach((n, ni) => {
      const port = switchPort(hi, ni);
      sw.push(`link add ${port} type veth peer name ${n.name} netns ${ns.host(h.name)}`);
      sw.push(`link set ${port} master ${bridgeOf(n.net)} up`);
    }),
  );
  add(`ip -n ${ns.switch} -batch - <<'EOF'\n${sw.join('\n')}\nEOF`);
  add(`ip -n ${ns.ctl} -batch - <<'EOF'
link set lo up
addr add ${JUMP_ADDRESS}/${MGMT_PREFIX} dev eth0
link set eth0 up
EOF`);
  for (const h of t.hosts) {
    const b = ['link set lo up'];
    for (const n of h.nics) {
      // IPv6 without duplicate address detection: usable at once (no tentative phase), as the lab is built in one go
      for (const a of n.addresses) b.push(`addr add ${a} dev ${n.name}${a.includes(':') ? ' nodad' : ''}`);
      b.push(`link set ${n.name} up`);
    }
    // one default route per family (the IPv6 one spelled ::/0: a batch line has no -6)
    for (const g of h.gateways) b.push(`route add ${g.includes(':') ? '::/0' : 'default'} via ${g}`);
    add(`ip -n ${q(ns.host(h.name))} -batch - <<'EOF'\n${b.join('\n')}\nEOF`);
  }

  add('stage namespaces and links done');
  // hosts: setsid and nsenter are busybox (they exec, so $! is the unshare's pid); host-init mounts its own /sys
  const dirs = t.hosts.flatMap((h) =>
    ['etc.upper', 'etc.work', 'var.upper', 'var.work', 'usrlocal.upper', 'usrlocal.work', ...(h.writableUsr ? ['usr.upper', 'usr.work'] : [])].map((d) => q(`${c.hostsDir}/${h.name}/${d}`)),
  );
  add(`$B mkdir -p ${dirs.join(' ')}`);
  t.hosts.forEach((h, hi) => {
    const hd = `${c.hostsDir}/${h.name}`;
    add(`[ ! -e ${q(hd)}/ready ] || $B rm -f ${q(hd)}/ready
$B setsid $B env -i PATH="$PATH_CLEAN" $B nsenter --net=/run/netns/${q(ns.host(h.name))} /usr/bin/unshare --mount --uts --pid --fork --kill-child --propagation private \\
  $B sh ${q(c.binDir)}/host-init.sh ${q(hd)} ${q(h.name)} ${h.mgmt} ${q(c.sshDir)} ${h.writableUsr ? 'rw' : 'ro'} ${h.init} ${labCgroup(id, h.name)} </dev/null >${q(hd)}/log 2>&1 &
P${hi}=$!
started host ${q(h.name)} $P${hi}`);
  });

  // the jump host: a loopback listener whose sessions run in the control namespace. Its sshd uses the machine's
  // /run: create the privilege separation directory as openssh's tmpfiles.d does at boot (a machine without
  // systemd, or whose openssh-server was just installed, does not have it and sshd refuses to start)
  add(`[ -d /run/sshd ] || $B mkdir -m 0755 -p /run/sshd`);
  add(`$B setsid $B env -i PATH="$PATH_CLEAN" /usr/bin/unshare --pid --fork --kill-child /usr/bin/perl ${q(c.binDir)}/jump.pl ${c.jumpListen} ${c.jumpPort} ${q(c.jumpReady)} \\
  $B nsenter --net=/run/netns/${ns.ctl} /usr/sbin/sshd -i -f ${q(c.sshDir)}/jump_sshd_config </dev/null >>${q(c.logFile)} 2>&1 &
JUMP=$!
started jump - $JUMP`);

  add('stage hosts and jump started');
  // the jump listens once jump.pl wrote its ready file (ssh through it before that would be refused)
  add(`i=0
until [ -e ${q(c.jumpReady)} ]; do
  kill -0 $JUMP 2>/dev/null || { echo "the jump host exited (port ${c.jumpPort} in use?): see ${c.logFile}" >&2; exit 1; }
  i=$((i + 1))
  [ $i -le ${c.readyTimeout * 10} ] || { echo "the jump host did not listen on ${c.jumpListen}:${c.jumpPort}" >&2; exit 1; }
  $B sleep 0.1
done`);
  // wait for every host's sshd (each init writes HOSTDIR/ready once sshd listens); a host whose init died fails
  // at once, with its log
  add(`HOSTS=${q(c.hostsDir)}
check() {
  [ ! -e "$HOSTS/$1/ready" ] || return 0
  kill -0 "$2" 2>/dev/null || { echo "lab host $1 did not start:" >&2; $B tail -n 20 "$HOSTS/$1/log" >&2; exit 1; }
  missing="$missing $1"
}
i=0
while :; do
  missing=''
${t.hosts.map((h, hi) => `  check ${q(h.name)} $P${hi}`).join('\n')}
  [ -n "$missing" ] || break
  i=$((i + 1))
  if [ $i -gt ${c.readyTimeout * 10} ]; then
    echo "lab hosts not ready after ${c.readyTimeout}s:$missing" >&2
    for h in $missing; do echo "--- $h:" >&2; $B tail -n 5 "$HOSTS/$h/log" >&2 || true; done
    exit 1
  fi
  $B sleep 0.1
done
stage every host is ready
# every host answers from the jump's namespace (the path every ssh session takes); its sshd listens (ready).
# ping, not an ssh banner: each sshd re-execs per connection, seconds under TCG. At most ${PING_WAVE} at once, up to
# ${PING_TRIES} tries each: 200 simultaneous ARP broadcasts, each flooded to every bridge port, are 40,000 packets in
# a burst; the kernel's per-CPU backlog (net.core.netdev_max_backlog, 1000) drops some, and a single lost ARP
# or echo made a 200-host lab fail ("not reachable from the jump namespace") although every host was up.
bad=$($B nsenter --net=/run/netns/${ns.ctl} $B sh -c '
probe() { for t in ${Array.from({ length: PING_TRIES }, (_, i) => i + 1).join(' ')}; do /bin/busybox ping -c 1 -W 2 "$1" >/dev/null 2>&1 && return 0; done; echo "$1"; }
n=0
for a in "$@"; do probe "$a" & n=$((n + 1)); [ $((n % ${PING_WAVE})) -ne 0 ] || wait; done
wait' sh ${t.hosts.map((h) => h.mgmt).join(' ')})
if [ -n "$bad" ]; then echo "not reachable from the jump namespace:" $bad >&2; exit 1; fi
echo "lab ${id}: ${t.hosts.length} hosts ready"`);
  return L.join('\n') + '\n';
}
