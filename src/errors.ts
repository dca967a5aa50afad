import type { z } from 'zod';

/** Exit codes, as Ansible's. */
export const EXIT = {
  ok: 0,
  hostFailed: 2,
  unreachable: 3,
  invalid: 4,
  usage: 5,
  /** stopped by SIGINT, SIGTERM or SIGHUP (128 + SIGINT, as a shell reports an interrupted command) */
  interrupted: 130,
} as const;

/** A drill or command stopped by a signal (src/commands/interrupt.ts) after it put back what it had changed. */
export class InterruptedError extends Error {
  constructor(readonly signal: string) {
    super(`interrupted by ${signal}`);
    this.name = 'InterruptedError';
  }
}

/** Throw InterruptedError once `signal` is aborted (a drill's checkpoint between its phases). */
export function checkpoint(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new InterruptedError(String(signal.reason ?? 'a signal'));
}

/** Where a problem sits, so that an error can name it. */
export interface Location {
  file?: string;
  line?: number; // 1-based
  col?: number; // 1-based
  host?: string;
  field?: string;
}

function formatLocation(loc: Location): string {
  const parts: string[] = [];
  if (loc.file) parts.push(loc.line ? `${loc.file}:${loc.line}${loc.col ? `:${loc.col}` : ''}` : loc.file);
  if (loc.host) parts.push(`host ${loc.host}`);
  if (loc.field) parts.push(`field ${loc.field}`);
  return parts.join(', ');
}

/** An error the operator can fix: bad inventory, playbook or option values. Nothing was touched on any host. */
export class ValidationError extends Error {
  readonly exitCode: number = EXIT.invalid;
  constructor(
    message: string,
    readonly location: Location = {},
    readonly hint?: string,
  ) {
    super(message);
    this.name = 'ValidationError';
  }
  override toString(): string {
    const where = formatLocation(this.location);
    return `${where ? `${where}: ` : ''}${this.message}${this.hint ? `\n  fix: ${this.hint}` : ''}`;
  }
}

/** Several validation errors found in one pass, reported together. */
export class ValidationErrors extends Error {
  readonly exitCode: number = EXIT.invalid;
  constructor(readonly errors: ValidationError[]) {
    super(errors.map((e) => e.toString()).join('\n'));
    this.name = 'ValidationErrors';
  }
}

/** Bad or incomplete command-line options. */
export class UsageError extends Error {
  readonly exitCode: number = EXIT.usage;
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** zod issues → one readable line each: `plays[0].serial: …` */
export function formatZodIssues(err: z.ZodError, prefix = ''): string {
  return err.issues
    .map((i) => {
      const path = i.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '');
      return `${prefix}${path ? `${path}: ` : ''}${i.message}`;
    })
    .join('; ');
}
/** Print an error the operator can act on and return its exit code. */
export function reportError(e: unknown, err: (s: string) => void): number {
  if (e instanceof ValidationErrors) {
    err(`ERROR: ${e.errors.length} problems found; nothing was changed on any host:\n${e.errors.map((x) => `  - ${x.toString().replace(/\n/g, '\n    ')}`).join('\n')}\n`);
    return EXIT.invalid;
  }
  if (e instanceof ValidationError) {
    err(`ERROR: ${e.toString()}\nNothing was changed on any host.\n`);
    return EXIT.invalid;
  }
  if (e instanceof UsageError) {
    err(`ERROR: ${e.message}\n`);
    return EXIT.usage;
  }
  err(`ERROR: ${(e as Error)?.stack ?? String(e)}\n`);
  return 1;
}
