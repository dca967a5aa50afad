/**
 * SshPool: one SSH connection per host, opened on first use and reused for everything (facts, apply, handlers,
 * verification); the hosts behind a jump host share connections to it, at most `jumpChannels` hosts per connection
 * (src/transport/jump-lines.ts). closeAll() closes everything.
 * A host with connection 'local' gets a LocalConnection (the controller's /bin/sh) instead.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Client } from 'ssh2';
import * as z from 'zod';
import { UsageError } from '../errors.ts';
import { dial, DialError, hopLabel, type Hop } from './dial.ts';
import { KnownHostsStore } from './host-keys.ts';
import { JUMP_CHANNELS_DEFAULT, JUMP_CHANNELS_MAX, JumpLines, type LineSlot } from './jump-lines.ts';
import { identityFiles, KeyLoader, PASSPHRASE_ENV, terminalPrompt, type PassphrasePrompt } from './identity.ts';
import { LocalConnection } from './local-connection.ts';
import { DISCONNECT_WAIT_MS, SshConnection } from './ssh-connection.ts';
import { UnreachableError, type Connection, type ConnectionSpec } from './types.ts';

const optionsSchema = z.object({
  /** trust-on-first-use: append unknown host keys to known_hosts instead of refusing them */
  acceptNewHostKeys: z.boolean().default(false),
  /** per hop, for TCP connect + handshake + authentication; a spec's connectTimeoutMs wins */
  connectTimeoutMs: z.number().int().positive().default(10_000),
  /** default for exec; 0 disables */
  commandTimeoutMs: z.number().int().nonnegative().default(600_000),
  /**
   * a connection that answers nothing (not even SSH keepalives, sent every third of this) for this long is dead:
   * its commands fail with UnreachableError. 0 disables keepalive.
   */
  keepaliveWindowMs: z.number().int().nonnegative().default(30_000),
  /** concurrent exec channels per host (sshd's MaxSessions defaults to 10; one is kept for killing timed-out commands) */
  maxChannelsPerHost: z.number().int().min(1).max(9).default(8),
  /** hosts (direct-tcpip channels) per connection to a jump host; a spec's jumpChannels wins */
  jumpChannels: z.number().int().min(1).max(JUMP_CHANNELS_MAX).default(JUMP_CHANNELS_DEFAULT),
});

export interface SshPoolOptions {
  acceptNewHostKeys?: boolean;
  connectTimeoutMs?: number;
  commandTimeoutMs?: number;
  keepaliveWindowMs?: number;
  maxChannelsPerHost?: number;
  jumpChannels?: number;
  /** where HOME, SSH_AUTH_SOCK and LVSPLAY_SSH_PASSPHRASE come from (default: process.env) */
  env?: NodeJS.ProcessEnv;
  /** how to ask for a key passphrase; default: on the terminal when stdin is a TTY; false: never ask */
  passphrasePrompt?: PassphrasePrompt | false;
}

export interface PoolStats {
  /** SSH connections opened to target hosts */
  hostConnections: number;
  /** SSH connections opened to jump hosts */
  jumpConnections: number;
}

export class SshPool {
  readonly stats: PoolStats = { hostConnections: 0, jumpConnections: 0 };
  private readonly o: z.infer<typeof optionsSchema>;
  private readonly env: NodeJS.ProcessEnv;
  private readonly home: string;
  private readonly loader: KeyLoader;
  private readonly store = new KnownHostsStore();
  private readonly hosts = new Map<string, Promise<SshConnection | LocalConnection>>();
  /** the open connections among `hosts`, by spec name */
  private readonly live = new Map<string, SshConnection>();
  /** the connections to each jump host, by the chain up to it ("root@a:22 -> root@b:22") */
  private readonly jumps = new Map<string, JumpLines<Client>>();
  /** every SSH client we opened and have not seen close, for closeAll */
  private readonly clients = new Set<Client>();
  private closed = false;

  constructor(opts: SshPoolOptions = {}) {
    const { env, passphrasePrompt, ...rest } = opts;
    const parsed = optionsSchema.safeParse(rest);
    if (!parsed.success) {
      throw new UsageError(
        `invalid SSH options: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
      );
    }
    this.o = parsed.data;
    this.env = env ?? process.env;
    this.home = this.env.HOME || homedir();
    this.loader = new KeyLoader(
      this.env[PASSPHRASE_ENV],
      passphrasePrompt === false ? undefined : (passphrasePrompt ?? terminalPrompt),
    );
  }

  /** The open connection to this host (by spec.name), connecting on first use. Rejects with UnreachableError. */
  connect(spec: ConnectionSpec): Promise<Connection> {
    if (this.closed) return Promise.reject(new UnreachableError(spec.name, 'the SSH pool is closed'));
    const live = this.live.get(spec.name);
    if (live && !live.alive) {
      // closed by its user or by the server: open a new one
      this.live.delete(spec.name);
      this.hosts.delete(spec.name);
    }
    let p = this.hosts.get(spec.name);
    if (!p) {
      p = this.open(spec);
      this.hosts.set(spec.name, p);
      // A failed connect is not remembered: a later call tries again.
      p.catch(() => {
        if (this.hosts.get(spec.name) === p) this.hosts.delete(spec.name);
      });
    }
    return p;
  }

  private async open(spec: ConnectionSpec): Promise<SshConnection | LocalConnection> {
    if (spec.connection === 'local') return new LocalConnection(spec, this.o.commandTimeoutMs);
    const chain = spec.jumps.map(hopLabel);
    const target: Hop = { host: spec.host, port: spec.port, user: spec.user };
    const where = hopLabel(target) + (chain.length ? ` via ${chain.join(' -> ')}` : '');
    let slot: LineSlot<Client> | undefined;
    try {
      if (spec.jumps.length > 0) slot = await this.jumpSlot(spec, spec.jumps.length - 1);
    } catch (err) {
      throw this.unreachable(spec, err, `cannot reach ${where}: `);
    }
    const via = slot && { client: slot.client, label: chain.at(-1)! };
    let client: Client;
    try {
      client = await this.dialHop(spec, target, via, true);
    } catch (err) {
      slot?.release();
      const viaNamed = err instanceof DialError && err.message.startsWith('jump host');
      throw this.unreachable(spec, err, '', chain.length && !viaNamed ? ` (reached via ${chain.join(' -> ')})` : '');
    }
    if (slot) client.once('close', slot.release);
    this.stats.hostConnections++;
    const conn = new SshConnection(spec, client, {
      commandTimeoutMs: this.o.commandTimeoutMs,
      maxChannels: this.o.maxChannelsPerHost,
      where,
      onGone: () => {
        if (this.live.get(spec.name) !== conn) return;
        this.live.delete(spec.name);
        this.hosts.delete(spec.name);
      },
    });
    this.live.set(spec.name, conn);
    return conn;
  }

  /**
   * A channel on a connection to jump host i of spec's chain, shared by every host whose chain starts the same way
   * (a further jump of the chain takes one on the hop before it, the same way).
   */
  private jumpSlot(spec: ConnectionSpec, i: number): Promise<LineSlot<Client>> {
    const key = spec.jumps
      .slice(0, i + 1)
      .map(hopLabel)
      .join(' -> ');
    let lines = this.jumps.get(key);
    if (!lines) this.jumps.set(key, (lines = new JumpLines<Client>()));
    return lines.acquire(spec.jumpChannels ?? this.o.jumpChannels, (gone) => this.dialJump(spec, i, gone));
  }

  /** One more connection to jump host i of spec's chain. */
  private async dialJump(spec: ConnectionSpec, i: number, gone: () => void): Promise<Client> {
    const hop = spec.jumps[i];
    const outer = i > 0 ? await this.jumpSlot(spec, i - 1) : undefined;
    let client: Client;
    try {
      client = await this.dialHop(spec, hop, outer && { client: outer.client, label: hopLabel(spec.jumps[i - 1]) });
    } catch (err) {
      outer?.release();
      throw new DialError(`jump host ${hopLabel(hop)}: ${(err as Error).message}`);
    }
    this.stats.jumpConnections++;
    client.once('close', () => {
      outer?.release();
      gone();
    });
    return client;
  }

  private async dialHop(spec: ConnectionSpec, hop: Hop, via: { client: Client; label: string } | undefined, target = false): Promise<Client> {
    const client = await dial({
      hop,
      via,
      knownHostsFile: spec.knownHostsFile ?? join(this.home, '.ssh', 'known_hosts'),
      // StrictHostKeyChecking=no (spec) is looser than --accept-new-host-keys, which is looser than the default
      hostKeyPolicy: spec.hostKeyPolicy === 'off' ? 'off' : this.o.acceptNewHostKeys ? 'accept-new' : (spec.hostKeyPolicy ?? 'strict'),
      // the password is the target's (ansible_password); jump hosts authenticate with keys
      password: target ? spec.password?.reveal() : undefined,
      timeoutMs: spec.connectTimeoutMs ?? this.o.connectTimeoutMs,
      keepaliveWindowMs: this.o.keepaliveWindowMs,
      agentSocket: this.env.SSH_AUTH_SOCK || undefined,
      // Jump hosts use the same keys as the host behind them (one lab key, as a rule).
      identities: identityFiles(spec.privateKeyFile === undefined ? undefined : [spec.privateKeyFile, ...(spec.moreIdentityFiles ?? [])], this.home),
      loader: this.loader,
      store: this.store,
    });
    if (this.closed) {
      client.end();
      throw new DialError('the SSH pool was closed while connecting');
    }
    this.clients.add(client);
    client.on('close', () => this.clients.delete(client));
    return client;
  }

  private unreachable(spec: ConnectionSpec, err: unknown, prefix: string, suffix = ''): UnreachableError {
    const msg = err instanceof Error ? err.message : String(err);
    return new UnreachableError(spec.name, prefix + msg + suffix);
  }

  /** Close every host and jump connection (hosts first, then jumps from the innermost out). */
  async closeAll(): Promise<void> {
    this.closed = true;
    const conns = await Promise.allSettled([...this.hosts.values()]);
    this.hosts.clear();
    this.live.clear();
    await Promise.all(conns.map((r) => (r.status === 'fulfilled' ? r.value.close() : undefined)));
    const jumpKeys = [...this.jumps.keys()].sort((a, b) => b.split(' -> ').length - a.split(' -> ').length);
    for (const key of jumpKeys) await Promise.all(this.jumps.get(key)!.clients().map(endClient));
    this.jumps.clear();
    await Promise.all([...this.clients].map(endClient));
  }
}

/** End an SSH client and wait for its socket to close (at most DISCONNECT_WAIT_MS, then destroy it). */
function endClient(client: Client): Promise<void> {
  return new Promise((resolve) => {
    const force = setTimeout(() => {
      client.destroy();
      resolve();
    }, DISCONNECT_WAIT_MS);
    client.once('close', () => {
      clearTimeout(force);
      resolve();
    });
    client.end();
    const sock = (client as unknown as { _sock?: { destroyed?: boolean; writable?: boolean } })._sock;
    if (!sock || sock.destroyed || sock.writable === false) {
      clearTimeout(force);
      resolve();
    }
  });
}
