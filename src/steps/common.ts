import * as z from 'zod';
import { ValidationError } from '../errors.ts';
import type { Fact, Plan, PlanContext, Step, StepOptions } from '../engine/types.ts';

// A run parses each schema a few hundred times at most: zod's generated fast paths (a new Function per object
// schema, compiled on first use) cost more than they save here (a 20-host run's plan phase: 15-24 → 13-19 ms).
z.config({ jitless: true });

/** Options every step accepts (see StepOptions). */
export const commonShape = {
  notify: z.union([z.string().min(1), z.array(z.string().min(1))]).optional(),
  tags: z.array(z.string().min(1)).optional(),
  name: z.string().min(1).optional(),
  secret: z.boolean().optional(),
  noLog: z.boolean().optional(),
};

/**
 * Validate step options against a strict zod schema. The error names the step, the field and what was wrong:
 * `sysctl /etc/sysctl.d/90-lvs.conf: option "mdoe" is not known (known: …)`.
 */
export function parseOptions<S extends z.ZodType>(schema: S, input: unknown, step: string): z.output<S> {
  const r = schema.safeParse(input ?? {});
  if (r.success) return r.data;
  const known = knownKeys(schema);
  const issue = r.error.issues[0]!;
  if (issue.code === 'unrecognized_keys') {
    const keys = (issue as { keys: string[] }).keys;
    const at = issue.path.length ? `${issue.path.join('.')}.` : '';
    throw new ValidationError(
      `${step}: unknown option ${keys.map((k) => `"${at}${k}"`).join(', ')}`,
      { field: `${at}${keys[0]}` },
      known && !issue.path.length ? `use one of: ${known.join(', ')}` : 'remove it or fix its spelling',
    );
  }
  const field = issue.path.map(String).join('.') || undefined;
  throw new ValidationError(
    `${step}: ${field ? `option "${field}": ` : ''}${issue.message}`,
    { field },
    r.error.issues.length > 1 ? `${r.error.issues.length - 1} more problem(s) in the same options` : undefined,
  );
}

function knownKeys(schema: z.ZodType): string[] | undefined {
  const shape = (schema as unknown as { shape?: Record<string, unknown> }).shape;
  return shape ? Object.keys(shape) : undefined;
}

/** Throw a ValidationError for a bad positional argument. */
export function badArg(step: string, field: string, message: string, hint?: string): never {
  throw new ValidationError(`${step}: ${field}: ${message}`, { field }, hint);
}

/** An error raised while planning: the host's facts make the desired state impossible. The host fails. */
export class PlanError extends Error {
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(hint ? `${message} (fix: ${hint})` : message);
    this.name = 'PlanError';
  }
}

/** Assemble a Step from its parts and the common options. */
export function makeStep(
  kind: string,
  defaultName: string,
  facts: readonly Fact[],
  common: StepOptions,
  plan: (ctx: PlanContext) => Plan,
): Step {
  const notify = common.notify === undefined ? undefined : Array.isArray(common.notify) ? common.notify : [common.notify];
  return {
    kind,
    name: common.name ?? defaultName,
    facts: dedupeFacts(facts),
    plan,
    ...(notify ? { notify } : {}),
    ...(common.tags ? { tags: common.tags } : {}),
    ...(common.secret || common.noLog ? { secret: true } : {}),
  };
}

function dedupeFacts(facts: readonly Fact[]): Fact[] {
  const seen = new Map<string, Fact>();
  for (const f of facts) if (!seen.has(f.key)) seen.set(f.key, f);
  return [...seen.values()];
}

export const absolutePath = z
  .string()
  .refine((p) => p.startsWith('/') && !p.includes('\0') && !p.includes('\n'), {
    message: 'must be an absolute path (start with /) without newlines',
  });

/** File mode as an octal string ('0644', '644', '0755') or a number written in octal (0o644). */
export const fileMode = z
  .union([z.string().regex(/^0?[0-7]{3,4}$/, 'must be an octal mode like "0644"'), z.number().int().min(0).max(0o7777)])
  .transform((m) => (typeof m === 'number' ? m : parseInt(m, 8)));

export const ownerName = z
  .union([z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]*\$?$/, 'must be a user/group name or a numeric id'), z.number().int().min(0)])
  .transform(String);

/** Normalise an octal mode to the 4-digit string form used in summaries ('0644'). */
export function modeString(mode: number): string {
  return mode.toString(8).padStart(4, '0');
}
