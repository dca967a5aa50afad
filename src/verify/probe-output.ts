/** Parsers of what the probe program (node) or the curl fallback printed; see probe-program.ts. Pure. */

export interface Probe {
  seq: number;
  /** epoch ms on the vantage host's clock when the probe started */
  t: number;
  ms: number;
  ok: boolean;
  /** ok: the backend's answer (first body line) or '-' for TCP; failed: the error (ECONNREFUSED, timeout, http-503…) */
  info: string;
  /** the client's (vantage host's) source port, when the prober knows it */
  port?: number;
  /** the VIP port probed, when the run probed several (a fwmark service) */
  dport?: number;
}

export interface ProbeRun {
  prober: 'node' | 'curl' | 'none';
  /** node: the program's pid on the vantage host (to stop a stream) */
  pid?: number;
  startedAt?: number;
  endedAt?: number;
  probes: Probe[];
  /** lines that were neither probes nor markers (errors from the host) */
  noise: string[];
  /** why probing was impossible (no node for a TCP service…) */
  unavailable?: string;
}

/** Parse one `P …` line; undefined for any other line. */
export function parseProbeLine(line: string): Probe | undefined {
  const m = /^P (\d+) (\d+) (\d+) (ok|fail) (\S+)(?: (\d+|-))?(?: (\d+))?$/.exec(line.trim());
  if (!m) return undefined;
  let info = m[5]!;
  try {
    info = decodeURIComponent(info);
  } catch {
    /* keep it encoded */
  }
  return { seq: Number(m[1]), t: Number(m[2]), ms: Number(m[3]), ok: m[4] === 'ok', info, ...(m[6] && m[6] !== '-' ? { port: Number(m[6]) } : {}), ...(m[7] ? { dport: Number(m[7]) } : {}) };
}

/** Incremental parser for a stream arriving in chunks (drills): feed chunks, get complete lines' probes. */
export class ProbeStreamParser {
  private rest = '';
  readonly run: ProbeRun = { prober: 'node', probes: [], noise: [] };
  constructor(private readonly onProbe?: (p: Probe) => void) {}
  push(chunk: string): void {
    const text = this.rest + chunk;
    const lines = text.split('\n');
    this.rest = lines.pop() ?? '';
    for (const l of lines) this.line(l);
  }
  end(): ProbeRun {
    if (this.rest) this.line(this.rest);
    this.rest = '';
    return this.run;
  }
  private line(l: string): void {
    if (!l.trim()) return;
    const p = parseProbeLine(l);
    if (p) {
      this.run.probes.push(p);
      this.onProbe?.(p);
      return;
    }
    const start = /^START (\d+) (\d+)/.exec(l);
    if (start) {
      this.run.startedAt = Number(start[1]);
      this.run.pid = Number(start[2]);
      return;
    }
    const end = /^END (\d+)/.exec(l);
    if (end) {
      this.run.endedAt = Number(end[1]);
      return;
    }
    const none = /^NOPROBER (.*)$/.exec(l);
    if (none) {
      this.run.prober = 'none';
      this.run.unavailable = none[1];
      return;
    }
    this.run.noise.push(l);
  }
}

/** Output of the node program (complete). */
export function parseNodeProbeOutput(stdout: string): ProbeRun {
  const p = new ProbeStreamParser();
  p.push(stdout);
  return p.end();
}

const CURL_MARK = /^@@LVSPLAY_CURL (\d{3}) (\S+) ([\d.]+)$/;

/**
 * Output of the curl fallback: each transfer's body, then a marker with http_code, exit code and time. A failed
 * transfer has no body and http_code 000. curl has no per-transfer wall clock, so times are accumulated from the
 * start (`CURL <epoch s>`).
 */
export function parseCurlProbeOutput(stdout: string): ProbeRun {
  const run: ProbeRun = { prober: 'curl', probes: [], noise: [] };
  let body: string[] = [];
  let clock = 0;
  for (const line of stdout.split('\n')) {
    const start = /^CURL (\d+)$/.exec(line);
    if (start) {
      run.startedAt = Number(start[1]) * 1000;
      clock = run.startedAt;
      continue;
    }
    if (/^CURLEND /.test(line)) break;
    const m = CURL_MARK.exec(line);
    if (!m) {
      body.push(line);
      continue;
    }
    const code = Number(m[1]);
    const exit = m[2]!;
    const ms = Math.round(Number(m[3]) * 1000);
    const first = body.map((l) => l.trim()).find((l) => l) ?? '-';
    const ok = code >= 100 && code < 400 && (exit === '0' || !/^\d+$/.test(exit));
    const info = ok ? first : code === 0 ? curlError(exit) : `http-${code}`;
    run.probes.push({ seq: run.probes.length + 1, t: clock, ms, ok, info });
    clock += ms;
    body = [];
  }
  return run;
}

/** curl exit codes a probe meets, as the names the node program reports. */
function curlError(exit: string): string {
  const names: Record<string, string> = { '7': 'ECONNREFUSED', '28': 'timeout', '52': 'empty-reply', '56': 'ECONNRESET', '6': 'resolve' };
  return names[exit] ?? `curl-exit-${exit}`;
}

/** Whichever prober ran (the script prints START, CURL or NOPROBER first). */
export function parseProbeOutput(stdout: string): ProbeRun {
  if (/^CURL \d+$/m.test(stdout) && !/^START \d+/m.test(stdout)) return parseCurlProbeOutput(stdout);
  return parseNodeProbeOutput(stdout);
}
