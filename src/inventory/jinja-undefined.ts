/**
 * Jinja's StrictUndefined for nunjucks: a name that is not a variable evaluates to a marker that `default`,
 * `is defined` and `mandatory` recognise, and any other use of it (printing, `.attr`, a filter that reads it)
 * throws an UndefinedVariableError naming it, as Ansible fails on an undefined variable.
 */
const NAME = Symbol('jinja undefined name');

export class UndefinedVariableError extends Error {
  constructor(readonly variable: string) {
    super(`'${variable}' is undefined`);
    this.name = 'UndefinedVariableError';
  }
}

/** Set while a template renders: the first undefined-variable use, which nunjucks would wrap in its own error. */
export const undefinedUse: { error?: UndefinedVariableError } = {};

function fail(name: string): never {
  const e = new UndefinedVariableError(name);
  undefinedUse.error ??= e;
  throw e;
}

export function undefinedMarker(name: string): object {
  return new Proxy(Object.create(null) as object, {
    get(_, prop) {
      if (prop === NAME) return name;
      if (prop === Symbol.toPrimitive || prop === 'toString' || prop === 'valueOf' || prop === 'toJSON') return () => fail(name);
      if (typeof prop === 'symbol') return undefined;
      return fail(name);
    },
    has: () => fail(name),
    ownKeys: () => fail(name),
  });
}

export function isJinjaUndefined(v: unknown): boolean {
  return v === undefined || (typeof v === 'object' && v !== null && (v as Record<symbol, unknown>)[NAME] !== undefined);
}

/** The name an undefined marker stands for. */
export function undefinedName(v: unknown): string | undefined {
  return typeof v === 'object' && v !== null ? ((v as Record<symbol, unknown>)[NAME] as string | undefined) : undefined;
}
