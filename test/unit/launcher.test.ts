// The launcher (src/bin/lvsplay.js): the compiled CLI in dist/ when it is up to date, else the sources through
// tsx; either way a playbook's `import 'lvsplay'` is the CLI's own copy of the engine (one module instance).
import test, { type ExecutionContext } from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { lvsplay, ROOT } from '../helpers/cli.ts';
// @ts-expect-error plain JavaScript module without types (it runs before anything is compiled)
import { whichBuild } from '../../src/bin/which-build.js';

const F = 'test/fixtures/cli';

test.before(() => {
  // a stale or missing dist/ (sources edited since the last build) is rebuilt, so that the compiled path is tested
  if (whichBuild() !== 'dist') {
    const r = spawnSync(process.execPath, [path.join(ROOT, 'scripts/build-dist.js')], { cwd: ROOT, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`npm run build failed:\n${r.stdout}${r.stderr}`);
  }
});

test('compiled: the playbook and the CLI share one copy of lvsplay (dist/src/index.js)', async (t) => {
  const r = await lvsplay(['run', `${F}/same-engine.ts`, '-i', `${F}/inv.yaml`]);
  t.is(r.code, 4, r.stderr);
  t.regex(r.stderr, /same-engine probe; lvsplay resolved to file:\/\/\S+\/dist\/src\/index\.js/);
  t.notRegex(r.stderr, /cannot load playbook/, 'the CLI did not recognise the playbook\'s ValidationError: two copies of the engine');
  t.regex(r.stderr, /field probe/);
});

test('from the sources (LVSPLAY_FROM_SRC=1): the playbook resolves src/index.ts and shares it with the CLI', async (t) => {
  const r = await lvsplay(['run', `${F}/same-engine.ts`, '-i', `${F}/inv.yaml`], { env: { LVSPLAY_FROM_SRC: '1' } });
  t.is(r.code, 4, r.stderr);
  t.regex(r.stderr, /same-engine probe; lvsplay resolved to file:\/\/\S+\/src\/index\.ts/);
  t.notRegex(r.stderr, /cannot load playbook/);
});

test('tests (ava with --conditions=lvsplay-source) resolve lvsplay to the sources', (t) => {
  t.regex(import.meta.resolve('lvsplay'), /\/src\/index\.ts$/);
  t.regex(import.meta.resolve('lvsplay/roles'), /\/roles\/index\.ts$/);
});

test('a source file newer than the build makes the launcher use the sources', async (t) => {
  t.is(whichBuild(), 'dist');
  const probe = path.join(ROOT, 'src', `.stale-probe-${process.pid}.ts`);
  writeFileSync(probe, '// written by test/unit/launcher.test.ts, removed at once\n');
  try {
    t.is(whichBuild(), 'src');
  } finally {
    rmSync(probe, { force: true });
  }
  t.is(whichBuild(), 'dist');
});

/**
 * Every module a compiled CLI process loads: the ESM ones through a resolve hook, the CommonJS ones (what the
 * packages require, and what lvsplay loads lazily with createRequire) from the CommonJS cache at exit.
 */
function loadedModules(t: ExecutionContext, args: string[], env: NodeJS.ProcessEnv = {}): { status: number | null; stderr: string; loaded: string[] } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lvsplay-launcher-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const hook = path.join(dir, 'hook.mjs');
  writeFileSync(hook, "export async function resolve(s, c, n) { const r = await n(s, c); process._rawDebug('LOADED ' + r.url); return r; }\n");
  const reg = path.join(dir, 'register.mjs');
  writeFileSync(
    reg,
    `import { register, createRequire } from 'node:module'; register(${JSON.stringify('file://' + hook)});\n` +
      "const cache = createRequire(import.meta.url).cache; process.on('exit', () => { for (const k of Object.keys(cache)) process._rawDebug('LOADED file://' + k); });\n",
  );
  const r = spawnSync(process.execPath, ['--import', reg, path.join(ROOT, 'src/bin/lvsplay.js'), ...args], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, CI: 'true', ...env } });
  const loaded = r.stderr.split('\n').filter((l) => l.startsWith('LOADED ')).map((l) => l.slice(7));
  return { status: r.status, stderr: r.stderr, loaded };
}

/**
 * What the loaded files hold: a file of the bundle (dist/, scripts/build-dist.js) stands for the sources and packages
 * esbuild put in it (dist/meta.json), as `src/x.ts` or `node_modules/pkg/...`; any other file stands for itself.
 */
function loadedSources(loaded: string[]): string[] {
  const meta = JSON.parse(readFileSync(path.join(ROOT, 'dist/meta.json'), 'utf8')) as { outputs: Record<string, { inputs: string[] }> };
  const dist = `file://${path.join(ROOT, 'dist')}/`;
  return loaded.flatMap((u) => (u.startsWith(dist) ? (meta.outputs[u.slice(dist.length)]?.inputs ?? [u]) : [u]));
}

test('the compiled --version and inventory load no ssh2, listr2, zod, tsx, roles, nunjucks, ansible-vault or ssh-config', (t) => {
  for (const args of [['--version'], ['--help'], ['inventory', '-i', `${F}/inv.yaml`, '--list']]) {
    const { status, stderr, loaded } = loadedModules(t, args);
    t.is(status, 0, stderr);
    t.true(loaded.some((u) => u.includes('/dist/src/cli.js')), `${args.join(' ')} ran the compiled CLI`);
    const sources = loadedSources(loaded);
    t.true(sources.includes('src/cli.ts') && sources.includes('src/errors.ts'), 'the listing saw the bundle\'s sources');
    const heavy = sources.filter((u) => /node_modules\/(ssh2|listr2|zod|tsx|ejs|p-queue|nunjucks|ansible-vault|ssh-config)\/|^roles\/|\/roles\/|\/src\/.*\.ts$/.test(u));
    t.deepEqual(heavy, [], `${args.join(' ')} loaded ${heavy.join(', ')}`);
  }
});

test('the bundle: a command\'s code is a chunk of its own, not in what the launcher loads for --version', (t) => {
  const { loaded } = loadedModules(t, ['--version']);
  const sources = loadedSources(loaded);
  const meta = JSON.parse(readFileSync(path.join(ROOT, 'dist/meta.json'), 'utf8')) as { outputs: Record<string, { inputs: string[] }> };
  const run = Object.entries(meta.outputs).filter(([, o]) => o.inputs.includes('src/commands/run.ts'));
  t.is(run.length, 1, 'src/commands/run.ts is in exactly one output');
  t.regex(run[0]![0], /^chunks\//);
  t.false(sources.includes('src/commands/run.ts'));
  // roles/ import 'lvsplay': the build resolves it to the sources, never to the dist/ of a build before
  const foreign = Object.values(meta.outputs).flatMap((o) => o.inputs).filter((i) => !/^(src|roles|node_modules)\//.test(i) && !i.startsWith('<runtime>'));
  t.deepEqual(foreign, [], 'every input of the bundle is a source or a package');
  t.false(sources.some((u) => /node_modules\/yaml\//.test(u)), '--version parses no YAML');
});

test('the listing sees lazily required packages: an inventory with a template loads nunjucks', (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lvsplay-launcher-inv-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(path.join(dir, 'inv.yaml'), 'all:\n  vars:\n    port: 80\n  hosts:\n    w1:\n      url: "http://w1:{{ port }}/"\n');
  const { status, stderr, loaded } = loadedModules(t, ['inventory', '-i', path.join(dir, 'inv.yaml'), '--host', 'w1', '--render']);
  t.is(status, 0, stderr);
  t.true(loaded.some((u) => /node_modules\/nunjucks\//.test(u)), 'nunjucks was loaded to render the template');
});

test('a compiled run of a .ts playbook: compiled by esbuild into the playbook cache, then run from it without tsx or esbuild; no listr2 when piped', (t) => {
  const cache = mkdtempSync(path.join(os.tmpdir(), 'lvsplay-launcher-cache-'));
  t.teardown(() => rmSync(cache, { recursive: true, force: true }));
  const args = ['run', `${F}/noop.ts`, '-i', `${F}/inv.yaml`, '--no-verify'];
  const tsx = (l: string[]) => l.filter((u) => /node_modules\/tsx\//.test(u));
  const esbuild = (l: string[]) => l.filter((u) => /node_modules\/esbuild\//.test(u));
  const first = loadedModules(t, args, { LVSPLAY_CACHE_DIR: cache });
  t.is(first.status, 3, first.stderr); // both hosts are 127.0.0.1:1 (connection refused): unreachable
  t.true(first.loaded.some((u) => u.includes('/dist/src/cli.js')), 'the compiled CLI ran');
  t.true(esbuild(first.loaded).length > 0, 'the first run compiled the playbook');
  t.deepEqual(tsx(first.loaded), [], 'no tsx');
  t.true(readdirSync(path.join(cache, 'playbooks')).some((f) => f.endsWith('.mjs')));
  const again = loadedModules(t, args, { LVSPLAY_CACHE_DIR: cache });
  t.is(again.status, 3, again.stderr);
  t.deepEqual([...tsx(again.loaded), ...esbuild(again.loaded)], [], 'the second run imported the cached bundle alone');
  t.true(again.loaded.some((u) => /\/playbooks\/[0-9a-f]+-[0-9a-f]+\.mjs$/.test(u)), 'from the cache');
  t.true(again.loaded.some((u) => u.includes('/dist/src/index.js')), 'the bundle imports the CLI\'s own lvsplay');
  t.deepEqual(loadedSources(again.loaded).filter((u) => /node_modules\/listr2\//.test(u)), [], 'listr2 is for terminals only');
  t.true(loadedSources(again.loaded).some((u) => /node_modules\/zod\//.test(u)), 'the listing sees the packages inside the bundle');
  t.true(again.loaded.some((u) => /node_modules\/ssh2\//.test(u)), 'the run did load the transport');
});

test('a compiled run with the playbook cache off (LVSPLAY_PLAYBOOK_CACHE=0): tsx hooks registered without tsx\'s API in the main thread', (t) => {
  const { status, stderr, loaded } = loadedModules(t, ['run', `${F}/noop.ts`, '-i', `${F}/inv.yaml`, '--no-verify'], { LVSPLAY_PLAYBOOK_CACHE: '0' });
  t.is(status, 3, stderr);
  t.true(loaded.some((u) => /node_modules\/tsx\/dist\/esm\/index\.mjs/.test(u)), 'tsx\'s ESM hooks were registered');
  t.deepEqual(loaded.filter((u) => /node_modules\/tsx\/dist\/esm\/api\//.test(u)), [], 'the fallback through tsx/esm/api was not needed');
});

test('compiled, from the playbook cache: the playbook and the CLI share one copy of lvsplay', async (t) => {
  const cache = mkdtempSync(path.join(os.tmpdir(), 'lvsplay-launcher-cache-'));
  t.teardown(() => rmSync(cache, { recursive: true, force: true }));
  for (const round of ['compiled', 'cached']) {
    const r = await lvsplay(['run', `${F}/same-engine-cached.ts`, '-i', `${F}/inv.yaml`], { env: { LVSPLAY_CACHE_DIR: cache } });
    t.is(r.code, 4, `${round}: ${r.stderr}`);
    t.regex(r.stderr, /same-engine-cached probe/);
    t.notRegex(r.stderr, /cannot load playbook/, `${round}: the CLI did not recognise the playbook's ValidationError: two copies of the engine`);
    t.regex(r.stderr, /field probe/);
  }
  t.is(readdirSync(path.join(cache, 'playbooks')).filter((f) => f.endsWith('.mjs')).length, 1);
});
