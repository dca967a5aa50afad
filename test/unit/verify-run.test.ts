/**
 * runVerification end to end without a cluster: the vantage host is this machine's /bin/sh probing an HTTP server
 * on 127.0.0.1 (loopback only), the director a scripted connection whose IPVS counters lag one read behind.
 */
import test from 'ava';
import http from 'node:http';
import net from 'node:net';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalConnection } from '../helpers/local-connection.ts';
import type { Connection, ExecResult } from '../../src/transport/types.ts';
import { runVerification } from '../../src/verify/run.ts';
import { planVerification, type VerifyPlan } from '../../src/verify/targets.ts';
import { services } from '../../src/verify/spec.ts';
import { loadInventory } from '../../src/inventory/index.ts';
import { snapshotScript } from '../../src/verify/director.ts';

const VIP = '127.0.0.1';

class ScriptedDirector implements Connection {
  roundTrips = 0;
  /** per read: whether the snapshot asked for keepalived's data dump */
  dumps: boolean[] = [];
  /** reads of the connection entries (`ipvsadm -Lnc`), with the snapshot reads before each */
  entryReads: number[] = [];
  readonly spec = { name: 'dir1', host: 'dir1', port: 22, user: 'root', jumps: [], become: false };
  /**
   * `lag`: snapshot reads that still show zero counters (the one before the probes included); `entries`: whether
   * the connection entries of the queried ports are still there after N snapshot reads (they expire)
   */
  constructor(private readonly port: number, private readonly counts: () => [number, number], private readonly o: { lag?: number; entries?: (reads: number) => boolean } = {}) {}
  private reads = 0;
  async exec(script: string): Promise<ExecResult> {
    this.roundTrips++;
    if (script.startsWith('ipvsadm -Lnc')) {
      this.entryReads.push(this.reads);
      if (!this.o.entries?.(this.reads)) return { code: 0, stdout: '', stderr: '' };
      // every queried client port, with an entry to each real server (the director cannot tell which answered)
      const ports = [...script.matchAll(/TCP\|[^|]+\|(\d+)/g)].map((m) => m[1]);
      const lines = ports.flatMap((p) => ['10.0.0.1', '10.0.0.2'].map((rs) => `TCP 00:29  FIN_WAIT    ${VIP}:${p}  ${VIP}:${this.port}  ${rs}:${this.port}`));
      return { code: 0, stdout: lines.join('\n') + '\n', stderr: '' };
    }
    const dump = script === snapshotScript(true);
    if (!dump && script !== snapshotScript(false)) throw new Error(`unexpected script on the director (read ${this.reads}): ${script.slice(0, 60)}`);
    this.dumps.push(dump);
    // counters lag: the reads right after the probes still show the old values
    const [a, b] = this.reads++ < (this.o.lag ?? 3) ? [0, 0] : this.counts();
    const rs = (addr: string, c: number) => `  -> ${addr}:${this.port}               ${c}        0        0        0        0`;
    const stdout = [
      '@@addr',
      JSON.stringify([{ ifname: 'eth1', flags: ['UP'], addr_info: [{ family: 'inet', local: VIP, prefixlen: 32 }] }]),
      '@@list',
      `TCP  ${VIP}:${this.port} rr`,
      `  -> 10.0.0.1:${this.port}               Route   1      0          0`,
      `  -> 10.0.0.2:${this.port}               Route   1      0          0`,
      '@@stats',
      `TCP  ${VIP}:${this.port}        ${a + b}        0        0        0        0`,
      rs('10.0.0.1', a),
      rs('10.0.0.2', b),
      // a keepalived with nothing to report (no VRRP instance, no checker): settled at once
      ...(dump ? ['@@kcheck', '@@kvrrp'] : []),
    ].join('\n');
    return { code: 0, stdout: stdout + '\n', stderr: '' };
  }
  async close(): Promise<void> {}
}

async function backends(t: { teardown(f: () => void): void }, answer: (n: number) => string | null) {
  let n = 0;
  const srv = http.createServer((_q, res) => {
    const a = answer(n++);
    if (a === null) res.socket?.destroy();
    else res.end(a + '\n');
  });
  await new Promise<void>((r) => srv.listen(0, VIP, r));
  t.teardown(() => srv.close());
  return (srv.address() as net.AddressInfo).port;
}

function plan(port: number, probes: number): VerifyPlan {
  return {
    notes: [],
    jobs: [{
      vantage: 'client',
      http: true,
      check: services({ probes, timeoutMs: 2000 }),
      target: {
        name: 'web', kind: 'DR', vip: VIP, port, protocol: 'TCP', scheduler: 'rr', healthCheck: 'HTTP_GET', directors: ['dir1'],
        backends: [
          { label: 'rs1', host: 'rs1', address: '10.0.0.1', port, weight: 1 },
          { label: 'rs2', host: 'rs2', address: '10.0.0.2', port, weight: 1 },
        ],
      },
    }],
  };
}

test('a healthy service passes; the counters are re-read until they caught up; 1 exec on the vantage host', async (t) => {
  const port = await backends(t, (n) => (n % 2 ? 'rs2' : 'rs1'));
  const vantage = new LocalConnection();
  const dir = new ScriptedDirector(port, () => [20, 20]);
  const records = await runVerification(plan(port, 40), { connect: async (h) => (h === 'client' ? vantage : dir), settleMs: 5000 });
  t.is(records.length, 1);
  const r = records[0]!;
  t.true(r.pass, r.reasons?.join('; '));
  t.deepEqual(r.observed, { rs1: 0.5, rs2: 0.5 });
  t.deepEqual(r.rows!.map((x) => x.director), [20, 20]);
  t.is(vantage.roundTrips, 1, 'all probes of a service in one exec');
  t.is(dir.dumps.length, 4, 'before, right after the probes (lagging), after (lagging), after again');
  t.is(dir.entryReads.length, 1, 'short right after the probes (the lag): its connection entries read then, once');
  t.deepEqual(dir.dumps, [false, false, false, false], 'a healthy service after a run that changed nothing: no keepalived dump');
});

test('keepalived\'s dump is read only when needed: while settling after a reload, or after probes that failed', async (t) => {
  const port = await backends(t, (n) => (n % 2 ? 'rs2' : 'rs1'));
  const settling = new ScriptedDirector(port, () => [20, 20]);
  const notes: string[] = [];
  const [ok] = await runVerification(plan(port, 40), { connect: async (h) => (h === 'client' ? new LocalConnection() : settling), settleMs: 5000, onNote: (n) => notes.push(n), settle: { maxMs: 1000, why: 'keepalived was reloaded on dir1' } });
  t.true(ok!.pass, ok!.reasons?.join('; '));
  t.regex(notes.join('\n'), /settled in [\d.]+ s after keepalived was reloaded on dir1/);
  t.deepEqual(settling.dumps, [true, false, false, false], 'the settle snapshot carries the dump, the counter re-reads do not');

  const resets = await backends(t, (n) => (n % 2 ? null : 'rs1'));
  const failing = new ScriptedDirector(resets, () => [10, 10], { lag: 2 });
  const [bad] = await runVerification(plan(resets, 20), { connect: async (h) => (h === 'client' ? new LocalConnection() : failing), settleMs: 3000 });
  t.false(bad!.pass);
  // reads: before, right after the probes, then the after snapshot with the dump
  t.deepEqual(failing.dumps.slice(0, 3), [false, false, true], 'failed probes: the snapshot after them reads the dump');
  t.false(failing.dumps.slice(3).some(Boolean), 'once: the counter re-reads keep it');
  t.regex(bad!.reasons!.join('\n'), /rs2 \(10\.0\.0\.2:\d+\) does not answer/);
});

// CI, alternating runs: web6-dr's probes came fifth of eleven services; 6 of its 100 probes reused an entry of their
// client port, and by the end of the other services' probes (over 30 s) its FIN_WAIT entries had expired (the lab's
// tcpfin timeout is 30 s): "49 of the 49 answers … have no IPVS connection entry" and a false FAIL
test('a counted shortfall is explained from the connection entries read right after the job\'s probes, before they expire', async (t) => {
  const port = await backends(t, (n) => (n % 2 ? 'rs2' : 'rs1'));
  // 2 of rs1's 20 answers reused an entry: never counted; the entries are gone once the counters were re-read
  // (the read right after the probes runs beside the first after snapshot: up to 3 snapshot reads by then)
  const dir = new ScriptedDirector(port, () => [18, 20], { lag: 1, entries: (reads) => reads <= 3 });
  const [r] = await runVerification(plan(port, 40), { connect: async (h) => (h === 'client' ? new LocalConnection() : dir), settleMs: 2500 });
  t.true(r!.pass, r!.reasons?.join('; '));
  t.regex(r!.notes!.join('\n'), /dir1 counted 18 new connections to rs1 .* the directors' connection tables hold 20 of them, so 2 reused an IPVS entry of the same client port/);
  t.is(dir.entryReads.length, 1, 'read once, right after the probes');
  t.true(dir.dumps.length > 4, 'the counters were re-read until the deadline (still short): a read at the end would have found nothing');
  // read only at the end (the entries expired by then), the same shortfall is a FAIL naming the missing entries
  const late = new ScriptedDirector(port, () => [18, 20], { lag: 1, entries: (reads) => reads <= 1 });
  const [f] = await runVerification(plan(port, 40), { connect: async (h) => (h === 'client' ? new LocalConnection() : late), settleMs: 1000 });
  t.false(f!.pass);
  t.regex(f!.reasons!.join('\n'), /cross-check: dir1 counted 18 new connections to rs1 .*; 20 of the 20 answers with a known client port have no IPVS connection entry on any director/);
});

test('a backend that resets connections makes the service fail (exit 2 material)', async (t) => {
  const port = await backends(t, (n) => (n % 2 ? null : 'rs1'));
  const records = await runVerification(plan(port, 20), { connect: async (h) => (h === 'client' ? new LocalConnection() : new ScriptedDirector(port, () => [10, 10])), settleMs: 3000 });
  const r = records[0]!;
  t.false(r.pass);
  t.is(r.failed, 10);
  t.regex(r.reasons!.join('\n'), /10 of 20 probes failed/);
});

test('planVerification: default entries from clients, only/from validated before anything runs', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'lvsplay-verify-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const inv = join(dir, 'inv.yaml');
  writeFileSync(inv, `all:
  children:
    clients: { hosts: { c1: { ansible_host: 198.19.0.10 } } }
    directors:
      vars:
        lvs_services:
          - { name: web, vip: 198.18.0.100, port: 80, lb_kind: DR, health_check: { type: HTTP_GET }, real_servers: [{ host: rs1 }, { host: rs2, weight: 2 }] }
          - { name: dns, vip: 198.18.0.100, port: 53, protocol: UDP, lb_kind: DR, real_servers: [{ host: rs1 }] }
          - { name: db, vip: 198.18.0.101, port: 5432, lb_kind: DR, scheduler: sh, real_servers: [{ host: rs1 }, { host: rs2 }] }
        lvs_vrrp:
          instances:
            - { name: VI_1, interface: eth1, virtual_router_id: 51, priorities: { d1: 150, d2: 100 }, vips: [198.18.0.100/32] }
      hosts:
        d1: { lab_nics: [{ name: eth1, address: 198.18.0.11/24 }] }
        d2: { lab_nics: [{ name: eth1, address: 198.18.0.12/24 }] }
    rs:
      hosts:
        rs1: { lab_nics: [{ name: eth1, address: 198.18.0.21/24 }] }
        rs2: { lab_nics: [{ name: eth1, address: 198.18.0.22/24 }] }
`);
  const i = loadInventory(inv);
  // the default verification applies to playbooks that build services (a director or node-svc role)
  const director = { role: 'director-dr-ha', lbKinds: ['DR', 'TUN'], steps: () => [] };
  const builds = { name: 'x', plays: [{ hosts: 'directors', roles: [director] }] };
  const none = planVerification({ name: 'x', plays: [{ hosts: 'all', steps: [] }] }, i);
  t.deepEqual(none.jobs, []);
  t.regex(none.notes[0]!, /builds no virtual service/);
  const p = planVerification(builds, i);
  t.deepEqual(p.jobs.map((j) => [j.target.name, j.vantage, j.http, !!j.udp, j.target.directors.join(',')]), [
    ['web', 'c1', true, false, 'd1,d2'],
    // UDP: probed with datagrams, the backend named in each reply
    ['dns', 'c1', false, true, 'd1,d2'],
    ['db', 'c1', false, false, 'd1,d2'],
  ]);
  t.deepEqual(p.jobs[0]!.target.backends.map((b) => `${b.label} ${b.address}:${b.port} w${b.weight}`), ['rs1 198.18.0.21:80 w1', 'rs2 198.18.0.22:80 w2']);
  t.deepEqual(p.notes, []);
  const only = planVerification({ name: 'x', plays: [], verify: [services({ only: ['db'], from: 'c1', probes: 10, mode: 'http' })] }, i);
  t.deepEqual(only.jobs.map((j) => [j.target.name, j.http, j.check.probes]), [['db', true, 10]]);
  t.throws(() => planVerification({ name: 'x', plays: [], verify: [services({ only: ['nope'] })] }, i), { message: /no service "nope"/ });
  t.throws(() => planVerification({ name: 'x', plays: [], verify: [services({ from: 'ghosts' })] }, i), { message: /matches no host/ });
  t.throws(() => services({ probes: 0 }), { message: /probes/ });
  t.throws(() => planVerification({ name: 'x', plays: [], verify: [{ check: 'nope' } as never] }, i), { message: /not a verification entry/ });
  // no clients group and no verify entries: nothing, said
  const bare = loadInventory(inv);
  bare.groups.delete('clients');
  t.regex(planVerification(builds, bare).notes[0]!, /no clients group/);
});
