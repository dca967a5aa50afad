/**
 * A fresh tier-1 lab of N bench hosts (src/lab, namespaces only) in its own temp directory, on a free jump port.
 * Every lab this process brings up is remembered until it is down, so that an interrupted benchmark removes them.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { freePort } from '../lab/ports.ts';
import os from 'node:os';
import path from 'node:path';
import { labDown, labUp } from '../lab/lab.ts';
import { labPaths } from '../lab/paths.ts';
import { ansibleInventoryYaml, benchHosts, labInventoryYaml } from './topology.ts';

export interface BenchLab {
  dir: string;
  hosts: string[];
  /** lab topology = lvsplay inventory */
  inventory: string;
  ansibleInventory: string;
  sshConfig: string;
  upSeconds: number;
  down(): Promise<void>;
}

const live = new Set<BenchLab>();

/**
 * A fresh lab; a bring-up that fails (on a crowded machine a host's sshd can miss the lab's readiness deadline) is
 * retried on a new lab, up to `attempts` times: a lab that never came up measured nothing.
 */
export async function benchLabUp(n: number, log: (s: string) => void, attempts = 3): Promise<BenchLab> {
  for (let i = 1; ; i++) {
    try {
      return await labUpOnce(n, log);
    } catch (e) {
      if (i >= attempts) throw e;
      log(`bench: ${(e as Error).message.split('\n').slice(0, 2).join(' ')}; trying a new lab (${i + 1}/${attempts})`);
    }
  }
}

async function labUpOnce(n: number, log: (s: string) => void): Promise<BenchLab> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lvsplay-bench-'));
  const p = labPaths(dir);
  const hosts = benchHosts(n);
  const inventory = path.join(p.dir, 'inventory.yaml');
  const ansibleInventory = path.join(p.dir, 'ansible-inventory.yaml');
  writeFileSync(inventory, labInventoryYaml(hosts, { jumpPort: await freePort(), key: p.key, knownHosts: p.knownHosts }));
  writeFileSync(ansibleInventory, ansibleInventoryYaml(hosts));
  const lines: string[] = [];
  let isDown = false;
  const lab: BenchLab = {
    dir: p.dir,
    hosts: hosts.map((h) => h.name),
    inventory,
    ansibleInventory,
    sshConfig: p.sshConfig,
    upSeconds: 0,
    async down() {
      if (isDown) return;
      await labDown({ dir: p.dir, log: () => {} });
      rmSync(p.dir, { recursive: true, force: true });
      isDown = true;
      live.delete(lab);
      log(`bench: lab ${p.id} down`);
    },
  };
  live.add(lab);
  try {
    const up = await labUp({ inventory, dir: p.dir, vm: false, log: (s) => lines.push(s) });
    lab.upSeconds = up.seconds;
    log(`bench: lab ${p.id} up: ${n} hosts in ${up.seconds.toFixed(1)} s`);
  } catch (e) {
    await lab.down().catch((d) => log(`bench: lab cleanup failed: ${(d as Error).message}`));
    throw new Error(`lab up (${n} hosts) failed: ${(e as Error).message}\n${lines.join('\n')}`);
  }
  return lab;
}

/** Take down every lab still up (interrupt / crash path). */
export async function downAllLabs(): Promise<void> {
  for (const lab of [...live]) await lab.down().catch(() => {});
}
