/**
 * The floor: the least an SSH push tool does, with nothing of lvsplay in it. Plain ssh2 (compiled, run with plain
 * `node`, no tsx): one connection to the jump host, then per host a direct-tcpip channel through it, an SSH
 * connection over that (host key checked against the lab's key, public-key login), `true`, close; `forks` hosts
 * at a time, as the tools. TCP_NODELAY on the jump's socket and EOF on the command's stdin (as `ssh -n`), both
 * ssh2's public API: without them Nagle's algorithm and delayed ACKs add 40 ms stalls, and a floor must not be
 * slower than a client can be (20 hosts in the tier-1 lab: 0.37–0.40 s → 0.28–0.33 s of SSH). The parent (bench.ts) resolves the inventory into a FloorSpec file, so the floor does
 * not even parse YAML.
 */
import { readFileSync } from 'node:fs';
import ssh2 from 'ssh2';
import type { Client as ClientType, ConnectConfig } from 'ssh2';

const { Client, utils } = ssh2;

export interface FloorEndpoint {
  host: string;
  port: number;
  user: string;
}

export interface FloorSpec {
  jump: FloorEndpoint;
  hosts: FloorEndpoint[];
  /** the private key file (OpenSSH format, unencrypted: the lab's) */
  key: string;
  /** the one host key the lab's hosts and jump present, as an OpenSSH public key line */
  hostKey: string;
  forks: number;
  timeoutMs: number;
}

function open(c: FloorEndpoint, privateKey: Buffer, hostKey: Buffer, timeoutMs: number, sock?: NodeJS.ReadableStream): Promise<ClientType> {
  return new Promise((resolve, reject) => {
    const client = new Client();
    const cfg: ConnectConfig = {
      host: c.host,
      port: c.port,
      username: c.user,
      privateKey,
      readyTimeout: timeoutMs,
      hostVerifier: (key: Buffer) => key.equals(hostKey),
      ...(sock ? { sock: sock as ConnectConfig['sock'] } : {}),
    };
    client.once('ready', () => resolve(client)).once('error', reject).connect(cfg);
    if (!sock) client.setNoDelay(true);
  });
}

function forward(jump: ClientType, to: FloorEndpoint): Promise<NodeJS.ReadableStream> {
  return new Promise((resolve, reject) => jump.forwardOut('127.0.0.1', 0, to.host, to.port, (e, ch) => (e ? reject(e) : resolve(ch))));
}

function runTrue(client: ClientType, name: string): Promise<void> {
  return new Promise((resolve, reject) =>
    client.exec('true', (e, ch) => {
      if (e) return reject(e);
      ch.on('data', () => {}).stderr.on('data', () => {});
      ch.end(); // no stdin, as `ssh -n`
      ch.once('close', (code: number) => (code === 0 ? resolve() : reject(new Error(`${name}: true exited ${code}`))));
    }),
  );
}

/** Connect to every host and run `true`; the seconds that took (without Node's start-up). */
export async function floor(spec: FloorSpec): Promise<{ hosts: number; ssh_s: number }> {
  const privateKey = readFileSync(spec.key);
  const parsed = utils.parseKey(spec.hostKey);
  if (parsed instanceof Error) throw new Error(`floor: cannot read the host key: ${parsed.message}`);
  const hostKey = (Array.isArray(parsed) ? parsed[0]! : parsed).getPublicSSH();
  const t0 = performance.now();
  const jump = await open(spec.jump, privateKey, hostKey, spec.timeoutMs);
  try {
    let next = 0;
    // `forks` workers taking the next host: the same concurrency as --forks / Ansible's forks
    const worker = async () => {
      for (let i = next++; i < spec.hosts.length; i = next++) {
        const h = spec.hosts[i]!;
        const client = await open(h, privateKey, hostKey, spec.timeoutMs, await forward(jump, h));
        try {
          await runTrue(client, `${h.user}@${h.host}`);
        } finally {
          client.end();
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(spec.forks, spec.hosts.length) }, worker));
    return { hosts: spec.hosts.length, ssh_s: (performance.now() - t0) / 1000 };
  } finally {
    jump.end();
  }
}
