import type { Fact } from '../engine/types.ts';
import { q } from '../shell.ts';
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

/** Live values of the given keys read straight from /proc/sys (no procps needed). Keys must be validated. */
export function sysctlFact(keys: readonly string[]): Fact<SysctlValues> {
  const sorted = [...new Set(keys)].sort();
  const key = `sysctl:${sorted.join(',')}`;
  const command = sorted
    .map((k) => {
      const p = q(sysctlPath(k));
      // one line per key: "present<TAB>KEY<TAB>value" or "missing<TAB>KEY"; unreadable keys count as missing
      return `if [ -f ${p} ] && v=$(cat ${p} 2>/dev/null); then printf 'present\\t%s\\t%s\\n' ${q(k)} "$(printf '%s' "$v" | tr '\\n\\t' '  ')"; else printf 'missing\\t%s\\n' ${q(k)}; fi`;
    })
    .join('\n');
  return {
    key,
    command,
    parse(stdout): SysctlValues {
      const out: SysctlValues = new Map();
      for (const line of stdout.split('\n')) {
        if (!line) continue;
        const [state, k, ...rest] = line.split('\t');
        if (state === 'present' && k) out.set(k, normalizeSysctlValue(rest.join('\t')));
        else if (state === 'missing' && k) out.set(k, null);
        else throw new FactParseError(key, `unexpected line ${JSON.stringify(line)}`, stdout);
      }
      for (const k of sorted) if (!out.has(k)) throw new FactParseError(key, `no value for ${k}`, stdout);
      return out;
    },
  };
}
