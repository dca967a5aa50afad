/** The machine's process table, for lab tests that kill a given sshd session. */
import { execFileSync } from 'node:child_process';

export interface Proc {
  pid: number;
  ppid: number;
  args: string;
}

/** pid, ppid and command line of every process on the machine */
export function processTable(): Proc[] {
  return execFileSync('ps', ['-eo', 'pid=,ppid=,args='], { encoding: 'utf8' })
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => {
      const m = /^\s*(\d+)\s+(\d+)\s+(.*)$/.exec(l)!;
      return { pid: Number(m[1]), ppid: Number(m[2]), args: m[3] };
    });
}

/** Every process below `root` (children, their children, ...). */
export function descendants(root: number, table: Proc[] = processTable()): Proc[] {
  const out: Proc[] = [];
  const walk = (p: number) => {
    for (const c of table.filter((x) => x.ppid === p)) {
      out.push(c);
      walk(c.pid);
    }
  };
  walk(root);
  return out;
}
