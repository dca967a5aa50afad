/**
 * The probe program for real: run through /bin/sh exactly as on a vantage host, against HTTP servers on loopback
 * (127.0.0.1 only). Each probe must be a new TCP connection.
 */
import test from 'ava';
import http from 'node:http';
import net from 'node:net';
import { spawn } from 'node:child_process';
import { curlProbeScript, probeScript, type ProbeConfig } from '../../src/verify/probe-program.ts';
import { parseCurlProbeOutput, parseProbeLine, parseProbeOutput, ProbeStreamParser } from '../../src/verify/probe-output.ts';

function sh(script: string, onStdout?: (c: string) => void): { done: Promise<{ code: number; stdout: string }>; pid: () => number | undefined } {
  const p = spawn('/bin/sh', ['-s'], { stdio: ['pipe', 'pipe', 'inherit'] });
  let stdout = '';
  p.stdout.on('data', (d) => {
    stdout += d;
    onStdout?.(String(d));
  });
  p.stdin.end(script);
  return { done: new Promise((r) => p.on('close', (code) => r({ code: code ?? -1, stdout }))), pid: () => p.pid };
}

/** Two "backends" behind one port, alternating per connection, counting connections. */
async function server(t: { teardown(f: () => void): void }) {
  let conns = 0;
  let n = 0;
  const ports: number[] = [];
  const srv = http.createServer((_req, res) => {
    n++;
    res.end(n % 2 ? 'rs1\n' : 'rs2\n');
  });
  srv.on('connection', (c) => {
    conns++;
    ports.push(c.remotePort!);
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  t.teardown(() => srv.close());
  return { port: (srv.address() as net.AddressInfo).port, conns: () => conns, clientPorts: () => ports };
}

async function closedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

const base = (port: number, o: Partial<ProbeConfig> = {}): ProbeConfig => ({
  host: '127.0.0.1', port, http: true, path: '/', count: 20, intervalMs: 0, timeoutMs: 2000, concurrency: 1, maxMs: 20_000, ...o,
});

test('node probes: one new connection per probe, backend from the body, one process', async (t) => {
  const s = await server(t);
  const r = await sh(probeScript(base(s.port))).done;
  t.is(r.code, 0);
  const run = parseProbeOutput(r.stdout);
  t.is(run.prober, 'node');
  t.is(run.probes.length, 20);
  t.true(run.probes.every((p) => p.ok));
  t.is(run.probes.filter((p) => p.info === 'rs1').length, 10);
  t.is(run.probes.filter((p) => p.info === 'rs2').length, 10);
  t.is(s.conns(), 20, 'every probe opened its own TCP connection');
  t.deepEqual(run.probes.map((p) => p.port).sort(), [...s.clientPorts()].sort(), 'each probe reports its client port (as the server saw it)');
  t.true(run.probes.every((p, i) => p.seq === i + 1 && p.t >= run.startedAt!));
  t.truthy(run.endedAt);
});

test('curl fallback: one curl, many URLs, a new connection each, same parse result', async (t) => {
  const s = await server(t);
  const r = await sh(curlProbeScript(base(s.port, { count: 12 }))).done;
  const run = parseCurlProbeOutput(r.stdout);
  t.is(run.prober, 'curl');
  t.is(run.probes.length, 12);
  t.deepEqual([...new Set(run.probes.map((p) => p.info))].sort(), ['rs1', 'rs2']);
  t.is(s.conns(), 12);
  t.is(parseProbeOutput(r.stdout).prober, 'curl');
});

test('refused connections and TCP mode are reported per probe', async (t) => {
  const port = await closedPort();
  const run = parseProbeOutput((await sh(probeScript(base(port, { count: 3 }))).done).stdout);
  t.is(run.probes.length, 3);
  t.true(run.probes.every((p) => !p.ok && p.info === 'ECONNREFUSED'));
  t.true(run.probes.every((p) => Number.isInteger(p.port) && p.port! > 0 && p.port !== port), `a refused probe reports its client port too: ${run.probes.map((p) => p.port)}`);
  const curl = parseCurlProbeOutput((await sh(curlProbeScript(base(port, { count: 2 }))).done).stdout);
  t.deepEqual(curl.probes.map((p) => [p.ok, p.info]), [[false, 'ECONNREFUSED'], [false, 'ECONNREFUSED']]);
  const s = await server(t);
  const tcp = parseProbeOutput((await sh(probeScript(base(s.port, { http: false, count: 5 }))).done).stdout);
  t.true(tcp.probes.every((p) => p.ok && p.info === '-'));
});

test('stream mode: paced probes until SIGTERM, then END', async (t) => {
  const s = await server(t);
  const lines: number[] = [];
  const parser = new ProbeStreamParser((p) => lines.push(p.seq));
  const proc = sh(probeScript(base(s.port, { count: 0, intervalMs: 25, concurrency: 8, maxMs: 30_000 })), (c) => parser.push(c));
  while (parser.run.pid === undefined) await new Promise((r) => setTimeout(r, 20));
  await new Promise((r) => setTimeout(r, 600));
  process.kill(parser.run.pid, 'SIGTERM');
  const r = await proc.done;
  parser.end();
  t.is(r.code, 0);
  t.truthy(parser.run.endedAt, 'END line after SIGTERM');
  const n = parser.run.probes.length;
  t.true(n >= 8 && n <= 40, `~24 probes in 600 ms at 25 ms, got ${n}`);
  const gaps = parser.run.probes.slice(1).map((p, i) => p.t - parser.run.probes[i]!.t);
  t.true(gaps.every((g) => g >= 15), `spacing ≥ ~25 ms: ${gaps.join(',')}`);
});

test('IPv6: node probes and the curl fallback reach [::1]:port, a new connection each, the Host header bracketed', async (t) => {
  const hosts: string[] = [];
  let conns = 0;
  const srv = http.createServer((req, res) => {
    hosts.push(req.headers.host ?? '');
    res.end('v6\n');
  });
  srv.on('connection', () => { conns++; });
  await new Promise<void>((r) => srv.listen(0, '::1', r));
  t.teardown(() => srv.close());
  const port = (srv.address() as net.AddressInfo).port;
  const o = base(port, { host: '::1', count: 5 });
  t.true(curlProbeScript(o).includes(`'http://[::1]:${port}/?lvsplay_probe=[1-5]'`), curlProbeScript(o));
  const node = parseProbeOutput((await sh(probeScript(o)).done).stdout);
  t.deepEqual(node.probes.map((p) => [p.ok, p.info]), Array(5).fill([true, 'v6']));
  const curl = parseCurlProbeOutput((await sh(curlProbeScript(o)).done).stdout);
  t.deepEqual(curl.probes.map((p) => [p.ok, p.info]), Array(5).fill([true, 'v6']));
  t.is(conns, 10, 'every probe opened its own TCP connection');
  // a Host header of an IPv6 literal is bracketed (RFC 7230): the node prober's without a port, curl's with it
  t.deepEqual(hosts, [...Array(5).fill('[::1]'), ...Array(5).fill(`[::1]:${port}`)]);
});

test('parseProbeLine: URI-encoded answers, junk is not a probe', (t) => {
  t.deepEqual(parseProbeLine('P 3 1700000000000 12 ok web%201'), { seq: 3, t: 1700000000000, ms: 12, ok: true, info: 'web 1' });
  t.deepEqual(parseProbeLine('P 4 1700000000000 12 fail ECONNREFUSED 40112'), { seq: 4, t: 1700000000000, ms: 12, ok: false, info: 'ECONNREFUSED', port: 40112 });
  t.deepEqual(parseProbeLine('P 5 1700000000000 12 fail timeout -'), { seq: 5, t: 1700000000000, ms: 12, ok: false, info: 'timeout' });
  t.is(parseProbeLine('P x'), undefined);
  const run = parseProbeOutput('START 1 2\nNOPROBER the vantage host has no node\n');
  t.is(run.prober, 'none');
  t.regex(run.unavailable!, /no node/);
});

test('UDP probes: a datagram from a new socket each, the backend named in the reply (web-backend\'s responder on loopback), a closed port refused', async (t) => {
  const { UDP_RESPONDER_PROGRAM } = await import('../../roles/web-backend/udp-responder.ts');
  const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const dgram = await import('node:dgram');
  const dir = mkdtempSync(join(tmpdir(), 'lvsplay-udp-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  // a free UDP port on loopback
  const probeSock = dgram.createSocket('udp4');
  await new Promise<void>((r) => probeSock.bind(0, '127.0.0.1', r));
  const port = probeSock.address().port;
  await new Promise<void>((r) => probeSock.close(() => r()));
  writeFileSync(join(dir, 'r.js'), UDP_RESPONDER_PROGRAM);
  writeFileSync(join(dir, 'r.json'), JSON.stringify({ name: 'rs1', ports: [port], addresses: ['127.0.0.1', '::1'] }));
  const responder = spawn(process.execPath, [join(dir, 'r.js'), join(dir, 'r.json')], { stdio: 'ignore' });
  t.teardown(() => responder.kill('SIGKILL'));
  // ready when it answers (a loaded machine starts node slowly: a fixed sleep made this test flaky)
  for (let i = 0; i < 100; i++) {
    const answered = await new Promise<boolean>((res) => {
      const c = dgram.createSocket('udp4');
      const done = (ok: boolean) => { clearTimeout(timer); c.close(); res(ok); };
      const timer = setTimeout(() => done(false), 200);
      c.on('message', () => done(true));
      c.on('error', () => done(false));
      c.send('ready?\n', port, '127.0.0.1');
    });
    if (answered) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const cfg: ProbeConfig = { host: '127.0.0.1', port, http: false, udp: true, path: '/', count: 20, intervalMs: 0, timeoutMs: 2000, concurrency: 1, maxMs: 30_000 };
  const r = parseProbeOutput((await sh(probeScript(cfg)).done).stdout);
  t.is(r.prober, 'node');
  t.is(r.probes.length, 20);
  t.true(r.probes.every((p) => p.ok && p.info === 'rs1'), JSON.stringify(r.probes.slice(0, 3)));
  t.is(new Set(r.probes.map((p) => p.port)).size, 20, 'a new client port per probe');
  // IPv6: the responder's own socket on ::1 answers (the reply's source is the address the datagram was sent to)
  const v6 = parseProbeOutput((await sh(probeScript({ ...cfg, host: '::1', count: 5 })).done).stdout);
  t.deepEqual(v6.probes.map((p) => `${p.ok} ${p.info}`), Array(5).fill('true rs1'));
  responder.kill('SIGKILL');
  await new Promise((res) => setTimeout(res, 300));
  const refused = parseProbeOutput((await sh(probeScript({ ...cfg, count: 3 })).done).stdout);
  t.deepEqual(refused.probes.map((p) => `${p.ok} ${p.info}`), ['false ECONNREFUSED', 'false ECONNREFUSED', 'false ECONNREFUSED']);
});

test('UDP probes of a DNS service send its DNS_CHECK query (a fresh id each) and count any reply as an answer', async (t) => {
  const { dnsQueryHex, udpProbePayload } = await import('../../src/verify/udp-payload.ts');
  // RFC 1035: header (id 0, RD), QDCOUNT 1, QNAME 7example3org0, QTYPE A, QCLASS IN
  t.is(dnsQueryHex('example.org', 'A'), '000001000001000000000000' + '076578616d706c65036f726700' + '00010001');
  t.is(dnsQueryHex('.', 'SOA'), '000001000001000000000000' + '00' + '00060001');
  t.deepEqual(udpProbePayload({ type: 'UDP_CHECK', payload: 'e3 00 06 ec' } as never), { hex: 'e30006ec', dns: false });
  t.is(udpProbePayload({ type: 'UDP_CHECK' } as never), undefined, 'no payload: the text line (web-backend answers anything)');
  const dgram = await import('node:dgram');
  const ids: number[] = [];
  const srv = dgram.createSocket('udp4');
  srv.on('message', (m, r) => {
    ids.push(m.readUInt16BE(0));
    // a reply: the query with QR set (binary: names no backend)
    const reply = Buffer.from(m);
    reply[2] = reply[2]! | 0x80;
    srv.send(reply, r.port, r.address);
  });
  await new Promise<void>((r) => srv.bind(0, '127.0.0.1', r));
  t.teardown(() => srv.close());
  const port = srv.address().port;
  const p = udpProbePayload({ type: 'DNS_CHECK', name: 'example.org', query_type: 'A' } as never)!;
  const cfg: ProbeConfig = { host: '127.0.0.1', port, http: false, udp: true, payload: p.hex, dnsId: p.dns, path: '/', count: 10, intervalMs: 0, timeoutMs: 2000, concurrency: 1, maxMs: 30_000 };
  const r = parseProbeOutput((await sh(probeScript(cfg)).done).stdout);
  t.is(r.probes.filter((x) => x.ok).length, 10, JSON.stringify(r.probes.slice(0, 2)));
  t.deepEqual(ids, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 'each query its own id');
});
