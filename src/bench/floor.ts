/**
 * The floor: the least an SSH push tool does. Run as its own Node process, like lvsplay (floor-main.ts): one ssh2
 * connection per host through lvsplay's transport, `forks` hosts at a time, `true` on each; returns the time that
 * took (connect + exec, without Node's start-up).
 */
import PQueue from 'p-queue';
import { connectionSpec, loadInventory } from '../inventory/index.ts';
import { SshPool } from '../transport/index.ts';

export async function floor(inventory: string, forks: number): Promise<{ hosts: number; ssh_s: number }> {
  const inv = loadInventory(inventory);
  const specs = [...inv.hosts.keys()].map((h) => connectionSpec(inv, h));
  const pool = new SshPool({ passphrasePrompt: false });
  const t0 = performance.now();
  try {
    const queue = new PQueue({ concurrency: forks });
    await Promise.all(
      specs.map((spec) =>
        queue.add(async () => {
          const r = await (await pool.connect(spec)).exec('true');
          if (r.code !== 0) throw new Error(`${spec.name}: true exited ${r.code}: ${r.stderr.trim()}`);
        }),
      ),
    );
    return { hosts: specs.length, ssh_s: (performance.now() - t0) / 1000 };
  } finally {
    await pool.closeAll();
  }
}
