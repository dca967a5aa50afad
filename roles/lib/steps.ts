/** Step sequences several LVS roles share: IPVS modules, the keepalived config/service/handlers, persistence. */
import { z } from 'zod';
import type { Step } from '../../src/engine/types.ts';
import { kernelModule, lines, pkg, service, file, command } from '../../src/steps/index.ts';
import { parseOptions } from '../../src/steps/common.ts';
import { ValidationError } from '../../src/errors.ts';

export const RELOAD_KEEPALIVED = 'reload keepalived';
export const RESTART_KEEPALIVED = 'restart keepalived';

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

/** A keepalived config file: mode 0644 (keepalived skips an executable config), tested by `keepalived -t` before the swap. */
export function keepalivedConfigFile(path: string, content: string): Step {
  return file(path, { content, mode: '0644', owner: 'root', group: 'root', validate: 'keepalived -t -f %s', notify: RELOAD_KEEPALIVED });
}

export function keepalivedRunning(): Step {
  return service('keepalived', { state: 'started', enabled: true });
}

/** Remove files in `dir` matching *.conf that are not `keep` (a stale service would stay in the pool). */
export function pruneConfDir(dir: string, keep: readonly string[]): Step {
  const list = keep.map((k) => ` -e ${k}`).join('');
  const stale = `ls -1 ${dir} 2>/dev/null | grep '\\.conf$' | grep -v -x${keep.length ? list : ' -e ""'}`;
  return command(`cd ${dir} && ${stale} | while read -r f; do rm -f -- "$f"; done`, {
    onlyIf: stale,
    summary: `remove stale service files from ${dir}`,
    notify: RELOAD_KEEPALIVED,
    name: `prune ${dir}`,
  });
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
    ...commands.map((c) => `ExecStart=/bin/sh -c '${c.replace(/'/g, '')}'`),
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
