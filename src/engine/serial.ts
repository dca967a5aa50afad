/** Ansible's `serial`: rolling batches from a number, a percentage, or a list of either (the last one repeats). */
import { ValidationError } from '../errors.ts';

function batchSize(spec: number | string, total: number): number {
  if (typeof spec === 'number') {
    if (!Number.isInteger(spec) || spec < 1) throw new ValidationError(`serial must be a positive integer or a percentage, got ${spec}`, { field: 'serial' });
    return spec;
  }
  const m = /^\s*(\d+(?:\.\d+)?)\s*%\s*$/.exec(spec);
  if (m) {
    const pct = Number(m[1]);
    if (pct <= 0 || pct > 100) throw new ValidationError(`serial percentage must be in (0, 100], got ${spec}`, { field: 'serial' });
    // Ansible rounds down but never below one host
    return Math.max(1, Math.floor((total * pct) / 100));
  }
  if (/^\s*\d+\s*$/.test(spec)) return batchSize(Number(spec), total);
  throw new ValidationError(`serial must be a number, a percentage like "30%", or a list of them; got "${spec}"`, { field: 'serial' });
}

export function serialBatches<T>(hosts: readonly T[], serial: number | string | Array<number | string> | undefined): T[][] {
  if (hosts.length === 0) return [];
  if (serial === undefined) return [[...hosts]];
  const specs = Array.isArray(serial) ? serial : [serial];
  if (specs.length === 0) return [[...hosts]];
  const batches: T[][] = [];
  let i = 0;
  let k = 0;
  while (i < hosts.length) {
    const size = batchSize(specs[Math.min(k, specs.length - 1)], hosts.length);
    batches.push(hosts.slice(i, i + size));
    i += size;
    k++;
  }
  return batches;
}

/** Ansible's max_fail_percentage: the play stops when the failed share of a batch EXCEEDS it. */
export function exceedsMaxFail(failed: number, batch: number, maxFailPercentage: number | undefined): boolean {
  if (maxFailPercentage === undefined) return false;
  return batch > 0 && (failed * 100) / batch > maxFailPercentage;
}
