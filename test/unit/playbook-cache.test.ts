// The compiled playbook cache (src/playbook-cache.ts): a .ts playbook and its local modules bundled once, used again
// while their content is unchanged; bare imports stay imports of what Node resolves from the playbook's directory.
import test from 'ava';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { importCachedPlaybook, uncacheableReason } from '../../src/playbook-cache.ts';
import { ROOT } from '../helpers/cli.ts';

function project(t: { teardown(f: () => void): void }) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lvsplay-pbcache-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const env = { LVSPLAY_CACHE_DIR: path.join(dir, 'cache') };
  const write = (rel: string, text: string) => {
    mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    writeFileSync(path.join(dir, rel), text);
    return path.join(dir, rel);
  };
  return { dir, env, write };
}

const nameOf = (m: { default?: unknown }) => (m.default as { name: string }).name;

test('compiled once, then used again; a changed local module recompiles it', async (t) => {
  const { dir, env, write } = project(t);
  // an operator's project with lvsplay installed
  mkdirSync(path.join(dir, 'node_modules'));
  symlinkSync(ROOT, path.join(dir, 'node_modules', 'lvsplay'));
  write('lib/names.ts', "export const suffix: string = 'one';\n");
  const pb = write('site.ts', "import { playbook } from 'lvsplay';\nimport { suffix } from './lib/names.js';\ninterface X { n: number }\nconst x: X = { n: 1 };\nexport default playbook({ name: `pb ${suffix} ${x.n}`, plays: [{ hosts: 'all', steps: [] }] });\n");
  const a = await importCachedPlaybook(pb, env);
  t.truthy(a);
  t.true(a!.compiled);
  t.is(nameOf(a!.module), 'pb one 1');
  const b = await importCachedPlaybook(pb, env);
  t.false(b!.compiled, 'unchanged sources: the cache entry');
  t.is(nameOf(b!.module), 'pb one 1');
  // `lvsplay` stays an import (of the file Node resolves, here the sources: ava runs with lvsplay-source)
  const bundle = readFileSync(a!.file, 'utf8');
  t.regex(bundle, /from "file:\/\/\S+\/src\/index\.ts"/);
  t.regex(bundle, /sourceMappingURL=data:/);
  t.regex(path.basename(a!.file), /^[0-9a-f]{32}-[0-9a-f]{16}\.mjs$/, 'named by its content');
  // a stack trace through the bundle names the playbook's own .ts file and line
  const st = await importCachedPlaybook(write('trace.ts', "export default { name: 't', plays: [] };\n\nexport const where = (): string => new Error('here').stack ?? '';\n"), env);
  t.regex((st!.module as unknown as { where: () => string }).where(), /trace\.ts:3:\d+/);
  write('lib/names.ts', "export const suffix: string = 'two';\n");
  const c = await importCachedPlaybook(pb, env);
  t.true(c!.compiled, 'a bundled source changed: compiled again');
  t.is(nameOf(c!.module), 'pb two 1');
});

test('a bare import is what Node resolves from the playbook\'s directory; once it is gone the cache is not used', async (t) => {
  const { dir, env, write } = project(t);
  write('node_modules/opspkg/package.json', JSON.stringify({ name: 'opspkg', type: 'module', exports: { '.': { default: './main.js' } } }));
  write('node_modules/opspkg/main.js', "export const who = 'opspkg';\n");
  const pb = write('pb.ts', "import { who } from 'opspkg';\nimport { readFileSync } from 'node:fs';\nexport default { name: `${who} ${typeof readFileSync}`, plays: [] };\n");
  const a = await importCachedPlaybook(pb, env);
  t.is(nameOf(a!.module), 'opspkg function');
  const manifest = readdirSync(env.LVSPLAY_CACHE_DIR + '/playbooks').find((f) => f.endsWith('.json'))!;
  t.deepEqual(JSON.parse(readFileSync(path.join(env.LVSPLAY_CACHE_DIR, 'playbooks', manifest), 'utf8')).imports, [path.join(dir, 'node_modules/opspkg/main.js')]);
  rmSync(path.join(dir, 'node_modules'), { recursive: true });
  t.is(await importCachedPlaybook(pb, env), undefined, 'the package is gone: tsx loads the playbook and says so');
});

test('what the cache cannot run as tsx would is left to tsx: import.meta, a computed dynamic import, require, a syntax error, an ESM-only package, the cache off', async (t) => {
  const { env, write } = project(t);
  t.is(await importCachedPlaybook(write('meta.ts', "export default { name: import.meta.url, plays: [] };\n"), env), undefined);
  write('lib/other.ts', 'export const o = 1;\n');
  // a dynamic import of a fixed relative path is bundled; one of a computed path is not
  write('lib/dyn.ts', "export const loadAny = (n: string) => import('./' + n);\n");
  t.is(await importCachedPlaybook(write('dyn.ts', "import { loadAny } from './lib/dyn.js';\nexport default { name: String(loadAny), plays: [] };\n"), env), undefined);
  write('lib/fixed.ts', "export const load = () => import('./other.js');\n");
  const fixed = await importCachedPlaybook(write('fixed.ts', "import { load } from './lib/fixed.js';\nconst m = await load();\nexport default { name: `o=${m.o}`, plays: [] };\n"), env);
  t.is(nameOf(fixed!.module), 'o=1');
  t.is(await importCachedPlaybook(write('broken.ts', 'export default { name: "x", plays: [ };\n'), env), undefined);
  write('node_modules/esmonly/package.json', JSON.stringify({ name: 'esmonly', type: 'module', exports: { '.': { import: './main.js' } } }));
  write('node_modules/esmonly/main.js', 'export const v = 1;\n');
  t.is(await importCachedPlaybook(write('esm.ts', "import { v } from 'esmonly';\nexport default { name: String(v), plays: [] };\n"), env), undefined);
  const ok = write('ok.ts', "export default { name: 'ok', plays: [] };\n");
  t.is(await importCachedPlaybook(ok, { ...env, LVSPLAY_PLAYBOOK_CACHE: '0' }), undefined);
  t.is(nameOf((await importCachedPlaybook(ok, env))!.module), 'ok');
  t.is(uncacheableReason("const r = __require('x');"), 'require()');
  t.is(uncacheableReason('export const importance = 1;'), undefined);
  // a comment naming import.meta is no use of it (the bundle has no comments)
  t.is(nameOf((await importCachedPlaybook(write('comment.ts', "// not import.meta.url, nor require('x')\nexport default { name: 'c', plays: [] };\n"), env))!.module), 'c');
});
