// `npm run build` / `prepare` (npm ci runs it): bundle src/ and roles/ into dist/ with esbuild, and stamp it.
// - Entry points keep their paths (dist/src/cli.js, dist/src/index.js, dist/roles/index.js, the bench's mains);
//   `splitting` puts the code they share, lvsplay's and its pure-JavaScript packages' (zod, yaml, ejs, p-queue,
//   listr2), into dist/chunks/ once: a playbook's `import 'lvsplay'` (dist/src/index.js) and the CLI run one copy
//   of the engine. A command's `await import()` becomes its own chunk, loaded only when that command runs.
//   Why a bundle: Node's module loader costs per file (resolve, stat, read, compile); zod alone is 100+ files.
//   Loading the `run` command this way takes about half the time of tsc's file-per-module output (docs/benchmark.md).
// - Left as runtime imports (EXTERNAL): packages with native parts or binaries (ssh2, esbuild), tsx (a loader),
//   packages that are large and loaded lazily anyway (vega), and what is loaded with createRequire at run time.
// - Type checking is not the build's job: `npm test` runs `tsc --noEmit`; package.json's "types" point at the sources.
// - dist/.built gets the mtime of the moment the build *began*: a source edited during the build is newer than
//   the stamp, so the launcher (src/bin/which-build.js) keeps using the sources until the next build.
// - The build goes to dist.new/, swapped in when complete: a launcher starting meanwhile sees either the old
//   complete tree or no stamp (then it runs the sources), never a half-written one.
// - dist/meta.json is esbuild's metafile: which sources and packages each output holds (test/unit/launcher.test.ts
//   reads it to prove that `--version` loads no zod, ssh2 or roles).
import { existsSync, renameSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const ENTRY_POINTS = ['src/cli.ts', 'src/index.ts', 'roles/index.ts', 'src/bench/main.ts', 'src/bench/floor-main.ts'];
const EXTERNAL = ['ssh2', 'cpu-features', 'esbuild', 'tsx', 'vega', 'vega-lite', 'playwright-core', 'nunjucks', 'ansible-vault', 'ssh-config'];

const began = new Date();
const next = `${root}dist.new`;
rmSync(next, { recursive: true, force: true });
let result;
try {
  result = await esbuild.build({
    absWorkingDir: root,
    entryPoints: ENTRY_POINTS,
    outdir: next,
    outbase: '.',
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    sourcemap: 'linked',
    sourcesContent: false, // the maps name the files under src/ and roles/; Node parses a smaller map when source maps are on
    chunkNames: 'chunks/[name]-[hash]',
    external: EXTERNAL,
    // `import 'lvsplay'` inside roles/ is the sources (package.json "lvsplay-source"), bundled once with the rest,
    // never an older dist/
    conditions: ['lvsplay-source'],
    // the CommonJS packages in the bundle (yaml, ejs) call require() for Node's built-ins
    banner: { js: "import { createRequire as __lvsplayRequire } from 'node:module'; const require = __lvsplayRequire(import.meta.url);" },
    metafile: true,
    logLevel: 'warning',
  });
} catch {
  // esbuild printed the errors
  rmSync(next, { recursive: true, force: true });
  process.stderr.write('build: esbuild failed; dist/ is unchanged (a stale dist/ is not used: lvsplay runs from its sources)\n');
  process.exit(1);
}
if (!existsSync(`${next}/src/cli.js`)) {
  rmSync(next, { recursive: true, force: true });
  process.stderr.write('build: esbuild wrote no dist/src/cli.js; dist/ is unchanged\n');
  process.exit(1);
}
// paths in the metafile relative to dist/ (esbuild writes them relative to absWorkingDir, with the dist.new/ prefix)
const outputs = Object.fromEntries(
  Object.entries(result.metafile.outputs)
    .filter(([f]) => f.endsWith('.js'))
    .map(([f, o]) => [f.replace(/^dist\.new\//, ''), { inputs: Object.keys(o.inputs), imports: o.imports.map((i) => ({ path: i.path.replace(/^dist\.new\//, ''), kind: i.kind, external: !!i.external })) }]),
);
writeFileSync(`${next}/meta.json`, `${JSON.stringify({ outputs }, null, 1)}\n`);
writeFileSync(`${next}/.built`, `${began.toISOString()}\n`);
utimesSync(`${next}/.built`, began, began);
rmSync(`${root}dist.old`, { recursive: true, force: true });
if (existsSync(`${root}dist`)) renameSync(`${root}dist`, `${root}dist.old`);
renameSync(next, `${root}dist`);
rmSync(`${root}dist.old`, { recursive: true, force: true });
