/** test/fixtures/playbooks/slow-apply.ts on a tier-1 lab: wait for the moment its 4 s change runs on a host. */
import { execFileSync } from 'node:child_process';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Wait until the slow change (sleep 4) runs on `host` of lab `labId`, then a second more. */
export async function whenSlowChangeRuns(labId: string, host: string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    const procs = execFileSync('sh', ['-c', `ip netns pids lvp-${labId}-${host} | xargs -r ps -o args= -p`], { encoding: 'utf8' });
    if (/^sleep 4$/m.test(procs)) return sleep(1000);
    await sleep(100);
  }
  throw new Error(`the slow change never started on ${host}`);
}
