/** Test harness for steps: plan a step from raw fact outputs, and run facts/changes for real in a sandbox. */
import test from 'ava';
import { createHash } from 'node:crypto';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Fact, Plan, Step } from '../../src/engine/types.ts';
import { PredictedState } from '../../src/engine/predicted-state.ts';
import { sh } from '../../src/shell.ts';

export type Raw = string | { out: string; code: number };

/** Every fact command and change script planned in this test file, for the sh -n check below. */
const planned = new Map<string, string>();

/** Plan `step` with each declared fact parsed from `raw[fact.key]` (a missing key fails the test loudly). */
export function planWith(step: Step, raw: Record<string, Raw>, predict = new PredictedState()): Plan {
  const declared = new Map(step.facts.map((f) => [f.key, f]));
  for (const f of step.facts) planned.set(f.command, `fact ${f.key} of ${step.name}`);
  const plan = step.plan({
    host: { name: 'h1', vars: {}, groups: ['all'] },
    predict,
    fact<T>(f: Fact<T>): T {
      if (!declared.has(f.key)) throw new Error(`undeclared fact ${f.key}`);
      const r = raw[f.key];
      if (r === undefined) throw new Error(`test gave no output for fact ${f.key} (have: ${Object.keys(raw).join(', ')})`);
      return typeof r === 'string' ? f.parse(r, 0) : f.parse(r.out, r.code);
    },
  });
  for (const c of plan.changes) planned.set(c.script, `change "${c.summary}" of ${step.name}`);
  return plan;
}

/** Shells that `sh -n` checks the scripts with (dash as sh, and busybox sh when installed). */
const SHELLS = [['sh', '-n'], ...(spawnSync('busybox', ['true']).status === 0 ? [['busybox', 'sh', '-n']] : [])];

/** `sh -n` on a script: the syntax error, or undefined when it parses. */
export function shellSyntaxError(script: string, shell: string[] = SHELLS[0]!): string | undefined {
  const r = spawnSync(shell[0]!, shell.slice(1), { input: script, encoding: 'utf8', timeout: 10_000 });
  return r.status === 0 ? undefined : `${shell.join(' ')}: ${(r.stderr || `exit ${r.status}`).trim()}`;
}

// Every test file that plans through this harness also checks, once its tests are done, that each fact command
// and change script its fixtures produced parses (sh -n): a quoting mistake in a step fails here, on any input.
test.after.always('sh -n: every fact command and change script planned by this file parses', (t) => {
  const bad: string[] = [];
  for (const [script, what] of planned) {
    for (const shell of SHELLS) {
      const e = shellSyntaxError(script, shell);
      if (e) bad.push(`${what}: ${e}\n${script}`);
    }
  }
  t.deepEqual(bad, []);
  t.log(`${planned.size} scripts checked with ${SHELLS.map((s) => s.slice(0, -1).join(' ')).join(' and ')}`);
});

/** Output of fileFact's command for a regular file with this content. */
export function rawFile(content: string, o: { mode?: number; uid?: number; gid?: number; owner?: string; group?: string } = {}): string {
  const sha = createHash('sha256').update(content).digest('hex');
  const b64 = Buffer.from(content).toString('base64').match(/.{1,76}/g) ?? [];
  return `@@stat\n${(o.mode ?? 0o644).toString(8)} ${o.uid ?? 0} ${o.gid ?? 0} ${o.owner ?? 'root'} ${o.group ?? 'root'} ${Buffer.byteLength(content)}\n@@sha256\n${sha}\n@@content\n${b64.join('\n')}${b64.length ? '\n' : ''}`;
}
export const rawAbsent = '@@absent\n';
export const rawTools = (...tools: string[]) => tools.join('\n') + '\n';

/**
 * A throwaway sandbox: new mount, network and pid namespaces (own /proc, loopback up), a private tmpfs on /run and
 * on `workdir` (a fresh empty directory of the machine), so scripts can touch files, sysctl net.*, iptables, ipset,
 * addresses, routes and daemons without affecting the machine. Killing the unshare process ends everything in it.
 */
export class Sandbox {
  readonly workdir: string;
  private readonly proc: ChildProcess;
  private pid1 = 0;
  /** the shell scripts run with: ['sh'] (dash here) or ['busybox', 'sh'] */
  shell: string[] = ['sh'];

  private constructor(workdir: string, proc: ChildProcess) {
    this.workdir = workdir;
    this.proc = proc;
  }

  static async start(): Promise<Sandbox> {
    const workdir = mkdtempSync(join(tmpdir(), 'lvsplay-sandbox-'));
    const init = `mount -t tmpfs tmpfs /run && mount -t tmpfs tmpfs ${workdir} && ip link set lo up && echo ready && exec sleep 100000`;
    const proc = spawn('unshare', ['--mount', '--net', '--pid', '--fork', '--kill-child', '--mount-proc', '--propagation', 'private', 'sh', '-c', init], { stdio: ['ignore', 'pipe', 'pipe'] });
    const sb = new Sandbox(workdir, proc);
    let err = '';
    proc.stderr!.on('data', (d) => (err += String(d)));
    await new Promise<void>((resolve, reject) => {
      proc.stdout!.once('data', () => resolve());
      proc.once('exit', (code) => reject(new Error(`sandbox did not start (exit ${code}): ${err}`)));
    });
    // the namespaces' pid 1 is unshare's only child
    const children = readFileSync(`/proc/${proc.pid}/task/${proc.pid}/children`, 'utf8').trim().split(/\s+/);
    sb.pid1 = Number(children[0]);
    return sb;
  }

  /** Run a snippet as the engine would: sh, its own subshell, stdin /dev/null; `set -e` for changes. */
  sh(script: string, errexit = false): { out: string; err: string; code: number } {
    const r = spawnSync('nsenter', ['-t', String(this.pid1), '-m', '-n', '-p', ...this.shell, '-c', `(${errexit ? ' set -e;' : ''}\n${script}\n) </dev/null`], { encoding: 'utf8', timeout: 60_000 });
    return { out: r.stdout ?? '', err: r.stderr ?? '', code: r.status ?? -1 };
  }

  /** Content of a file inside the sandbox (its tmpfs is invisible to the machine). */
  read(path: string): string {
    const r = this.sh(sh`cat ${path}`);
    if (r.code !== 0) throw new Error(`cannot read ${path} in the sandbox: ${r.err}`);
    return r.out;
  }

  /** Permission bits of a file inside the sandbox. */
  mode(path: string): number {
    return parseInt(this.sh(sh`stat -c %a ${path}`).out.trim(), 8);
  }

  /** Names in a directory inside the sandbox, sorted (dotfiles included). */
  ls(dir: string): string[] {
    return this.sh(sh`ls -A ${dir}`).out.split('\n').filter(Boolean).sort();
  }

  /** Gather every fact of `steps` for real, then plan the steps in order with one shared state. */
  plan(steps: Step[]): Plan[] {
    const raw: Record<string, Raw> = {};
    for (const s of steps) for (const f of s.facts) if (!(f.key in raw)) {
      const r = this.sh(f.command);
      raw[f.key] = { out: r.out, code: r.code };
    }
    const predict = new PredictedState();
    return steps.map((s) => planWith(s, raw, predict));
  }

  /** Apply every change in order, each in its own `set -e` subshell; throw on the first failure. */
  apply(plans: Plan[]): void {
    for (const p of plans) for (const c of p.changes) {
      const r = this.sh(c.script, true);
      if (r.code !== 0) throw new Error(`change "${c.summary}" failed (exit ${r.code}): ${r.err}${r.out}`);
    }
  }

  stop(): void {
    if (this.proc.exitCode === null) this.proc.kill('SIGKILL');
    try {
      rmSync(this.workdir, { recursive: true, force: true });
    } catch {
      /* the tmpfs mount vanished with the namespace; the directory is empty */
    }
  }
}

export const changeCount = (plans: Plan[]) => plans.reduce((n, p) => n + p.changes.length, 0);
