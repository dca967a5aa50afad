#!/usr/bin/env node
// `npm run bench`: the benchmark against Ansible (src/bench), compiled or from the sources like src/bin/lvsplay.js.
import { entryMain } from './which-build.js';

const main = await entryMain('bench/main');
process.exitCode = await main(process.argv.slice(2));
