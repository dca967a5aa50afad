/** `npm run bench -- --hosts 5,20,50 --reps 3 --out bench/results.json`: parsed and checked before any lab is built. */
import { parseArgs } from 'node:util';
import { UsageError } from '../errors.ts';

export const MAX_HOSTS = 200;

export interface BenchOptions {
  /** fleet sizes, in the order given */
  hosts: number[];
  /** fresh-lab repetitions per size and tool (the median is reported) */
  reps: number;
  /** results.json path */
  out: string;
  /** only the start-up benchmark (src/bench/startup.ts): no labs, no Ansible */
  startup: boolean;
  help: boolean;
}

export const BENCH_HELP = `usage: npm run bench -- [--hosts 5,20,50] [--reps 3] [--out bench/results.json]
       npm run bench -- --startup [--reps 10] [--out bench/startup.json]

Brings up a tier-1 lab of N real-server hosts per size and applies the same LVS-DR real server configuration
with lvsplay and with ansible-playbook (alternating, each on a fresh lab: a first run with changes, a second
without), times the floor (ssh2 connect + one command per host), checks both tools reached the same end state,
prints a Markdown table and writes results.json. Needs root (network namespaces) and ansible-core (installed
with apt-get when missing).

  --hosts LIST   comma-separated fleet sizes, 1..${MAX_HOSTS} (default 5,20,50)
  --reps N       fresh-lab runs per size and tool, median reported (default 3)
  --out FILE     results file (default bench/results.json)
  --startup      only lvsplay's start-up (--version, --help, inventory --list on 1,000 lines) against node -e 0
`;

function positiveInt(v: string, what: string, max = Number.MAX_SAFE_INTEGER): number {
  const n = Number(v.trim());
  if (!/^\d+$/.test(v.trim()) || !Number.isInteger(n) || n < 1 || n > max) {
    throw new UsageError(`${what}: "${v}" is not an integer between 1 and ${max}`);
  }
  return n;
}

export function parseBenchArgs(argv: string[]): BenchOptions {
  let values: { hosts?: string; reps?: string; out?: string; startup?: boolean; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { hosts: { type: 'string' }, reps: { type: 'string' }, out: { type: 'string' }, startup: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: false,
    }));
  } catch (e) {
    throw new UsageError(`bench: ${(e as Error).message}\n${BENCH_HELP}`);
  }
  const hosts = (values.hosts ?? '5,20,50')
    .split(',')
    .filter((s) => s.trim() !== '')
    .map((s) => positiveInt(s, '--hosts', MAX_HOSTS));
  if (hosts.length === 0) throw new UsageError('--hosts: give at least one fleet size, e.g. --hosts 5,20');
  const startup = !!values.startup;
  return {
    hosts: [...new Set(hosts)],
    reps: values.reps === undefined ? (startup ? 10 : 3) : positiveInt(values.reps, '--reps', 50),
    out: values.out ?? (startup ? 'bench/startup.json' : 'bench/results.json'),
    startup,
    help: !!values.help,
  };
}
