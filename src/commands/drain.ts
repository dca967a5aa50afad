/**
 * `lvsplay drain HOST… -i INVENTORY [--service S]` takes real servers out of their services for maintenance: weight
 * 0 on every director of each service at once (live with ipvsadm, in keepalived.conf and in the director's drain
 * state, so keepalived and later runs keep it), then waits until their active connections ended.
 * `lvsplay undrain HOST…` gives them the inventory's weights back and removes the state.
 */
import { writeFileSync } from 'node:fs';
import { commonOptions, poolOptions, parse, loadCommandInventory } from './common.ts';
import { ansibleSettings, HostAccess } from './connections.ts';
import { EXIT, UsageError } from '../errors.ts';
import { selectHosts } from '../inventory/index.ts';
import { SshPool, UnreachableError } from '../transport/index.ts';
import { activeConnections, byDirector, drainStep, planDrain, reloadAfter, type DrainTarget } from '../drill/drain.ts';
import { prepareSteps, type PreparedSteps } from '../drill/host-steps.ts';
import { parseDuration } from '../drill/timeline.ts';
import { sleep } from '../drill/vip-watch.ts';
import { CONTROL_EXEC_TIMEOUT_MS } from '../drill/exec-timeouts.ts';
import type { Connection } from '../transport/types.ts';
import type { CommandIO } from './io.ts';

export const DRAIN_HELP = `Usage: lvsplay drain HOST[,HOST…] -i INVENTORY [--service S] [options]
       lvsplay undrain HOST[,HOST…] -i INVENTORY [--service S] [options]

drain: take real servers out of their services for maintenance. On every director that serves a service whose
pool holds HOST (both members of a VRRP pair, NAT and DR/TUN directors, node-svc nodes), at once: weight 0 in the
live IPVS table (ipvsadm -e: new connections go to the other servers, established ones go on), in the keepalived
config (then a SIGHUP reload: no connection is dropped) and in /etc/keepalived/lvsplay-drained. The director
roles render a drained server at weight 0, so a keepalived restart and a later lvsplay run keep it drained (the
run reports no change). Then it waits until the drained servers' active connections (ipvsadm -Ln ActiveConn on
every director) ended. lvsplay verify reports a drained server as drained: its services are DEGRADED (exit 0).
undrain: the inventory's weights back, the drain state removed ("not drained" when there is none).

Options:
  -i, --inventory FILE     Ansible inventory (default: ansible.cfg's [defaults] inventory)
  -s, --service NAME       only this service (repeatable; default: every service whose pool holds HOST)
  -l, --limit PATTERN      refuse unless every director of the services is inside the limit
  -C, --check              say what would change, change nothing
      --wait T             drain: wait for the active connections to end at most T (default 5m; 30s, 90s, 2m …)
      --no-wait            drain: do not wait for the active connections
      --json FILE          write what was done as JSON
  -F, --ssh-config FILE    OpenSSH client config
  -e, --extra-vars K=V     extra variables (repeatable)
      --keepalive S        a host whose SSH connection answers nothing for S seconds is unreachable (default 30)
  -h, --help

Exit codes: 0 done (drain: no active connection left), 2 a director failed, or connections still active after
--wait (the servers stay drained), 3 a director unreachable, 4 invalid inventory, 5 bad options (unknown host or
service, a host that is no real server: nothing changed).`;

/** How long drain waits for the active connections to end by default (--wait). */
const DEFAULT_WAIT_MS = 5 * 60_000;
/** Between two polls of the directors' tables while waiting. */
const POLL_MS = 1000;

const options = {
  ...commonOptions,
  check: { type: 'boolean', short: 'C' },
  service: { type: 'string', short: 's', multiple: true },
  wait: { type: 'string' },
  'no-wait': { type: 'boolean' },
} as const;

interface DirectorResult {
  host: string;
  changes: string[];
}

const fmtS = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const targetName = (t: DrainTarget) => `${t.service} ${t.host} (${t.real})`;

export async function drainCommand(argv: string[], io: CommandIO, command: 'drain' | 'undrain'): Promise<number> {
  const { values: o, positionals } = parse(argv, options, command);
  if (o.help) {
    io.out(DRAIN_HELP + '\n');
    return EXIT.ok;
  }
  const drain = command === 'drain';
  if (!drain && (o.wait !== undefined || o['no-wait'])) throw new UsageError('undrain: --wait and --no-wait apply to drain only');
  if (o.wait !== undefined && o['no-wait']) throw new UsageError('drain: give --wait or --no-wait, not both');
  const waitMs = o['no-wait'] || !drain ? 0 : o.wait === undefined ? DEFAULT_WAIT_MS : parseDuration(o.wait);
  if (waitMs === undefined || (o.wait !== undefined && waitMs <= 0)) throw new UsageError(`drain: --wait must be a duration like 60s or 5m, got "${o.wait}"`);
  const cfg = ansibleSettings();
  const inv = loadCommandInventory(o, command, io, cfg);
  const hosts = positionals.flatMap((p) => p.split(',')).map((s) => s.trim()).filter(Boolean);
  const targets = planDrain(inv, hosts, { command, ...(o.service ? { services: o.service } : {}), ...(o.limit ? { limit: selectHosts(inv, o.limit).hosts } : {}) });
  const directors = byDirector(targets);
  const access = new HostAccess(inv, cfg, o['ssh-config']);
  for (const d of directors.keys()) access.spec(d);
  access.flushWarnings(io.err);
  const pool = new SshPool(poolOptions(o));
  const conn = (h: string) => pool.connect(access.spec(h));
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const t0 = Date.now();
  const json: Record<string, unknown> = { command, hosts, services: [...new Set(targets.map((t) => t.service))], check: !!o.check, since: now };
  try {
    // plan every director before changing any: a director that does not serve a target changes nothing anywhere
    const planned = await Promise.all(
      [...directors].map(async ([d, ts]): Promise<[string, PreparedSteps]> => {
        const h = inv.hosts.get(d)!;
        return [d, await prepareSteps(await conn(d), { name: d, vars: h.vars, groups: h.groups }, [drainStep(ts, { drain, now }), reloadAfter(ts)])];
      }),
    ).catch((e: unknown) => {
      if (e instanceof UnreachableError) throw e;
      throw new DrainRefused((e as Error).message);
    });
    const results: DirectorResult[] = planned.map(([host, p]) => ({ host, changes: p.changes }));
    io.out(`${command} ${hosts.join(', ')}: ${[...new Set(targets.map((t) => t.service))].join(', ')} on ${[...directors.keys()].join(', ')}${o.check ? ' (check: nothing is changed)' : ''}\n`);
    if (!o.check) await Promise.all(planned.map(([, p]) => p.apply()));
    for (const r of results) io.out(r.changes.length ? r.changes.map((c) => `  ${r.host}: ${o.check ? 'would ' : ''}${c}\n`).join('') : `  ${r.host}: ok (${drain ? 'already drained' : 'not drained'})\n`);
    const changed = results.filter((r) => r.changes.length > 0).length;
    json.directors = results;
    json.changed = changed;
    const changedNote = `changed=${o.check ? 0 : changed}${o.check && changed ? ` (would change ${changed})` : ''}`;

    let code: number = EXIT.ok;
    if (drain) {
      const wait = await waitForConnections(directors, conn, o.check ? 0 : waitMs);
      json.wait = { limitS: waitMs / 1000, seconds: wait.ms / 1000, atStart: wait.atStart, left: wait.left };
      const leftText = Object.entries(wait.left).flatMap(([d, m]) => Object.entries(m).filter(([, n]) => n > 0).map(([t, n]) => `${d} ${t}: ${n}`));
      const startText = Object.entries(wait.atStart).flatMap(([d, m]) => Object.entries(m).filter(([, n]) => n > 0).map(([t, n]) => `${d} ${t}: ${n}`));
      if (o.check || (waitMs === 0 && leftText.length)) {
        io.out(`  active connections now: ${startText.join('; ') || 'none'}\n`);
      } else if (leftText.length) {
        io.out(`  still active after ${o.wait ?? '5m'}: ${leftText.join('; ')}\n`);
        code = EXIT.hostFailed;
      } else if (startText.length) {
        io.out(`  active connections ended after ${fmtS(wait.ms)} (at the start: ${startText.join('; ')})\n`);
      }
      const state = o.check ? '' : `; ${hosts.join(', ')} stay${hosts.length > 1 ? '' : 's'} drained until lvsplay undrain ${hosts.join(',')}`;
      io.out(`drain: ${directors.size} director(s), ${targets.length} real server(s) of a service: ${changedNote}, ${code === EXIT.ok ? `drained in ${fmtS(Date.now() - t0)}` : `connections still active after ${o.wait ?? '5m'}`}${state}\n`);
    } else {
      io.out(`undrain: ${directors.size} director(s), ${targets.length} real server(s) of a service: ${changedNote}${changed === 0 ? ` (${hosts.join(', ')} not drained)` : ''}\n`);
    }
    json.exit = code;
    if (o.json) writeFileSync(o.json, `${JSON.stringify(json, null, 2)}\n`);
    return code;
  } catch (e) {
    if (e instanceof DrainRefused) {
      io.err(`ERROR: ${command}: ${e.message}\nNothing was changed on any host.\n`);
      return EXIT.hostFailed;
    }
    if (!(e instanceof UnreachableError)) throw e;
    io.err(`ERROR: ${command}: ${e.host} unreachable: ${e.message}\n`);
    return EXIT.unreachable;
  } finally {
    await pool.closeAll();
  }
}

/** A director could not be planned (it does not serve a target, no IPVS …): nothing was applied anywhere. */
class DrainRefused extends Error {}

type Counts = Record<string, Record<string, number>>;

/** Poll every director's table until the targets' active connections are 0 or `limitMs` passed. */
async function waitForConnections(directors: Map<string, DrainTarget[]>, conn: (h: string) => Promise<Connection>, limitMs: number): Promise<{ ms: number; atStart: Counts; left: Counts }> {
  const t0 = Date.now();
  const poll = async (): Promise<Counts> => {
    const out: Counts = {};
    await Promise.all(
      [...directors].map(async ([d, ts]) => {
        const r = await (await conn(d)).exec('ipvsadm -Ln --exact', { timeoutMs: CONTROL_EXEC_TIMEOUT_MS });
        if (r.code !== 0) throw new Error(`${d}: ipvsadm -Ln failed: ${r.stderr.trim().slice(0, 200)}`);
        out[d] = Object.fromEntries([...activeConnections(r.stdout, ts)].map(([t, n]) => [targetName(t), n]));
      }),
    );
    return out;
  };
  const busy = (c: Counts) => Object.values(c).some((m) => Object.values(m).some((n) => n > 0));
  const atStart = await poll();
  let left = atStart;
  while (busy(left) && Date.now() - t0 < limitMs) {
    await sleep(Math.min(POLL_MS, Math.max(0, limitMs - (Date.now() - t0))));
    left = await poll();
  }
  return { ms: Date.now() - t0, atStart, left };
}
