/** `node --import=tsx src/bench/floor-main.ts INVENTORY FORKS`: prints `{"hosts":N,"ssh_s":S}`; exit 1 on any failure. */
import { floor } from './floor.ts';

const [inventory, forks] = process.argv.slice(2);
if (!inventory || !forks || !(Number(forks) >= 1)) {
  process.stderr.write('usage: node --import=tsx src/bench/floor-main.ts INVENTORY FORKS\n');
  process.exit(5);
}
try {
  process.stdout.write(JSON.stringify(await floor(inventory, Number(forks))) + '\n');
} catch (e) {
  process.stderr.write(`floor: ${(e as Error).message}\n`);
  process.exitCode = 1;
}
