/**
 * ansible_connection: local — the same exec interface as an SSH connection, run on the controller: each script is
 * sent on stdin to /bin/sh (through sudo or su when become), in its own process group so that a timed-out command
 * is killed with all its children.
 */
import { spawn } from 'node:child_process';
import { constants as osConstants } from 'node:os';
import { StringDecoder } from 'node:string_decoder';
import { becomeCommand, becomeFailure } from './become.ts';
import { BecomeError, CommandTimeoutError } from './errors.ts';
import { UnreachableError, type Connection, type ConnectionSpec, type ExecOptions, type ExecResult } from './types.ts';

export class LocalConnection implements Connection {
  private execs = 0;
  private closed = false;

  constructor(
    readonly spec: ConnectionSpec,
    private readonly commandTimeoutMs: number,
  ) {}

  get roundTrips(): number {
    return this.execs;
  }

  async exec(script: string, opts: ExecOptions = {}): Promise<ExecResult> {
    if (this.closed) throw new UnreachableError(this.spec.name, 'the local connection is closed');
    const become = opts.become ?? this.spec.become;
    const bc = becomeCommand(this.spec, become);
    this.execs++;
    const result = await this.run(bc, script, opts.timeoutMs ?? this.commandTimeoutMs, opts.onStdout);
    if (become) {
      const failure = becomeFailure(this.spec, result, bc.dialog);
      if (failure) throw new BecomeError(this.spec.name, failure);
    }
    return result;
  }

  private run(
    bc: ReturnType<typeof becomeCommand>,
    script: string,
    timeoutMs: number,
    onStdout: ((chunk: string) => void) | undefined,
  ): Promise<ExecResult> {
    const host = this.spec.name;
    return new Promise((resolve, reject) => {
      const child = spawn('/bin/sh', ['-c', bc.command], { stdio: ['pipe', 'pipe', 'pipe'], detached: true });
      const out = new StringDecoder('utf8');
      const errDec = new StringDecoder('utf8');
      let stdout = '';
      let stderr = '';
      let timedOut = false;
      const timer =
        timeoutMs > 0
          ? setTimeout(() => {
              timedOut = true;
              try {
                process.kill(-child.pid!, 'SIGKILL');
              } catch {
                child.kill('SIGKILL');
              }
            }, timeoutMs)
          : undefined;
      child.stdin.on('error', () => undefined); // a command that exits without reading its script
      child.stdout.on('data', (buf: Buffer) => {
        const s = out.write(buf);
        stdout += s;
        if (s && onStdout && !timedOut) onStdout(s);
      });
      const dialog = bc.dialog;
      child.stderr.on('data', (buf: Buffer) => {
        const text = errDec.write(buf);
        if (dialog && !dialog.ready) {
          const r = dialog.feed(text);
          if (r.write === null) child.stdin.end();
          else if (r.write) child.stdin.write(r.write);
          if (dialog.ready) {
            stderr += r.rest ?? '';
            child.stdin.end(script);
          }
        } else stderr += text;
      });
      child.on('error', (err) => {
        clearTimeout(timer);
        reject(new UnreachableError(host, `cannot run /bin/sh on the controller: ${err.message}`));
      });
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        if (timedOut) return reject(new CommandTimeoutError(host, timeoutMs));
        const tail = out.end();
        stdout += tail;
        if (tail && onStdout) onStdout(tail);
        stderr += errDec.end();
        if (dialog && !dialog.ready) stderr = dialog.leftover() + stderr;
        const result: ExecResult = {
          code: code ?? 128 + ((osConstants.signals as Record<string, number>)[signal ?? ''] ?? 0),
          stdout,
          stderr,
        };
        if (signal) result.signal = signal;
        resolve(result);
      });
      if (!dialog) child.stdin.end(script);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}
