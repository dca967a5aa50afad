/**
 * A real OpenSSH sshd for tests: listens on 127.0.0.1 at a free high port, with host keys generated in a temp dir,
 * one authorized client key, root login by key only, no PAM, its own PidFile and log. Always stop() it (t.teardown);
 * a process 'exit' hook kills any left running.
 *
 * HOME of the sessions is set (SetEnv) to an empty dir: root's real ~/.bashrc on the dev machines runs pyenv init,
 * 7-11 s per command.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { freePort } from '../../src/lab/ports.ts';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { ConnectionSpec } from '../../src/transport/types.ts';

const run = promisify(execFile);
const SSHD = '/usr/sbin/sshd';

export type KeyType = 'ed25519' | 'ecdsa' | 'rsa';

export interface KeyPair {
  path: string;
  /** the .pub line: "ssh-ed25519 AAAA... comment" */
  publicLine: string;
  /** "ssh-ed25519 AAAA..." without comment */
  publicKey: string;
  type: KeyType;
}

/** Generate an OpenSSH key pair with ssh-keygen. */
export async function makeKey(dir: string, name: string, type: KeyType = 'ed25519', passphrase = ''): Promise<KeyPair> {
  const path = join(dir, name);
  const args = ['-q', '-t', type, '-N', passphrase, '-C', `lvsplay-test-${name}`, '-f', path];
  if (type === 'rsa') args.push('-b', '2048');
  // few KDF rounds: ssh2 decrypts keys in JavaScript, blocking the event loop (~1 s per 16 rounds)
  if (passphrase) args.push('-a', '2');
  await run('ssh-keygen', args);
  const publicLine = readFileSync(`${path}.pub`, 'utf8').trim();
  return { path, publicLine, publicKey: publicLine.split(/\s+/).slice(0, 2).join(' '), type };
}

export async function tempDir(prefix: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `lvsplay-${prefix}-`));
}

/** A login account that exists only for the test sshd and its sessions (see SshdOptions.accounts). */
export interface TestAccount {
  name: string;
  uid: number;
  password: string;
  /** a sudoers rule for the account: sudo to any user, asking for the account's password (or not) */
  sudo?: 'password' | 'nopasswd';
}

export interface SshdOptions {
  /** public key lines allowed to log in as root (and any user) */
  authorizedKeys: string[];
  /**
   * Accounts with passwords: sshd then runs in its own mount namespace where /etc/passwd, shadow, group, sudoers
   * and the sshd/sudo/su PAM files are test copies bind-mounted over the machine's (the machine's files are
   * untouched; only sshd and its sessions see the copies). Use with extraConfig such as 'UsePAM yes',
   * 'PasswordAuthentication yes' or 'KbdInteractiveAuthentication yes'.
   */
  accounts?: TestAccount[];
  /** host key types to generate (default: ed25519) */
  hostKeyTypes?: KeyType[];
  /** extra sshd_config lines; they take precedence over the helper's defaults */
  extraConfig?: string[];
}

export interface Sshd {
  host: '127.0.0.1';
  port: number;
  dir: string;
  hostKeys: KeyPair[];
  /** known_hosts line(s) for this server, "[127.0.0.1]:port type base64" */
  knownHostsLines(): string[];
  log(): string;
  /** how many logins sshd accepted so far (its log's "Accepted publickey" lines) */
  acceptedLogins(): number;
  stop(): Promise<void>;
}

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const p of running) p.kill('SIGKILL');
});

export async function startSshd(opts: SshdOptions): Promise<Sshd> {
  // sshd refuses to start without its privilege separation directory.
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const dir = await tempDir('sshd');
  mkdirSync(join(dir, 'home'));
  const hostKeys: KeyPair[] = [];
  for (const t of opts.hostKeyTypes ?? ['ed25519']) hostKeys.push(await makeKey(dir, `ssh_host_${t}_key`, t));
  writeFileSync(join(dir, 'authorized_keys'), opts.authorizedKeys.join('\n') + '\n', { mode: 0o644 });
  const wrap = opts.accounts?.length ? await accountNamespace(dir, opts.accounts) : undefined;

  let lastError: Error | undefined;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const logFile = join(dir, `sshd-${port}.log`);
    const config = [
      // sshd_config keeps the first value it reads for a keyword: extra lines go first to override the defaults.
      ...(opts.extraConfig ?? []),
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      ...hostKeys.map((k) => `HostKey ${k.path}`),
      `PidFile ${join(dir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
      'UsePAM no',
      'StrictModes no',
      'PermitRootLogin prohibit-password',
      'PubkeyAuthentication yes',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'AllowTcpForwarding yes',
      'LogLevel VERBOSE',
      // tests open many connections at once; the default (10:30:100) drops some before the handshake
      'MaxStartups 100',
      `SetEnv HOME=${join(dir, 'home')}`,
    ];
    const configFile = join(dir, 'sshd_config');
    writeFileSync(configFile, config.join('\n') + '\n');
    const sshdArgs = ['-D', '-f', configFile, '-E', logFile];
    const child = wrap
      ? spawn('unshare', ['--mount', 'sh', '-c', `${wrap} && exec ${SSHD} "$@"`, 'sh', ...sshdArgs], { stdio: 'ignore' })
      : spawn(SSHD, sshdArgs, { stdio: 'ignore' });
    running.add(child);
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.once('exit', () => running.delete(child));
    const readLog = () => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : '');
    const ready = await waitFor(() => readLog().includes('Server listening on'), exited, 10_000);
    if (ready === true) {
      const stop = async () => {
        if (child.exitCode === null && child.signalCode === null) {
          child.kill('SIGTERM');
          const t = setTimeout(() => child.kill('SIGKILL'), 2000);
          await exited;
          clearTimeout(t);
        }
        rmSync(dir, { recursive: true, force: true });
      };
      return {
        host: '127.0.0.1',
        port,
        dir,
        hostKeys,
        knownHostsLines: () => hostKeys.map((k) => `[127.0.0.1]:${port} ${k.publicKey}`),
        log: readLog,
        acceptedLogins: () => (readLog().match(/Accepted publickey for /g) ?? []).length,
        stop,
      };
    }
    child.kill('SIGKILL');
    await exited;
    lastError = new Error(`sshd did not start on port ${port} (${ready}):\n${readLog()}`);
  }
  rmSync(dir, { recursive: true, force: true });
  throw lastError;
}

/** Test copies of the account files in dir; returns the shell commands that bind-mount them (in sshd's namespace). */
async function accountNamespace(dir: string, accounts: TestAccount[]): Promise<string> {
  // sessions of the test accounts must reach the home directory inside dir
  await run('chmod', ['755', dir]);
  const etc = join(dir, 'etc');
  mkdirSync(join(etc, 'pam.d'), { recursive: true });
  let passwd = readFileSync('/etc/passwd', 'utf8');
  let shadow = readFileSync('/etc/shadow', 'utf8');
  let group = readFileSync('/etc/group', 'utf8');
  const sudoers = ['Defaults !lecture, timestamp_timeout=0', 'root ALL=(ALL:ALL) ALL'];
  for (const a of accounts) {
    const hash = (await run('openssl', ['passwd', '-6', a.password])).stdout.trim();
    passwd += `${a.name}:x:${a.uid}:${a.uid}:lvsplay test:${join(dir, 'home')}:/bin/sh\n`;
    shadow += `${a.name}:${hash}:19000:0:99999:7:::\n`;
    group += `${a.name}:x:${a.uid}:\n`;
    if (a.sudo) sudoers.push(`${a.name} ALL=(ALL:ALL) ${a.sudo === 'nopasswd' ? 'NOPASSWD: ' : ''}ALL`);
  }
  // root can su to anyone without a password (pam_rootok), others authenticate with their password
  const pam = 'auth required pam_unix.so\naccount required pam_unix.so\nsession required pam_permit.so\npassword required pam_deny.so\n';
  const files: Record<string, [string, number]> = {
    passwd: [passwd, 0o644],
    shadow: [shadow, 0o640],
    group: [group, 0o644],
    sudoers: [sudoers.join('\n') + '\n', 0o440],
    'pam.d/sshd': [pam, 0o644],
    'pam.d/sudo': [pam, 0o644],
    'pam.d/su': ['auth sufficient pam_rootok.so\n' + pam, 0o644],
  };
  const mounts: string[] = [];
  for (const [name, [content, mode]] of Object.entries(files)) {
    writeFileSync(join(etc, name), content, { mode });
    mounts.push(`mount --bind ${join(etc, name)} /etc/${name}`);
  }
  return mounts.join(' && ');
}

/** Poll `cond` until true; resolves true, or a reason ('exited N' / 'timeout'). */
async function waitFor(cond: () => boolean, exited: Promise<number | null>, ms: number): Promise<true | string> {
  let exitCode: number | null | undefined;
  void exited.then((c) => (exitCode = c));
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (cond()) return true;
    if (exitCode !== undefined) return `exited ${exitCode}`;
    await new Promise((r) => setTimeout(r, 25));
  }
  return 'timeout';
}

/** A ConnectionSpec for root on this sshd with this key (override anything). */
export function specFor(sshd: Sshd, key: KeyPair | undefined, over: Partial<ConnectionSpec> = {}): ConnectionSpec {
  return {
    name: `host-${sshd.port}`,
    host: sshd.host,
    port: sshd.port,
    user: 'root',
    privateKeyFile: key?.path,
    jumps: [],
    become: false,
    ...over,
  };
}

/** A known_hosts file in dir listing these servers' host keys. */
export function writeKnownHosts(dir: string, servers: Sshd[], name = 'known_hosts'): string {
  const file = join(dir, name);
  writeFileSync(file, servers.flatMap((s) => s.knownHostsLines()).join('\n') + '\n', { mode: 0o600 });
  return file;
}
