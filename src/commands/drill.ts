/** `lvsplay drill failover|realservers PLAYBOOK -i INVENTORY`: rehearse failures and measure what they cost. */
import { useVaultOptions } from './vault-options.ts';
import { writeFileSync, mkdirSync } from 'node:fs';
import { maskText } from '../secret-values.ts';
import { dirname } from 'node:path';
import { commonOptions, poolOptions, parse, loadCommandInventory } from './common.ts';
import { ansibleSettings, HostAccess } from './connections.ts';
import { EXIT, UsageError } from '../errors.ts';
import { loadPlaybook } from '../playbook.ts';
import { SshPool, UnreachableError } from '../transport/index.ts';
import { FAULT_MODES, failoverDrill, planFailover, type FaultMode } from '../drill/failover.ts';
import { planRealservers, realserversDrill } from '../drill/realservers.ts';
import { formatFailover, formatRealservers } from '../drill/report.ts';
import { DEFAULT_MAX_SPLIT_BRAIN_MS, parseDuration } from '../drill/timeline.ts';
import type { CommandIO } from './io.ts';
import { trapInterrupts } from './interrupt.ts';

export const DRILL_HELP = `Usage: lvsplay drill failover|realservers PLAYBOOK.ts -i INVENTORY [options]

  failover      per VRRP instance: steady probes to the VIP while the MASTER hands it over (planned: its
                keepalived lowers its priority through the handover tracker) or fails (keepalived stopped, killed,
                or its link put down); measures the takeover, lost probes, the longest gap, split brain, and the
                preempt-back after the restore.
  realservers   rolling: per batch of real servers, drain (weight 0), wait for active connections to end, stop
                the web service, check the health checker removed it and no probe failed, restart, check it rejoins.

Options:
  -i, --inventory FILE      Ansible-format YAML inventory (default: ansible.cfg's [defaults] inventory)
  -F, --ssh-config FILE     OpenSSH client config instead of ~/.ssh/config and /etc/ssh/ssh_config
  -e, --extra-vars K=V      extra variables (repeatable)
      --json FILE           write the results as JSON
      --report FILE.html    write an HTML report: a timeline per VRRP instance / per batch of real servers
      --from HOST|GROUP     probe from this host (default: the playbook's first verify entry's from, else the
                            first host of the clients group)
      --only NAME[,NAME]    only these VRRP instances (failover) or services (realservers)
      --max-lost N          failed probes allowed (default 0)
      --interval MS         a new probe connection every MS ms (default 30)
      --probe-timeout T     per-probe timeout (default 1s)
      --keepalive S         a host whose SSH connection answers nothing for S seconds is unreachable (default 30)
      --jump-channels N     hosts per SSH connection to a jump host (default 200; lvsplay_jump_channels wins)
  failover:
      --mode handover|stop|kill|linkdown   how the MASTER gives the VIP away (default handover: the zero-loss
                            planned handover; stop, kill, linkdown: faults)
      --max-takeover T      takeover time allowed (default 5s)
      --max-split-brain T   longest overlap of two VIP holders allowed (default 1s: a handover overlaps for
                            about one advert; a killed master that keeps the VIP overlaps for seconds)
      --wait T              wait for a takeover / preempt-back at most (default 30s)
      --link-down T         linkdown: how long the link stays down (default 8s)
  realservers:
      --serial N|P%         real servers taken out at once (default 1)
      --drain-timeout T     wait for active connections to end at most (default 30s)
      --check-timeout T     wait for the health checker to remove / re-add a server at most (default 60s)
      --pidfile PATH        the web service's pidfile ({port} = the real server port;
                            default /run/lvsplay-httpd-{port}.pid, the web-backend role's); without one the port
                            is blocked with an iptables REJECT rule instead
      --stop-cmd CMD --start-cmd CMD   stop/start the service with these commands instead ({port} substituted)
  -v, --verbose             print each step as it happens
  -h, --help

SIGINT, SIGTERM or SIGHUP stop the drill: the fault is stopped, every weight, service, link and priority it changed
is restored and printed ("restored: ..."), exit 130; a second signal only says that the restore is in progress.

Durations: 500ms, 5s, 1.5s, 2m. Exit codes: 0 within the thresholds, 2 a threshold was exceeded or a check failed,
4 invalid inventory/playbook, 5 bad options, 130 interrupted.`;

const options = {
  ...commonOptions,
  from: { type: 'string' },
  only: { type: 'string' },
  mode: { type: 'string' },
  'max-takeover': { type: 'string' },
  'max-split-brain': { type: 'string' },
  'max-lost': { type: 'string' },
  interval: { type: 'string' },
  'probe-timeout': { type: 'string' },
  wait: { type: 'string' },
  'link-down': { type: 'string' },
  serial: { type: 'string' },
  'drain-timeout': { type: 'string' },
  'check-timeout': { type: 'string' },
  pidfile: { type: 'string' },
  'stop-cmd': { type: 'string' },
  'start-cmd': { type: 'string' },
  report: { type: 'string' },
} as const;

function duration(v: string | undefined, flag: string, dflt: number): number {
  if (v === undefined) return dflt;
  const ms = parseDuration(v);
  if (ms === undefined || ms <= 0) throw new UsageError(`drill: ${flag} must be a duration like 5s or 500ms, got "${v}"`);
  return ms;
}

function count(v: string | undefined, flag: string, dflt: number): number {
  if (v === undefined) return dflt;
  if (!/^\d+$/.test(v)) throw new UsageError(`drill: ${flag} must be a whole number, got "${v}"`);
  return Number(v);
}

export async function drillCommand(argv: string[], io: CommandIO): Promise<number> {
  const { values: o, positionals } = parse(argv, options, 'drill');
  if (o.help) {
    io.out(DRILL_HELP + '\n');
    return EXIT.ok;
  }
  const [kind, playbookFile, ...extra] = positionals;
  if (kind !== 'failover' && kind !== 'realservers') throw new UsageError(`drill: the first argument is failover or realservers, got ${kind ? `"${kind}"` : 'nothing'} (see lvsplay drill --help)`);
  if (!playbookFile || extra.length) throw new UsageError(`drill ${kind}: expected exactly one PLAYBOOK (usage: lvsplay drill ${kind} PLAYBOOK.ts -i INVENTORY)`);
  if (o.limit) throw new UsageError('drill: --limit does not apply (use --only)');
  const mode = (o.mode ?? 'handover') as FaultMode;
  if (!FAULT_MODES.includes(mode)) throw new UsageError(`drill: --mode must be ${FAULT_MODES.join(', ')}, got "${o.mode}"`);
  const limits = {
    maxLost: count(o['max-lost'], '--max-lost', 0),
    intervalMs: duration(o.interval === undefined ? undefined : /^\d+$/.test(o.interval) ? `${o.interval}ms` : o.interval, '--interval', 30),
    probeTimeoutMs: duration(o['probe-timeout'], '--probe-timeout', 1000),
    ...(o.only ? { only: o.only.split(',').map((s) => s.trim()).filter(Boolean) } : {}),
  };
  if (limits.intervalMs < 5) throw new UsageError('drill: --interval must be at least 5 ms');
  const maxTakeoverMs = duration(o['max-takeover'], '--max-takeover', 5000);
  const waitMs = duration(o.wait, '--wait', 30_000);
  const maxSplitBrainMs = o['max-split-brain'] === '0' ? 0 : duration(o['max-split-brain'], '--max-split-brain', DEFAULT_MAX_SPLIT_BRAIN_MS);
  const linkDownMs = duration(o['link-down'], '--link-down', 8000);
  const drainTimeoutMs = duration(o['drain-timeout'], '--drain-timeout', 30_000);
  const checkTimeoutMs = duration(o['check-timeout'], '--check-timeout', 60_000);

  const cfg = ansibleSettings();
  await useVaultOptions(o);
  const inv = loadCommandInventory(o, 'drill', io, cfg);
  const pb = await loadPlaybook(playbookFile);
  // the vantage host: --from, else the playbook's first verify entry's, else the first client
  const from = o.from ?? pb.verify?.[0]?.from;
  const common = { ...limits, ...(from ? { from } : {}) };
  // everything is validated before any host is touched
  if (kind === 'failover') planFailover(inv, { mode, ...common });
  else planRealservers(inv, { serial: o.serial ?? '1', ...common });

  const pool = new SshPool(poolOptions(o));
  const access = new HostAccess(inv, cfg, o['ssh-config']);
  const connect = (h: string) => {
    const spec = access.spec(h);
    access.flushWarnings(io.err);
    return pool.connect(spec);
  };
  const log = (l: string) => {
    try {
      io.out(l + '\n');
    } catch {
      // the terminal is gone (SIGHUP): the drill restores regardless
    }
  };
  const t0 = Date.now();
  const trap = trapInterrupts(io, {
    first: 'stopping the drill and restoring everything it changed (exit 130)',
    again: 'the restore is in progress; lvsplay exits when it is done',
  });
  const signal = trap.signal;
  try {
    let pass: boolean;
    let json: unknown;
    if (kind === 'failover') {
      const results = await failoverDrill(inv, {
        ...common,
        mode,
        maxTakeoverMs,
        maxSplitBrainMs,
        waitMs,
        linkDownMs,
        settleMs: 2000,
        signal,
        connect,
        log,
      });
      io.out('\n' + formatFailover(results) + '\n');
      pass = results.every((r) => r.pass);
      json = { drill: 'failover', mode, pass, elapsedMs: Date.now() - t0, results };
    } else {
      const rows = await realserversDrill(inv, {
        ...common,
        serial: o.serial ?? '1',
        drainTimeoutMs,
        checkTimeoutMs,
        pidfile: o.pidfile ?? '/run/lvsplay-httpd-{port}.pid',
        ...(o['stop-cmd'] ? { stopCmd: o['stop-cmd'] } : {}),
        ...(o['start-cmd'] ? { startCmd: o['start-cmd'] } : {}),
        signal,
        connect,
        log,
      });
      io.out('\n' + formatRealservers(rows) + '\n');
      pass = rows.length > 0 && rows.every((r) => r.pass);
      json = { drill: 'realservers', serial: o.serial ?? '1', pass, elapsedMs: Date.now() - t0, rows };
    }
    if (o.json) {
      mkdirSync(dirname(o.json), { recursive: true });
      writeFileSync(o.json, maskText(JSON.stringify(json, null, 2) + '\n'));
    }
    if (o.report) await (await import('../report/index.ts')).writeDrillReport(o.report, json, `lvsplay drill ${kind} ${playbookFile} -i ${inv.sources.join(' -i ')}`);
    if (trap.received) return EXIT.interrupted;
    return pass ? EXIT.ok : EXIT.hostFailed;
  } catch (e) {
    if (!(e instanceof UnreachableError)) throw e;
    io.err(`ERROR: drill ${kind}: ${e.host} unreachable: ${e.message}\n`);
    return EXIT.unreachable;
  } finally {
    await pool.closeAll();
    trap.release();
  }
}
