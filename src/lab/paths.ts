/**
 * Where a lab keeps its files and how its kernel objects are named. Every name carries a short id derived from the
 * lab directory, so that several labs (e.g. concurrent test files) coexist, and teardown touches only its own.
 */
import { createHash } from 'node:crypto';
import { existsSync, realpathSync, mkdirSync } from 'node:fs';
import path from 'node:path';

export interface LabPaths {
  dir: string; // absolute
  id: string; // 6 hex chars
  stateFile: string;
  /** pid records appended by the up script as it starts processes (survives a crash of lvsplay itself) */
  pidsFile: string;
  key: string; // id_ed25519 (client key for every host and the jump)
  pubKey: string;
  knownHosts: string;
  sshConfig: string; // for `ssh -F`
  sshDir: string; // host key, authorized_keys, sshd configs
  binDir: string; // generated scripts
  hostsDir: string; // per-host upper/work dirs, logs, ready markers
  vmDir: string;
  logFile: string;
}

function defaultLabDir(cwd = process.cwd()): string {
  return path.resolve(cwd, '.lvsplay', 'lab');
}

/** --dir > $LVSPLAY_LAB_DIR > ./.lvsplay/lab */
export function resolveLabDir(dir?: string, env = process.env): string {
  return path.resolve(dir ?? env.LVSPLAY_LAB_DIR ?? defaultLabDir());
}

/** The lab's paths; `create` makes the directory (lab up), otherwise a missing dir is fine (status, down). */
export function labPaths(dirIn: string, opts: { create?: boolean } = {}): LabPaths {
  if (opts.create) mkdirSync(dirIn, { recursive: true, mode: 0o700 });
  const dir = existsSync(dirIn) ? realpathSync(dirIn) : path.resolve(dirIn);
  const id = createHash('sha256').update(dir).digest('hex').slice(0, 6);
  const p = (...s: string[]) => path.join(dir, ...s);
  return {
    dir,
    id,
    stateFile: p('state.json'),
    pidsFile: p('pids'),
    key: p('id_ed25519'),
    pubKey: p('id_ed25519.pub'),
    knownHosts: p('known_hosts'),
    sshConfig: p('ssh_config'),
    sshDir: p('ssh'),
    binDir: p('bin'),
    hostsDir: p('hosts'),
    vmDir: p('vm'),
    logFile: p('lab.log'),
  };
}

/** Namespace names: lvp-<id>-<host>; the switch and control namespaces use a dot, which the host prefix never yields. */
export const nsNames = (id: string) => ({
  prefix: `lvp-${id}-`,
  host: (name: string) => `lvp-${id}-${name}`,
  switch: `lvp-${id}.sw`,
  ctl: `lvp-${id}.ctl`,
});

/** Bridge for a net inside the switch namespace (≤ 15 chars). */
export function bridgeName(net: string, index: number): string {
  const n = `br-${net}`;
  return n.length <= 15 ? n : `br${index}`;
}

/** Switch-side veth peer of host #h, NIC #n (≤ 15 chars, unique inside the switch namespace). */
export function switchPort(h: number, n: number): string {
  return `h${h}n${n}`;
}
