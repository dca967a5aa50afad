/**
 * One open SSH connection to one host: runs scripts over exec channels, at most `maxChannels` at a time
 * (sshd's MaxSessions defaults to 10 per connection; the rest wait in a queue).
 */
import { constants as osConstants } from 'node:os';
import { StringDecoder } from 'node:string_decoder';
import PQueue from 'p-queue';
import type { Client, ClientChannel } from 'ssh2';
import { becomeCommand, becomeFailure, type BecomeCommand } from './become.ts';
import { sh } from '../shell.ts';
import { BecomeError, CommandTimeoutError } from './errors.ts';
import { acknowledgeOutput } from './ssh2-tuning.ts';
import { UnreachableError, type Connection, type ConnectionSpec, type ExecOptions, type ExecResult } from './types.ts';

export interface SshConnectionOptions {
  commandTimeoutMs: number;
  maxChannels: number;
  /** describes where the host sits ("root@127.0.0.1:2222 via root@jump:22"), for messages */
  where: string;
  /** called once when the connection is gone (closed by us, by the server, or broken) */
  onGone: () => void;
}

/**
 * The first line of every script reports the process group of the remote command on stderr (and is removed from
 * the result), so that a timed-out command can be killed with all its children: sshd refuses channel "signal"
 * requests for root sessions ("session signalling requires privilege separation"), and closing the channel leaves
 * the processes running. Reads /proc with shell builtins only (no extra process); silent where /proc is missing.
 */
const PGID_MARK = '@lvsplay-pgid';
const PGID_PROLOGUE = `read -r _ _ _ _ lvsplay_pgid _ </proc/$$/stat 2>/dev/null && echo "${PGID_MARK} $lvsplay_pgid" >&2; unset lvsplay_pgid\n`;
const PGID_LINE = new RegExp(`^${PGID_MARK} (\\d+)\\n`);

/** Channel opens refused by sshd are retried this many times (20, 40, 80 ... ms apart). */
const CHANNEL_OPEN_RETRIES = 6;

/** How long a timed-out command may take to be killed before we give up waiting (the rejection comes anyway). */
const KILL_WAIT_MS = 5000;
/** How long closing waits for the server to answer the disconnect before dropping the socket (shutdown must not hang). */
export const DISCONNECT_WAIT_MS = 2000;
/** First wait before re-opening a refused channel, doubled each attempt: sshd frees a session slot within ms. */
const CHANNEL_RETRY_BASE_MS = 20;

/** Node's name for a signal ('SIGTERM'); ssh2 reports them either way. */
function signalName(name: string): string {
  return name.startsWith('SIG') ? name : `SIG${name}`;
}

function signalNumber(name: string): number {
  return (osConstants.signals as Record<string, number>)[name] ?? 0;
}

/** The promise's value, or undefined after ms. */
function withTimeout<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(undefined), ms);
    void p.then((v) => {
      clearTimeout(t);
      resolve(v);
    });
  });
}

export class SshConnection implements Connection {
  private queue: PQueue;
  private execs = 0;
  private goneReason: string | undefined;
  private closing: Promise<void> | undefined;
  /** fail-functions of the commands in flight, called when the connection goes away under them */
  private inflight = new Set<() => void>();

  constructor(
    readonly spec: ConnectionSpec,
    private readonly client: Client,
    private readonly opts: SshConnectionOptions,
  ) {
    this.queue = new PQueue({ concurrency: Math.max(1, opts.maxChannels) });
    client.on('error', (err: Error & { level?: string }) => {
      this.goneReason ??=
        err.level === 'client-timeout'
          ? `${opts.where} stopped answering: no reply to SSH keepalives within the keepalive window`
          : `connection to ${opts.where} broke: ${err.message}`;
    });
    client.on('close', () => {
      this.goneReason ??= `connection to ${opts.where} was closed`;
      for (const fail of [...this.inflight]) fail();
      opts.onGone();
    });
  }

  get roundTrips(): number {
    return this.execs;
  }

  /** Whether the connection can still run commands. */
  get alive(): boolean {
    return this.goneReason === undefined;
  }

  exec(script: string, opts: ExecOptions = {}): Promise<ExecResult> {
    const become = opts.become ?? this.spec.become;
    const timeoutMs = opts.timeoutMs ?? this.opts.commandTimeoutMs;
    return this.queue.add(async () => {
      const bc = becomeCommand(this.spec, become);
      const result = await this.run(become, bc, script, timeoutMs, opts.onStdout);
      if (become) {
        const failure = becomeFailure(this.spec, result, bc.dialog);
        if (failure) throw new BecomeError(this.spec.name, failure);
      }
      return result;
    });
  }

  private run(
    become: boolean,
    bc: BecomeCommand,
    script: string,
    timeoutMs: number,
    onStdout: ((chunk: string) => void) | undefined,
  ): Promise<ExecResult> {
    const host = this.spec.name;
    return new Promise<ExecResult>((resolve, reject) => {
      if (this.goneReason) return reject(new UnreachableError(host, this.goneReason));
      this.execs++;
      let channel: ClientChannel | undefined;
      let pgid: number | undefined;
      // resolves with the remote process group once the script's first line has reported it (or undefined when
      // the channel ends first): a timeout that strikes before then still needs it to kill the command
      let pgidKnown: (pgid: number | undefined) => void = () => undefined;
      const pgidReady = new Promise<number | undefined>((res) => (pgidKnown = res));
      let settled = false;
      const stdout: string[] = [];
      const settle = (fn: () => void) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.inflight.delete(onClientClose);
        fn();
      };
      const timer =
        timeoutMs > 0
          ? setTimeout(() => {
              settled = true; // no more output to the caller; the rejection follows the kill
              this.inflight.delete(onClientClose);
              const ch = channel;
              const kill = ch
                ? withTimeout(pgidReady, KILL_WAIT_MS).then((id) => this.killGroup(become, id))
                : Promise.resolve(); // the channel is not open yet: start() will close it unused
              void kill.finally(() => {
                ch?.close();
                reject(new CommandTimeoutError(host, timeoutMs));
              });
            }, timeoutMs)
          : undefined;
      const onClientClose = () =>
        settle(() =>
          reject(
            new UnreachableError(host, this.goneReason ?? `connection to ${this.opts.where} was closed during a command`, stdout.join('')),
          ),
        );
      this.inflight.add(onClientClose);

      const start = (err: Error | undefined, ch: ClientChannel) => {
        if (err) {
          const hint = /open failed/i.test(err.message) ? ' (is sshd MaxSessions below maxChannelsPerHost?)' : '';
          return settle(() =>
            reject(new UnreachableError(host, `cannot open a session on ${this.opts.where}: ${err.message}${hint}`)),
          );
        }
        if (settled) {
          ch.close();
          return;
        }
        channel = ch;
        const out = new StringDecoder('utf8');
        const errDec = new StringDecoder('utf8');
        let stderr = '';
        let code: number | null = null;
        let signal: string | undefined;
        ch.on('data', (buf: Buffer) => {
          acknowledgeOutput(this.client, ch);
          const s = out.write(buf);
          if (!s) return;
          stdout.push(s);
          if (onStdout && !settled) onStdout(s);
        });
        const dialog = bc.dialog;
        ch.stderr.on('data', (buf: Buffer) => {
          acknowledgeOutput(this.client, ch);
          const text = errDec.write(buf);
          if (dialog && !dialog.ready) {
            // the password dialog: nothing of it reaches the result; the script is sent once the shell is ready
            const r = dialog.feed(text);
            if (r.write === null) ch.end();
            else if (r.write) ch.write(r.write);
            if (!dialog.ready) return;
            stderr += r.rest ?? '';
            ch.end(PGID_PROLOGUE + script);
          } else stderr += text;
          if (pgid === undefined) {
            const m = PGID_LINE.exec(stderr);
            if (m) {
              pgid = Number(m[1]);
              pgidKnown(pgid);
            }
          }
        });
        ch.on('exit', (c: number | null, sig?: string) => {
          code = c;
          signal = sig ? signalName(sig) : undefined;
        });
        ch.on('close', () => {
          pgidKnown(undefined);
          if (settled) return;
          const tail = out.end();
          if (tail) {
            stdout.push(tail);
            if (onStdout) onStdout(tail);
          }
          stderr += errDec.end();
          if (dialog && !dialog.ready) stderr = dialog.leftover() + stderr;
          if (code === null && signal === undefined) {
            return settle(() =>
              reject(
                new UnreachableError(host, `${this.opts.where}: the command's channel closed without an exit status`, stdout.join('')),
              ),
            );
          }
          const result: ExecResult = {
            code: code ?? 128 + signalNumber(signal!),
            stdout: stdout.join(''),
            stderr: stderr.replace(PGID_LINE, ''),
          };
          if (signal !== undefined) result.signal = signal;
          settle(() => resolve(result));
        });
        if (!dialog) ch.end(PGID_PROLOGUE + script);
      };
      const open = (attempt: number) => {
        try {
          this.client.exec(bc.command, (err, ch) => {
            // sshd frees a session slot some time after the channel's close; under a full window of channels a
            // new open can briefly be refused ("open failed"). Nothing ran, so trying again is safe.
            if (err && /open failed/i.test(err.message) && attempt < CHANNEL_OPEN_RETRIES && !settled) {
              setTimeout(() => open(attempt + 1), CHANNEL_RETRY_BASE_MS * 2 ** attempt);
              return;
            }
            start(err, ch);
          });
        } catch (err) {
          settle(() => reject(new UnreachableError(host, `cannot run a command on ${this.opts.where}: ${(err as Error).message}`)));
        }
      };
      open(0);
    });
  }

  /**
   * SIGKILL a timed-out command's process group, from a separate exec channel (outside the queue: it must not
   * wait behind the commands it is meant to stop). Best effort, bounded in time.
   */
  private killGroup(become: boolean, pgid: number | undefined): Promise<void> {
    if (pgid === undefined || pgid <= 1 || this.goneReason) return Promise.resolve();
    // sh -c: the kill builtin, as /bin/kill may be missing on a minimal host (dash's kill takes no "--")
    const bc = becomeCommand(this.spec, become, sh`sh -c ${`kill -KILL -${pgid}`}`);
    return new Promise<void>((resolve) => {
      const t = setTimeout(resolve, KILL_WAIT_MS);
      const done = () => {
        clearTimeout(t);
        resolve();
      };
      try {
        this.execs++;
        this.client.exec(bc.command, (err, ch) => {
          if (err) return done();
          ch.on('close', done);
          ch.resume();
          ch.stderr.resume();
          // a become password is read by sudo if it asks; the kill command itself reads no stdin
          ch.end(bc.dialog ? `${this.spec.becomePassword!.reveal()}\n` : undefined);
        });
      } catch {
        done();
      }
    });
  }

  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      this.goneReason ??= `connection to ${this.opts.where} was closed by lvsplay`;
      const done = () => {
        clearTimeout(force);
        resolve();
      };
      // A server that does not answer the disconnect must not hold up shutdown.
      const force = setTimeout(() => {
        this.client.destroy();
        resolve();
      }, DISCONNECT_WAIT_MS);
      this.client.once('close', done);
      this.client.end();
      if (!isOpen(this.client)) done();
    });
    return this.closing;
  }
}

/** ssh2 keeps no public "connected" flag; its socket tells. */
function isOpen(client: Client): boolean {
  const sock = (client as unknown as { _sock?: { writable?: boolean; destroyed?: boolean } })._sock;
  return !!sock && !sock.destroyed && sock.writable !== false;
}
