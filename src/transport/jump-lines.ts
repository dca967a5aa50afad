/**
 * The connections to one jump host (one hop of a ProxyJump chain), shared by the hosts behind it: each host (or
 * further jump of a chain) takes one direct-tcpip channel of a connection, at most `cap` per connection; when every
 * connection is full, one more is opened, and never two at once to the same jump (so the bastion's sshd sees at most
 * one unauthenticated connection of ours: MaxStartups is never in play). No SSH here: the dial is given, so the
 * allocation is testable on its own.
 */

/**
 * Each direct-tcpip channel is a socket (an fd) of the bastion's sshd process serving our connection, and that
 * process usually runs with the soft limit of 1,024 fds (systemd's default): 200 stays far below it, leaves the
 * bastion room for everyone else, and takes 1,000 hosts over 5 connections (sshd's MaxSessions counts sessions,
 * not forwarded channels, so it does not apply).
 */
export const JUMP_CHANNELS_DEFAULT = 200;
/** OpenSSH's sshd kills a connection that opens more channels than this (CHANNELS_MAX_CHANNELS in channels.h). */
export const JUMP_CHANNELS_MAX = 16_384;

/** What a line looks like to the allocation. */
export interface LineState {
  /** channels taken, including those of hosts waiting for the line's dial to finish */
  channels: number;
  /** its dial has not finished yet */
  dialing: boolean;
}

/** Where a new channel goes: onto line `index` (open or dialing), wait for the line being dialed, or open a line. */
export type LineChoice = { take: number } | 'wait' | 'open';

/**
 * The first line (in the order they were opened) with room takes the channel, so lines fill one after the other and
 * a freed channel is reused before a further connection is opened. A full fleet of lines with one still dialing:
 * wait for it (pacing). Pure.
 */
export function chooseLine(lines: readonly LineState[], cap: number): LineChoice {
  const free = lines.findIndex((l) => l.channels < cap);
  if (free >= 0) return { take: free };
  return lines.some((l) => l.dialing) ? 'wait' : 'open';
}

/** One channel slot taken on a line; release() gives it back (once; later calls do nothing). */
export interface LineSlot<C> {
  client: C;
  /** 1 for the first connection opened to this jump, 2 for the next, ... */
  line: number;
  release(): void;
}

interface Line<C> extends LineState {
  number: number;
  ready: Promise<C>;
  client?: C;
}

/** Opens one connection to the jump; calls `gone` once when that connection has closed. */
export type DialLine<C> = (gone: () => void) => Promise<C>;

export class JumpLines<C> {
  private lines: Line<C>[] = [];
  private opened = 0;

  /**
   * A channel slot on a connection with fewer than `cap` channels, dialing a further one (with `dial`) when all are
   * full. Rejects when the dial this caller waited for fails (every caller waiting on it gets that error; a later
   * call dials again).
   */
  async acquire(cap: number, dial: DialLine<C>): Promise<LineSlot<C>> {
    for (;;) {
      const choice = chooseLine(this.lines, cap);
      if (choice === 'wait') {
        await this.lines.find((l) => l.dialing)!.ready;
        continue;
      }
      const line = choice === 'open' ? this.open(dial) : this.lines[choice.take];
      line.channels++;
      let released = false;
      const release = () => {
        if (released) return;
        released = true;
        line.channels--;
      };
      try {
        return { client: await line.ready, line: line.number, release };
      } catch (err) {
        release();
        throw err;
      }
    }
  }

  /** The clients of the open connections, first opened first. */
  clients(): C[] {
    return this.lines.flatMap((l) => (l.client === undefined ? [] : [l.client]));
  }

  /** Channels per open or dialing connection, first opened first (for tests and messages). */
  channels(): number[] {
    return this.lines.map((l) => l.channels);
  }

  private open(dial: DialLine<C>): Line<C> {
    const line: Line<C> = { number: ++this.opened, channels: 0, dialing: true, ready: undefined as never };
    const drop = () => {
      this.lines = this.lines.filter((l) => l !== line);
    };
    line.ready = dial(drop).then(
      (client) => {
        line.dialing = false;
        line.client = client;
        return client;
      },
      (err: unknown) => {
        line.dialing = false;
        drop();
        throw err;
      },
    );
    // the waiters handle the rejection; this one only keeps it from counting as unhandled
    line.ready.catch(() => undefined);
    this.lines.push(line);
    return line;
  }
}
