/** The floor's input (src/bench/floor.ts), resolved from a bench lab's inventory in the benchmark's process. */
import { readFileSync } from 'node:fs';
import { connectionSpec, loadInventory } from '../inventory/index.ts';
import { labPaths } from '../lab/paths.ts';
import type { BenchLab } from './lab.ts';
import type { FloorSpec } from './floor.ts';
import { CONNECT_TIMEOUT_S } from './topology.ts';

export function floorSpec(lab: BenchLab, forks: number): FloorSpec {
  const inv = loadInventory(lab.inventory);
  const specs = lab.hosts.map((h) => connectionSpec(inv, h));
  const jump = specs[0]?.jumps[0];
  if (!jump || specs.some((s) => s.jumps.length !== 1)) throw new Error(`floor: every bench host must have exactly one jump host (${lab.inventory})`);
  const p = labPaths(lab.dir);
  return {
    jump: { host: jump.host, port: jump.port, user: jump.user },
    hosts: specs.map((s) => ({ host: s.host, port: s.port, user: s.user })),
    key: specs[0]!.privateKeyFile ?? p.key,
    hostKey: readFileSync(`${p.sshDir}/host_ed25519_key.pub`, 'utf8').trim(),
    forks,
    timeoutMs: CONNECT_TIMEOUT_S * 1000,
  };
}
