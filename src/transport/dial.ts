/**
 * Open one authenticated SSH connection (one hop): directly over TCP, or through a `direct-tcpip` channel of an
 * already open jump connection (ProxyJump). Checks the host key, authenticates, and enforces one connect timeout
 * over TCP connect + handshake + authentication. Failures reject with a DialError whose message an operator can act
 * on; the pool turns it into an UnreachableError.
 */
import type { Duplex } from 'node:stream';
import ssh2 from 'ssh2';
import type { Client as ClientType, ConnectConfig } from 'ssh2';
import { describeAuthFailure, makeAuthHandler, type AuthAttempts } from './auth.ts';
import { formatSeconds } from './errors.ts';
import type { KnownHostsStore } from './host-keys.ts';
import type { IdentityFile, KeyLoader } from './identity.ts';
import type { HostKeyPolicy } from './types.ts';
import { skipHostKeyProofs } from './ssh2-tuning.ts';

const { Client } = ssh2;

export interface Hop {
  host: string;
  port: number;
  user: string;
}

export interface DialOptions {
  hop: Hop;
  /** the jump connection to tunnel through, and how to name it */
  via?: { client: ClientType; label: string };
  knownHostsFile: string;
  hostKeyPolicy: HostKeyPolicy;
  /** password / keyboard-interactive authentication (target host only) */
  password?: string;
  timeoutMs: number;
  /** see SshPoolOptions.keepaliveWindowMs */
  keepaliveWindowMs: number;
  agentSocket?: string;
  identities: IdentityFile[];
  loader: KeyLoader;
  store: KnownHostsStore;
}

export class DialError extends Error {
  override name = 'DialError';
}

export function hopLabel(hop: Hop): string {
  const host = hop.host.includes(':') ? `[${hop.host}]` : hop.host;
  return `${hop.user}@${host}:${hop.port}`;
}

/** A timer firing this much later than due is taken as a stall of this process. */
const STALL_MS = 1000;

/** A timeout that can be held while we wait on the operator (passphrase prompt). */
class PausableTimer {
  private timer: NodeJS.Timeout | undefined;
  private remaining: number;
  private startedAt = 0;
  private holds = 0;
  constructor(
    ms: number,
    private readonly fire: () => void,
  ) {
    this.remaining = ms;
    this.resume();
  }
  hold(): void {
    if (this.holds++ === 0 && this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
      this.remaining -= Date.now() - this.startedAt;
    }
  }
  release(): void {
    if (--this.holds === 0) this.resume();
  }
  private resume(): void {
    this.startedAt = Date.now();
    const due = Math.max(0, this.remaining);
    this.timer = setTimeout(() => {
      // A timer that fires far too late means our own event loop was stalled (decrypting a key with bcrypt-pbkdf
      // in JavaScript takes seconds): that time is not the host's fault, so it does not count.
      const late = Date.now() - this.startedAt - due;
      if (late > STALL_MS) {
        this.remaining = late;
        this.resume();
      } else this.fire();
    }, due);
  }
  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.holds = Number.POSITIVE_INFINITY; // never restart
  }
}

export function socketReason(err: NodeJS.ErrnoException, o: Pick<DialOptions, 'hop'>): string | undefined {
  const hp = `${o.hop.host}:${o.hop.port}`;
  switch (err.code) {
    case 'ECONNREFUSED':
      return `connection refused by ${hp} (is sshd running and listening on port ${o.hop.port}?)`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_NONAME':
      return `cannot resolve host name ${o.hop.host} (check ansible_host)`;
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'ETIMEDOUT':
      return `${hp} is unreachable (${err.code})`;
    case 'ECONNRESET':
      return `connection reset by ${hp}`;
    case 'EMFILE':
    case 'ENFILE':
      // every directly reached host holds a socket until the run ends; hosts behind a jump hold none
      return `lvsplay has no file descriptor left to connect to ${hp} (${err.code}): raise the open-files limit (ulimit -n, LimitNOFILE) or reach hosts through a jump host`;
    default:
      return undefined;
  }
}

export function dial(o: DialOptions): Promise<ClientType> {
  const label = hopLabel(o.hop);
  return new Promise<ClientType>((resolve, reject) => {
    const client = new Client();
    const attempts: AuthAttempts = { tried: [] };
    let hostKeyReason: string | undefined;
    /** StrictHostKeyChecking=no let a changed key through: like OpenSSH, do not send the password then */
    let keyMismatchAccepted = false;
    let settled = false;

    const fail = (reason: string) => {
      if (settled) return;
      settled = true;
      timer.stop();
      client.destroy();
      reject(new DialError(reason));
    };
    const timer = new PausableTimer(o.timeoutMs, () =>
      fail(
        `timed out after ${formatSeconds(o.timeoutMs)} connecting to ${label}` +
          ` (TCP connect, SSH handshake and authentication; raise ansible_timeout if the host is just slow)`,
      ),
    );

    client.on('error', (err: Error & { level?: string; code?: string }) => {
      if (settled) return;
      if (err.level === 'agent') {
        // ssh2 goes on with the next method after an agent failure; just remember why.
        attempts.tried.push(`ssh-agent failed: ${err.message}`);
        return;
      }
      if (hostKeyReason) return fail(hostKeyReason);
      if (err.level === 'client-authentication') return fail(describeAuthFailure(label, attempts));
      const sock = socketReason(err as NodeJS.ErrnoException, o);
      if (sock) return fail(sock);
      if (/before handshake/i.test(err.message)) {
        return fail(`${label} closed the connection before the SSH handshake (not an SSH server, or sshd refused it: MaxStartups?)`);
      }
      fail(`SSH connection to ${label} failed: ${err.message}`);
    });
    client.on('close', () => {
      fail(hostKeyReason ?? `${label} closed the connection during connect`);
    });
    client.on('ready', () => {
      if (settled) {
        client.end();
        return;
      }
      settled = true;
      timer.stop();
      // Over a jump, the socket is a forwarded channel: when the jump's connection to the host dies, the jump sends
      // EOF on it and waits for us, and ssh2 reports only 'end' (its keepalive then stops silently and its destroy()
      // does nothing, the socket no longer being readable). Nothing more can arrive: close the channel, so the
      // client closes and the connection's users see it gone.
      if (forwarded) client.once('end', () => forwarded!.destroy());
      resolve(client);
    });

    let forwarded: Duplex | undefined;
    const start = async () => {
      const algorithms = await o.store.preferredAlgorithms(o.knownHostsFile, o.hop.host, o.hop.port);
      let sock: Duplex | undefined;
      if (o.via) {
        sock = forwarded = await new Promise<Duplex>((res, rej) => {
          try {
            o.via!.client.forwardOut('127.0.0.1', 0, o.hop.host, o.hop.port, (err, stream) => {
              if (err) {
                rej(
                  new DialError(
                    `jump host ${o.via!.label} could not open a connection to ${o.hop.host}:${o.hop.port}: ${err.message.replace(/^\(SSH\) /, '')}`,
                  ),
                );
              } else res(stream);
            });
          } catch (err) {
            rej(new DialError(`jump host ${o.via!.label} is no longer connected: ${(err as Error).message}`));
          }
        });
      }
      if (settled) {
        sock?.destroy();
        return;
      }
      const config: ConnectConfig = {
        host: o.hop.host,
        port: o.hop.port,
        username: o.hop.user,
        sock,
        readyTimeout: 0, // our own timer covers the whole connect, and can wait for a passphrase prompt
        // ssh2 gives up when a keepalive is the (countMax+1)th unanswered in a row: 3 intervals of silence
        keepaliveInterval: Math.ceil(o.keepaliveWindowMs / 3),
        keepaliveCountMax: 2,
        algorithms: algorithms ? { serverHostKey: algorithms as never } : undefined,
        hostVerifier: (key: Buffer, verify: (ok: boolean) => void) => {
          o.store
            .verify({
              file: o.knownHostsFile,
              host: o.hop.host,
              port: o.hop.port,
              label,
              key,
              acceptNew: o.hostKeyPolicy !== 'strict',
            })
            .then(
              (d) => {
                if (!d.ok && o.hostKeyPolicy === 'off' && d.kind === 'changed') {
                  keyMismatchAccepted = true;
                  return verify(true);
                }
                if (!d.ok) hostKeyReason = d.reason;
                verify(d.ok);
              },
              (err: Error) => {
                hostKeyReason = err.message;
                verify(false);
              },
            );
        },
        authHandler: makeAuthHandler(
          {
            username: o.hop.user,
            agentSocket: o.agentSocket,
            identities: o.identities,
            loader: o.loader,
            get password() {
              return keyMismatchAccepted ? undefined : o.password;
            },
          },
          attempts,
          (waiting) => (waiting ? timer.hold() : timer.release()),
        ),
      };
      client.connect(config);
      skipHostKeyProofs(client);
      // TCP_NODELAY on our own socket (a forwarded channel has none): without it, Nagle's algorithm holds each of our
      // small packets that follows another until the server acknowledges the first, which it delays by 40 ms (login
      // to the lab's jump: 84 → 46 ms; a command on a directly reached host: 47 → 3 ms)
      if (!sock) client.setNoDelay(true);
    };
    start().catch((err: Error) => fail(err.message));
  });
}
