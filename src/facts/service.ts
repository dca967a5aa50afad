import type { Fact } from '../engine/types.ts';
import { factKey } from '../engine/fact-key.ts';
import { sh } from '../shell.ts';
import { FactParseError, section, splitSections } from './sections.ts';

export type ServiceState =
  | {
      manager: 'systemd';
      /** `systemctl is-active`: active, inactive, failed, activating … */
      active: string;
      /** `systemctl is-enabled`: enabled, disabled, static, masked …, or 'not-found' */
      enabled: string;
    }
  | {
      manager: 'plain';
      /** pid from the pidfile when that process is alive and its name matches; otherwise undefined */
      pid?: number;
      /** a pidfile exists but names a dead or foreign process */
      stalePidfile: boolean;
    };

/**
 * A service's state: under systemd from systemctl, otherwise from its pidfile (alive via kill -0, and /proc/PID/comm
 * must start with `process`, so a recycled pid is not taken for the daemon).
 */
export function serviceFact(unit: string, pidfile: string, process: string): Fact<ServiceState> {
  const key = factKey('service', unit, pidfile, process);
  const comm = process.slice(0, 15); // the kernel truncates comm to 15 characters
  return {
    key,
    command: [
      `if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then`,
      sh`  echo "@@active $(systemctl is-active ${unit} 2>/dev/null)"`,
      sh`  echo "@@enabled $(systemctl is-enabled ${unit} 2>/dev/null)"`,
      `else`,
      sh`  pf=${pidfile}`,
      `  if [ -f "$pf" ]; then pid=$(head -n 1 "$pf" | tr -dc 0-9)`,
      sh`    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && [ "$(cat /proc/"$pid"/comm 2>/dev/null)" = ${comm} ]; then echo "@@pid $pid"; else echo @@stale; fi`,
      `  else echo @@nopidfile; fi`,
      `fi`,
    ].join('\n'),
    parse(stdout): ServiceState {
      const s = splitSections(stdout);
      const active = section(s, 'active');
      if (active) {
        const enabled = section(s, 'enabled')?.arg.trim();
        return { manager: 'systemd', active: active.arg.trim() || 'unknown', enabled: enabled || 'not-found' };
      }
      const pid = section(s, 'pid');
      if (pid && /^\d+$/.test(pid.arg)) return { manager: 'plain', pid: Number(pid.arg), stalePidfile: false };
      if (section(s, 'stale')) return { manager: 'plain', stalePidfile: true };
      if (section(s, 'nopidfile')) return { manager: 'plain', stalePidfile: false };
      throw new FactParseError(key, 'no service state marker', stdout);
    },
  };
}
