/**
 * The benchmark times lvsplay as operators run it: compiled (dist/). When dist/ is missing or older than the
 * sources (src/bin/which-build.js), it is built first (scripts/build-dist.js), so a result never measures the
 * slower from-source start-up nor old code.
 */
import { pathToFileURL } from 'node:url';
import { PACKAGE_ROOT } from '../package-root.ts';
import { run } from '../lab/run.ts';
import { BenchError } from './ansible.ts';

async function currentBuild(): Promise<'dist' | 'src'> {
  const { whichBuild } = (await import(pathToFileURL(`${PACKAGE_ROOT}src/bin/which-build.js`).href)) as { whichBuild(): 'dist' | 'src' };
  return whichBuild();
}

export async function ensureCompiled(log: (s: string) => void): Promise<void> {
  if ((await currentBuild()) === 'dist') return;
  log('bench: dist/ is missing or older than the sources: npm run build');
  const r = await run(process.execPath, [`${PACKAGE_ROOT}scripts/build-dist.js`], { timeoutMs: 600_000 });
  if (r.code !== 0 || (await currentBuild()) !== 'dist') {
    throw new BenchError(`npm run build failed (exit ${r.code}):\n${(r.stdout + r.stderr).trim().split('\n').slice(-10).join('\n')}`);
  }
}
