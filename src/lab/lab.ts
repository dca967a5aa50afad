/**
 * lab up / down / status / ssh: the public API behind `lvsplay lab` (and the test helper).
 */
import { existsSync, readdirSync, rmSync } from 'node:fs';
import net from 'node:net';
import { spawn } from 'node:child_process';
import { loadInventory, connectionSpec } from '../inventory/index.ts';
import { labPaths, resolveLabDir, nsNames, type LabPaths } from './paths.ts';
import { topologyFromHosts, topologyHash, type LabTopology } from './topology.ts';
import { readState, writeState, isOurs, readPidsFile, type LabState, type ProcRecord } from './state.ts';
import { writeLabFiles } from './files.ts';
import { fleetUp, fleetDown, fleetNamespaces, killProcs, deleteNamespaces } from './fleet.ts';
import { installPackages, requireRoot } from './install.ts';
import { run, LabError } from './run.ts';
import { vmUp, vmCheckCanRun } from './vm.ts';
import { withLabLock } from './lock.ts';

export type Log = (line: string) => void;
/** ssh's ConnectTimeout for a lab login check: under TCG a login through the jump can take tens of seconds */
const LOGIN_CONNECT_TIMEOUT_S = 60;
/** the whole `ssh HOST true` check, connect plus the login's two sshd processes on a busy VM */
const LOGIN_CHECK_MS = 120_000;
/** ssh `true` on a lab host, as the login checks run it */
const loginCheck = (p: LabPaths, host: string) => run('ssh', sshArgs(p, host, ['true'], { timeout: LOGIN_CONNECT_TIMEOUT_S }), { timeoutMs: LOGIN_CHECK_MS });

const stdoutLog: Log = (s) => process.stdout.write(s + '\n');

export interface UpOptions {
  inventory: string;
  dir?: string;
  /** true: VM tier; false: namespaces only; undefined: VM only when the topology needs IPVS and the machine lacks it */
  vm?: boolean;
  log?: Log;
}

export interface UpResult {
  dir: string;
  id: string;
  tier: 'ns' | 'vm';
  hosts: string[];
  jumpPort: number;
  seconds: number;
  /** false when the lab was already up with this topology (nothing done) */
  built: boolean;
  /** seconds per phase: prepare (packages, keys, files), build (namespaces, hosts ready), ssh check */
  phases: Record<string, number>;
}

/** Does this machine's kernel have IPVS (loaded, or loadable with modprobe)? */
async function machineHasIpvs(): Promise<boolean> {
  if (existsSync('/proc/net/ip_vs')) return true;
  for (const m of ['/usr/sbin/modprobe', '/sbin/modprobe']) {
    if (existsSync(m)) return (await run(m, ['-q', 'ip_vs'])).code === 0 && existsSync('/proc/net/ip_vs');
  }
  return false;
}

export function readTopology(inventory: string): { topology: LabTopology; file: string } {
  const inv = loadInventory(inventory);
  const hosts = [...inv.hosts.values()].map((h) => ({ name: h.name, vars: h.vars, source: h.source }));
  return { topology: topologyFromHosts(hosts, inventory), file: inv.file };
}

/** Warn when the inventory would not use the lab's key/known_hosts (ssh with it would then fail). */
function checkInventoryPaths(inventory: string, p: LabPaths, t: LabTopology, log: Log): void {
  const spec = connectionSpec(loadInventory(inventory), t.hosts[0].name);
  if (spec.privateKeyFile !== p.key) {
    log(`lab: warning: the inventory's ansible_ssh_private_key_file is ${spec.privateKeyFile ?? '(unset)'}, the lab key is ${p.key}`);
  }
  if (spec.knownHostsFile !== p.knownHosts) {
    log(`lab: warning: the inventory's lvsplay_known_hosts is ${spec.knownHostsFile ?? '(unset)'}, the lab's is ${p.knownHosts}`);
  }
}

async function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen({ host: '127.0.0.1', port, exclusive: true }, () => s.close(() => resolve(true)));
  });
}

/** Everything recorded is still running (the same processes). */
function allAlive(s: LabState): boolean {
  const want = s.tier === 'vm' ? 1 : s.hosts.length + 1;
  return s.phase === 'up' && s.procs.length >= want && s.procs.every(isOurs);
}

export async function labUp(o: UpOptions): Promise<UpResult> {
  const log = o.log ?? stdoutLog;
  requireRoot('lvsplay lab up');
  const t0 = performance.now();
  const topo = readTopology(o.inventory); // a bad inventory is refused before anything is created
  const p = labPaths(resolveLabDir(o.dir), { create: true });
  return withLabLock(p.dir, () => up(o, topo, p, log, t0));
}

async function up(o: UpOptions, topo: { topology: LabTopology; file: string }, p: LabPaths, log: Log, t0: number): Promise<UpResult> {
  const { topology: t, file } = topo;
  const tier: 'ns' | 'vm' = (o.vm ?? (t.needsIpvs && !(await machineHasIpvs()))) ? 'vm' : 'ns';
  if (o.vm === undefined && tier === 'vm') {
    log('lab: the topology needs IPVS (lab_needs_ipvs) and this kernel has none: using the VM tier (--no-vm to skip)');
  }
  const hash = topologyHash(t);
  const phases: Record<string, number> = {};
  let tPhase = t0;
  const phase = (name: string) => {
    const now = performance.now();
    phases[name] = Math.round(now - tPhase) / 1000;
    tPhase = now;
  };
  const result = (built: boolean): UpResult => ({
    dir: p.dir, id: p.id, tier, hosts: t.hosts.map((h) => h.name), jumpPort: t.jump.port,
    seconds: (performance.now() - t0) / 1000, built, phases,
  });

  const old = readState(p);
  if (old) {
    if (old.topologyHash === hash && old.tier === tier && allAlive(old)) {
      log(`lab ${p.id} is already up (${old.hosts.length} hosts, ${tierName(tier)}, jump 127.0.0.1:${old.jumpPort}): nothing to do`);
      return result(false);
    }
    const why = old.topologyHash !== hash ? 'the topology changed' : old.tier !== tier ? `switching to ${tierName(tier)}` : 'part of it is not running';
    log(`lab ${p.id}: rebuilding (${why})`);
    await down(p, () => {});
  }

  await installPackages({ vm: tier === 'vm', log });
  if (tier === 'vm') await vmCheckCanRun();
  checkInventoryPaths(o.inventory, p, t, log);
  if (!(await portFree(t.jump.port))) {
    throw new LabError(`port 127.0.0.1:${t.jump.port} (the lab jump host) is in use\n  fix: pick a free port in ansible_ssh_common_args (-o ProxyJump=root@127.0.0.1:PORT) or run lvsplay lab down`);
  }
  await writeLabFiles(p, t);

  const state: LabState = {
    version: 1, id: p.id, tier, inventory: file, topologyHash: hash, jumpPort: t.jump.port,
    namespaces: tier === 'ns' ? fleetNamespaces(t, p.id) : [],
    hosts: t.hosts.map((h) => ({ name: h.name, mgmt: h.mgmt, ns: nsNames(p.id).host(h.name) })),
    procs: [], phase: 'building', startedAt: new Date().toISOString(),
  };
  writeState(p, state); // before anything exists: a crash from here on is cleaned up by lab down
  try {
    phase('prepare');
    if (tier === 'ns') {
      state.procs = await fleetUp(p, t);
    } else {
      const vm = await vmUp(p, t, log, (rec) => {
        state.procs = [rec];
        writeState(p, state);
      });
      state.vm = vm.info;
    }
    phase('build');
    state.phase = 'up';
    writeState(p, state);
    await checkReachable(p, t);
    phase('ssh check');
  } catch (e) {
    log(`lab ${p.id}: bring-up failed, removing what was built`);
    await down(p, () => {}).catch((d) => log(`lab: cleanup also failed: ${(d as Error).message}`));
    throw e;
  }
  const r = result(true);
  state.upSeconds = Math.round(r.seconds * 100) / 100;
  writeState(p, state);
  log(`lab ${p.id} up in ${r.seconds.toFixed(1)} s (${tierName(tier)}): ${r.hosts.length} hosts: ${r.hosts.join(' ')}`);
  log(`  phases: ${Object.entries(phases).map(([k, v]) => `${k} ${v.toFixed(2)} s`).join(', ')}`);
  log(`  nets: ${t.nets.join(', ')}; jump: root@127.0.0.1:${t.jump.port}; dir: ${p.dir}`);
  log(`  ssh: lvsplay lab ssh HOST   or   ssh -F ${p.sshConfig} HOST`);
  return r;
}

function tierName(tier: 'ns' | 'vm'): string {
  return tier === 'ns' ? 'namespaces on this machine, no IPVS' : 'namespaces inside a QEMU VM with IPVS';
}

/** ssh to a host through the jump, with the lab's own ssh_config. */
export function sshArgs(p: LabPaths, host: string, cmd: string[], opts: { timeout?: number } = {}): string[] {
  return ['-F', p.sshConfig, '-o', `ConnectTimeout=${opts.timeout ?? 20}`, host, ...cmd];
}

/**
 * The whole ssh path works: key, known_hosts, jump, host sshd. The fleet script already checked that every host's
 * sshd answers from the jump's namespace, and every host shares the key and config, so one full login proves the
 * rest (a full login to each of 50 hosts costs ~20 s on 2 busy cores; `lab status` does that).
 */
async function checkReachable(p: LabPaths, t: LabTopology): Promise<void> {
  const h = t.hosts[0];
  const r = await loginCheck(p, h.name);
  if (r.code !== 0) {
    throw new LabError(`lab host ${h.name} is not reachable over ssh through the jump (127.0.0.1:${t.jump.port}): ${r.stderr.trim() || `exit ${r.code}`}`);
  }
}

export interface DownOptions {
  dir?: string;
  log?: Log;
}

export async function labDown(o: DownOptions = {}): Promise<{ killed: number; namespaces: string[] }> {
  const log = o.log ?? stdoutLog;
  requireRoot('lvsplay lab down');
  const p = labPaths(resolveLabDir(o.dir));
  if (!existsSync(p.dir)) {
    log(`no lab is up in ${p.dir}: nothing to do`);
    return { killed: 0, namespaces: [] };
  }
  return withLabLock(p.dir, () => down(p, log));
}

async function down(p: LabPaths, log: Log): Promise<{ killed: number; namespaces: string[] }> {
  const s = readState(p);
  // namespaces carrying this lab's id prefix are ours even if the state record lost them
  const prefix = `lvp-${p.id}`;
  const stray = existsSync('/run/netns') ? readdirSync('/run/netns').filter((n) => n.startsWith(prefix)) : [];
  // pids the up script recorded even when lvsplay died before writing the state
  const procs: ProcRecord[] = s?.procs ?? readPidsFile(p.pidsFile);
  if (!s && stray.length === 0 && procs.length === 0) {
    log(`no lab is up in ${p.dir}: nothing to do`);
    return { killed: 0, namespaces: [] };
  }
  const namespaces = [...new Set([...(s?.namespaces ?? []), ...stray])];
  const r = await fleetDown(p, procs, namespaces);
  if (s?.tier === 'vm') rmSync(p.vmDir + '/share', { recursive: true, force: true });
  rmSync(p.stateFile, { force: true });
  log(`lab ${p.id} down: stopped ${r.killed} process${r.killed === 1 ? '' : 'es'}${s?.tier === 'vm' ? ' (the VM)' : ''}, deleted ${r.namespaces.length} namespaces`);
  return r;
}

export interface HostStatus {
  name: string;
  mgmt: string;
  running: boolean;
  reachable?: boolean;
  /** why the ssh check failed */
  error?: string;
}

export interface LabStatus {
  dir: string;
  id: string;
  up: boolean;
  tier?: 'ns' | 'vm';
  jumpPort?: number;
  startedAt?: string;
  hosts: HostStatus[];
}

export async function labStatus(o: { dir?: string; check?: boolean } = {}): Promise<LabStatus> {
  const p = labPaths(resolveLabDir(o.dir));
  const s = readState(p);
  if (!s) return { dir: p.dir, id: p.id, up: false, hosts: [] };
  const vmAlive = s.tier === 'vm' && s.procs.some((r) => r.role === 'vm' && isOurs(r));
  const jumpAlive = s.procs.some((r) => (r.role === 'jump' || r.role === 'vm') && isOurs(r));
  const hosts: HostStatus[] = s.hosts.map((h) => ({
    name: h.name,
    mgmt: h.mgmt,
    running: s.tier === 'vm' ? vmAlive : s.procs.some((r) => r.role === 'host' && r.name === h.name && isOurs(r)),
  }));
  if (o.check !== false && jumpAlive) {
    // a few at a time: in the VM each login starts two sshd processes under TCG (seconds each)
    const queue = [...hosts];
    const worker = async () => {
      for (let h = queue.shift(); h; h = queue.shift()) {
        const r = await loginCheck(p, h.name);
        h.reachable = r.code === 0;
        if (r.code !== 0) h.error = r.stderr.trim().split('\n').pop() || `exit ${r.code}`;
      }
    };
    await Promise.all(Array.from({ length: s.tier === 'vm' ? 3 : 8 }, worker));
  }
  return { dir: p.dir, id: p.id, up: s.phase === 'up' && jumpAlive && hosts.every((h) => h.running), tier: s.tier, jumpPort: s.jumpPort, startedAt: s.startedAt, hosts };
}

/** `lvsplay lab ssh HOST [CMD...]`: OpenSSH through the jump, stdio attached. Returns ssh's exit code. */
export async function labSsh(o: { dir?: string; host: string; cmd: string[] }): Promise<number> {
  const p = labPaths(resolveLabDir(o.dir));
  const s = readState(p);
  if (!s) throw new LabError(`no lab is up in ${p.dir}\n  fix: lvsplay lab up -i inventory/lab.yaml`);
  if (!s.hosts.some((h) => h.name === o.host)) {
    throw new LabError(`no host ${o.host} in the lab (hosts: ${s.hosts.map((h) => h.name).join(' ')})`);
  }
  const tty = o.cmd.length === 0 && process.stdin.isTTY ? ['-t'] : [];
  const child = spawn('ssh', [...tty, ...sshArgs(p, o.host, o.cmd)], { stdio: 'inherit' });
  return new Promise((resolve) => child.on('close', (code) => resolve(code ?? 255)));
}

export { killProcs, deleteNamespaces };
