/**
 * A secret value (a login or become password). It prints, serialises and inspects as ******** so that it cannot
 * reach output, --json, diffs or error messages by accident; the transport reads it with reveal().
 */
import { inspect } from 'node:util';

export const MASK = '********';

export class Secret {
  readonly #value: string;
  constructor(value: string) {
    this.#value = value;
  }
  /** the clear value: only for handing to the SSH server or to sudo's stdin */
  reveal(): string {
    return this.#value;
  }
  toString(): string {
    return MASK;
  }
  toJSON(): string {
    return MASK;
  }
  [inspect.custom](): string {
    return MASK;
  }
}
