/**
 * File descriptors a run needs on the controller: every SSH connection is a socket held until the run ends — one
 * per directly reached host, and one per connection to the first jump host of a chain (the hosts behind it, and
 * further jumps, are channels of those connections). Checked against the process's open-files limit before any
 * host is touched, so a fleet too large for `ulimit -n` fails at once with the fix, not host by host mid-run.
 */
import { readFileSync } from 'node:fs';
import { hopLabel } from './dial.ts';
import { JUMP_CHANNELS_DEFAULT } from './jump-lines.ts';
import type { ConnectionSpec } from './types.ts';

/** Node's own files (stdio, its event loop, the playbook's modules being read, --json, known_hosts): kept free. */
export const FD_RESERVE = 64;

/** Sockets the specs' connections hold at once, at most (each host's jumpChannels, else `jumpChannels`). */
export function socketsNeeded(specs: Iterable<ConnectionSpec>, jumpChannels = JUMP_CHANNELS_DEFAULT): number {
  let direct = 0;
  // hosts behind each first hop, per cap: ceil(n / cap) connections each (mixed caps add up: an upper bound)
  const behind = new Map<string, { cap: number; n: number }>();
  for (const s of specs) {
    if (s.connection === 'local') continue;
    if (s.jumps.length === 0) {
      direct++;
      continue;
    }
    const cap = s.jumpChannels ?? jumpChannels;
    const key = `${hopLabel(s.jumps[0])}/${cap}`;
    const entry = behind.get(key) ?? { cap, n: 0 };
    entry.n++;
    behind.set(key, entry);
  }
  let jumps = 0;
  for (const { cap, n } of behind.values()) jumps += Math.ceil(n / cap);
  return direct + jumps;
}

/** The soft open-files limit of this process (Node raised it to the hard limit at start); undefined off Linux. */
export function openFilesLimit(limitsText?: string): number | undefined {
  let text = limitsText;
  if (text === undefined) {
    try {
      text = readFileSync('/proc/self/limits', 'utf8');
    } catch {
      return undefined;
    }
  }
  const m = /^Max open files\s+(\d+|unlimited)\s/m.exec(text);
  if (!m) return undefined;
  return m[1] === 'unlimited' ? Number.POSITIVE_INFINITY : Number(m[1]);
}

/** Why the run cannot hold its connections open under `limit`, or undefined when it can. */
export function fdShortfall(needed: number, limit: number | undefined): string | undefined {
  if (limit === undefined || needed + FD_RESERVE <= limit) return undefined;
  return (
    `this run keeps ${needed} SSH connections open (one per host reached directly, one per ${JUMP_CHANNELS_DEFAULT} hosts behind a jump by default), ` +
    `but lvsplay may open only ${limit} files (ulimit -n; ${FD_RESERVE} are kept for itself): raise the limit (ulimit -Hn, LimitNOFILE), ` +
    `reach the hosts through a jump host, or run on fewer hosts at a time (--limit)`
  );
}
