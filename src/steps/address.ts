import * as z from 'zod';
import type { Change, Step, StepOptions } from '../engine/types.ts';
import { interfacesFact } from '../facts/ip.ts';
import { formatCidr, parseCidr, type Cidr } from '../facts/netaddr.ts';
import { sh } from '../shell.ts';
import { badArg, commonShape, makeStep, parseOptions, PlanError } from './common.ts';
import { linkWillExist, validIfname } from './link.ts';

export interface AddressOptions extends StepOptions {
  /** global (default), host, link, site */
  scope?: 'global' | 'host' | 'link' | 'site';
  /** IPv4 label, must start with the device name: 'eth0:vip' */
  label?: string;
  /**
   * IPv6: add without duplicate address detection (`nodad`). A VIP that several hosts hold on a device that runs
   * DAD (not lo) would otherwise end `dadfailed` and never be used; an address found `dadfailed` is re-added.
   */
  nodad?: boolean;
}

const schema = z.strictObject({
  ...commonShape,
  nodad: z.boolean().optional(),
  scope: z.enum(['global', 'host', 'link', 'site']).optional(),
  label: z.string().regex(/^[A-Za-z0-9_.:-]{1,15}$/, 'must be at most 15 characters').optional(),
});

function parseAddr(label: string, cidr: string): Cidr {
  const c = typeof cidr === 'string' ? parseCidr(cidr) : undefined;
  if (!c) badArg(label, 'cidr', `"${String(cidr)}" is not an address with prefix`, 'e.g. "10.0.0.100/32" or "fd00::1/64"');
  return c;
}

/**
 * An address on a device (`ip addr add`). The same address with another prefix, scope or label on that device is
 * replaced; the device must exist (or be created by an earlier link step).
 */
export function address(dev: string, cidr: string, options: AddressOptions = {}): Step {
  const label = `address ${cidr} dev ${dev}`;
  validIfname(label, 'dev', dev);
  const want = parseAddr(label, cidr);
  const o = parseOptions(schema, options, label);
  if (o.label !== undefined && (want.family !== 4 || !o.label.startsWith(dev))) {
    badArg(label, 'label', `"${o.label}" is not allowed`, `labels are IPv4-only and must start with the device name, e.g. "${dev}:vip"`);
  }
  if (o.nodad && want.family !== 6) badArg(label, 'nodad', 'applies to IPv6 addresses only', 'drop nodad for an IPv4 address');
  const scope = o.scope ?? 'global';
  return makeStep('address', label, [interfacesFact], o, (ctx) => {
    const ifaces = ctx.fact(interfacesFact);
    const iface = ifaces.get(dev);
    if (!linkWillExist(iface !== undefined, ctx.predict, dev)) {
      throw new PlanError(`${label}: device ${dev} does not exist on this host`, `create it first, e.g. link('${dev}', {type: 'dummy'})`);
    }
    const predicted = ctx.predict.address(dev, want.address).get();
    ctx.predict.address(dev, want.address).set(true);
    if (predicted === true) return { changes: [] };
    const have = predicted === false ? undefined : iface?.addresses.find((a) => a.address === want.address);
    const sameLabel = (have?.label ?? dev) === (o.label ?? dev);
    const dadOk = !(have?.dad === 'dadfailed' && o.nodad);
    if (have && have.prefix === want.prefix && have.scope === scope && (o.label === undefined || sameLabel) && dadOk) return { changes: [] };
    const add = sh`ip addr add ${formatCidr(want)} dev ${dev} scope ${[scope, ...(o.label ? ['label', o.label] : []), ...(o.nodad ? ['nodad'] : [])]}`;
    const changes: Change[] = [];
    if (have) {
      changes.push({
        summary: `replace ${have.address}/${have.prefix} (scope ${have.scope}${have.label ? `, label ${have.label}` : ''}${have.dad ? `, ${have.dad}` : ''}) on ${dev} with ${formatCidr(want)}${o.nodad ? ' (nodad)' : ''}`,
        script: [sh`ip addr del ${`${have.address}/${have.prefix}`} dev ${dev}`, add].join('\n'),
      });
    } else changes.push({ summary: `add ${formatCidr(want)} to ${dev}`, script: add });
    return { changes };
  });
}

/** An address that must not be on a device (any prefix). A missing device means the address is absent too. */
export function addressAbsent(dev: string, cidr: string, options: StepOptions = {}): Step {
  const label = `addressAbsent ${cidr} dev ${dev}`;
  validIfname(label, 'dev', dev);
  const want = parseAddr(label, cidr);
  const o = parseOptions(z.strictObject({ ...commonShape }), options, label);
  return makeStep('addressAbsent', label, [interfacesFact], o, (ctx) => {
    const predicted = ctx.predict.address(dev, want.address).get();
    ctx.predict.address(dev, want.address).set(false);
    if (predicted === false) return { changes: [] };
    const have = ctx.fact(interfacesFact).get(dev)?.addresses.filter((a) => a.address === want.address) ?? [];
    if (predicted === true && have.length === 0) {
      return { changes: [{ summary: `remove ${want.address} from ${dev}`, script: sh`ip addr del ${formatCidr(want)} dev ${dev}` }] };
    }
    return {
      changes: have.map((a) => ({ summary: `remove ${a.address}/${a.prefix} from ${dev}`, script: sh`ip addr del ${`${a.address}/${a.prefix}`} dev ${dev}` })),
    };
  });
}
