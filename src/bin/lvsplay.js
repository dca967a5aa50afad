#!/usr/bin/env node
// Launcher: the compiled CLI from dist/ when it is up to date (no tsx at start-up; tsx is registered only when a
// .ts playbook is loaded, src/playbook.ts), else the sources through tsx (src/bin/which-build.js).
import { entryMain } from './which-build.js';

const main = await entryMain('cli');
process.exitCode = await main(process.argv.slice(2));
