/** TTY progress: one listr2 row per play, one sub-row per host showing its current step. */
import { Listr, type ListrTaskWrapper } from 'listr2';
import type { Reporter, RunEvent } from './events.ts';
import { recapTable } from './recap.ts';
import { formatVerifyRecord } from '../verify/table.ts';
import { stepLines } from './plain.ts';

interface HostRow {
  done: Promise<void>;
  finish(err?: Error): void;
  task?: ListrTaskWrapper<unknown, any, any>;
  lines: string[];
  changed: number;
}

export class ListrReporter implements Reporter {
  private chain: Promise<void> = Promise.resolve();
  private rows = new Map<string, HostRow>();
  private after: string[] = [];

  constructor(
    private readonly write: (s: string) => void,
    private readonly verbose: boolean,
  ) {}

  event(e: RunEvent): void {
    switch (e.event) {
      case 'play_start': {
        const rows = e.hosts.map((h) => {
          let finish!: (err?: Error) => void;
          const done = new Promise<void>((res, rej) => (finish = (err) => (err ? rej(err) : res())));
          // a host can fail before listr2 runs its row (the play waits behind the previous play's list): the row's
          // task still sees the rejection, but until then it must not count as unhandled (Node would end the run)
          done.catch(() => undefined);
          const row: HostRow = { done, finish, lines: [], changed: 0 };
          this.rows.set(`${e.play}\0${h}`, row);
          return { h, row };
        });
        const list = new Listr(
          [
            {
              title: `PLAY [${e.play}] ${e.hosts.length} host(s)`,
              task: (_ctx, task) =>
                task.newListr(
                  rows.map(({ h, row }) => ({
                    title: h,
                    task: async (_c: unknown, t: ListrTaskWrapper<unknown, any, any>) => {
                      row.task = t;
                      await row.done;
                      t.title = `${h}: ${row.changed} changed`;
                    },
                  })),
                  { concurrent: true, exitOnError: false },
                ),
            },
          ],
          // listr2's own SIGINT handler exits 127 at once: the commands trap the signals (src/commands/interrupt.ts)
          { exitOnError: false, registerSignalListeners: false, rendererOptions: { collapseSubtasks: false, showErrorMessage: true } as any },
        );
        this.chain = this.chain.then(() => list.run().then(() => undefined, () => undefined));
        break;
      }
      case 'step': {
        const row = this.rows.get(`${e.play}\0${e.host}`);
        if (e.status === 'changed') row && row.changed++;
        if (row?.task) row.task.output = `${e.status}: ${e.step}`;
        const lines = stepLines(e, this.verbose).filter((l) => !l.startsWith('ok:'));
        if (e.status !== 'ok' || e.warnings.length || (e.diff?.length ?? 0) > 0) this.after.push(...lines);
        break;
      }
      case 'unreachable':
        this.after.push(`unreachable: [${e.host}] ${e.error}`);
        break;
      case 'host_done': {
        const row = this.rows.get(`${e.play}\0${e.host}`);
        if (!row) break;
        if (e.status === 'failed' || e.status === 'unreachable') row.finish(new Error(`${e.host}: ${e.status}`));
        else row.finish();
        break;
      }
      case 'play_abort':
        this.after.push(`PLAY ABORTED [${e.play}]: ${e.reason}`);
        break;
      case 'verify':
        this.after.push(formatVerifyRecord(e.result));
        break;
      case 'recap':
        this.chain = this.chain.then(() => {
          if (this.after.length) this.write(this.after.join('\n') + '\n');
          this.after = [];
          this.write('\n' + recapTable(e.hosts, e.elapsedMs, e.check, e.verify, e.interrupted) + '\n');
        });
        break;
      default:
        break;
    }
  }

  async close(): Promise<void> {
    // a host whose play never finished (aborted run): release its row
    for (const r of this.rows.values()) r.finish();
    await this.chain;
  }
}
