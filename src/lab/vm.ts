/**
 * Tier 2: one QEMU/TCG VM with the Debian kernel (real IPVS) running the same namespace fleet inside.
 *
 * Boot: qboot + the uncompressed kernel (PVH entry), a small busybox initramfs that loads the virtio/9p/overlay
 * modules, mounts this machine's / read-only over 9p with a tmpfs overlay on top (the guest runs the machine's own
 * sshd, keepalived, ipvsadm, perl…), binds the unpacked kernel modules on /lib/modules and switch_roots into
 * guest-init.sh. That script loads modules through a busybox modprobe wrapper, brings up the user-net NIC and runs
 * the generated fleet script (the same one tier 1 runs; no node process in the guest: node costs 1–2 s per start
 * under TCG), then reports on a second, writable 9p share and stays PID 1. The jump host listens on the guest's
 * port 22, which QEMU forwards from 127.0.0.1:PORT on this machine; `restrict=on` keeps the guest off every
 * network but that one forward.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { q } from '../shell.ts';
import { run, runOk, LabError } from './run.ts';
import { ensureKernel, defaultCacheDir, moduleLoadOrder, parseModulesDep, type Kernel } from './kernel.ts';
import type { LabPaths } from './paths.ts';
import { upScript, type FleetContext } from './scripts.ts';
import { procStart, type ProcRecord } from './state.ts';
import type { LabTopology } from './topology.ts';

export const QEMU = 'qemu-system-x86_64';
const QBOOT = '/usr/share/qemu/qboot.rom';
/** loaded by the initramfs: enough to mount the 9p root and the overlay, and the NIC */
const INITRAMFS_MODULES = ['virtio_pci', 'virtio_net', '9pnet_virtio', '9p', 'overlay'];
/** loaded before the fleet is built; everything else (ipip, dummy, nat, ipset types, schedulers…) autoloads */
const PRELOAD_MODULES = ['veth', 'bridge', 'ip_vs', 'ip_vs_rr', 'ip_vs_wrr'];
const GUEST_STATE = '/run/lvsplay-lab';
/** seconds to wait for the guest's fleet (TCG on a busy 2-core machine) */
const BOOT_TIMEOUT = Number(process.env.LVSPLAY_LAB_VM_TIMEOUT ?? 600);

/** Why QEMU cannot run on this machine, or undefined when it can. */
export async function vmCannotRunReason(): Promise<string | undefined> {
  const v = await run(QEMU, ['--version']).catch((e: Error) => ({ code: 127, stdout: '', stderr: e.message }));
  if (v.code !== 0) return `${QEMU} does not run (${v.stderr.trim() || `exit ${v.code}`}); lvsplay lab install --vm installs it`;
  if (!existsSync(QBOOT)) return `${QBOOT} is missing (package qemu-system-data)`;
  return undefined;
}

export async function vmCheckCanRun(): Promise<void> {
  const why = await vmCannotRunReason();
  if (why) throw new LabError(`the VM tier cannot run: ${why}`);
}

export interface VmPaths {
  dir: string;
  share: string; // writable 9p share: fleet.rc, fleet.log, jump.log
  initrd: string;
  initramfsDir: string;
  guestInit: string;
  guestUp: string;
  console: string;
  pidFile: string;
}

function vmPaths(p: LabPaths): VmPaths {
  const d = p.vmDir;
  return {
    dir: d,
    share: path.join(d, 'share'),
    initrd: path.join(d, 'initrd.cpio'),
    initramfsDir: path.join(d, 'initramfs'),
    guestInit: path.join(d, 'guest-init.sh'),
    guestUp: path.join(d, 'guest-up.sh'),
    console: path.join(d, 'console.log'),
    pidFile: path.join(d, 'qemu.pid'),
  };
}

/** busybox /init: load modules, mount the 9p root under a tmpfs overlay, bind the modules, switch_root. */
export function initramfsInit(k: Kernel, modules: string[], v: VmPaths): string {
  return `#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in ${modules.map((m) => `/mods/${path.basename(m)}`).join(' ')}; do insmod $m || echo "insmod $m failed"; done
mkdir -p /lower /rw /newroot
mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=512000,cache=loose hostroot /lower || { echo 'cannot mount the 9p root'; poweroff -f; }
mount -t tmpfs -o mode=755 tmpfs /rw
mkdir -p /rw/upper /rw/work
mount -t overlay overlay -o lowerdir=/lower,upperdir=/rw/upper,workdir=/rw/work /newroot || { echo 'cannot mount the overlay root'; poweroff -f; }
mkdir -p /newroot/usr/lib/modules
mount --bind /newroot${k.modulesDir} /newroot/usr/lib/modules
mkdir -p /newroot${v.share}
mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000 labshare /newroot${v.share} || echo 'cannot mount the lab share'
umount /proc /sys
exec switch_root /newroot /bin/sh ${v.guestInit}
`;
}

/** PID 1 after switch_root: the guest's own mounts, modules, NIC, then the fleet. */
export function guestInit(v: VmPaths, version: string): string {
  return `#!/bin/sh
# lvsplay lab VM init
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
S=${q(v.share)}
B=/bin/busybox
stage() { read -r up _ < /proc/uptime; echo "[$up s] $*" >> $S/fleet.log; }
$B mount -t proc proc /proc
stage init
$B mount -t sysfs sys /sys
$B mount -t devtmpfs dev /dev 2>/dev/null
$B mkdir -p /dev/pts /dev/shm
$B mount -t devpts devpts /dev/pts
# not /tmp: the lab dir (scripts, keys, share) may live there, seen through the 9p root
for d in /run /root /dev/shm; do $B mount -t tmpfs -o mode=755 tmpfs $d; done
$B chmod 1777 /dev/shm
$B chmod 700 /root
$B mkdir -p ${GUEST_STATE}/hosts /run/sshd
# module autoload through busybox (kmod is not installed on the machine); under /usr (the guest's writable
# overlay root) so that hosts, which have their own /run, can call modprobe too
printf '#!/bin/busybox sh\nexec /bin/busybox modprobe "$@"\n' > /usr/sbin/lvsplay-modprobe
$B chmod 755 /usr/sbin/lvsplay-modprobe
echo /usr/sbin/lvsplay-modprobe > /proc/sys/kernel/modprobe
[ -e /usr/sbin/modprobe ] || $B ln -s lvsplay-modprobe /usr/sbin/modprobe
[ "$($B uname -r)" = ${q(version)} ] || echo "unexpected kernel $($B uname -r)" >> $S/fleet.log
for m in ${PRELOAD_MODULES.join(' ')}; do $B modprobe $m || echo "modprobe $m failed" >> $S/fleet.log; done
stage modules loaded
$B hostname lvsplay-lab-vm
$B ip link set lo up
$B ip link set eth0 up
$B ip addr add 10.0.2.15/24 dev eth0
stage network up, building the fleet
/bin/sh ${q(v.guestUp)} >> $S/fleet.log 2>&1
rc=$?
stage fleet exit $rc
echo $rc > $S/fleet.rc.tmp && $B mv $S/fleet.rc.tmp $S/fleet.rc
exec perl -e '$SIG{CHLD} = sub {}; while (1) { sleep 3600 if waitpid(-1, 0) <= 0 }'
`;
}

export function guestFleetContext(p: LabPaths, v: VmPaths): FleetContext {
  return {
    binDir: p.binDir,
    sshDir: p.sshDir,
    hostsDir: `${GUEST_STATE}/hosts`, // tmpfs in the guest: a real fs for the hosts' overlay upper dirs
    pidsFile: `${GUEST_STATE}/pids`,
    logFile: path.join(v.share, 'jump.log'),
    jumpListen: '0.0.0.0',
    jumpPort: 22,
    jumpReady: `${GUEST_STATE}/jump.ready`,
    readyTimeout: 300,
  };
}

async function buildInitramfs(k: Kernel, v: VmPaths): Promise<void> {
  const dep = parseModulesDep(readFileSync(path.join(k.modulesDir, k.version, 'modules.dep'), 'utf8'));
  const order = moduleLoadOrder(dep, INITRAMFS_MODULES);
  rmSync(v.initramfsDir, { recursive: true, force: true });
  for (const d of ['bin', 'mods', 'proc', 'sys', 'dev']) mkdirSync(path.join(v.initramfsDir, d), { recursive: true });
  copyFileSync('/bin/busybox', path.join(v.initramfsDir, 'bin', 'busybox'));
  for (const m of order) copyFileSync(path.join(k.modulesDir, k.version, m), path.join(v.initramfsDir, 'mods', path.basename(m)));
  writeFileSync(path.join(v.initramfsDir, 'init'), initramfsInit(k, order, v), { mode: 0o755 });
  await runOk('sh', ['-c', 'cd "$1" && find . | cpio -o -H newc --quiet > "$2"', 'sh', v.initramfsDir, v.initrd], { what: 'building the initramfs' });
}

export function qemuArgs(k: Kernel, v: VmPaths, port: number): string[] {
  return [
    '-name', 'lvsplay-lab',
    '-accel', 'tcg,thread=multi', '-cpu', 'max', '-smp', '2', '-m', '2048',
    '-nodefaults', '-no-user-config', '-display', 'none', '-no-reboot',
    '-serial', `file:${v.console}`,
    '-bios', QBOOT, '-kernel', k.vmlinux, '-initrd', v.initrd,
    '-append', 'console=ttyS0 panic=-1 quiet loglevel=3',
    '-virtfs', 'local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap',
    '-virtfs', `local,path=${v.share},mount_tag=labshare,security_model=none,multidevs=remap`,
    // restrict=on: the guest reaches nothing; the only way in is the jump's port on this machine's loopback
    '-netdev', `user,id=n0,restrict=on,hostfwd=tcp:127.0.0.1:${port}-:22`,
    '-device', 'virtio-net-pci,netdev=n0',
    '-daemonize', '-pidfile', v.pidFile,
  ];
}

export interface VmUp {
  info: { consoleLog: string; share: string };
  proc: ProcRecord;
  bootSeconds: number;
}

/** Boot the VM and build the fleet inside. `started` is called as soon as QEMU runs, to record it for teardown. */
export async function vmUp(p: LabPaths, t: LabTopology, log: (s: string) => void, started: (r: ProcRecord) => void): Promise<VmUp> {
  const k = await ensureKernel(defaultCacheDir(), log);
  const v = vmPaths(p);
  rmSync(v.share, { recursive: true, force: true });
  mkdirSync(v.share, { recursive: true });
  for (const f of [v.console, v.pidFile]) rmSync(f, { force: true });
  await buildInitramfs(k, v);
  writeFileSync(v.guestInit, guestInit(v, k.version), { mode: 0o755 });
  writeFileSync(v.guestUp, upScript(t, p.id, guestFleetContext(p, v)), { mode: 0o755 });

  log(`lab: booting the VM (QEMU/TCG, kernel ${k.version}); jump on 127.0.0.1:${t.jump.port}`);
  const t0 = performance.now();
  await runOk(QEMU, qemuArgs(k, v, t.jump.port), { what: 'starting QEMU' });
  const pid = Number(readFileSync(v.pidFile, 'utf8').trim());
  const start = procStart(pid);
  if (!start) throw new LabError(`QEMU exited right after starting; see ${v.console}`);
  const proc: ProcRecord = { role: 'vm', name: '-', pid, start };
  started(proc);

  const rcFile = path.join(v.share, 'fleet.rc');
  while (!existsSync(rcFile)) {
    if (procStart(pid) !== start) throw new LabError(`the VM stopped while booting:\n${tail(v.console)}\n${tail(path.join(v.share, 'fleet.log'))}`);
    if ((performance.now() - t0) / 1000 > BOOT_TIMEOUT) {
      throw new LabError(`the VM's fleet was not up after ${BOOT_TIMEOUT} s (LVSPLAY_LAB_VM_TIMEOUT):\n${tail(v.console)}\n${tail(path.join(v.share, 'fleet.log'))}`);
    }
    await sleep(250);
  }
  const rc = readFileSync(rcFile, 'utf8').trim();
  if (rc !== '0') throw new LabError(`building the fleet inside the VM failed (exit ${rc}):\n${tail(path.join(v.share, 'fleet.log'))}`);
  return { info: { consoleLog: v.console, share: v.share }, proc, bootSeconds: (performance.now() - t0) / 1000 };
}

function tail(file: string, n = 25): string {
  if (!existsSync(file)) return `(${file}: none)`;
  return `--- ${file}:\n` + readFileSync(file, 'utf8').split('\n').slice(-n).join('\n');
}
