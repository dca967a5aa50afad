#!/usr/bin/env node
// `npm run bench`: registers tsx (like src/bin/lvsplay.js) and runs the benchmark against Ansible (src/bench).
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../bench/main.ts');
process.exitCode = await main(process.argv.slice(2));
