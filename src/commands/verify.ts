/** `lvsplay verify PLAYBOOK -i INVENTORY`: only the verification of a playbook's cluster (nothing is converged). */
import { useVaultOptions } from './vault-options.ts';
import { dirname, resolve } from 'node:path';
import { commonOptions, poolOptions, parse, parseAllowDown, loadCommandInventory } from './common.ts';
import { ansibleSettings, HostAccess } from './connections.ts';
import { EXIT, UsageError } from '../errors.ts';
import { loadPlaybook } from '../playbook.ts';
import { SshPool } from '../transport/index.ts';
import { JsonLinesReporter } from '../output/json-lines.ts';
import { planVerification } from '../verify/targets.ts';
import { runVerification } from '../verify/run.ts';
import { formatVerifyRecord, verifySummary } from '../verify/table.ts';
import type { CommandIO } from './io.ts';

export const VERIFY_HELP = `Usage: lvsplay verify PLAYBOOK.ts -i INVENTORY [options]

Probe every virtual service of the playbook's verify entries (default: every service of the inventory, from the
first host of the clients group) and check the distribution over the real servers against the scheduler and the
weights (chi-square at p = 0.001 for rr/wrr; stickiness for sh/persistence; every server reached for lc/wlc/…),
the director holding each VIP, and the active director's IPVS counters. Nothing is changed on any host.

Options:
  -i, --inventory FILE     Ansible-format YAML inventory (default: ansible.cfg's [defaults] inventory)
  -F, --ssh-config FILE    OpenSSH client config instead of ~/.ssh/config and /etc/ssh/ssh_config
  -e, --extra-vars K=V     extra variables (repeatable)
      --json FILE          JSON Lines: one {"event":"verify","result":{...}} per service, then the recap
      --allow-down H[,H]   these real servers may be down: their services are DEGRADED (exit 0), not FAIL
      --service NAME[,NAME]  only these services of the verify entries (repeatable; e.g. after lvsplay drain)
      --report FILE.html   an HTML report: per service, the shares per real server as a chart, the verdict, why
      --accept-new-host-keys  trust unknown SSH host keys and record them
      --keepalive S        a host whose SSH connection answers nothing for S seconds is unreachable (default 30)
      --jump-channels N    hosts per SSH connection to a jump host (default 200; lvsplay_jump_channels wins)
  -v, --verbose            print what is probed from where
  -h, --help

Exit codes: 0 every service passed (or is DEGRADED), 2 a service failed, 4 invalid inventory/playbook, 5 bad options.`;

const options = { ...commonOptions, 'allow-down': { type: 'string', multiple: true }, service: { type: 'string', multiple: true }, report: { type: 'string' } } as const;

export async function verifyCommand(argv: string[], io: CommandIO): Promise<number> {
  const { values: o, positionals } = parse(argv, options, 'verify');
  if (o.help) {
    io.out(VERIFY_HELP + '\n');
    return EXIT.ok;
  }
  if (positionals.length !== 1) throw new UsageError(`verify: expected exactly one PLAYBOOK, got ${positionals.length ? positionals.join(' ') : 'none'} (usage: lvsplay verify PLAYBOOK.ts -i INVENTORY)`);
  if (o.limit) throw new UsageError('verify: --limit does not apply (use only: [...] in the playbook\'s verify entries)');
  const cfg = ansibleSettings();
  await useVaultOptions(o);
  const inv = loadCommandInventory(o, 'verify', io, cfg);
  const pb = await loadPlaybook(positionals[0]!);
  const services = o.service?.flatMap((x) => x.split(',')).map((x) => x.trim()).filter(Boolean);
  const plan = planVerification(pb, inv, { allowDown: parseAllowDown(o['allow-down']), ...(services?.length ? { services } : {}) });
  const hosts = new Set(plan.jobs.flatMap((j) => [j.vantage, ...j.target.directors]));
  const access = new HostAccess(inv, cfg, o['ssh-config']);
  const specs = new Map([...hosts].map((h) => [h, access.spec(h)]));
  access.flushWarnings(io.err);

  const t0 = Date.now();
  const json = o.json ? new JsonLinesReporter(o.json) : undefined;
  const html = o.report ? new (await import('../report/index.ts')).HtmlReporter(o.report, `lvsplay verify ${positionals[0]} -i ${inv.sources.join(' -i ')}`) : undefined;
  const pool = new SshPool(poolOptions(o));
  try {
    const records = await runVerification(plan, {
      connect: (h) => pool.connect(specs.get(h) ?? access.spec(h)),
      onNote: (n) => io.out(`verify: ${n}\n`),
      onRecord: (r) => {
        io.out(formatVerifyRecord(r) + '\n');
        json?.event({ event: 'verify', result: r });
        html?.event({ event: 'verify', result: r });
      },
      ...(o.verbose ? { log: (l: string) => io.out(l + '\n') } : {}),
    });
    const recap = { event: 'recap', hosts: {}, verify: records, elapsedMs: Date.now() - t0, check: false } as const;
    json?.event(recap);
    html?.event(recap);
    const failed = records.filter((r) => !r.pass);
    io.out(`\n${verifySummary(records)} in ${((Date.now() - t0) / 1000).toFixed(1)}s\n`);
    return failed.length ? EXIT.hostFailed : EXIT.ok;
  } finally {
    await pool.closeAll();
    await json?.close();
    await html?.close();
  }
}
