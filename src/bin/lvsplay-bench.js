#!/usr/bin/env node
// `npm run bench`: the benchmark against Ansible (src/bench), compiled or from the sources like src/bin/lvsplay.js.
import { useSources, whichBuild } from './which-build.js';

let main;
if (whichBuild() === 'dist') {
  ({ main } = await import('../../dist/src/bench/main.js'));
} else {
  await useSources();
  ({ main } = await import('../bench/main.ts'));
}
process.exitCode = await main(process.argv.slice(2));
