/**
 * Reading the cluster data model out of host variables: every bad value becomes a Problem that names the host,
 * the field (`lvs_services[1].port`), the file and line where the variable was set, and a fix.
 */
import type { z } from 'zod';
import type { Problem } from '../engine/types.ts';
import type { HostEntry, Inventory } from '../inventory/types.ts';

export type Parsed<T> = { ok: true; value: T } | { ok: false; problems: Problem[] };

/** zod path → `lvs_services[1].health_check.path` */
export function fieldPath(root: string, path: readonly PropertyKey[]): string {
  return path.reduce<string>((acc, p) => (typeof p === 'number' ? `${acc}[${p}]` : `${acc}.${String(p)}`), root);
}

/** Where a variable of a host was set, for a Problem. */
export function varLocation(host: HostEntry | undefined, name: string): { file?: string; line?: number } {
  const src = host?.varSources?.[name];
  return src ? { ...(src.file ? { file: src.file } : {}), ...(src.line ? { line: src.line } : {}) } : {};
}

/** Parse host variable `name` with `schema`; undefined when the host does not set it. */
export function readVar<S extends z.ZodType>(inv: Inventory, hostName: string, name: string, schema: S, hint: string): Parsed<z.output<S>> | undefined {
  const host = inv.hosts.get(hostName);
  const raw = host?.vars[name];
  if (raw === undefined || raw === null) return undefined;
  const r = schema.safeParse(raw);
  if (r.success) return { ok: true, value: r.data };
  const loc = varLocation(host, name);
  return {
    ok: false,
    problems: r.error.issues.map((i) => {
      const field = fieldPath(name, i.path);
      let message = i.message;
      if (i.code === 'unrecognized_keys') message = `unknown key(s) ${(i as { keys: string[] }).keys.map((k) => JSON.stringify(k)).join(', ')}`;
      return { message: `${field}: ${message}`, host: hostName, field, ...loc, hint };
    }),
  };
}
