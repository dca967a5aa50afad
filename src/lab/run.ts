/** Running the machine's tools (ip, ssh-keygen, apt-get, qemu) from the lab, with their output kept for errors. */
import { spawn } from 'node:child_process';

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** The lab could not do what was asked (a tool failed, a host did not come up). Exit code 1. */
export class LabError extends Error {
  readonly exitCode = 1;
  constructor(message: string) {
    super(message);
    this.name = 'LabError';
  }
}

export function run(cmd: string, args: string[], opts: { input?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], env: opts.env ?? process.env });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = opts.timeoutMs ? setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs) : undefined;
    child.on('error', (e) => {
      if (timer) clearTimeout(timer);
      reject(new LabError(`cannot run ${cmd}: ${e.message}`));
    });
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr });
    });
    child.stdin.on('error', () => {}); // a tool that exits without reading its input
    child.stdin.end(opts.input ?? '');
  });
}

/** run, and throw a LabError naming the command and its stderr when it fails */
export async function runOk(cmd: string, args: string[], opts: { input?: string; timeoutMs?: number; what?: string } = {}): Promise<RunResult> {
  const r = await run(cmd, args, opts);
  if (r.code !== 0) {
    const what = opts.what ?? `${cmd} ${args.join(' ')}`.slice(0, 200);
    throw new LabError(`${what} failed (exit ${r.code}): ${(r.stderr || r.stdout).trim().slice(-2000)}`);
  }
  return r;
}
