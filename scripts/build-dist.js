// `npm run build` / `prepare` (npm ci runs it): compile src/ and roles/ to dist/ (tsconfig.build.json) and stamp it.
// - dist/.built gets the mtime of the moment the compile *began*: a source edited during the compile is newer than
//   the stamp, so the launcher (src/bin/which-build.js) keeps using the sources until the next build.
// - The compile goes to dist.new/, swapped in when complete: a launcher starting meanwhile sees either the old
//   complete tree or no stamp (then it runs the sources), never a half-written one.
import { spawnSync } from 'node:child_process';
import { existsSync, renameSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const began = new Date();
const next = `${root}dist.new`;
rmSync(next, { recursive: true, force: true });
const r = spawnSync(process.execPath, [tsc, '-p', `${root}tsconfig.build.json`, '--outDir', next], { stdio: 'inherit' });
// tsc exits 2 when it found type errors but wrote every output (`npm test` type-checks and fails on them); the
// output is still what the sources say, so it is used. Any other failure leaves dist/ as it was.
if (r.status === 2) process.stderr.write('build: type errors (above); dist/ was written anyway (see npx tsc --noEmit)\n');
else if (r.status !== 0 || !existsSync(`${next}/src/cli.js`)) {
  rmSync(next, { recursive: true, force: true });
  process.stderr.write('build: tsc failed; dist/ is unchanged (a stale dist/ is not used: lvsplay runs from its sources)\n');
  process.exit(r.status || 1);
}
writeFileSync(`${next}/.built`, `${began.toISOString()}\n`);
utimesSync(`${next}/.built`, began, began);
rmSync(`${root}dist.old`, { recursive: true, force: true });
if (existsSync(`${root}dist`)) renameSync(`${root}dist`, `${root}dist.old`);
renameSync(next, `${root}dist`);
rmSync(`${root}dist.old`, { recursive: true, force: true });
