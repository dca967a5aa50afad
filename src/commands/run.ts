/** `lvsplay run PLAYBOOK -i INVENTORY`: load, validate (exit 4 before any connection), converge, recap. */
import { useVaultOptions } from './vault-options.ts';
import { dirname, resolve } from 'node:path';
import { commonOptions, parse, parseForks, loadCommandInventory, RUN_HELP } from './common.ts';
import { EXIT, UsageError } from '../errors.ts';
import { connectionSpec } from '../inventory/index.ts';
import { loadPlaybook } from '../playbook.ts';
import { prepare } from '../engine/prepare.ts';
import { runPlays } from '../engine/run.ts';
import { SshPool } from '../transport/index.ts';
import { JsonLinesReporter } from '../output/json-lines.ts';
import { PlainReporter } from '../output/plain.ts';
import { ListrReporter } from '../output/listr.ts';
import { Reporters, type Reporter, type RunEvent } from '../output/events.ts';
import type { CommandIO } from './io.ts';
import { planVerification } from '../verify/targets.ts';
import { runVerification } from '../verify/run.ts';

const options = {
  ...commonOptions,
  check: { type: 'boolean', short: 'C' },
  diff: { type: 'boolean', short: 'D' },
  tags: { type: 'string', short: 't' },
  'no-verify': { type: 'boolean' },
} as const;

export function makeReporters(io: CommandIO, json: string | undefined, verbose: boolean): Reporters {
  const list: Reporter[] = [];
  const tty = process.stdout.isTTY && !process.env.CI;
  list.push(tty ? new ListrReporter(io.out, verbose) : new PlainReporter(io.out, verbose));
  if (json) list.push(new JsonLinesReporter(json));
  return new Reporters(list);
}

export function exitCodeFor(failed: number, unreachable: number, verifyFailed: boolean): number {
  if (failed > 0 || verifyFailed) return EXIT.hostFailed;
  if (unreachable > 0) return EXIT.unreachable;
  return EXIT.ok;
}

export async function runCommand(argv: string[], io: CommandIO): Promise<number> {
  const { values: o, positionals } = parse(argv, options, 'run');
  if (o.help) {
    io.out(RUN_HELP + '\n');
    return EXIT.ok;
  }
  if (positionals.length !== 1) throw new UsageError(`run: expected exactly one PLAYBOOK, got ${positionals.length ? positionals.join(' ') : 'none'} (usage: lvsplay run PLAYBOOK.ts -i INVENTORY)`);
  const forks = parseForks(o.forks);
  const tags = o.tags ? o.tags.split(',').map((t) => t.trim()).filter(Boolean) : undefined;

  await useVaultOptions(o); // before -e: an @file may be vault-encrypted
  const inv = loadCommandInventory(o, 'run', io);
  const pb = await loadPlaybook(positionals[0]);
  inv.playbookDir = dirname(resolve(positionals[0]!)); // Jinja's playbook_dir
  const plays = prepare(pb, inv, { limit: o.limit, tags });
  // connection specs are validated before any host is touched, too
  const specs = new Map<string, ReturnType<typeof connectionSpec>>();
  for (const p of plays) for (const h of p.hosts) if (!specs.has(h)) specs.set(h, connectionSpec(inv, h));
  if (o.limit && specs.size === 0) throw new UsageError(`--limit "${o.limit}" matches no host of the playbook's plays`);
  // the verification is planned (and its entries validated) before any host is touched
  const verifyPlan = o.check || o['no-verify'] ? undefined : planVerification(pb, inv);

  const t0 = Date.now();
  const reporter = makeReporters(io, o.json, !!o.verbose);
  const pool = new SshPool({ acceptNewHostKeys: !!o['accept-new-host-keys'] });
  let code: number;
  try {
    reporter.event({ event: 'run_start', playbook: pb.name, inventory: inv.file, check: !!o.check, hosts: [...specs.keys()] });
    const result = await runPlays(plays, inv, {
      check: !!o.check,
      diff: !!o.diff,
      forks,
      reporter,
      connect: (h) => pool.connect(specs.get(h)!),
    });
    const verify: Extract<RunEvent, { event: 'recap' }>['verify'] = verifyPlan
      ? await runVerification(verifyPlan, {
          connect: (h) => pool.connect(specs.get(h) ?? connectionSpec(inv, h)),
          onRecord: (r) => reporter.event({ event: 'verify', result: r }),
          onNote: (n) => io.out(`verify: ${n}\n`),
        })
      : [];
    reporter.event({ event: 'recap', hosts: result.recap, verify, elapsedMs: Date.now() - t0, check: !!o.check });
    code = exitCodeFor(result.failed.size, result.unreachable.size, verify.some((v) => !v.pass));
  } finally {
    await pool.closeAll();
    await reporter.close();
  }
  return code;
}
