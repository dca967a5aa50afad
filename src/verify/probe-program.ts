/**
 * The probe program run on the vantage host, and the shell that runs it: ONE process per service (or per drill),
 * never one exec or one curl per probe. Every probe is a new TCP connection (keep-alive would pin one backend);
 * HTTP probes send `Connection: close` and identify the backend from the first line of the response body (the
 * lab's and the roles' web pages serve the host name).
 *
 * With node on the vantage host: a dependency-free CommonJS program, fed to `node -` through a heredoc, config as
 * one JSON argument. Output lines (parsed by probe-output.ts):
 *   START <epochMs> <pid>
 *   P <seq> <startEpochMs> <durationMs> ok|fail <backend|error, URI-encoded> <client port, or - if unknown> [<VIP port>]
 *   (the VIP port only when probing several ports: a fwmark service)
 *   END <epochMs> <sent> <ok> <failed>
 * Without node (batch HTTP only): one curl with a URL glob [1-N] and `-w` delimiters:
 *   @@LVSPLAY_CURL <http_code> <exitcode> <time_total>   after each body.
 */
import { sh } from '../shell.ts';
import { hostPort } from '../facts/netaddr.ts';

export interface ProbeConfig {
  host: string;
  port: number;
  /** a fwmark service: probe these ports in turn (probe N goes to ports[(N-1) % length]); each P line ends with it */
  ports?: number[];
  /** HTTP GET (backend from the body) or a bare TCP connect */
  http: boolean;
  /** a UDP datagram instead (backend from the reply: the web-backend role's responder answers its host name) */
  udp?: boolean;
  /** UDP: the datagram as hex (what the health check sends: udp-payload.ts) instead of a text line */
  payload?: string;
  /** UDP: the payload is a DNS query: a fresh id in its first two bytes per probe */
  dnsId?: boolean;
  path: string;
  /** number of probes; 0 = until stopped (SIGTERM or maxMs) */
  count: number;
  /** start-to-start spacing in ms (0: back to back) */
  intervalMs: number;
  timeoutMs: number;
  /** probes in flight at most (1 = strictly one after the other) */
  concurrency: number;
  /** hard stop after this long, whatever happens */
  maxMs: number;
}

/** The program (plain CommonJS, runs on node >= 10); keep it dependency-free and small: it is sent every time. */
const PROBE_PROGRAM = String.raw`'use strict';
const net = require('net');
const dgram = require('dgram');
const cfg = JSON.parse(process.argv[2]);
const out = (s) => process.stdout.write(s + '\n');
const t0 = Date.now();
let stopping = false, sent = 0, okN = 0, failN = 0, inflight = 0;
process.on('SIGTERM', () => { stopping = true; });
process.on('SIGINT', () => { stopping = true; });
out('START ' + t0 + ' ' + process.pid);
function label(s) { return encodeURIComponent(String(s).slice(0, 120)) || '-'; }
const portOf = (seq) => (cfg.ports ? cfg.ports[(seq - 1) % cfg.ports.length] : cfg.port);
const line = (seq, start, ok, info, lport) => out('P ' + seq + ' ' + start + ' ' + (Date.now() - start) + ' ' + (ok ? 'ok ' : 'fail ') + label(info) + ' ' + (lport || '-') + (cfg.ports ? ' ' + portOf(seq) : ''));
// UDP: one datagram from a new socket (a new client port: a new IPVS connection entry), the backend's name in the
// reply; a connected socket hears an ICMP port-unreachable as ECONNREFUSED
function probeUdp(seq) {
  return new Promise((resolve) => {
    const start = Date.now();
    let done = false, lport;
    const sock = dgram.createSocket(cfg.host.includes(':') ? 'udp6' : 'udp4');
    const finish = (ok, info) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      try { lport = lport || sock.address().port; } catch (e) {}
      try { sock.close(); } catch (e) {}
      if (ok) okN++; else failN++;
      line(seq, start, ok, info, lport);
      resolve();
    };
    const timer = setTimeout(() => finish(false, 'timeout'), cfg.timeoutMs);
    sock.on('error', (e) => finish(false, e.code || 'error'));
    sock.on('message', (m) => finish(true, m.toString('utf8').split('\n').map((l) => l.trim()).find((l) => l) || '-'));
    sock.connect(portOf(seq), cfg.host, () => {
      try { lport = sock.address().port; } catch (e) {}
      let msg = Buffer.from('lvsplay-probe ' + seq + '\n');
      if (cfg.payload) { msg = Buffer.from(cfg.payload, 'hex'); if (cfg.dnsId && msg.length >= 2) msg.writeUInt16BE(seq & 0xffff, 0); }
      sock.send(msg, (e) => { if (e) finish(false, e.code || 'error'); });
    });
  });
}
function probe(seq) {
  if (cfg.udp) return probeUdp(seq);
  return new Promise((resolve) => {
    const start = Date.now();
    let done = false, buf = Buffer.alloc(0);
    const sock = net.connect({ host: cfg.host, port: portOf(seq) });
    // the client port, to match a failed probe with an old IPVS connection entry (ipvsadm -Lnc): connect() runs in a
    // nextTick queued by net.connect for an IP address, so the port is bound when this one runs; a refused
    // connection's socket is closed before its error event, so it has to be read here
    let lport;
    process.nextTick(() => { lport = sock.localPort; });
    const finish = (ok, info) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      if (ok) okN++; else failN++;
      lport = lport || sock.localPort;
      line(seq, start, ok, info, lport);
      resolve();
    };
    const timer = setTimeout(() => finish(false, 'timeout'), cfg.timeoutMs);
    sock.setNoDelay(true);
    sock.on('connect', () => {
      if (!cfg.http) { sock.end(); finish(true, '-'); return; }
      sock.write('GET ' + cfg.path + ' HTTP/1.0\r\nHost: ' + (cfg.host.includes(':') ? '[' + cfg.host + ']' : cfg.host) + '\r\nConnection: close\r\nUser-Agent: lvsplay-probe\r\n\r\n');
    });
    sock.on('data', (d) => { if (buf.length < 65536) buf = Buffer.concat([buf, d]); });
    sock.on('end', () => {
      const text = buf.toString('utf8');
      const m = /^HTTP\/\d(?:\.\d)? (\d{3})/.exec(text);
      if (!m) return finish(false, 'bad-response');
      const status = Number(m[1]);
      const i = text.indexOf('\r\n\r\n');
      const body = i >= 0 ? text.slice(i + 4) : '';
      const line = body.split('\n').map((l) => l.trim()).find((l) => l) || '-';
      if (status >= 400) return finish(false, 'http-' + status);
      finish(true, line);
    });
    sock.on('error', (e) => finish(false, e.code || 'error'));
  });
}
async function main() {
  const deadline = t0 + cfg.maxMs;
  const all = [];
  for (let seq = 1; cfg.count === 0 || seq <= cfg.count; seq++) {
    if (stopping || Date.now() >= deadline) break;
    while (inflight >= cfg.concurrency) await new Promise((r) => setTimeout(r, 2));
    const started = Date.now();
    inflight++; sent++;
    const p = probe(seq).then(() => { inflight--; });
    if (cfg.concurrency > 1) all.push(p); else await p;
    const wait = started + cfg.intervalMs - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
  await Promise.all(all);
  out('END ' + Date.now() + ' ' + sent + ' ' + okN + ' ' + failN);
}
main().then(() => process.exit(0), (e) => { out('ERROR ' + label(e && e.stack || e)); process.exit(1); });
`;

const HEREDOC = 'LVSPLAY_PROBE_PROGRAM_END';

/** Shell running the node probe program with this config (node must exist: see probeScript). */
export function nodeProbeScript(o: ProbeConfig): string {
  // the heredoc body is the program's text, not shell: it follows the quoted command line as it is
  return `${sh`node - ${JSON.stringify(o)}`} <<'${HEREDOC}'\n${PROBE_PROGRAM}\n${HEREDOC}`;
}

/** Shell running one curl for `count` HTTP probes (each a new connection: `Connection: close`). */
export function curlProbeScript(o: ProbeConfig): string {
  // an IPv6 VIP in brackets: curl's URL globbing (the [1-N] below) recognises an IPv6 address there
  const url = `http://${hostPort(o.host, o.port)}${o.path}${o.path.includes('?') ? '&' : '?'}lvsplay_probe=[1-${o.count}]`;
  const secs = Math.max(0.1, o.timeoutMs / 1000).toFixed(1);
  return [
    `echo "CURL $(date +%s)"`,
    sh`curl -sS --max-time ${secs} --connect-timeout ${secs} -H 'Connection: close' -H 'User-Agent: lvsplay-probe' -w '\\n@@LVSPLAY_CURL %{http_code} %{exitcode} %{time_total}\\n' ${url} 2>/dev/null`,
    `echo "CURLEND $?"`,
  ].join('\n');
}

/**
 * The one exec that probes a service: node when the vantage host has it, else curl for HTTP; a TCP service or a
 * stream needs node (says so with `NOPROBER`).
 */
export function probeScript(o: ProbeConfig): string {
  const fallback = o.http && !o.udp && !o.ports && o.count > 0 ? curlProbeScript(o) : `echo "NOPROBER the vantage host has no node (needed for ${o.udp ? 'UDP probes' : o.ports ? 'probing several ports' : o.http ? 'a probe stream' : 'TCP probes'})"`;
  return [`if command -v node >/dev/null 2>&1; then`, nodeProbeScript(o), `else`, fallback, `fi`].join('\n');
}
