import { posix } from 'node:path';
import * as z from 'zod';
import type { Change, Step, StepOptions } from '../engine/types.ts';
import { fileFact } from '../facts/file.ts';
import { normalizeSysctlValue, sysctlFact, sysctlPath } from '../facts/sysctl.ts';
import { sh } from '../shell.ts';
import { atomicWriteScript } from './atomic-write.ts';
import { badArg, commonShape, makeStep, parseOptions, PlanError } from './common.ts';
import { unifiedDiff } from './diff.ts';

export type SysctlOptions = StepOptions;

const schema = z.strictObject({ ...commonShape });
const KEY = /^[A-Za-z0-9_]+([./][A-Za-z0-9_:@+.-]+)+$/;

/** Key prefixes whose /proc/sys directory appears only once a module is loaded. */
const MODULE_KEYS: Array<[RegExp, string]> = [
  [/^net[./]ipv4[./]vs[./]/, 'ip_vs'],
  [/^net[./]netfilter[./]nf_conntrack_/, 'nf_conntrack'],
  [/^net[./]bridge[./]/, 'br_netfilter'],
];

/** The interface a per-interface key names (`net.ipv4.conf.IFACE.x`, `net/ipv4/conf/eth0.100/x`), if any. */
function interfaceOfKey(key: string): string | undefined {
  const m = key.includes('/')
    ? /^\/?net\/ipv[46]\/(?:conf|neigh)\/([^/]+)\/[^/]+$/.exec(key)
    : /^net\.ipv[46]\.(?:conf|neigh)\.([^.]+)\.[^.]+$/.exec(key);
  return m && m[1] !== 'all' && m[1] !== 'default' ? m[1] : undefined;
}

/** Interfaces a module creates when it loads (ipip makes tunl0). */
const MODULE_LINKS: Record<string, string> = { tunl0: 'ipip', gre0: 'ip_gre', sit0: 'sit', ip6tnl0: 'ip6_tunnel' };

/**
 * Kernel parameters kept in one file (`/etc/sysctl.d/NAME.conf`; a bare name is put there) and live. Both converge:
 * the file is rewritten when it differs, and the live values that differ are written to /proc/sys, in file order
 * (what `sysctl -p FILE` does, without starting sysctl). A key the running kernel lacks is skipped with a warning
 * and never written, unless an earlier step of this run creates it: kernelModule ip_vs for `net.ipv4.vs.*`, link/kernelModule for `net.ipv4.conf.IFACE.*`.
 */
export function sysctl(file: string, values: Record<string, string | number | boolean>, options: SysctlOptions = {}): Step {
  const path = typeof file === 'string' && !file.includes('/') ? `/etc/sysctl.d/${file.endsWith('.conf') ? file : `${file}.conf`}` : file;
  const label = `sysctl ${path}`;
  if (typeof path !== 'string' || !path.startsWith('/') || !path.endsWith('.conf')) {
    badArg(label, 'file', 'must be an absolute path ending in .conf, or a bare name', 'e.g. sysctl("90-lvs", {...}) for /etc/sysctl.d/90-lvs.conf');
  }
  if (!values || typeof values !== 'object' || Object.keys(values).length === 0) badArg(label, 'values', 'at least one key is required');
  const desired = new Map<string, string>();
  for (const [k, v] of Object.entries(values)) {
    if (!KEY.test(k)) badArg(label, k, 'is not a sysctl key', 'write it as net.ipv4.ip_forward (or net/ipv4/conf/eth0.100/rp_filter for names with dots)');
    if (!['string', 'number', 'boolean'].includes(typeof v) || /[\n#;]/.test(String(v))) badArg(label, k, 'value must be a string or number without newlines, # or ;');
    desired.set(k, normalizeSysctlValue(typeof v === 'boolean' ? (v ? 1 : 0) : v));
  }
  const o = parseOptions(schema, options, label);
  const live = sysctlFact([...desired.keys()]);
  const fFact = fileFact(path);
  return makeStep('sysctl', label, [live, fFact], o, (ctx) => {
    const values = ctx.fact(live);
    const warnings: string[] = [];
    const keep: Array<[string, string]> = [];
    let liveDiffers = false;
    for (const [k, v] of desired) {
      const cur = values.get(k);
      if (cur === null || cur === undefined) {
        const mod = MODULE_KEYS.find(([re]) => re.test(k))?.[1];
        const iface = interfaceOfKey(k);
        const ifaceMod = iface ? MODULE_LINKS[iface] : undefined;
        const predicted =
          (mod !== undefined && ctx.predict.module(mod).get() === true) ||
          (iface !== undefined && (ctx.predict.link(iface).get() === true || (ifaceMod !== undefined && ctx.predict.module(ifaceMod).get() === true)));
        if (!predicted) {
          warnings.push(
            mod
              ? `${k}: skipped, the running kernel has no such key (module ${mod} not loaded; load it with kernelModule('${mod}') before this step)`
              : iface
                ? `${k}: skipped, interface ${iface} does not exist on this host`
                : `${k}: skipped, the running kernel has no such key (removed or not built in)`,
          );
          continue;
        }
        liveDiffers = true; // appears during this run; set when the file is applied
      } else if (cur !== v) liveDiffers = true;
      keep.push([k, v]);
    }
    const changes: Change[] = [];
    const f = ctx.fact(fFact);
    if (f.exists && f.type !== 'file') throw new PlanError(`${label}: ${path} exists and is not a regular file`);
    if (keep.length === 0 && !f.exists) return { changes, warnings };
    const content = `# managed by lvsplay: changes here are overwritten\n${keep.map(([k, v]) => `${k} = ${v}\n`).join('')}`;
    const fileDiffers = !f.exists || f.content !== content;
    if (!fileDiffers && !liveDiffers) return { changes, warnings };
    const changed = keep.filter(([k, v]) => values.get(k) !== v);
    const script = [
      ...(fileDiffers ? [atomicWriteScript({ path, content, mode: f.exists ? f.mode : 0o644 })] : []),
      // the live values written straight to /proc/sys (as `sysctl -p` does, in file order): shell builtins, no
      // sysctl process on the host and no procps needed
      ...changed.map(([k, v]) => sh`printf '%s\\n' ${v} > ${sysctlPath(k)} || { echo ${`cannot set ${k} = ${v}`} >&2; exit 1; }`),
    ].join('\n');
    changes.push({
      summary: [fileDiffers ? `write ${posix.basename(path)}` : '', changed.length ? `apply (${changed.map(([k, v]) => `${k}=${v}`).join(', ')})` : ''].filter(Boolean).join(' and '),
      script,
      ...(fileDiffers ? { diff: unifiedDiff(f.exists ? (f.content ?? '') : '', content, f.exists ? path : '/dev/null', path) } : {}),
    });
    return { changes, warnings };
  });
}
