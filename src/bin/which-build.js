// Which copy of lvsplay's code a launcher runs: the compiled one in dist/ (fast start, no tsx) when it is at
// least as new as every source file, else the sources through tsx (a missing or stale dist/ never runs old code).
// Plain JavaScript: it runs before anything is compiled or registered.
import { readdirSync, statSync } from 'node:fs';
import { register } from 'node:module';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** written by scripts/build-dist.js after a successful compile, with the mtime of the moment the compile began */
export const STAMP = `${ROOT}dist/.built`;
const SOURCE_DIRS = ['src', 'roles'];

function newestSourceMtime() {
  let newest = 0;
  for (const dir of SOURCE_DIRS) {
    for (const e of readdirSync(`${ROOT}${dir}`, { recursive: true, withFileTypes: true })) {
      if (!e.isFile() || !e.name.endsWith('.ts')) continue;
      const m = statSync(`${e.parentPath ?? e.path}/${e.name}`).mtimeMs;
      if (m > newest) newest = m;
    }
  }
  return newest;
}

/** 'dist' or 'src' (LVSPLAY_FROM_SRC=1 forces the sources). */
export function whichBuild() {
  if (process.env.LVSPLAY_FROM_SRC === '1') return 'src';
  let built;
  try {
    built = statSync(STAMP).mtimeMs;
  } catch {
    return 'src';
  }
  return newestSourceMtime() <= built ? 'dist' : 'src';
}

/**
 * Run from the sources: tsx compiles them on load, and `import 'lvsplay'` in playbooks and roles resolves to
 * src/index.ts (package.json's "lvsplay-source" condition), so they share this process's one copy of the engine.
 */
export async function useSources() {
  const { register: registerTsx } = await import('tsx/esm/api');
  registerTsx();
  register('./source-condition.js', import.meta.url);
}

/** The `main` export of an entry module under src/ (e.g. 'cli', 'bench/main'): compiled when current, else the source. */
export async function entryMain(entry) {
  if (whichBuild() === 'dist') return (await import(`../../dist/src/${entry}.js`)).main;
  await useSources();
  return (await import(`../${entry}.ts`)).main;
}
