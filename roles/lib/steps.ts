/** Step sequences several LVS roles share: IPVS modules, the keepalived config/service/handlers, persistence. */
import * as z from 'zod';
import type { Step } from '../../src/engine/types.ts';
import { kernelModule, lines, pkg, service, file, command } from '../../src/steps/index.ts';
import { parseOptions } from '../../src/steps/common.ts';
import { ValidationError } from '../../src/errors.ts';
import { raw, sh } from '../../src/shell.ts';
import { shellWords } from '../../src/steps/shellwords.ts';

export const RELOAD_KEEPALIVED = 'reload keepalived';
const RESTART_KEEPALIVED = 'restart keepalived';

/** SIGHUP keeps VIPs and the IPVS table; a restart drops both for its duration, so only a new binary restarts. */
export function keepalivedHandlers(): Record<string, Step> {
  return {
    [RELOAD_KEEPALIVED]: service('keepalived', { state: 'reloaded' }),
    [RESTART_KEEPALIVED]: service('keepalived', { state: 'restarted' }),
  };
}

/** Packages; a changed keepalived binary (install/upgrade) is the one reason to restart it. */
export function installSteps(packages: readonly string[]): Step[] {
  const others = packages.filter((p) => p !== 'keepalived');
  return [
    ...(packages.includes('keepalived') ? [pkg('keepalived', { notify: RESTART_KEEPALIVED })] : []),
    ...(others.length ? [pkg(others)] : []),
  ];
}

/** ip_vs, the common schedulers and the ones in use: loaded now and at boot (/etc/modules-load.d/ipvs.conf). */
export function ipvsModuleSteps(schedulers: readonly string[], extra: readonly string[] = []): Step[] {
  const mods = [...new Set(['ip_vs', 'ip_vs_rr', 'ip_vs_wrr', 'ip_vs_sh', ...schedulers.map((s) => `ip_vs_${s}`), ...extra])];
  return mods.map((m) => kernelModule(m, { persist: 'ipvs' }));
}

/**
 * IPVS sysctls every director (and node-svc host) gets, so that taking a real server out loses no connection:
 * - expire_nodest_conn=1: a new connection whose client port matches an old IPVS connection entry (ports come
 *   round in a minute or two at a few hundred connections per second) is normally sent to that entry's real server
 *   even when its weight is 0 (drained) — refused once it is stopped — and silently dropped once the health
 *   checker removed it (the client times out). With 1 the entry is expired and the connection scheduled anew.
 *   DR directors keep such entries long: a connection whose FIN went through the other director after a failover
 *   stays ESTABLISHED for the tcp timeout (900 s).
 * - expire_quiescent_template=1: persistence templates to a weight-0 real server expire, so persistent clients
 *   move off a drained server instead of sticking to it until their persistence timeout.
 * kube-proxy in IPVS mode sets both for the same reasons.
 */
export const IPVS_DIRECTOR_SYSCTLS: Readonly<Record<string, number>> = {
  'net.ipv4.vs.expire_nodest_conn': 1,
  'net.ipv4.vs.expire_quiescent_template': 1,
};

export function ipvsSysctls(overrides: Record<string, number> = {}): Record<string, number> {
  return { ...IPVS_DIRECTOR_SYSCTLS, ...overrides };
}

/** A keepalived config file: mode 0644 (keepalived skips an executable config), tested by `keepalived -t` before the swap. */
export function keepalivedConfigFile(path: string, content: string): Step {
  return file(path, { content, mode: '0644', owner: 'root', group: 'root', validate: 'keepalived -t -f %s', notify: RELOAD_KEEPALIVED });
}

/**
 * Where systemd runs keepalived, this drop-in makes it start a keepalived that died again (Debian's unit has no
 * Restart=): a killed MASTER then recovers instead of leaving the pair in split brain or without a backup. The service
 * step daemon-reloads after it changes. Hosts without systemd: nothing in lvsplay respawns keepalived; their own init
 * or supervisor must (the file is written there too, inert until systemd runs).
 */
const KEEPALIVED_RESTART_DROPIN = '/etc/systemd/system/keepalived.service.d/lvsplay-restart.conf';

export function keepalivedRunning(): Step[] {
  return [
    file(KEEPALIVED_RESTART_DROPIN, { content: '# managed by lvsplay: start keepalived again when it dies\n[Service]\nRestart=always\nRestartSec=1\n', mode: '0644' }),
    service('keepalived', { state: 'started', enabled: true }),
  ];
}

/** Remove files in `dir` matching *.conf that are not `keep` (a stale service would stay in the pool). */
export function pruneConfDir(dir: string, keep: readonly string[]): Step {
  // -F: file names are compared as they are, not as patterns (a '.' in a name matches only a '.')
  const stale = sh`ls -1 ${dir} 2>/dev/null | grep '\\.conf$' | grep -v -x -F ${keep.length ? keep.flatMap((k) => ['-e', k]) : ['-e', '']}`;
  return command(sh`cd ${dir} && ${raw(stale)} | while IFS= read -r f; do rm -f -- "$f"; done`, {
    onlyIf: stale,
    summary: `remove stale service files from ${dir}`,
    notify: RELOAD_KEEPALIVED,
    name: `prune ${dir}`,
  });
}

/**
 * A boot command (shell built with sh) as the words sh would run, quoted again: a command with expansions or
 * several commands cannot be one ExecStart line, and is refused when the role is built.
 */
function bootCommandLine(role: string, command: string): string {
  const w = command.includes('\n') ? { error: 'more than one line' } : shellWords(command);
  if ('error' in w) throw new ValidationError(`${role}: boot command ${JSON.stringify(command)} cannot be a systemd ExecStart line: ${w.error}`, undefined, 'use persist: rc.local for it');
  return sh`${w.words}`;
}

/**
 * One argument of a unit's Exec line (systemd.syntax(7) "Quoting", systemd.service(5) "Command lines"): single
 * quotes, in which systemd undoes C escapes (\\ and \'), `$$` for a literal `$` and `%%` for a literal `%`.
 */
function systemdArg(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\$/g, '$$$$').replace(/%/g, '%%')}'`;
}

/** How real server settings survive a reboot. */
export const persistSchema = z.enum(['rc.local', 'systemd', 'none']);
export type Persist = z.output<typeof persistSchema>;

/**
 * Boot persistence of `ip` commands: a managed block in /etc/rc.local (the classic way, operators ask for it; the
 * step keeps the shebang and the executable bit) or a oneshot systemd unit.
 */
export function persistSteps(role: string, persist: Persist, commands: string[]): Step[] {
  if (persist === 'none' || commands.length === 0) return [];
  if (persist === 'rc.local') return [lines('/etc/rc.local', { block: commands, marker: `# {mark} lvsplay ${role}`, name: `rc.local ${role}` })];
  const unit = `lvsplay-${role}.service`;
  const content = [
    '[Unit]',
    `Description=lvsplay ${role}: addresses and routes`,
    'After=network-online.target',
    'Wants=network-online.target',
    '',
    '[Service]',
    'Type=oneshot',
    'RemainAfterExit=yes',
    ...commands.map((c) => `ExecStart=/bin/sh -c ${systemdArg(bootCommandLine(role, c))}`),
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ].join('\n');
  return [
    file(`/etc/systemd/system/${unit}`, { content, mode: '0644' }),
    service(`lvsplay-${role}`, { state: 'started', enabled: true }),
  ];
}

/** Parse role options with a strict schema: a typo is a ValidationError when the playbook loads (exit 4). */
export function roleOptions<S extends z.ZodType>(schema: S, input: unknown, role: string): z.output<S> {
  try {
    return parseOptions(schema, input ?? {}, role);
  } catch (e) {
    if (e instanceof ValidationError) throw e;
    throw new ValidationError(`${role}: ${(e as Error).message}`);
  }
}
