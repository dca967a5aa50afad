import * as z from 'zod';
import type { Step, StepOptions } from '../engine/types.ts';
import { routesFact, type Route } from '../facts/ip.ts';
import { canonicalIp, formatCidr, ipFamily, isNetworkAddress, parseCidr, type Cidr } from '../facts/netaddr.ts';
import { sh } from '../shell.ts';
import { badArg, commonShape, makeStep, parseOptions } from './common.ts';
import { validIfname } from './link.ts';

export interface RouteOptions extends StepOptions {
  /** gateway address */
  via?: string;
  /** output device */
  dev?: string;
  metric?: number;
}

const schema = z
  .strictObject({
    ...commonShape,
    via: z.string().refine((v) => canonicalIp(v) !== undefined, 'must be an IP address').optional(),
    dev: z.string().min(1).optional(),
    metric: z.number().int().min(0).max(4294967295).optional(),
  })
  .refine((o) => o.via !== undefined || o.dev !== undefined, { message: 'give via and/or dev', path: ['via'] });

function parseDest(label: string, dest: string): Cidr {
  const c = dest === 'default' ? parseCidr('0.0.0.0/0') : typeof dest === 'string' ? parseCidr(dest) : undefined;
  if (!c) badArg(label, 'dest', `"${String(dest)}" is not a destination`, 'e.g. "10.20.0.0/16", "192.0.2.7" or "default"');
  if (!isNetworkAddress(c)) badArg(label, 'dest', `${dest} has host bits set`, `use the network address of ${dest}`);
  return c;
}

function findRoute(routes: Route[], dst: Cidr, metric?: number): Route | undefined {
  const id = formatCidr(dst);
  // IPv6 routes carry metric 1024 by default: compare metrics only when one was asked for
  return routes.find((r) => r.family === dst.family && r.dst === id && (metric === undefined || (r.metric ?? 0) === metric) && r.type === undefined);
}

/** `ip route` arguments after the verb: destination, then via/dev/metric when given. */
function routeArgs(dst: Cidr, r: { via?: string | undefined; dev?: string | undefined; metric?: number | undefined }): string[] {
  return [formatCidr(dst), ...(r.via ? ['via', r.via] : []), ...(r.dev ? ['dev', r.dev] : []), ...(r.metric !== undefined ? ['metric', String(r.metric)] : [])];
}

const ipRoute = (dst: Cidr) => (dst.family === 6 ? ['ip', '-6', 'route'] : ['ip', 'route']);

/** A route in the main table (`ip route replace`): present with this gateway/device, changed in place otherwise. */
export function route(dest: string, options: RouteOptions): Step {
  const label = `route ${dest}`;
  const dst = parseDest(label, dest);
  const o = parseOptions(schema, options, label);
  if (o.dev !== undefined) validIfname(label, 'dev', o.dev);
  const via = o.via !== undefined ? canonicalIp(o.via)! : undefined;
  if (o.via !== undefined && ipFamily(o.via) !== dst.family) badArg(label, 'via', `${o.via} is not of the same family as ${dest}`);
  const args = routeArgs(dst, { via, dev: o.dev, metric: o.metric });
  const spec = args.join(' ');
  return makeStep('route', `${label}${via ? ` via ${via}` : ''}${o.dev ? ` dev ${o.dev}` : ''}`, [routesFact], o, (ctx) => {
    const predicted = ctx.predict.route(formatCidr(dst)).get();
    ctx.predict.route(formatCidr(dst)).set(spec);
    if (predicted === spec) return { changes: [] };
    // null: an earlier routeAbsent removed it in this run
    const cur = predicted === undefined ? findRoute(ctx.fact(routesFact), dst, o.metric) : undefined;
    if (cur && (via === undefined || cur.via === via) && (o.dev === undefined || cur.dev === o.dev)) return { changes: [] };
    return {
      changes: [
        {
          summary: cur ? `change route ${formatCidr(dst)} (was${cur.via ? ` via ${cur.via}` : ''}${cur.dev ? ` dev ${cur.dev}` : ''}) → ${spec}` : `add route ${spec}`,
          script: sh`${ipRoute(dst)} replace ${args}`,
        },
      ],
    };
  });
}

/** A route that must not be in the main table (`ip route del`); via/dev narrow which one. */
export function routeAbsent(dest: string, options: Partial<RouteOptions> = {}): Step {
  const label = `routeAbsent ${dest}`;
  const dst = parseDest(label, dest);
  const o = parseOptions(z.strictObject({ ...commonShape, via: z.string().optional(), dev: z.string().optional(), metric: z.number().int().min(0).optional() }), options, label);
  const via = o.via !== undefined ? canonicalIp(o.via) : undefined;
  if (o.via !== undefined && !via) badArg(label, 'via', `${o.via} is not an IP address`);
  if (o.dev !== undefined) validIfname(label, 'dev', o.dev);
  return makeStep('routeAbsent', label, [routesFact], o, (ctx) => {
    const predicted = ctx.predict.route(formatCidr(dst)).get();
    ctx.predict.route(formatCidr(dst)).set(null);
    if (predicted === null) return { changes: [] };
    const routes = ctx.fact(routesFact).filter(
      (r) => r.family === dst.family && r.dst === formatCidr(dst) && r.type === undefined && (via === undefined || r.via === via) && (o.dev === undefined || r.dev === o.dev) && (o.metric === undefined || r.metric === o.metric),
    );
    if (predicted === undefined && routes.length === 0) return { changes: [] };
    // predicted: an earlier route step of this run adds it, so it will be there to delete
    const targets = routes.length ? routes : [{ dst: formatCidr(dst), via, dev: o.dev, metric: o.metric }];
    return {
      changes: targets.map((r) => {
        const args = routeArgs(dst, r);
        return { summary: `delete route ${args.join(' ')}`, script: sh`${ipRoute(dst)} del ${args}` };
      }),
    };
  });
}
