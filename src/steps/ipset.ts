import * as z from 'zod';
import type { Change, Step, StepOptions } from '../engine/types.ts';
import { ipsetFact } from '../facts/ipset.ts';
import { canonicalIp, ipFamily, parseCidr } from '../facts/netaddr.ts';
import { printBytes, sh } from '../shell.ts';
import { badArg, commonShape, makeStep, parseOptions, PlanError } from './common.ts';

const TYPES = ['hash:ip', 'hash:ip,port', 'hash:net', 'hash:net,port', 'hash:ip,port,ip', 'hash:ip,port,net'] as const;

export interface IpsetOptions extends StepOptions {
  members?: string[];
  /** remove members not listed (default true: the set converges exactly) */
  prune?: boolean;
  family?: 'inet' | 'inet6';
}

/**
 * A member as `ipset save` prints it: canonical addresses, a host /32 (/128) without its prefix, and the
 * protocol on ports (`10.0.0.1,80` → `10.0.0.1,tcp:80`). Undefined when the member cannot be understood.
 */
export function normalizeMember(type: string, member: string): string | undefined {
  const kinds = type.split(':')[1]!.split(',');
  const parts = member.trim().split(',');
  if (parts.length !== kinds.length) return undefined;
  const out: string[] = [];
  for (let i = 0; i < kinds.length; i++) {
    const p = parts[i]!;
    switch (kinds[i]) {
      case 'ip': {
        const a = canonicalIp(p);
        if (!a) return undefined;
        out.push(a);
        break;
      }
      case 'net': {
        const c = parseCidr(p);
        if (!c) return undefined;
        out.push(c.prefix === (c.family === 4 ? 32 : 128) ? c.address : `${c.address}/${c.prefix}`);
        break;
      }
      case 'port': {
        const m = /^(?:(tcp|udp|sctp|udplite|icmp|icmpv6):)?(\d{1,5})$/i.exec(p);
        if (!m || Number(m[2]) > 65535) return undefined;
        out.push(`${(m[1] ?? 'tcp').toLowerCase()}:${Number(m[2])}`);
        break;
      }
      default:
        return undefined;
    }
  }
  return out.join(',');
}

/** An ipset of a type whose members converge exactly (prune) or at least (prune: false) to the list. */
export function ipset(name: string, type: string, options: IpsetOptions = {}): Step {
  const label = `ipset ${name}`;
  if (typeof name !== 'string' || !/^[A-Za-z0-9_.-]{1,31}$/.test(name)) badArg(label, 'name', `"${name}" is not a set name`, 'letters, digits, _ . - (max 31)');
  if (!(TYPES as readonly string[]).includes(type)) badArg(label, 'type', `"${type}" is not supported`, `use one of ${TYPES.join(', ')}`);
  const o = parseOptions(
    z.strictObject({ ...commonShape, members: z.array(z.string()).optional(), prune: z.boolean().optional(), family: z.enum(['inet', 'inet6']).optional() }),
    options,
    label,
  );
  const family = o.family ?? 'inet';
  const members: string[] = [];
  for (const m of o.members ?? []) {
    const n = normalizeMember(type, m);
    // the first part is the address or network: its family must be the set's
    if (n === undefined || ipFamily(n.split(',')[0]!.split('/')[0]!) !== (family === 'inet6' ? 6 : 4)) {
      badArg(label, 'members', `"${m}" is not a ${type} member`, type === 'hash:ip,port' ? 'e.g. "10.96.0.10,tcp:80"' : 'check the member format');
    }
    if (!members.includes(n)) members.push(n);
  }
  const prune = o.prune ?? true;
  const fact = ipsetFact(name);
  return makeStep('ipset', label, [fact], o, (ctx) => {
    const s = ctx.fact(fact);
    if (!s.tool) throw new PlanError(`${label}: ipset is not installed`, 'install ipset');
    const changes: Change[] = [];
    let current: string[] = [];
    if (!s.exists) {
      changes.push({ summary: `create set ${name} (${type}, ${family})`, script: sh`ipset -exist create ${name} ${type} family ${family}` });
    } else {
      if (s.type !== type) {
        throw new PlanError(`${label}: exists with type ${s.type}, not ${type}`, `sets cannot change type in place: destroy it (ipset destroy ${name}, after removing the iptables rules using it) or use another name`);
      }
      if ((s.options.family ?? 'inet') !== family) throw new PlanError(`${label}: exists with family ${s.options.family}, not ${family}`, 'destroy it or use another name');
      current = s.members.map((m) => normalizeMember(type, m) ?? m);
    }
    const add = members.filter((m) => !current.includes(m));
    const del = prune ? current.filter((m) => !members.includes(m)) : [];
    if (add.length || del.length) {
      // one `ipset restore` batch: fast for large sets; -exist makes a re-run harmless
      const batch = [...add.map((m) => `add ${name} ${m}`), ...del.map((m) => `del ${name} ${m}`)].join('\n') + '\n';
      changes.push({
        summary: [add.length ? `add ${add.join(' ')}` : '', del.length ? `remove ${del.join(' ')}` : ''].filter(Boolean).join('; '),
        script: sh`${printBytes(batch)} | ipset -exist restore`,
      });
    }
    return { changes };
  });
}
