/** Run the real lvsplay CLI as a child process (the same launcher operators use). */
import { spawn } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = fileURLToPath(new URL('../../src/bin/lvsplay.js', import.meta.url));

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * `bin`: another checkout's src/bin/lvsplay.js (to measure the code before a change on the same lab); `onStdout`:
 * each chunk as it arrives (to act while the command runs).
 */
export function lvsplay(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number; bin?: string; onStdout?: (chunk: string) => void } = {}): Promise<CliResult> {
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
    p.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr });
    });
  });
}

/** Parse a --json FILE written by the CLI. */
export function jsonLines(text: string): Array<Record<string, any>> {
  return text
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l));
}
