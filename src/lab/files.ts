/**
 * The lab's own files: keys (kept across up/down so that known_hosts stays valid), known_hosts, an ssh_config for
 * `ssh -F`, the sshd configs and the fleet programs.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync, chmodSync } from 'node:fs';
import path from 'node:path';
import { runOk } from './run.ts';
import type { LabPaths } from './paths.ts';
import { HOST_INIT, HOST_SSHD_CONFIG, JUMP_PL, jumpSshdConfig } from './scripts.ts';
import type { LabTopology } from './topology.ts';

async function ensureKey(file: string, comment: string): Promise<void> {
  if (existsSync(file) && existsSync(`${file}.pub`)) return;
  await runOk('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', file], { input: 'y\n' });
}

/** Keys (created once), known_hosts, ssh_config, sshd configs and the fleet programs. */
export async function writeLabFiles(p: LabPaths, t: LabTopology): Promise<void> {
  for (const d of [p.sshDir, p.binDir, p.hostsDir]) mkdirSync(d, { recursive: true, mode: 0o700 });
  await ensureKey(p.key, `lvsplay-lab-${p.id}`);
  const hostKey = path.join(p.sshDir, 'host_ed25519_key');
  await ensureKey(hostKey, `lvsplay-lab-${p.id}-host`);
  const hostPub = readFileSync(`${hostKey}.pub`, 'utf8').trim().split(/\s+/).slice(0, 2).join(' ');

  writeFileSync(path.join(p.sshDir, 'authorized_keys'), readFileSync(p.pubKey, 'utf8'), { mode: 0o600 });
  writeFileSync(path.join(p.sshDir, 'host_sshd_config'), HOST_SSHD_CONFIG, { mode: 0o600 });
  writeFileSync(path.join(p.sshDir, 'jump_sshd_config'), jumpSshdConfig(p.sshDir), { mode: 0o600 });
  writeFileSync(path.join(p.binDir, 'host-init.sh'), HOST_INIT, { mode: 0o755 });
  writeFileSync(path.join(p.binDir, 'jump.pl'), JUMP_PL, { mode: 0o755 });
  chmodSync(hostKey, 0o600);

  // every host shares the lab host key: one known_hosts line per address (and name), plus the jump
  const lines = [`[127.0.0.1]:${t.jump.port} ${hostPub}`, ...t.hosts.map((h) => `${h.mgmt},${h.name} ${hostPub}`)];
  writeFileSync(p.knownHosts, lines.join('\n') + '\n', { mode: 0o644 });
  writeFileSync(p.sshConfig, sshConfig(p, t), { mode: 0o644 });
}

/** For `ssh -F LABDIR/ssh_config root@ADDRESS` (ssh -J alone would not pass -i/known_hosts to the jump). */
export function sshConfig(p: LabPaths, t: LabTopology): string {
  const common = `  User root
  IdentityFile ${p.key}
  IdentitiesOnly yes
  UserKnownHostsFile ${p.knownHosts}
  StrictHostKeyChecking yes
  BatchMode yes
  LogLevel ERROR
`;
  return `# lvsplay lab ${p.id}: ssh -F ${p.sshConfig} HOST
Host lvsplay-lab-jump
  HostName 127.0.0.1
  Port ${t.jump.port}
${common}
Host ${t.hosts.map((h) => `${h.name} ${h.mgmt}`).join(' ')}
${common}  ProxyJump lvsplay-lab-jump
${t.hosts.map((h) => `\nHost ${h.name}\n  HostName ${h.mgmt}`).join('\n')}
`;
}
