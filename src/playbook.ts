/** The playbook API operators write against: `export default playbook({ name, plays: [...] })`. */
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
import { existsSync, readFileSync } from 'node:fs';
import { register } from 'node:module';
import * as z from 'zod';
import { formatZodIssues, ValidationError } from './errors.ts';
import type { Play, Playbook } from './engine/types.ts';
import { importCachedPlaybook } from './playbook-cache.ts';

const serialItem = z.union([z.number().int().positive(), z.string().regex(/^\s*\d+(\.\d+)?\s*%?\s*$/, 'a number or a percentage like "30%"')]);

const playSchema = z.strictObject({
  name: z.string().optional(),
  hosts: z.string().min(1, 'hosts: a host pattern such as "directors" or "all"'),
  serial: z.union([serialItem, z.array(serialItem).min(1)]).optional(),
  maxFailPercentage: z.number().min(0).max(100).optional(),
  roles: z.array(z.any()).optional(),
  steps: z.array(z.any()).optional(),
  handlers: z.record(z.string(), z.any()).optional(),
  tags: z.array(z.string()).optional(),
});

const playbookSchema = z.strictObject({
  name: z.string().min(1),
  plays: z.array(playSchema).min(1, 'a playbook needs at least one play'),
  verify: z.array(z.any()).optional(),
});

/** Build a playbook; checks its shape at run time too (a typo in a key is an error, not a silent no-op). */
export function playbook(pb: Playbook): Playbook {
  const r = playbookSchema.safeParse(pb);
  if (!r.success) throw new ValidationError(`invalid playbook: ${formatZodIssues(r.error)}`, {}, 'see the Playbook type in lvsplay (docs/playbooks.md)');
  return pb;
}

export function play(p: Play): Play {
  return p;
}

let tsxRegistered = false;

/** Running compiled (dist/): from the sources tsx is loaded already and a playbook needs nothing more. */
const compiledCli = () => !import.meta.url.endsWith('.ts');

/**
 * TypeScript loading, on demand: running from the sources (tsx already loaded this very module) there is nothing to
 * do; compiled (dist/), tsx is registered the first time a .ts playbook is loaded, so that the other commands never
 * pay for it. `import 'lvsplay'` in the playbook then resolves to dist/ too (package.json "exports": one engine).
 *
 * Start-up cost (docs/benchmark.md, "Start-up"): on Node 20 tsx's hooks run in a loader thread that every later
 * import goes through (a message round trip and tsx's resolver each), so lvsplay's own modules a playbook imports
 * are loaded first, without the hooks: `lvsplay` always, `lvsplay/roles` when the playbook's text names it. tsx's
 * hooks are registered directly, as its register() does, without loading tsx's API (and esbuild's) in this thread
 * too; should that registration be refused (another tsx version), its register() is used.
 */
async function ensureTypeScriptLoader(file: string): Promise<void> {
  if (tsxRegistered || !compiledCli() || !/\.[cm]?tsx?$/.test(file)) return;
  await import('lvsplay');
  if (/['"]lvsplay\/roles['"]/.test(readFileSync(file, 'utf8'))) await import('lvsplay/roles');
  try {
    register('tsx/esm', { parentURL: import.meta.url, data: {} });
    process.setSourceMapsEnabled(true); // stack traces name the playbook's .ts lines, as tsx's register() does
  } catch {
    (await import('tsx/esm/api')).register();
  }
  tsxRegistered = true;
}

/**
 * Load a .ts/.js playbook module and return its default export. Compiled, a .ts playbook comes from the compiled
 * playbook cache (src/playbook-cache.ts) when it can, else through tsx.
 */
export async function loadPlaybook(file: string): Promise<Playbook> {
  const abs = resolve(file);
  if (!existsSync(abs)) throw new ValidationError(`playbook not found: ${abs}`, { file }, 'pass the path of a .ts playbook, e.g. playbooks/site.ts');
  let mod: { default?: unknown };
  try {
    const cached = compiledCli() && /\.[cm]?ts$/.test(abs) ? await importCachedPlaybook(abs) : undefined;
    if (cached) mod = cached.module;
    else {
      await ensureTypeScriptLoader(abs);
      mod = await import(pathToFileURL(abs).href);
    }
  } catch (e) {
    if (e instanceof ValidationError) throw new ValidationError(e.message, { file, ...e.location }, e.hint);
    const msg = (e as Error).message ?? String(e);
    throw new ValidationError(`cannot load playbook: ${msg}`, { file });
  }
  const pb = mod.default;
  if (!pb || typeof pb !== 'object') throw new ValidationError('the playbook module has no default export', { file }, 'end it with: export default playbook({ name, plays: [...] })');
  const r = playbookSchema.safeParse(pb);
  if (!r.success) throw new ValidationError(`invalid playbook: ${formatZodIssues(r.error)}`, { file });
  return pb as Playbook;
}
