/** `lvsplay facts -i INV [--limit P] [--json FILE]`: gather and print the facts steps plan from, per host. */
import { useVaultOptions } from './vault-options.ts';
import { writeFileSync } from 'node:fs';
import { maskText } from '../secret-values.ts';
import PQueue from 'p-queue';
import { commonOptions, poolOptions, parse, parseForks, loadCommandInventory } from './common.ts';
import { ansibleSettings, HostAccess } from './connections.ts';
import { EXIT, UsageError } from '../errors.ts';
import { selectHosts } from '../inventory/index.ts';
import { SshPool } from '../transport/index.ts';
import { gatherFacts } from '../engine/apply.ts';
import type { Fact } from '../engine/types.ts';
import { initFact, interfacesFact, osFact, routesFact, toolsFact, TOOLS, ipvsFact } from '../facts/index.ts';
import type { CommandIO } from './io.ts';

const HELP = `Usage: lvsplay facts -i INVENTORY [--limit PATTERN] [--json FILE] [-f N] [--keepalive S] [--jump-channels N]

Gathers, in one SSH exec per host, what the steps plan from: kernel, OS, init system, tools on PATH,
interfaces and addresses, IPv4 routes, IPVS state. Prints JSON per host (to FILE with --json).`;

const kernelFact: Fact<{ hostname: string; kernel: string; arch: string }> = {
  key: 'host:uname',
  command: 'uname -n; uname -r; uname -m',
  parse(out) {
    const [hostname = '', kernel = '', arch = ''] = out.split('\n');
    return { hostname, kernel, arch };
  },
};

/** Host facts as plain JSON (Maps and predicates turned into objects and lists). */
export const SUMMARY: Array<[string, Fact<any>, (v: any) => unknown]> = [
  ['system', kernelFact, (v) => v],
  ['os', osFact, (v) => v],
  ['init', initFact, (v) => (v.systemd ? 'systemd' : 'other')],
  ['tools', toolsFact, (v) => TOOLS.filter((t) => v.has(t))],
  ['interfaces', interfacesFact, (v: Map<string, unknown>) => Object.fromEntries(v)],
  ['routes', routesFact, (v) => v],
  ['ipvs', ipvsFact, (v) => v],
];

export async function factsCommand(argv: string[], io: CommandIO): Promise<number> {
  const { values: o, positionals } = parse(argv, commonOptions, 'facts');
  if (o.help) {
    io.out(HELP + '\n');
    return EXIT.ok;
  }
  if (positionals.length) throw new UsageError(`facts: unexpected argument "${positionals[0]}"`);
  const cfg = ansibleSettings();
  await useVaultOptions(o);
  const inv = loadCommandInventory(o, 'facts', io, cfg);
  const sel = selectHosts(inv, o.limit ?? 'all');
  if (sel.hosts.length === 0) throw new UsageError(`facts: --limit "${o.limit}" matches no host`);
  const access = new HostAccess(inv, cfg, o['ssh-config']);
  const specs = sel.hosts.map((h) => access.spec(h));
  access.flushWarnings(io.err);
  const pool = new SshPool(poolOptions(o));
  const queue = new PQueue({ concurrency: parseForks(o.forks, cfg.forks) });
  const result: Record<string, unknown> = {};
  let unreachable = 0;
  let failed = 0;
  try {
    await Promise.all(
      specs.map((spec) =>
        queue.add(async () => {
          try {
            const conn = await pool.connect(spec);
            const raw = await gatherFacts(conn, SUMMARY.map(([, f]) => f));
            const host: Record<string, unknown> = {};
            for (const [name, f, toJson] of SUMMARY) {
              const r = raw.get(f.key)!;
              try {
                host[name] = toJson(f.parse(r.output, r.code));
              } catch (e) {
                host[name] = { error: (e as Error).message };
              }
            }
            result[spec.name] = host;
          } catch (e) {
            const err = e as Error;
            if (err.name === 'UnreachableError') unreachable++;
            else failed++;
            result[spec.name] = { [err.name === 'UnreachableError' ? 'unreachable' : 'failed']: err.message };
          }
        }),
      ),
    );
  } finally {
    await pool.closeAll();
  }
  const ordered = Object.fromEntries(sel.hosts.map((h) => [h, result[h]]));
  const text = JSON.stringify(ordered, null, 2) + '\n';
  if (o.json) writeFileSync(o.json, maskText(text));
  else io.out(text);
  return failed ? EXIT.hostFailed : unreachable ? EXIT.unreachable : EXIT.ok;
}
