/** `node dist/src/bench/floor-main.js SPEC.json` (compiled: no tsx): prints `{"hosts":N,"ssh_s":S}`; exit 1 on any failure. */
import { readFileSync } from 'node:fs';
import { floor, type FloorSpec } from './floor.ts';

const [specFile] = process.argv.slice(2);
if (!specFile) {
  process.stderr.write('usage: node dist/src/bench/floor-main.js SPEC.json\n');
  process.exit(5);
}
try {
  process.stdout.write(JSON.stringify(await floor(JSON.parse(readFileSync(specFile, 'utf8')) as FloorSpec)) + '\n');
} catch (e) {
  process.stderr.write(`floor: ${(e as Error).message}\n`);
  process.exitCode = 1;
}
