import * as z from 'zod';
import type { PredictedState } from '../engine/predicted-state.ts';
import type { Change, Step, StepOptions } from '../engine/types.ts';
import { toolsFact } from '../facts/host.ts';
import { interfacesFact } from '../facts/ip.ts';
import { sh } from '../shell.ts';
import { badArg, commonShape, makeStep, parseOptions, PlanError } from './common.ts';
import { modprobeCommand } from './modprobe.ts';

export interface LinkOptions extends StepOptions {
  type: 'dummy' | 'ipip' | 'ip6tnl';
  /** bring it up (default true); false brings it down */
  up?: boolean;
}

const schema = z.strictObject({ ...commonShape, type: z.enum(['dummy', 'ipip', 'ip6tnl']), up: z.boolean().optional() });

/**
 * The fallback device a tunnel module creates when it loads, and the module: tunl0 (ipip, IPv4 in IPv4) and ip6tnl0
 * (ip6_tunnel, IPv6 in IPv6: what IPVS-TUN sends to the real servers of an IPv6 service).
 */
const FALLBACK: Record<string, { type: 'ipip' | 'ip6tnl'; module: string }> = { tunl0: { type: 'ipip', module: 'ipip' }, ip6tnl0: { type: 'ip6tnl', module: 'ip6_tunnel' } };
const IFNAME = /^[A-Za-z0-9_.:-]{1,15}$/;

export function validIfname(label: string, field: string, name: unknown): asserts name is string {
  if (typeof name !== 'string' || !IFNAME.test(name) || name.includes(':')) {
    badArg(label, field, `"${String(name)}" is not an interface name`, 'at most 15 characters of letters, digits, _ . -');
  }
}

/** Does the link exist now or will it by this point of the run? (`tunl0` comes with the ipip module, ip6tnl0 with ip6_tunnel.) */
export function linkWillExist(exists: boolean, predict: PredictedState, name: string): boolean {
  const predicted = predict.link(name).get();
  if (predicted !== undefined) return predicted;
  const fb = FALLBACK[name];
  if (fb && predict.module(fb.module).get() === true) return true;
  return exists;
}

/**
 * A network device of type dummy (an always-up home for VIPs) or ipip (`tunl0` is the ipip module's fallback
 * device: ensured by loading ipip; any other name is created as an ipip tunnel), up or down.
 */
export function link(name: string, options: LinkOptions): Step {
  const label = `link ${name}`;
  validIfname(label, 'name', name);
  const o = parseOptions(schema, options, label);
  const up = o.up ?? true;
  return makeStep('link', label, [interfacesFact, toolsFact], o, (ctx) => {
    const ifaces = ctx.fact(interfacesFact);
    const cur = ifaces.get(name);
    const changes: Change[] = [];
    const exists = linkWillExist(cur !== undefined, ctx.predict, name);
    if (cur && cur.kind !== undefined && cur.kind !== o.type) {
      throw new PlanError(`${label}: exists with type ${cur.kind}, not ${o.type}`, `remove it (linkAbsent('${name}')) or choose another name`);
    }
    if (!exists) {
      const fb = FALLBACK[name];
      if (fb && fb.type === o.type) {
        changes.push({ summary: `load ${fb.module} (creates ${name})`, script: modprobeCommand(ctx.fact(toolsFact), fb.module, label) });
        ctx.predict.module(fb.module).set(true);
      } else {
        // loading the dummy module creates dummy0 by itself: an earlier kernelModule('dummy') may have made it
        changes.push({ summary: `add ${o.type} device ${name}`, script: sh`ip link show dev ${name} >/dev/null 2>&1 || ip link add ${name} type ${o.type}` });
      }
    }
    ctx.predict.link(name).set(true);
    // a device created in this run starts down; one that exists keeps its flags
    const isUp = cur !== undefined && exists && cur.up;
    if (up && !isUp) changes.push({ summary: `set ${name} up`, script: sh`ip link set dev ${name} up` });
    if (!up && isUp) changes.push({ summary: `set ${name} down`, script: sh`ip link set dev ${name} down` });
    return { changes };
  });
}

export type LinkAbsentOptions = StepOptions;

/** A device that must not exist (`ip link del`). tunl0 cannot be deleted (unload ipip instead): refused. */
export function linkAbsent(name: string, options: LinkAbsentOptions = {}): Step {
  const label = `linkAbsent ${name}`;
  validIfname(label, 'name', name);
  if (['lo', 'tunl0', 'gre0', 'sit0', 'ip6tnl0'].includes(name)) badArg(label, 'name', `${name} cannot be deleted with ip link del`, 'bring it down with link(..., {up: false}) or unload its module');
  const o = parseOptions(z.strictObject({ ...commonShape }), options, label);
  return makeStep('linkAbsent', label, [interfacesFact], o, (ctx) => {
    const exists = linkWillExist(ctx.fact(interfacesFact).has(name), ctx.predict, name);
    ctx.predict.link(name).set(false);
    return { changes: exists ? [{ summary: `delete device ${name}`, script: sh`ip link del dev ${name}` }] : [] };
  });
}
