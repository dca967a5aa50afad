/** Run the real lvsplay CLI as a child process (the same launcher operators use). */
import { spawn } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = fileURLToPath(new URL('../../src/bin/lvsplay.js', import.meta.url));

export interface CliResult {
  code: number;
  /** the signal that killed it (null: it exited by itself) */
  signal?: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * `during` runs while the CLI does, with its pid and its output so far (to send it a signal at a given moment);
 * `bin`: another checkout's src/bin/lvsplay.js (to measure the code before a change on the same lab); `onStdout`:
 * each chunk as it arrives (to act while the command runs).
 */
export function lvsplay(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number; during?: (pid: number, output: () => string) => Promise<void>; bin?: string; onStdout?: (chunk: string) => void } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [opts.bin ?? BIN, ...args], { cwd: opts.cwd ?? (opts.bin ? fileURLToPath(new URL('../..', pathToFileURL(opts.bin))) : ROOT), env: { ...process.env, CI: 'true', ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => {
      stdout += d;
      opts.onStdout?.(String(d));
    });
    p.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => p.kill('SIGKILL'), opts.timeoutMs ?? 300_000);
    p.on('error', reject);
    p.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, signal, stdout, stderr });
    });
    opts.during?.(p.pid!, () => stdout + stderr).catch(reject);
  });
}

/** Resolve once `output()` matches `re` (polled every 100 ms), or throw after `timeoutMs`. */
export async function outputMatches(output: () => string, re: RegExp, timeoutMs = 120_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!re.test(output())) {
    if (Date.now() > end) throw new Error(`the output never matched ${re}:\n${output().slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Parse a --json FILE written by the CLI. */
export function jsonLines(text: string): Array<Record<string, any>> {
  return text
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l));
}
