/**
 * Compiled `.ts` playbooks, cached (like Python's __pycache__, but under ~/.cache): the compiled CLI imports a
 * playbook that did not change since its last run as plain JavaScript, without tsx. Registering tsx costs a loader
 * thread that every later import goes through; on the bench's playbook that was about half of the run's start-up
 * CPU (docs/benchmark.md, "Start-up").
 *
 * A playbook and the local modules it imports are bundled by esbuild into one ESM file; every bare import
 * (`lvsplay`, `lvsplay/roles`, an operator's npm package) stays an import, of the very file Node resolves from the
 * playbook's own directory, so the playbook gets the same modules as through tsx (one engine with the CLI). The
 * entry is used again only while every bundled source has the same content (sha256) and every imported file still
 * exists. Anything this cannot do as tsx would (`import.meta`, which names the cache file; a dynamic `import()` or
 * `require` of a relative path; an import Node resolves only for ESM) makes it answer `undefined`: the caller loads
 * the playbook through tsx as before, errors included. LVSPLAY_PLAYBOOK_CACHE=0 turns the cache off;
 * LVSPLAY_CACHE_DIR moves it.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire, isBuiltin } from 'node:module';
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

/** bumped when the bundle's shape changes, so older entries are not used */
const FORMAT = 1;

interface Manifest {
  format: number;
  esbuild: string;
  node: string;
  /** bundled sources (absolute path → sha256 of the content) */
  inputs: Record<string, string>;
  /** files the bundle imports (absolute paths) */
  imports: string[];
  /** the bundle's file name in the cache directory: KEY-HASH.mjs, named by its content */
  bundle: string;
}

export interface CachedImport {
  module: { default?: unknown };
  /** true when the entry was compiled by this call */
  compiled: boolean;
  /** the bundle's path */
  file: string;
}

export function playbookCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.LVSPLAY_CACHE_DIR) return join(env.LVSPLAY_CACHE_DIR, 'playbooks');
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'lvsplay', 'playbooks');
}

const sha256 = (s: string | Buffer) => createHash('sha256').update(s).digest('hex');

/**
 * Why a bundle cannot run from the cache (undefined: it can). Pure. `require(` also matches esbuild's `__require(`
 * shim (a bundled CommonJS module's require).
 */
export function uncacheableReason(bundle: string): string | undefined {
  if (/\bimport\.meta\b/.test(bundle)) return 'import.meta (it would name the cache file)';
  if (/\bimport\s*\(/.test(bundle)) return 'a dynamic import()';
  if (/require\s*\(/.test(bundle)) return 'require()';
  return undefined;
}

function readManifest(path: string): Manifest | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Manifest;
  } catch {
    return undefined;
  }
}

function fresh(m: Manifest | undefined, esbuildVersion: string | undefined, dir: string): m is Manifest {
  if (!m || m.format !== FORMAT || !existsSync(join(dir, m.bundle)) || m.node !== process.version || (esbuildVersion !== undefined && m.esbuild !== esbuildVersion)) return false;
  for (const [file, hash] of Object.entries(m.inputs)) {
    let text: Buffer;
    try {
      text = readFileSync(file);
    } catch {
      return false;
    }
    if (sha256(text) !== hash) return false;
  }
  return m.imports.every((f) => existsSync(f));
}

/** Bundles of `key` other than `keep`, written over 10 minutes ago (a run started before may still import one). */
function removeOldBundles(dir: string, key: string, keep: string): void {
  for (const f of readdirSync(dir)) {
    if (!f.startsWith(`${key}-`) || !f.endsWith('.mjs') || f === keep) continue;
    try {
      if (Date.now() - statSync(join(dir, f)).mtimeMs > 600_000) rmSync(join(dir, f), { force: true });
    } catch {
      // gone already
    }
  }
}

/** Write `text` to `path` whole or not at all (runs in parallel may write one entry at once). */
function writeAtomically(path: string, text: string): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}

class NotCacheable extends Error {}

/** esbuild's version from its package.json, without loading esbuild (a cache hit never loads it). */
function esbuildVersion(): string | undefined {
  try {
    const req = createRequire(import.meta.url);
    return (JSON.parse(readFileSync(req.resolve('esbuild/package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return undefined;
  }
}

/** Bundle `abs` into the cache; the bundle's path, or undefined when it cannot come from the cache. */
async function compile(abs: string, dir: string, key: string, version: string): Promise<string | undefined> {
  const out = join(dir, `${key}.mjs`); // esbuild's output name; the map's paths are relative to this directory
  const esbuild = await import('esbuild');
  const req = createRequire(abs);
  const imports = new Set<string>();
  let result;
  try {
    result = await esbuild.build({
      entryPoints: [abs],
      bundle: true,
      write: false,
      outfile: out,
      format: 'esm',
      platform: 'node',
      target: `node${process.versions.node.split('.')[0]}`,
      sourcemap: 'inline',
      sourcesContent: false, // the map names the .ts files and lines; their text stays out of the bundle
      metafile: true,
      logLevel: 'silent',
      plugins: [
        {
          name: 'lvsplay-bare-imports',
          setup(b) {
            b.onResolve({ filter: /.*/ }, (args) => {
              if (args.kind === 'entry-point' || args.path.startsWith('.') || isAbsolute(args.path)) return undefined;
              if (args.kind !== 'import-statement') throw new NotCacheable(`${args.kind} of ${args.path}`);
              if (isBuiltin(args.path)) return { path: args.path, external: true };
              // what Node resolves from the playbook's directory ("default" of an exports map, as for import)
              let file: string;
              try {
                file = req.resolve(args.path);
              } catch {
                throw new NotCacheable(`${args.path} resolves only for ESM`);
              }
              imports.add(file);
              return { path: pathToFileURL(file).href, external: true };
            });
          },
        },
      ],
    });
  } catch {
    return undefined; // a syntax error, an unresolvable import, NotCacheable: tsx loads it and says what is wrong
  }
  const inputs: Record<string, string> = {};
  for (const rel of Object.keys(result.metafile.inputs)) {
    const file = resolve(rel);
    let text: Buffer;
    try {
      text = readFileSync(file);
    } catch {
      return undefined;
    }
    inputs[file] = sha256(text);
  }
  const code = result.outputFiles.find((f) => f.path === out)?.text;
  // judged on the bundle esbuild wrote (comments are gone), its source map left out
  if (code === undefined || uncacheableReason(code.replace(/\/\/# sourceMappingURL=\S+\s*$/, ''))) return undefined;
  // the bundle first, under a name of its content, then the manifest naming it: runs in parallel, each replacing
  // the manifest whole, never pair a manifest with another run's bundle
  const bundle = `${key}-${sha256(code).slice(0, 16)}.mjs`;
  try {
    mkdirSync(dir, { recursive: true });
    writeAtomically(join(dir, bundle), code);
    writeAtomically(join(dir, `${key}.json`), JSON.stringify({ format: FORMAT, esbuild: version, node: process.version, inputs, imports: [...imports], bundle } satisfies Manifest));
    removeOldBundles(dir, key, bundle);
  } catch {
    return undefined; // an unwritable cache: tsx, as without a cache
  }
  return join(dir, bundle);
}

/**
 * Import `file` (a .ts playbook) from the cache, compiling it on a miss. Undefined: it cannot come from the cache
 * (see above); load it through tsx.
 */
export async function importCachedPlaybook(file: string, env: NodeJS.ProcessEnv = process.env): Promise<CachedImport | undefined> {
  if (env.LVSPLAY_PLAYBOOK_CACHE === '0') return undefined;
  const abs = resolve(file);
  const key = sha256(`${FORMAT}\0${abs}`).slice(0, 32);
  const dir = playbookCacheDir(env);
  const version = esbuildVersion();
  if (version === undefined) return undefined;
  const m = readManifest(join(dir, `${key}.json`));
  let bundle = fresh(m, version, dir) ? join(dir, m.bundle) : undefined;
  const compiled = bundle === undefined;
  bundle ??= await compile(abs, dir, key, version);
  if (bundle === undefined) return undefined;
  process.setSourceMapsEnabled(true); // stack traces name the playbook's .ts lines (the bundle's inline map)
  return { module: (await import(pathToFileURL(bundle).href)) as { default?: unknown }, compiled, file: bundle };
}
