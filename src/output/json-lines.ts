/** --json FILE: one event per line, the recap last. Written synchronously so a crash still leaves the lines so far. */
import { openSync, writeSync, closeSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Reporter, RunEvent } from './events.ts';
import { maskDeep } from '../secret-values.ts';

export class JsonLinesReporter implements Reporter {
  private fd: number;
  constructor(file: string) {
    mkdirSync(dirname(file), { recursive: true });
    this.fd = openSync(file, 'w');
  }
  event(e: RunEvent): void {
    writeSync(this.fd, JSON.stringify(maskDeep(e)) + '\n'); // masked here too: verify writes events without Reporters
  }
  async close(): Promise<void> {
    closeSync(this.fd);
  }
}
