// Tier 1 lifecycle: lab down removes every namespace, process and mount the lab made (also after a crash of
// lvsplay itself), is idempotent, and never needs the state file to find what it started.
import test from 'ava';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { startLab } from '../helpers/lab.ts';
import { labDown, labStatus } from '../../src/lab/lab.ts';
import { readPidsFile } from '../../src/lab/state.ts';

function labNamespaces(id: string): string[] {
  return existsSync('/run/netns') ? readdirSync('/run/netns').filter((n) => n.startsWith(`lvp-${id}`)) : [];
}

/** processes whose command line mentions the lab dir (host inits, jump, sshd sessions) */
function labProcesses(dir: string): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => {
      try {
        return readFileSync(`/proc/${d}/cmdline`, 'utf8').includes(dir);
      } catch {
        return false;
      }
    })
    .map(Number);
}

function mountsMentioning(dir: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(dir));
}

test.serial('lab down leaves no namespace, process or mount, and is idempotent', async (t) => {
  const lab = await startLab({ topology: 'test/fixtures/lab/pair.yaml' });
  t.teardown(() => lab.down());
  t.is(labNamespaces(lab.id).length, 4); // switch, control, alpha, beta
  t.true(labProcesses(lab.dir).length >= 3);
  const st = await labStatus({ dir: lab.dir });
  t.true(st.up);
  t.deepEqual(st.hosts.map((h) => [h.name, h.running, h.reachable]), [['alpha', true, true], ['beta', true, true]]);
  // a host's mounts live in its own mount namespace only
  t.deepEqual(mountsMentioning(lab.dir), []);

  const log: string[] = [];
  const r = await labDown({ dir: lab.dir, log: (s) => log.push(s) });
  t.is(r.namespaces.length, 4);
  t.deepEqual(labNamespaces(lab.id), []);
  t.deepEqual(labProcesses(lab.dir), []);
  t.deepEqual(mountsMentioning(lab.dir), []);
  t.false(existsSync(`${lab.dir}/hosts`));
  t.false((await labStatus({ dir: lab.dir })).up);

  const again: string[] = [];
  await labDown({ dir: lab.dir, log: (s) => again.push(s) });
  t.regex(again.join('\n'), /nothing to do/);
});

test.serial('lab down cleans up after lvsplay crashed (no state file: pids file and namespace prefix)', async (t) => {
  const lab = await startLab({ topology: 'test/fixtures/lab/pair.yaml' });
  t.teardown(() => lab.down());
  const recorded = readPidsFile(`${lab.dir}/pids`);
  t.is(recorded.length, 3); // alpha, beta, jump
  rmSync(`${lab.dir}/state.json`); // as if lvsplay died before writing it
  await labDown({ dir: lab.dir, log: () => {} });
  t.deepEqual(labNamespaces(lab.id), []);
  t.deepEqual(labProcesses(lab.dir), []);
  for (const r of recorded) t.false(existsSync(`/proc/${r.pid}`), `pid ${r.pid} still runs`);
});

test.serial('lab down never kills a process whose pid was reused', async (t) => {
  const lab = await startLab({ topology: 'test/fixtures/lab/pair.yaml' });
  t.teardown(() => lab.down());
  // a record for *this* test process, with a wrong start time, must be left alone
  const { appendFileSync } = await import('node:fs');
  appendFileSync(`${lab.dir}/pids`, `host fake ${process.pid} 1\n`);
  rmSync(`${lab.dir}/state.json`);
  await labDown({ dir: lab.dir, log: () => {} });
  t.true(existsSync(`/proc/${process.pid}`));
  t.deepEqual(labNamespaces(lab.id), []);
});

test('one lab command at a time per lab dir; a lock left by a dead process is taken over', async (t) => {
  const { mkdtempSync, writeFileSync } = await import('node:fs');
  const { withLabLock } = await import('../../src/lab/lock.ts');
  const { procStart } = await import('../../src/lab/state.ts');
  const dir = mkdtempSync('/tmp/lvsplay-lablock-');
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  // held by a live process (this one): refused
  writeFileSync(`${dir}/lock`, `${process.pid} ${procStart(process.pid)}\n`);
  await t.throwsAsync(withLabLock(dir, async () => 1), { message: /another lvsplay lab command \(pid \d+\) is working on/ });
  // held by a process that is gone (same pid, other start time): taken over, released after
  writeFileSync(`${dir}/lock`, `${process.pid} 1\n`);
  t.is(await withLabLock(dir, async () => 42), 42);
  t.false(existsSync(`${dir}/lock`));
});

test('lab install knows which packages are missing', async (t) => {
  const { missingPackages, HOST_PACKAGES } = await import('../../src/lab/install.ts');
  t.deepEqual(await missingPackages([...HOST_PACKAGES]), [], 'this machine has every tier-1 package');
  t.deepEqual(await missingPackages(['openssh-server', 'lvsplay-no-such-package']), ['lvsplay-no-such-package']);
});
