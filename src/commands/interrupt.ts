/**
 * SIGINT, SIGTERM and SIGHUP (the controller's terminal or its SSH session lost) during a command that changes
 * hosts. Node's default is to die at once, leaving whatever a drill changed (a stopped web server, a drained
 * weight, a stopped keepalived) as it was. The first signal aborts `signal`: the command stops starting new work
 * and puts back what it changed. Later signals only say that this is in progress: a second Ctrl-C must not cut
 * the restore short. After a SIGHUP the terminal is gone: writes to it are dropped instead of crashing the restore.
 */
import type { CommandIO } from './io.ts';

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

export interface InterruptTrap {
  signal: AbortSignal;
  /** the signal received first (undefined: none) */
  readonly received: string | undefined;
  /** remove the handlers (Node's default behaviour again), unless a signal came: then they stay to the exit */
  release(): void;
}

/**
 * Trap the signals until `release()`. `first` is printed on the first signal (what happens now), `again` on
 * every later one (what is still in progress).
 */
export function trapInterrupts(io: CommandIO, what: { first: string; again: string }): InterruptTrap {
  const ctl = new AbortController();
  let received: string | undefined;
  const say = (line: string) => {
    try {
      io.err(line);
    } catch {
      // the terminal is gone (SIGHUP): the restore goes on regardless
    }
  };
  const onSignal = (sig: NodeJS.Signals) => {
    if (sig === 'SIGHUP') for (const s of [process.stdout, process.stderr]) s.on('error', () => {});
    if (received) {
      say(`\n${sig} received: ${what.again}\n`);
      return;
    }
    received = sig;
    say(`\n${sig} received: ${what.first}\n`);
    ctl.abort(sig);
  };
  for (const s of SIGNALS) process.on(s, onSignal);
  return {
    signal: ctl.signal,
    get received() {
      return received;
    },
    release() {
      // once interrupted the command only winds down to its exit 130: a second Ctrl-C landing between the end of
      // the restore and the exit must not kill the process by the signal (exit -1 instead of 130, nothing said)
      if (received) return;
      for (const s of SIGNALS) process.removeListener(s, onSignal);
    },
  };
}
