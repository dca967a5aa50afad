import type { Fact } from '../engine/types.ts';
import { factKey } from '../engine/fact-key.ts';
import { sh } from '../shell.ts';
import { FactParseError } from './sections.ts';

/**
 * /proc/sys path of a sysctl key. Like sysctl(8): dots separate components, unless the key uses slashes (then dots
 * stay, e.g. the VLAN interface in `net/ipv4/conf/eth0.100/rp_filter`).
 */
export function sysctlPath(key: string): string {
  return `/proc/sys/${key.includes('/') ? key.replace(/^\/+/, '') : key.replace(/\./g, '/')}`;
}

/** Values compare with runs of whitespace collapsed (`ip_local_port_range` is tab separated in /proc). */
export function normalizeSysctlValue(v: string | number): string {
  return String(v).trim().replace(/\s+/g, ' ');
}

/** key → live value, or null when the running kernel has no such key (the /proc/sys path does not exist). */
export type SysctlValues = Map<string, string | null>;

/**
 * Live values of the given keys read straight from /proc/sys (no procps needed). Keys must be validated.
 * ONE process for all keys: `grep -H '' PATH…` prints "PATH:line" for every line of every readable file (a missing
 * or unreadable key prints nothing). One process per key (cat + tr) was most of a host's fact gathering, and shell
 * `read` cannot replace it: it reads byte by byte, and /proc/sys integer files answer only a read at offset 0
 * (`read` gets "3" of "32768").
 */
export function sysctlFact(keys: readonly string[]): Fact<SysctlValues> {
  const sorted = [...new Set(keys)].sort();
  const key = factKey('sysctl', sorted);
  const paths = sorted.map(sysctlPath);
  const command = sh`if command -v grep >/dev/null 2>&1; then grep -H '' ${paths} 2>/dev/null; true; else echo '@@nogrep'; fi`;
  return {
    key,
    command,
    parse(stdout): SysctlValues {
      if (/^@@nogrep$/m.test(stdout)) throw new FactParseError(key, 'the host has no grep (needed to read /proc/sys)', stdout);
      const lines = new Map<string, string[]>();
      for (const line of stdout.split('\n')) {
        if (!line) continue;
        const path = paths.find((p) => line.startsWith(`${p}:`));
        if (!path) throw new FactParseError(key, `unexpected line ${JSON.stringify(line)}`, stdout);
        lines.set(path, [...(lines.get(path) ?? []), line.slice(path.length + 1)]);
      }
      const out: SysctlValues = new Map();
      sorted.forEach((k, i) => {
        const l = lines.get(paths[i]!);
        out.set(k, l ? normalizeSysctlValue(l.join(' ')) : null);
      });
      return out;
    },
  };
}
