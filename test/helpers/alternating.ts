/**
 * Issue 11's two alternating configurations, shared by the VM loop test and scripts/verify-loop.ts: even runs
 * web-tun wrr 3:1 and the NAT real servers on port 8081, odd runs wrr 1:2 and port 8080 (the inventory's own).
 * Every run's end-of-run verification must pass with the new shares.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { jsonLines } from './cli.ts';

type Service = { name: string; real_servers: Array<{ host: string; weight?: number; port?: number }> };

export const variantLabel = (i: number) => (i % 2 === 0 ? 'wrr 3:1, NAT 8081' : 'wrr 1:2, NAT 8080');
/** web-tun's expected share of rs1 in run i */
export const tunShareRs1 = (i: number) => (i % 2 === 0 ? 0.75 : 1 / 3);
export const natPort = (i: number) => (i % 2 === 0 ? 8081 : 8080);

/** Write run i's extra vars (`-e @FILE`): the inventory's lvs_services with web-tun's weights and web-nat's port. */
export function writeVariant(file: string, base: readonly Service[], i: number): string {
  const a = i % 2 === 0;
  const services = base.map((s) => {
    if (s.name === 'web-tun') return { ...s, real_servers: s.real_servers.map((r) => ({ ...r, weight: a ? (r.host === 'rs1' ? 3 : 1) : r.host === 'rs1' ? 1 : 2 })) };
    if (s.name === 'web-nat') return { ...s, real_servers: s.real_servers.map((r) => ({ ...r, port: natPort(i) })) };
    return s;
  });
  writeFileSync(file, JSON.stringify({ lvs_services: services }));
  return file;
}

export interface AlternatingRun {
  /** 'settled in 1.5 s after …', 'the cluster did not settle …' or 'no settling reported' */
  settled: string;
  /** seconds waited for the cluster to settle (undefined: not reported) */
  settleSeconds?: number;
  verdicts: Record<string, string>;
  details: Record<string, string>;
  tunExpected: Record<string, number>;
  tunObserved: Record<string, number>;
  natObserved: Record<string, number>;
  /** every service's expected and observed shares, rounded to 0.01, and its chi-square p */
  shares: Record<string, { expected: Record<string, number>; observed: Record<string, number>; p?: number }>;
}

const round = (x: Record<string, number> | undefined) => Object.fromEntries(Object.entries(x ?? {}).map(([k, v]) => [k, Math.round(v * 100) / 100]));

/** What run i's stdout and --json file say about its verification. */
export function readAlternatingRun(stdout: string, jsonFile: string): AlternatingRun {
  const settled = /verify: (settled in ([\d.]+) s[^\n]*|the cluster did not settle within ([\d.]+) s[^\n]*)/.exec(stdout);
  const verify = (jsonLines(readFileSync(jsonFile, 'utf8')).at(-1)?.verify ?? []) as Array<Record<string, any>>;
  const by = (name: string) => verify.find((v) => v.service === name) ?? {};
  return {
    settled: settled?.[1] ?? 'no settling reported',
    ...(settled ? { settleSeconds: Number(settled[2] ?? settled[3]) } : {}),
    verdicts: Object.fromEntries(verify.map((v) => [v.service, v.verdict])),
    details: Object.fromEntries(verify.map((v) => [v.service, v.detail])),
    tunExpected: by('web-tun').expected ?? {},
    tunObserved: by('web-tun').observed ?? {},
    natObserved: by('web-nat').observed ?? {},
    shares: Object.fromEntries(verify.map((v) => [v.service, { expected: round(v.expected), observed: round(v.observed), ...(typeof v.p === 'number' ? { p: Number(v.p.toPrecision(2)) } : {}) }])),
  };
}
