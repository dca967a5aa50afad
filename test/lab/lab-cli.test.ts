// `lvsplay lab …` through the real launcher: up (twice), status, ssh, down (twice), and bad input.
import test from 'ava';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { run } from '../../src/lab/run.ts';
import { freePort, labInventory } from '../helpers/lab.ts';

const lvsplay = (args: string[]) => run('node', ['src/bin/lvsplay.js', 'lab', ...args], { timeoutMs: 180_000 });

test.serial('up, up again (no-op), status, ssh, down, down again', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lvsplay-lab-'));
  const inv = labInventory('test/fixtures/lab/pair.yaml', dir, await freePort());
  t.teardown(async () => {
    await lvsplay(['down', '--dir', dir]);
    rmSync(dir, { recursive: true, force: true });
  });
  const up = await lvsplay(['up', '-i', inv, '--dir', dir, '--no-vm']);
  t.is(up.code, 0, up.stderr);
  t.regex(up.stdout, /up in \d+\.\d s \(namespaces on this machine, no IPVS\): 2 hosts: alpha beta/);
  const again = await lvsplay(['up', '-i', inv, '--dir', dir, '--no-vm']);
  t.is(again.code, 0, again.stderr);
  t.regex(again.stdout, /already up .*nothing to do/);
  const st = await lvsplay(['status', '--dir', dir]);
  t.is(st.code, 0, st.stdout + st.stderr);
  t.regex(st.stdout, /alpha\s+198\.19\.0\.11\s+running\s+ssh ok/);
  const ssh = await lvsplay(['ssh', '--dir', dir, 'beta', 'hostname', '-s']);
  t.is(ssh.code, 0, ssh.stderr);
  t.is(ssh.stdout.trim(), 'beta');
  const down = await lvsplay(['down', '--dir', dir]);
  t.regex(down.stdout, /down: stopped 3 processes, deleted 4 namespaces/);
  const down2 = await lvsplay(['down', '--dir', dir]);
  t.regex(down2.stdout, /nothing to do/);
});

test('bad input: usage errors exit 5, inventory errors exit 4 naming file/host/field', async (t) => {
  const u = await lvsplay(['up']);
  t.is(u.code, 5);
  t.regex(u.stderr, /needs -i INVENTORY/);
  const bogus = await lvsplay(['frobnicate']);
  t.is(bogus.code, 5);
  const never = path.join(os.tmpdir(), `lvsplay-lab-never-${process.pid}`);
  const bad = await lvsplay(['up', '-i', 'test/fixtures/lab/bad-address.yaml', '--dir', never]);
  t.is(bad.code, 4, bad.stderr);
  t.regex(bad.stderr, /bad-address\.yaml.*host gamma.*field lab_nics\[0\]\.address.*outside the lab range/s);
  t.regex(bad.stderr, /fix: lab addresses come from 198\.18\.0\.0\/15/);
  t.false(existsSync(never), 'nothing may be created for a bad inventory');
});
