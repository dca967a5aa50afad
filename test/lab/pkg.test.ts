// Issue 4: the pkg step installs a package on a real host (tier 1, a host with its own copy-on-write /usr), through
// the real CLI over SSH, from a local apt repository built here with dpkg-deb (the lab has no network): --check
// installs nothing, the first run installs, the second changes nothing, a newer version in the repository is not
// installed (never upgrade silently), and an unknown package fails the host with apt's message.
import test from 'ava';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useLab } from '../helpers/lab.ts';
import { jsonLines, lvsplay } from '../helpers/cli.ts';

const lab = useLab(test, { topology: 'test/fixtures/lab/pkg.yaml' });
const PB = 'test/fixtures/playbooks/pkg.ts';
const PKG = 'lvsplay-lab-hello';
const REPO = '/var/lib/lvsplay-test-repo';

const work = mkdtempSync(join(tmpdir(), 'lvsplay-pkg-'));
test.after.always(() => rmSync(work, { recursive: true, force: true }));

/** A real .deb built with dpkg-deb: /usr/bin/lvsplay-lab-hello prints its version. */
function buildDeb(version: string): { file: string; control: string; bytes: Buffer } {
  const root = join(work, `${PKG}-${version}`);
  mkdirSync(join(root, 'DEBIAN'), { recursive: true });
  mkdirSync(join(root, 'usr/bin'), { recursive: true });
  const control = [`Package: ${PKG}`, `Version: ${version}`, 'Architecture: all', 'Maintainer: lvsplay tests <tests@lvsplay.invalid>', 'Priority: optional', 'Section: misc', `Description: lvsplay lab test package ${version}`, ' Installed by the pkg step lab test.'].join('\n');
  writeFileSync(join(root, 'DEBIAN/control'), control + '\n');
  writeFileSync(join(root, 'usr/bin', PKG), `#!/bin/sh\necho hello ${version}\n`);
  chmodSync(join(root, 'usr/bin', PKG), 0o755);
  const file = `${PKG}_${version}_all.deb`;
  const r = spawnSync('dpkg-deb', ['--root-owner-group', '--build', root, join(work, file)], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`dpkg-deb: ${r.stderr}`);
  return { file, control, bytes: readFileSync(join(work, file)) };
}

const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
const md5 = (b: Buffer | string) => createHash('md5').update(b).digest('hex');

/** Shell that writes a flat, trusted apt repository with these packages into the host and points apt at it only. */
function repoScript(debs: ReturnType<typeof buildDeb>[]): string {
  const packages = debs.map((d) => `${d.control}\nFilename: ./${d.file}\nSize: ${d.bytes.length}\nMD5sum: ${md5(d.bytes)}\nSHA256: ${sha256(d.bytes)}\n`).join('\n');
  const release = `Origin: lvsplay-test\nLabel: lvsplay-test\nSuite: lvsplay-test\nCodename: lvsplay-test\nDate: ${new Date().toUTCString()}\nArchitectures: all amd64\nSHA256:\n ${sha256(packages)} ${Buffer.byteLength(packages)} Packages\n`;
  const put = (name: string, data: Buffer | string) => `echo ${Buffer.from(data).toString('base64')} | base64 -d > ${REPO}/${name}`;
  return [
    'set -e',
    `rm -rf ${REPO} && mkdir -p ${REPO}`,
    ...debs.map((d) => put(d.file, d.bytes)),
    put('Packages', packages),
    put('Release', release),
    // this host's /etc only (the lab gives each host its own): no network here, so only the local repository
    'rm -f /etc/apt/sources.list.d/*',
    `echo 'deb [trusted=yes] file:${REPO} ./' > /etc/apt/sources.list`,
  ].join('\n');
}

async function run(name: string, extra: string[] = []) {
  const json = join(lab().dir, `${name}.jsonl`);
  const r = await lvsplay(['run', PB, '-i', lab().inventory, '--json', json, ...extra], { timeoutMs: 300_000 });
  const ev = jsonLines(readFileSync(json, 'utf8'));
  return { ...r, ev, recap: ev.at(-1)!.hosts as Record<string, { ok: number; changed: number; failed: number }> };
}

const installed = async () => (await lab().ssh('pkghost', `dpkg-query -W -f '\${Status} \${Version}\\n' ${PKG} 2>/dev/null || echo absent; ${PKG} 2>/dev/null || echo no-command`)).stdout;

const v1 = buildDeb('1.0');
const v2 = buildDeb('1.1');

test.serial('--check plans the install and installs nothing', async (t) => {
  const setup = await lab().ssh('pkghost', repoScript([v1]));
  t.is(setup.code, 0, setup.stderr);
  const r = await run('check', ['--check']);
  t.is(r.code, 0, r.stdout + r.stderr);
  t.is(r.recap.pkghost!.changed, 1);
  t.regex(r.stdout, /install lvsplay-lab-hello \(apt\)/);
  t.is(await installed(), 'absent\nno-command\n');
});

test.serial('the first run installs the package from the repository, the second changes nothing', async (t) => {
  const first = await run('first');
  t.is(first.code, 0, first.stdout + first.stderr);
  t.is(first.recap.pkghost!.changed, 1);
  t.is(await installed(), 'install ok installed 1.0\nhello 1.0\n');
  t.false(existsSync(`/usr/bin/${PKG}`), 'the machine itself is untouched (the host has its own /usr)');
  const second = await run('second');
  t.is(second.code, 0, second.stdout + second.stderr);
  t.is(second.recap.pkghost!.changed, 0);
  t.is(second.recap.pkghost!.ok, 1);
});

test.serial('a newer version in the repository is not installed: pkg never upgrades', async (t) => {
  const setup = await lab().ssh('pkghost', `${repoScript([v1, v2])}\napt-get update -q >/dev/null 2>&1\napt-cache policy ${PKG} | sed -n 's/^ *Candidate: //p'`);
  t.is(setup.stdout, '1.1\n', 'apt knows the newer version');
  const r = await run('newer');
  t.is(r.code, 0, r.stdout + r.stderr);
  t.is(r.recap.pkghost!.changed, 0);
  t.is(await installed(), 'install ok installed 1.0\nhello 1.0\n');
});

test.serial('a package the repository does not have fails the host with apt\'s message and installs nothing else', async (t) => {
  await lab().ssh('pkghost', `dpkg -P ${PKG} >/dev/null`);
  const r = await run('unknown', ['-e', `pkg_names=${PKG},lvsplay-no-such-package`]);
  t.is(r.code, 2, r.stdout + r.stderr);
  t.is(r.recap.pkghost!.failed, 1);
  t.regex(r.stdout + r.stderr, /Unable to locate package lvsplay-no-such-package/);
  t.is(await installed(), 'absent\nno-command\n', 'apt-get installs all or nothing: the known package was not installed either');
});
