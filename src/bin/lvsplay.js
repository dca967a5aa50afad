#!/usr/bin/env node
// Launcher: registers tsx so that lvsplay itself and the operator's .ts playbooks load without a build step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../cli.ts');
process.exitCode = await main(process.argv.slice(2));
