/**
 * The secret values known to this run (vault plaintexts, password variables, VRRP auth_pass), and the one
 * output-side filter that replaces them with ******** wherever lvsplay prints or logs. Values are added as they
 * become known (a vaulted value when it is decrypted), so every path that prints afterwards is covered without
 * knowing where the value came from.
 */
export const MASK = '********';

/** Shorter values would mask unrelated text (a 2-letter password turns every "ab" into ********). */
const MIN_LENGTH = 3;

const known = new Set<string>();
let pattern: RegExp | undefined;

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Add secret values (strings; numbers are taken as their decimal text). Each line of a multi-line secret counts. */
export function addSecret(...values: unknown[]): void {
  for (const v of values) {
    if (typeof v !== 'string' && typeof v !== 'number') continue;
    const s = String(v);
    for (const part of [s, ...s.split('\n').map((l) => l.trim())]) {
      if (part.length >= MIN_LENGTH && !known.has(part)) {
        known.add(part);
        pattern = undefined;
      }
    }
  }
}

/** Every string leaf of a value (a decrypted vault file's variables) is a secret. */
export function addSecretsOf(value: unknown, depth = 0): void {
  if (depth > 50) return;
  if (typeof value === 'string') addSecret(value);
  else if (Array.isArray(value)) for (const v of value) addSecretsOf(v, depth + 1);
  else if (value && typeof value === 'object') for (const v of Object.values(value)) addSecretsOf(v, depth + 1);
}

/** Forget every secret (tests; one process runs one command otherwise). */
export function clearSecrets(): void {
  known.clear();
  pattern = undefined;
}

/** `text` with every known secret replaced by ********; the longest secrets first, so a prefix never leaks a tail. */
export function maskText(text: string): string {
  if (known.size === 0 || text.length < MIN_LENGTH) return text;
  pattern ??= new RegExp([...known].sort((a, b) => b.length - a.length).map(escapeRegExp).join('|'), 'g');
  return text.replace(pattern, MASK);
}

/** A copy of a JSON-like value with every string masked (events before they are printed or serialised). */
export function maskDeep<T>(value: T, depth = 0): T {
  if (known.size === 0 || depth > 50) return value;
  if (typeof value === 'string') return maskText(value) as T;
  if (Array.isArray(value)) return value.map((v) => maskDeep(v, depth + 1)) as T;
  if (value && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = maskDeep(v, depth + 1);
    return out as T;
  }
  return value;
}
