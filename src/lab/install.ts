/**
 * `lvsplay lab install`: the Debian packages the lab needs. Installed with apt-get when missing (never the kernel
 * package: the VM tier downloads and unpacks that one, see kernel.ts).
 */
import { run, LabError } from './run.ts';

/** tier 1: hosts (sshd, systemd), the tools roles run on them, and the fleet builder's own tools (perl is Essential) */
export const HOST_PACKAGES = [
  'openssh-server',
  'openssh-client',
  'keepalived',
  'ipvsadm',
  'iptables',
  'ipset',
  'iproute2',
  'curl',
  'busybox-static',
  'cpio',
  'procps',
  'sudo',
  // test/helpers/sshd.ts: password hashes for the password/become-password tests' accounts (openssl passwd -6)
  'openssl',
  // lab hosts with lab_init: systemd run the machine's systemd as their PID 1 (a container image may lack it)
  'systemd',
] as const;
/** tier 2 adds QEMU (qboot.rom comes with qemu-system-data, a dependency) and xz to unpack the kernel */
const VM_PACKAGES = ['qemu-system-x86', 'xz-utils'] as const;
/** the full test suite (npm test's pretest: install --vm) also opens the HTML reports in a headless browser */
const TEST_PACKAGES = ['chromium'] as const;

export function requireRoot(what: string): void {
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    throw new LabError(`${what} needs root (network namespaces, mounts, apt-get); run it as root, e.g. with sudo`);
  }
}

/** Packages of the list that dpkg does not report as installed. */
export async function missingPackages(pkgs: readonly string[]): Promise<string[]> {
  const r = await run('dpkg-query', ['-W', '-f', '${Package} ${db:Status-Abbrev}\n', ...pkgs]);
  const installed = new Set(
    r.stdout
      .split('\n')
      .map((l) => l.trim().split(/\s+/))
      .filter((f) => f[1]?.startsWith('ii'))
      .map((f) => f[0]),
  );
  return pkgs.filter((p) => !installed.has(p));
}

/** Install the lab's packages that are missing; says what it does. Returns the packages it installed. */
export async function installPackages(opts: { vm: boolean; log?: (s: string) => void }): Promise<string[]> {
  return aptInstallMissing([...HOST_PACKAGES, ...(opts.vm ? [...VM_PACKAGES, ...TEST_PACKAGES] : [])], 'lab', opts.log);
}

/** apt-get install the packages of `want` that are missing (apt-get update first when that fails); `who` prefixes the messages. */
export async function aptInstallMissing(want: readonly string[], who: string, logTo?: (s: string) => void): Promise<string[]> {
  const log = logTo ?? ((s: string) => process.stdout.write(s + '\n'));
  const missing = await missingPackages(want);
  if (missing.length === 0) return [];
  requireRoot(`installing the ${who} packages (${missing.join(' ')})`);
  log(`${who}: installing missing Debian packages: ${missing.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const args = ['install', '-y', '-q', '--no-install-recommends', ...missing];
  let r = await run('apt-get', args, { env });
  if (r.code !== 0) {
    // a fresh machine has no package lists yet
    log(`${who}: apt-get install failed, running apt-get update and retrying`);
    const u = await run('apt-get', ['update', '-q'], { env });
    if (u.code !== 0) throw new LabError(`apt-get update failed: ${u.stderr.trim().slice(-1500)}`);
    r = await run('apt-get', args, { env });
  }
  if (r.code !== 0) {
    throw new LabError(`apt-get install ${missing.join(' ')} failed: ${r.stderr.trim().slice(-1500)}\n  fix: install them by hand, then retry`);
  }
  log(`${who}: installed ${missing.join(' ')}`);
  return missing;
}
