/**
 * A Connection that runs scripts with the local /bin/sh, for engine tests that need a real shell but no SSH.
 * Tests using it only touch paths under their own temp directory.
 */
import { spawn } from 'node:child_process';
import type { Connection, ConnectionSpec, ExecResult } from '../../src/transport/types.ts';

export class LocalConnection implements Connection {
  roundTrips = 0;
  scripts: string[] = [];
  constructor(readonly spec: ConnectionSpec = { name: 'local', host: 'localhost', port: 22, user: 'root', jumps: [], become: false }) {}
  exec(script: string): Promise<ExecResult> {
    this.roundTrips++;
    this.scripts.push(script);
    return new Promise((resolve, reject) => {
      const p = spawn('/bin/sh', ['-s'], { stdio: ['pipe', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      p.stdout.on('data', (d) => (stdout += d));
      p.stderr.on('data', (d) => (stderr += d));
      p.on('error', reject);
      p.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
      p.stdin.end(script);
    });
  }
  async close(): Promise<void> {}
}
