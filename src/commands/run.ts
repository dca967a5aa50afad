/** `lvsplay run PLAYBOOK -i INVENTORY`: load, validate (exit 4 before any connection), converge, recap. */
import { useVaultOptions } from './vault-options.ts';
import { dirname, resolve } from 'node:path';
import { commonOptions, poolOptions, parse, parseAllowDown, parseForks, loadCommandInventory, RUN_HELP } from './common.ts';
import { ansibleSettings, HostAccess } from './connections.ts';
import { EXIT, UsageError } from '../errors.ts';
import { loadPlaybook } from '../playbook.ts';
import { prepare } from '../engine/prepare.ts';
import { runPlays } from '../engine/run.ts';
import { phaseTimes } from '../engine/phases.ts';
import { fdShortfall, openFilesLimit, socketsNeeded, SshPool } from '../transport/index.ts';
import { JsonLinesReporter } from '../output/json-lines.ts';
import { PlainReporter } from '../output/plain.ts';
import { Reporters, type Reporter, type RunEvent } from '../output/events.ts';
import type { CommandIO } from './io.ts';
import { trapInterrupts } from './interrupt.ts';

const options = {
  ...commonOptions,
  check: { type: 'boolean', short: 'C' },
  diff: { type: 'boolean', short: 'D' },
  tags: { type: 'string', short: 't' },
  'no-verify': { type: 'boolean' },
  'allow-partial-vrrp': { type: 'boolean' },
  'allow-down': { type: 'string', multiple: true },
  report: { type: 'string' },
} as const;

/** The longest wait for the cluster to settle after keepalived was reloaded (TCG VMs on a loaded machine are slow). */
const SETTLE_MAX_MS = 90_000;

function settleWhy(reloaded: Set<string>, changed: Set<string>): string {
  const others = [...changed].filter((h) => !reloaded.has(h));
  return [reloaded.size ? `keepalived was reloaded or started on ${[...reloaded].join(', ')}` : '', others.length ? `changes on ${others.join(', ')}` : ''].filter(Boolean).join(' and ');
}

/** listr2 (the TTY progress) is loaded only on a terminal: a piped or CI run does not pay for it at start-up. */
export async function makeReporters(io: CommandIO, json: string | undefined, verbose: boolean, extra: Reporter[] = []): Promise<Reporters> {
  const list: Reporter[] = [...extra];
  const tty = process.stdout.isTTY && !process.env.CI;
  list.push(tty ? new (await import('../output/listr.ts')).ListrReporter(io.out, verbose) : new PlainReporter(io.out, verbose));
  if (json) list.push(new JsonLinesReporter(json));
  return new Reporters(list);
}

export function exitCodeFor(failed: number, unreachable: number, verifyFailed: boolean): number {
  if (failed > 0 || verifyFailed) return EXIT.hostFailed;
  if (unreachable > 0) return EXIT.unreachable;
  return EXIT.ok;
}

export async function runCommand(argv: string[], io: CommandIO): Promise<number> {
  const command = performance.now();
  const { values: o, positionals } = parse(argv, options, 'run');
  if (o.help) {
    io.out(RUN_HELP + '\n');
    return EXIT.ok;
  }
  if (positionals.length !== 1) throw new UsageError(`run: expected exactly one PLAYBOOK, got ${positionals.length ? positionals.join(' ') : 'none'} (usage: lvsplay run PLAYBOOK.ts -i INVENTORY)`);
  const cfg = ansibleSettings();
  const forks = parseForks(o.forks, cfg.forks);
  const tags = o.tags ? o.tags.split(',').map((t) => t.trim()).filter(Boolean) : undefined;

  await useVaultOptions(o); // before -e: an @file may be vault-encrypted
  const inv = loadCommandInventory(o, 'run', io, cfg);
  const inventoryLoaded = performance.now();
  const pb = await loadPlaybook(positionals[0]);
  const marks = { command, inventory: inventoryLoaded, playbook: performance.now() };
  inv.playbookDir = dirname(resolve(positionals[0]!)); // Jinja's playbook_dir
  const plays = prepare(pb, inv, { limit: o.limit, tags });
  // connection specs are validated before any host is touched, too
  const access = new HostAccess(inv, cfg, o['ssh-config']);
  const specs = new Map<string, ReturnType<HostAccess['spec']>>();
  for (const p of plays) for (const h of p.hosts) if (!specs.has(h)) specs.set(h, access.spec(h));
  access.flushWarnings(io.err);
  if (o.limit && specs.size === 0) throw new UsageError(`--limit "${o.limit}" matches no host of the playbook's plays`);
  const sshOptions = poolOptions(o);
  const fdProblem = fdShortfall(socketsNeeded(specs.values(), sshOptions.jumpChannels), openFilesLimit());
  if (fdProblem) throw new UsageError(`run: ${fdProblem}`);
  // the verification is planned (and its entries validated) before any host is touched
  // the verification's code (and the cluster model it reads) is loaded only for a run that verifies
  const verifyPlan = o.check || o['no-verify'] ? undefined : (await import('../verify/targets.ts')).planVerification(pb, inv, { allowDown: parseAllowDown(o['allow-down']) });

  const t0 = Date.now();
  const engineStart = performance.now();
  // --report: Vega is loaded only then
  const html = o.report ? [new (await import('../report/index.ts')).HtmlReporter(o.report, `lvsplay run ${positionals[0]} -i ${inv.sources.join(' -i ')}`)] : [];
  const reporter = await makeReporters(io, o.json, !!o.verbose, html);
  const reloaded = new Set<string>();
  const changedHosts = new Set<string>();
  const watch: Reporter = {
    event: (e) => {
      if (e.event === 'step' && e.status === 'changed') changedHosts.add(e.host);
      if (e.event === 'step' && e.status === 'changed' && e.kind === 'service' && /keepalived/.test(e.step)) reloaded.add(e.host);
      reporter.event(e);
    },
    close: () => reporter.close(),
  };
  const pool = new SshPool(sshOptions);
  const trap = trapInterrupts(io, {
    first: 'no new host starts; hosts applying finish their apply script, then the recap (exit 130)',
    again: 'waiting for the hosts still applying to finish their apply script (no change is left half-applied)',
  });
  let code: number;
  try {
    reporter.event({ event: 'run_start', playbook: pb.name, inventory: inv.file, check: !!o.check, hosts: [...specs.keys()] });
    const result = await runPlays(plays, inv, {
      check: !!o.check,
      diff: !!o.diff,
      forks,
      reporter: watch,
      allowPartialGroups: !!o['allow-partial-vrrp'],
      connect: (h) => pool.connect(specs.get(h)!),
      signal: trap.signal,
    });
    const verify: Extract<RunEvent, { event: 'recap' }>['verify'] = verifyPlan && !trap.received
      ? await (await import('../verify/run.ts')).runVerification(verifyPlan, {
          connect: (h) => pool.connect(specs.get(h) ?? access.spec(h)),
          onRecord: (r) => reporter.event({ event: 'verify', result: r }),
          onNote: (n) => io.out(`verify: ${n}\n`),
          // a reload or restart changes the tables and the VRRP states for a while: probing then is a false failure
          // so does a real server the run changed (restarted web service): it must pass its health check first
          ...(reloaded.size || changedHosts.size ? { settle: { maxMs: SETTLE_MAX_MS, why: settleWhy(reloaded, changedHosts), changedHosts: [...changedHosts] } } : {}),
        })
      : [];
    const phases = phaseTimes(engineStart, result.milestones, performance.now(), marks);
    reporter.event({ event: 'recap', hosts: result.recap, verify, elapsedMs: Date.now() - t0, check: !!o.check, phases, ...(trap.received ? { interrupted: trap.received } : {}) });
    code = trap.received ? EXIT.interrupted : exitCodeFor(result.failed.size, result.unreachable.size, verify.some((v) => !v.pass));
  } finally {
    trap.release();
    await pool.closeAll();
    await reporter.close();
  }
  return code;
}
