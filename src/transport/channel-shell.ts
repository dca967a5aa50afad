/**
 * One exec channel running a shell that reads its scripts on stdin (`sh -s`, through sudo or su when become).
 * A script sent with `more` is followed by an end marker on stdout and on stderr, and the shell then waits for
 * the next script on the same channel; the last script ends stdin and its result is the channel's exit, exactly
 * as a one-script exec. One channel for the facts and the changes of a host saves a session and a process start
 * on the host (sshd's session child, the login shell, sh) per host and play.
 */
import { randomBytes } from 'node:crypto';
import { constants as osConstants } from 'node:os';
import { StringDecoder } from 'node:string_decoder';
import type { Client, ClientChannel } from 'ssh2';
import type { BecomeCommand } from './become.ts';
import { CommandTimeoutError } from './errors.ts';
import { q } from '../shell.ts';
import { acknowledgeOutput } from './ssh2-tuning.ts';
import { UnreachableError, type ExecResult } from './types.ts';

/**
 * The first line of every shell reports the process group of the remote command on stderr (and is removed from
 * the result), so that a timed-out command can be killed with all its children: sshd refuses channel "signal"
 * requests for root sessions ("session signalling requires privilege separation"), and closing the channel leaves
 * the processes running. Reads /proc with shell builtins only (no extra process); silent where /proc is missing.
 */
const PGID_MARK = '@lvsplay-pgid';
const PGID_PROLOGUE = `read -r _ _ _ _ lvsplay_pgid _ </proc/$$/stat 2>/dev/null && echo "${PGID_MARK} $lvsplay_pgid" >&2; unset lvsplay_pgid\n`;
const PGID_LINE = new RegExp(`^${PGID_MARK} (\\d+)\\n`);

/** Channel opens refused by sshd are retried this many times (20, 40, 80 ... ms apart). */
const CHANNEL_OPEN_RETRIES = 6;
/** First wait before re-opening a refused channel, doubled each attempt: sshd frees a session slot within ms. */
const CHANNEL_RETRY_BASE_MS = 20;
/** How long a timed-out command may take to be killed before we give up waiting (the rejection comes anyway). */
export const KILL_WAIT_MS = 5000;

/** What a channel shell needs from its connection. */
export interface ChannelShellHooks {
  /** why the connection is gone, or undefined while it is up */
  gone(): string | undefined;
  countRoundTrip(): void;
  /** `fail` is called if the connection goes away while a script runs */
  watch(fail: () => void): void;
  unwatch(fail: () => void): void;
  /** SIGKILL the remote process group (a timed-out script), from another channel */
  kill(pgid: number | undefined): Promise<void>;
  /** the channel closed or could not be opened: its slot is free */
  closed(): void;
}

interface Pending {
  more: boolean;
  nonce: string;
  stdout: string;
  /** where to look for the end marker next */
  scanFrom: number;
  stderr: string;
  onStdout: ((chunk: string) => void) | undefined;
  resolve(r: ExecResult): void;
  reject(e: Error): void;
  settled: boolean;
  timer: NodeJS.Timeout | undefined;
  onLost: () => void;
  /** the text written to stdin for it, until the channel (and a become dialog) is ready */
  input: string;
}

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

export class ChannelShell {
  /** scripts sent so far */
  scripts = 0;
  /** the channel is gone (or never opened): run() is refused, a new shell is needed */
  closed = false;
  private channel: ClientChannel | undefined;
  /** stdin can take scripts: the channel is open and a become dialog, if any, is done */
  private ready = false;
  private stdinEnded = false;
  private endWanted = false;
  private pending: Pending | undefined;
  private pgid: number | undefined;
  private pgidKnown: (pgid: number | undefined) => void = () => undefined;
  private readonly pgidReady = new Promise<number | undefined>((res) => (this.pgidKnown = res));
  private readonly out = new StringDecoder('utf8');
  private readonly errDec = new StringDecoder('utf8');
  /** output that arrived while no script was pending (none is expected: each script's marker ends its output) */
  private carry = { stdout: '', stderr: '' };
  private exit: { code: number | null; signal?: string } | undefined;
  private openError: Error | undefined;
  private slotFreed = false;

  constructor(
    private readonly host: string,
    private readonly client: Client,
    readonly bc: BecomeCommand,
    private readonly where: string,
    private readonly hooks: ChannelShellHooks,
  ) {
    this.open(0);
  }

  /**
   * Send one script; resolves with its exit code and output. `more`: the shell waits for another script after it
   * (the script must not read stdin: it would read the next one). Rejects as exec does: CommandTimeoutError after
   * `timeoutMs` (the script's process group is killed, and this shell with it), UnreachableError when the
   * connection goes away.
   */
  run(script: string, more: boolean, timeoutMs: number, onStdout?: (chunk: string) => void): Promise<ExecResult> {
    return new Promise<ExecResult>((resolve, reject) => {
      if (this.pending) return reject(new Error(`${this.host}: a shell runs one script at a time`));
      const gone = this.hooks.gone();
      if (gone) return reject(new UnreachableError(this.host, gone));
      if (this.closed || this.stdinEnded) return reject(this.openError ?? new Error(`${this.host}: this shell has ended`));
      this.hooks.countRoundTrip();
      const nonce = randomBytes(6).toString('hex');
      const body = script.endsWith('\n') || script === '' ? script : `${script}\n`;
      // `eval` of the quoted script: a script that does not parse fails on its own (exit 2) instead of swallowing
      // the end marker and leaving the shell waiting for input that never comes
      const input =
        (this.scripts === 0 ? PGID_PROLOGUE : '') +
        (more
          ? `eval ${q(body)}\nlvsplay_st=$?; printf '\\n@@${nonce}:end:%s@@\\n' "$lvsplay_st"; printf '\\n@@${nonce}:end@@\\n' >&2\n`
          : body);
      this.scripts++;
      const p: Pending = {
        more,
        nonce,
        stdout: this.carry.stdout,
        scanFrom: 0,
        stderr: this.carry.stderr,
        onStdout: more ? undefined : onStdout,
        resolve,
        reject,
        settled: false,
        timer: undefined,
        onLost: () =>
          this.settle(p, () =>
            reject(new UnreachableError(this.host, this.hooks.gone() ?? `connection to ${this.where} was closed during a command`, p.stdout)),
          ),
        input,
      };
      this.carry = { stdout: '', stderr: '' };
      this.pending = p;
      this.hooks.watch(p.onLost);
      if (timeoutMs > 0) p.timer = setTimeout(() => this.timedOut(p, timeoutMs), timeoutMs);
      if (this.ready) this.send(p);
    });
  }

  /** EOF on stdin: the shell exits once its current script (if any) is done. */
  end(): void {
    if (this.closed) return;
    this.endWanted = true;
    if (this.ready && !this.stdinEnded) {
      this.stdinEnded = true;
      this.channel!.end();
    } else if (this.channel && !this.ready && !this.pending) {
      // still in a become dialog with nothing to run: nothing will be sent
      this.channel.close();
    }
  }

  private send(p: Pending): void {
    const ch = this.channel!;
    if (p.more) ch.write(p.input);
    else {
      this.stdinEnded = true;
      ch.end(p.input);
    }
    p.input = '';
  }

  private settle(p: Pending, fn: () => void): void {
    if (p.settled) return;
    p.settled = true;
    clearTimeout(p.timer);
    this.hooks.unwatch(p.onLost);
    if (this.pending === p) this.pending = undefined;
    fn();
  }

  private timedOut(p: Pending, timeoutMs: number): void {
    if (p.settled) return;
    // no more output to the caller; the rejection follows the kill. The shell dies with its process group.
    p.settled = true;
    this.hooks.unwatch(p.onLost);
    this.pending = undefined;
    this.closed = true;
    const ch = this.channel;
    const kill = ch ? withTimeout(this.pgidReady, KILL_WAIT_MS).then((id) => this.hooks.kill(id)) : Promise.resolve(); // not open yet: open() closes it unused
    void kill.finally(() => {
      ch?.close();
      p.reject(new CommandTimeoutError(this.host, timeoutMs));
    });
  }

  private open(attempt: number): void {
    try {
      this.client.exec(this.bc.command, (err, ch) => {
        // sshd frees a session slot some time after the channel's close; under a full window of channels a new open
        // can briefly be refused ("open failed"). Nothing ran, so trying again is safe.
        if (err && /open failed/i.test(err.message) && attempt < CHANNEL_OPEN_RETRIES && !this.closed) {
          setTimeout(() => this.open(attempt + 1), CHANNEL_RETRY_BASE_MS * 2 ** attempt);
          return;
        }
        if (err) {
          const hint = /open failed/i.test(err.message) ? ' (is sshd MaxSessions below maxChannelsPerHost?)' : '';
          return this.failOpen(new UnreachableError(this.host, `cannot open a session on ${this.where}: ${err.message}${hint}`));
        }
        this.started(ch);
      });
    } catch (err) {
      this.failOpen(new UnreachableError(this.host, `cannot run a command on ${this.where}: ${(err as Error).message}`));
    }
  }

  private freeSlot(): void {
    if (this.slotFreed) return;
    this.slotFreed = true;
    this.hooks.closed();
  }

  private failOpen(e: Error): void {
    this.openError = e;
    this.closed = true;
    this.freeSlot();
    const p = this.pending;
    if (p) this.settle(p, () => p.reject(e));
  }

  private started(ch: ClientChannel): void {
    if (this.closed) {
      // timed out before the channel opened
      ch.close();
      this.freeSlot();
      return;
    }
    this.channel = ch;
    const dialog = this.bc.dialog;
    ch.on('data', (buf: Buffer) => {
      acknowledgeOutput(this.client, ch);
      const s = this.out.write(buf);
      if (s) this.stdout(s);
    });
    ch.stderr.on('data', (buf: Buffer) => {
      acknowledgeOutput(this.client, ch);
      let text = this.errDec.write(buf);
      if (dialog && !dialog.ready) {
        // the password dialog: nothing of it reaches a result; scripts are sent once the shell is ready
        const r = dialog.feed(text);
        if (r.write === null) {
          this.stdinEnded = true;
          ch.end();
        } else if (r.write) ch.write(r.write);
        if (!dialog.ready) return;
        text = r.rest ?? '';
        this.becameReady();
      }
      if (text) this.stderr(text);
    });
    ch.on('exit', (c: number | null, sig?: string) => {
      this.exit = { code: c, ...(sig ? { signal: signalName(sig) } : {}) };
    });
    ch.on('close', () => this.channelClosed());
    if (!dialog) this.becameReady();
  }

  private becameReady(): void {
    this.ready = true;
    if (this.pending) this.send(this.pending);
    else if (this.endWanted && !this.stdinEnded) {
      this.stdinEnded = true;
      this.channel!.end();
    }
  }

  private stdout(s: string): void {
    const p = this.pending;
    if (!p || p.settled) {
      if (!p) this.carry.stdout += s;
      return;
    }
    p.stdout += s;
    if (p.onStdout) p.onStdout(s);
    if (p.more) this.checkEnd(p);
  }

  private stderr(text: string): void {
    const p = this.pending;
    const target = p && !p.settled ? p : undefined;
    if (target) target.stderr += text;
    else if (!p) this.carry.stderr += text;
    if (this.pgid === undefined && target && this.scripts === 1) {
      const m = PGID_LINE.exec(target.stderr);
      if (m) {
        this.pgid = Number(m[1]);
        this.pgidKnown(this.pgid);
        target.stderr = target.stderr.slice(m[0].length);
      }
    }
    if (target?.more) this.checkEnd(target);
  }

  /** A `more` script is done when its end marker has arrived on both stdout and stderr. */
  private checkEnd(p: Pending): void {
    const at = p.stdout.indexOf(`\n@@${p.nonce}:end:`, p.scanFrom);
    if (at < 0) {
      p.scanFrom = Math.max(0, p.stdout.length - 40); // the marker may arrive split between chunks
      return;
    }
    const outMark = new RegExp(`\\n@@${p.nonce}:end:(\\d+)@@\\n`, 'y');
    outMark.lastIndex = at;
    const m = outMark.exec(p.stdout);
    if (!m) return;
    const errMark = `\n@@${p.nonce}:end@@\n`;
    const errAt = p.stderr.indexOf(errMark);
    if (errAt < 0) return;
    const result: ExecResult = {
      code: Number(m[1]),
      stdout: p.stdout.slice(0, at),
      stderr: p.stderr.slice(0, errAt).replace(PGID_LINE, ''),
    };
    this.carry = { stdout: p.stdout.slice(at + m[0].length), stderr: p.stderr.slice(errAt + errMark.length) };
    this.settle(p, () => p.resolve(result));
  }

  private channelClosed(): void {
    this.pgidKnown(undefined);
    this.closed = true;
    this.freeSlot();
    const p = this.pending;
    if (!p || p.settled) return;
    const tail = this.out.end();
    if (tail) {
      p.stdout += tail;
      if (p.onStdout) p.onStdout(tail);
    }
    p.stderr += this.errDec.end();
    const dialog = this.bc.dialog;
    if (dialog && !dialog.ready) p.stderr = dialog.leftover() + p.stderr;
    const exit = this.exit;
    if (!exit || (exit.code === null && exit.signal === undefined)) {
      return this.settle(p, () =>
        p.reject(new UnreachableError(this.host, `${this.where}: the command's channel closed without an exit status`, p.stdout)),
      );
    }
    // the last script's exit, or a `more` script that ended the shell (exit): its result as exec gives it
    const result: ExecResult = {
      code: exit.code ?? 128 + signalNumber(exit.signal!),
      stdout: p.stdout,
      stderr: p.stderr.replace(PGID_LINE, ''),
    };
    if (exit.signal !== undefined) result.signal = exit.signal;
    this.settle(p, () => p.resolve(result));
  }
}
