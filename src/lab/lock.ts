/** One lab command at a time per lab dir: a lock file holding the owner's pid and start time (stale = owner gone). */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { LabError } from './run.ts';
import { procStart } from './state.ts';

export async function withLabLock<T>(dir: string, fn: () => Promise<T>): Promise<T> {
  const lock = path.join(dir, 'lock');
  const me = `${process.pid} ${procStart(process.pid)}`;
  for (let attempt = 0; ; attempt++) {
    try {
      writeFileSync(lock, `${me}\n`, { flag: 'wx', mode: 0o600 });
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 3) throw e;
      let owner = '';
      try {
        owner = readFileSync(lock, 'utf8').trim();
      } catch {
        continue; // released meanwhile
      }
      const [pid, start] = owner.split(' ');
      if (procStart(Number(pid)) === start) {
        throw new LabError(`another lvsplay lab command (pid ${pid}) is working on ${dir}\n  fix: wait for it to finish`);
      }
      rmSync(lock, { force: true }); // its owner died
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(lock, { force: true });
  }
}
