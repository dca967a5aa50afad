/**
 * One open SSH connection to one host: runs scripts over exec channels, at most `maxChannels` at a time
 * (sshd's MaxSessions defaults to 10 per connection; the rest wait in a queue).
 */
import PQueue from 'p-queue';
import type { Client } from 'ssh2';
import { becomeCommand, becomeFailure } from './become.ts';
import { sh } from '../shell.ts';
import { BecomeError } from './errors.ts';
import { UnreachableError, type Connection, type ConnectionSpec, type ExecOptions, type ExecResult, type Shell } from './types.ts';
import { ChannelShell, KILL_WAIT_MS } from './channel-shell.ts';

export interface SshConnectionOptions {
  commandTimeoutMs: number;
  maxChannels: number;
  /** describes where the host sits ("root@127.0.0.1:2222 via root@jump:22"), for messages */
  where: string;
  /** called once when the connection is gone (closed by us, by the server, or broken) */
  onGone: () => void;
}

/** How long closing waits for the server to answer the disconnect before dropping the socket (shutdown must not hang). */
export const DISCONNECT_WAIT_MS = 2000;

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
    const sh = this.shell({ become: opts.become });
    return sh.exec(script, opts).finally(() => sh.release());
  }

  /**
   * A shell on one exec channel: each script is written to the stdin of `sh -s` (through become); a script sent with
   * `more` is followed by an end marker on stdout and stderr and the shell waits for the next, the last one ends
   * stdin. The channel holds one of the connection's channel slots until it closes. exec() is a shell of one script.
   */
  shell(o: { become?: boolean } = {}): Shell {
    const become = o.become ?? this.spec.become;
    let current: ChannelShell | undefined;
    let released = false;
    return {
      exec: async (script, opts = {}) => {
        if (released) throw new Error('this shell was released');
        if (!current || current.closed) current = await this.openChannelShell(become);
        const sh = current;
        const result = await sh.run(script, opts.more === true, opts.timeoutMs ?? this.opts.commandTimeoutMs, opts.onStdout);
        if (become && sh.scripts === 1) {
          const failure = becomeFailure(this.spec, result, sh.bc.dialog);
          if (failure) {
            sh.end();
            throw new BecomeError(this.spec.name, failure);
          }
        }
        return result;
      },
      release: () => {
        released = true;
        current?.end();
      },
    };
  }

  /** A channel slot of this connection (resolves with the function that frees it). */
  private slot(): Promise<() => void> {
    return new Promise((granted) => {
      void this.queue.add(() => new Promise<void>((free) => granted(free)));
    });
  }

  private async openChannelShell(become: boolean): Promise<ChannelShell> {
    const free = await this.slot();
    const sh = new ChannelShell(this.spec.name, this.client, becomeCommand(this.spec, become), this.opts.where, {
      gone: () => this.goneReason,
      countRoundTrip: () => this.execs++,
      watch: (fail) => this.inflight.add(fail),
      unwatch: (fail) => this.inflight.delete(fail),
      kill: (pgid) => this.killGroup(become, pgid),
      closed: free,
    });
    return sh;
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
