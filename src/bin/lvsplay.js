#!/usr/bin/env node
// Launcher: the compiled CLI from dist/ when it is up to date (no tsx at start-up; tsx is registered only when a
// .ts playbook is loaded, src/playbook.ts), else the sources through tsx (src/bin/which-build.js).
import { useSources, whichBuild } from './which-build.js';

let main;
if (whichBuild() === 'dist') {
  ({ main } = await import('../../dist/src/cli.js'));
} else {
  await useSources();
  ({ main } = await import('../cli.ts'));
}
process.exitCode = await main(process.argv.slice(2));
