import { ValidationError, ValidationErrors, type Location } from '../errors.ts';

/**
 * Collects every problem found in one pass, so that the operator fixes an inventory in one round instead of
 * one error per run.
 */
export class Problems {
  readonly list: ValidationError[] = [];
  /** what Ansible accepts silently but is probably a mistake (a group_vars file for no group): reported, not fatal */
  readonly warnings: ValidationError[] = [];

  add(message: string, location: Location, hint?: string): void {
    this.list.push(new ValidationError(message, location, hint));
  }

  warn(message: string, location: Location, hint?: string): void {
    this.warnings.push(new ValidationError(message, location, hint));
  }

  /** Absorb a thrown ValidationError(s); anything else is rethrown. */
  absorb(err: unknown): void {
    if (err instanceof ValidationErrors) this.list.push(...err.errors);
    else if (err instanceof ValidationError) this.list.push(err);
    else throw err;
  }

  get empty(): boolean {
    return this.list.length === 0;
  }

  /** One problem: throw it as is; several: throw them together. */
  throwIfAny(): void {
    if (this.list.length === 1) throw this.list[0];
    if (this.list.length > 1) throw new ValidationErrors(this.list);
  }
}

function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0];
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = prev[j];
      prev[j] = Math.min(prev[j] + 1, prev[j - 1] + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = tmp;
    }
  }
  return prev[b.length];
}

/** The closest candidate to a probably mistyped name, if one is close enough to be a plausible typo. */
export function closestName(name: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDist = Math.max(1, Math.floor(name.length / 3)) + 1;
  for (const c of candidates) {
    if (c === name) continue;
    const d = editDistance(name.toLowerCase(), c.toLowerCase());
    if (d < bestDist) {
      best = c;
      bestDist = d;
    }
  }
  return best;
}

export function didYouMean(name: string, candidates: Iterable<string>): string {
  const c = closestName(name, candidates);
  return c ? ` (did you mean ${c}?)` : '';
}
