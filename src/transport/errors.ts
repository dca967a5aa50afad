/** Errors of a command run over an open connection (connection failures are UnreachableError, in types.ts). */

/** The command ran longer than its timeout; its remote process group was killed and its channel closed. */
export class CommandTimeoutError extends Error {
  constructor(
    readonly host: string,
    readonly timeoutMs: number,
  ) {
    super(`${host}: command timed out after ${formatSeconds(timeoutMs)} and was killed (SIGKILL to its process group)`);
    this.name = 'CommandTimeoutError';
  }
}

/** Privilege escalation (become) could not start: sudo missing, or it wants a password, or the user is unknown. */
export class BecomeError extends Error {
  constructor(
    readonly host: string,
    message: string,
  ) {
    super(`${host}: ${message}`);
    this.name = 'BecomeError';
  }
}

export function formatSeconds(ms: number): string {
  const s = ms / 1000;
  return `${Number.isInteger(s) ? s : s.toFixed(1)} s`;
}
