/**
 * The playbook's `verify` entries and the helpers that build them:
 *
 *   export default playbook({ name, plays, verify: [services({ from: 'clients', probes: 100 })] });
 *
 * A playbook without `verify` checks every virtual service of the inventory from the first host of the `clients`
 * group (when the inventory has one).
 */
import * as z from 'zod';
import { formatZodIssues, ValidationError } from '../errors.ts';

export interface ServicesCheckOptions {
  /** host pattern; its first host is the vantage point the probes start from (default 'clients') */
  from?: string;
  /** new TCP connections per service (default 100) */
  probes?: number;
  /** only these services (names from lvs_services / lvs_node_svc) */
  only?: string[];
  /** HTTP path probed (default '/') */
  path?: string;
  /** per-probe timeout in ms (default 2000) */
  timeoutMs?: number;
  /** 'http': backend from the response body; 'tcp': connect only, counts from the director. Default: http when the
   *  health check is HTTP_GET or the port is 80/8080, else tcp */
  mode?: 'http' | 'tcp';
  /** failed probes tolerated (default 0) */
  maxFailed?: number;
  /** declared real servers (inventory host names) accepted as down: their services are DEGRADED, not FAIL */
  allowDown?: string[];
  /** real servers per service accepted as down, whichever they are, besides those named in allowDown (default 0) */
  maxDown?: number;
}

export interface ServicesCheck {
  readonly check: 'services';
  from: string;
  probes: number;
  only?: string[];
  path: string;
  timeoutMs: number;
  mode?: 'http' | 'tcp';
  maxFailed: number;
  allowDown?: string[];
  maxDown: number;
}

/** One entry of `Playbook.verify`. */
export type VerifyEntry = ServicesCheck;

const optionsSchema = z.strictObject({
  from: z.string().min(1).default('clients'),
  probes: z.number().int().min(1).max(100_000).default(100),
  only: z.array(z.string().min(1)).min(1).optional(),
  path: z.string().regex(/^\/\S*$/, 'must be a URL path starting with /').default('/'),
  timeoutMs: z.number().int().min(50).max(60_000).default(2000),
  mode: z.enum(['http', 'tcp']).optional(),
  maxFailed: z.number().int().min(0).default(0),
  allowDown: z.array(z.string().min(1)).min(1).optional(),
  maxDown: z.number().int().min(0).default(0),
});

/** `--allow-down HOST[,HOST]`: every entry also accepts these hosts as down. */
export function withAllowDown(entry: ServicesCheck, hosts: readonly string[]): ServicesCheck {
  if (hosts.length === 0) return entry;
  return { ...entry, allowDown: [...new Set([...(entry.allowDown ?? []), ...hosts])] };
}

/** Verify the virtual services: distribution, health, director cross-check (see docs/verification.md). */
export function services(options: ServicesCheckOptions = {}): ServicesCheck {
  const r = optionsSchema.safeParse(options);
  if (!r.success) throw new ValidationError(`verify services(): ${formatZodIssues(r.error)}`, {}, 'see ServicesCheckOptions (docs/verification.md)');
  return { check: 'services', ...r.data } as ServicesCheck;
}

/** An entry as found in a loaded playbook (plain objects from JSON-ish playbooks are accepted too). */
export function parseVerifyEntry(x: unknown, index: number): VerifyEntry {
  if (x && typeof x === 'object' && (x as { check?: unknown }).check === 'services') {
    const { check: _c, ...rest } = x as Record<string, unknown>;
    void _c;
    const r = optionsSchema.safeParse(rest);
    if (r.success) return { check: 'services', ...r.data } as ServicesCheck;
    throw new ValidationError(`playbook verify[${index}]: ${formatZodIssues(r.error)}`, {}, "build entries with services({ from: 'clients', probes: 100 }) from 'lvsplay'");
  }
  throw new ValidationError(`playbook verify[${index}] is not a verification entry: ${JSON.stringify(x)?.slice(0, 80)}`, {}, "build entries with services({ ... }) from 'lvsplay'");
}
