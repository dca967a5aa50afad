/**
 * What a host looks like after a tool ran: the managed files (content, mode, owner), the live sysctls, the
 * addresses on lo and the handler log. Both tools must leave every host in the same state, and that state must
 * be the wanted one: a fast wrong run is not a result.
 */
import PQueue from 'p-queue';
import { connectionSpec, loadInventory } from '../inventory/index.ts';
import { SshPool } from '../transport/index.ts';
import { q } from '../shell.ts';
import { arpSysctls, HANDLER_LINE, HANDLER_LOG, MODULES_CONTENT, MODULES_FILE, RC_LOCAL, rcLocalLine, SYSCTL_FILE } from './config.ts';

const FILES = [SYSCTL_FILE, MODULES_FILE, RC_LOCAL, HANDLER_LOG];

/** A POSIX sh script printing the host's state in a stable text form. */
export function snapshotScript(nic: string): string {
  const keys = Object.keys(arpSysctls(nic));
  return [
    `for f in ${FILES.map(q).join(' ')}; do`,
    `  echo "== $f"`,
    `  if [ -e "$f" ]; then stat -c '%a %U %G' "$f"; cat "$f"; else echo absent; fi`,
    'done',
    'echo "== sysctl"',
    `sysctl ${keys.join(' ')}`,
    'echo "== lo"',
    // drop the per-line index and lifetimes; keep address, scope and label
    `ip -o addr show dev lo | sed -e 's/^[0-9]*: *//' -e 's/\\\\.*$//' -e 's/  */ /g' -e 's/ $//'`,
  ].join('\n');
}

/** Snapshot of every host of an inventory, by host name, through one ssh2 connection per host. */
export async function collectEndState(inventory: string, nic: string, forks: number): Promise<Map<string, string>> {
  const inv = loadInventory(inventory);
  const pool = new SshPool({ passphrasePrompt: false });
  const out = new Map<string, string>();
  const script = snapshotScript(nic);
  try {
    const queue = new PQueue({ concurrency: forks });
    await Promise.all(
      [...inv.hosts.keys()].map((h) =>
        queue.add(async () => {
          const r = await (await pool.connect(connectionSpec(inv, h))).exec(script);
          if (r.code !== 0) throw new Error(`end state of ${h}: the snapshot script exited ${r.code}: ${r.stderr.trim()}`);
          out.set(h, r.stdout);
        }),
      ),
    );
  } finally {
    await pool.closeAll();
  }
  return new Map([...out].sort(([a], [b]) => a.localeCompare(b)));
}

/** Sections of a snapshot: `== NAME` → the lines under it. */
export function sections(snapshot: string): Map<string, string> {
  const out = new Map<string, string>();
  let name = '';
  for (const line of snapshot.split('\n')) {
    const m = /^== (.*)$/.exec(line);
    if (m) {
      name = m[1]!;
      out.set(name, '');
    } else if (name && line !== '') out.set(name, `${out.get(name)}${line}\n`);
  }
  return out;
}

/** What is wrong with one host's snapshot (empty: it is the wanted state). */
export function endStateProblems(snapshot: string, vip: string, nic: string): string[] {
  const s = sections(snapshot);
  const problems: string[] = [];
  const expectFile = (f: string, mode: string, body: (content: string) => string | undefined) => {
    const text = s.get(f);
    if (text === undefined || text.startsWith('absent')) return problems.push(`${f} is missing`);
    const [head, ...rest] = text.split('\n');
    if (head !== `${mode} root root`) problems.push(`${f}: mode/owner is "${head}", want "${mode} root root"`);
    const why = body(rest.join('\n').replace(/\n$/, '') + '\n');
    if (why) problems.push(`${f}: ${why}`);
  };
  const sysctls = Object.entries(arpSysctls(nic));
  expectFile(SYSCTL_FILE, '644', (c) => sysctls.every(([k, v]) => c.includes(`${k} = ${v}\n`)) ? undefined : 'does not set every arp_ignore/arp_announce key');
  expectFile(MODULES_FILE, '644', (c) => (c === MODULES_CONTENT ? undefined : 'content differs from the wanted one'));
  expectFile(RC_LOCAL, '755', (c) =>
    !c.startsWith('#!/bin/sh\n') ? 'does not start with #!/bin/sh' : c.split('\n').filter((l) => l === rcLocalLine(vip)).length !== 1 ? `does not hold "${rcLocalLine(vip)}" exactly once` : undefined,
  );
  expectFile(HANDLER_LOG, '644', (c) => (c === `${HANDLER_LINE}\n` ? undefined : `the handler ran ${c.split('\n').filter((l) => l === HANDLER_LINE).length} times, want once (first run only)`));
  const live = s.get('sysctl') ?? '';
  for (const [k, v] of sysctls) if (!live.includes(`${k} = ${v}\n`)) problems.push(`live sysctl ${k} is not ${v}`);
  if (!new RegExp(`inet ${vip.replace(/\./g, '\\.')}/32 `).test(s.get('lo') ?? '')) problems.push(`${vip}/32 is not on lo`);
  return problems;
}

/** Hosts whose snapshots differ between the two tools, with both texts side by side. */
export function compareEndStates(a: Map<string, string>, b: Map<string, string>, names: [string, string]): string[] {
  const out: string[] = [];
  for (const h of new Set([...a.keys(), ...b.keys()])) {
    const x = a.get(h);
    const y = b.get(h);
    if (x === y) continue;
    out.push(`${h}: end states differ\n--- ${names[0]}\n${x ?? '(no snapshot)\n'}--- ${names[1]}\n${y ?? '(no snapshot)\n'}`);
  }
  return out;
}
