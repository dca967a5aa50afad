/**
 * A real lab for a test file: `const lab = useLab(test, { topology: 'inventory/lab.yaml' })` brings it up once in
 * test.before (hosts-only by default, `{ vm: true }` for the IPVS VM) and always tears it down in
 * test.after.always. Every lab gets its own directory, namespace prefix and jump port, so test files run
 * concurrently. Tests use `lab().inventory` (a copy of the topology pointing at this lab's port, key and
 * known_hosts) with the orchestrator, or `lab().ssh(host, script)` for direct checks.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { freePort } from '../../src/lab/ports.ts';
import os from 'node:os';
import path from 'node:path';
import type { TestFn } from 'ava';
import { parseDocument, isMap } from 'yaml';
import { labUp, labDown, type UpResult } from '../../src/lab/lab.ts';
import { labPaths } from '../../src/lab/paths.ts';
import { run, type RunResult } from '../../src/lab/run.ts';
import { vmCannotRunReason } from '../../src/lab/vm.ts';

export { freePort };

export interface LabOptions {
  /** inventory file whose hosts the lab builds (e.g. inventory/lab.yaml, test/fixtures/lab/pair.yaml) */
  topology: string;
  /** true: the VM tier (real IPVS); default: namespaces only */
  vm?: boolean;
}

export interface Lab {
  dir: string;
  id: string;
  port: number;
  /** the topology rewritten for this lab (jump port, key, known_hosts): give this to the orchestrator */
  inventory: string;
  up: UpResult;
  /** lines the lab printed while coming up */
  log: string[];
  /** run a sh script on a host through the jump, with the OpenSSH client */
  ssh(host: string, script: string, timeoutMs?: number): Promise<RunResult>;
  /** lab down and remove the lab dir (idempotent) */
  down(): Promise<void>;
}

/** Copy of the topology pointing at this lab: the jump port, key and known_hosts. */
export function labInventory(topology: string, dir: string, port: number): string {
  const p = labPaths(dir, { create: true });
  const doc = parseDocument(readFileSync(topology, 'utf8'));
  if (!isMap(doc.get('all'))) throw new Error(`${topology}: no all: group`);
  doc.setIn(['all', 'vars', 'ansible_ssh_common_args'], `-o ProxyJump=root@127.0.0.1:${port}`);
  doc.setIn(['all', 'vars', 'ansible_ssh_private_key_file'], p.key);
  doc.setIn(['all', 'vars', 'lvsplay_known_hosts'], p.knownHosts);
  const file = path.join(p.dir, 'inventory.yaml');
  writeFileSync(file, `# generated from ${path.resolve(topology)} for lab ${p.id}\n${doc.toString()}`);
  return file;
}

export async function startLab(o: LabOptions): Promise<Lab> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lvsplay-lab-'));
  const port = await freePort();
  const inventory = labInventory(o.topology, dir, port);
  const log: string[] = [];
  const p = labPaths(dir);
  let isDown = false;
  const down = async () => {
    if (isDown) return;
    await labDown({ dir, log: (s) => log.push(s) });
    rmSync(dir, { recursive: true, force: true });
    isDown = true;
  };
  let up: UpResult;
  try {
    up = await labUp({ inventory, dir, vm: o.vm ?? false, log: (s) => log.push(s) });
  } catch (e) {
    await down().catch(() => {});
    throw new Error(`lab up failed: ${(e as Error).message}\n${log.join('\n')}`);
  }
  return {
    dir: p.dir, id: p.id, port, inventory, up, log, down,
    ssh: (host, script, timeoutMs = 120_000) =>
      run('ssh', ['-F', p.sshConfig, '-o', 'ConnectTimeout=30', host, 'sh -s'], { input: script, timeoutMs }),
  };
}

/**
 * One lab per test file. Returns a getter, valid inside tests; a failure to bring the lab up fails the suite.
 * VM suites first call `vmUnavailable()` and, when it gives a reason, `skipLoudly(test, reason)` instead.
 */
export function useLab(test: TestFn, o: LabOptions): () => Lab {
  let lab: Lab | undefined;
  test.before(async () => {
    lab = await startLab(o);
  });
  test.after.always(async () => {
    await lab?.down();
  });
  return () => {
    if (!lab) throw new Error('the lab is not up (test.before failed)');
    return lab;
  };
}

/** Why a VM lab cannot run here (QEMU missing or broken), or undefined. */
export async function vmUnavailable(): Promise<string | undefined> {
  return vmCannotRunReason();
}

/** Register the suite as skipped, loudly: never a silent pass. */
export function skipLoudly(test: TestFn, title: string, reason: string): void {
  process.stderr.write(`\n${'!'.repeat(78)}\n!! SKIPPED: ${title}: QEMU cannot run here: ${reason}\n${'!'.repeat(78)}\n\n`);
  test.skip(`${title} (QEMU cannot run: ${reason})`, () => {});
}

/**
 * The lab's inventory with a longer SSH connect timeout (written as LABDIR/NAME.yaml): under TCG on a busy 2-core
 * machine a fresh connection through the jump host can take well over the default 10 s. `edit` makes variants.
 */
export function slowLabInventory(lab: Lab, name = 'site', edit?: (doc: ReturnType<typeof parseDocument>) => void): string {
  const doc = parseDocument(readFileSync(lab.inventory, 'utf8'));
  doc.setIn(['all', 'vars', 'ansible_timeout'], 90);
  edit?.(doc);
  const file = path.join(lab.dir, `${name}.yaml`);
  writeFileSync(file, doc.toString());
  return file;
}
