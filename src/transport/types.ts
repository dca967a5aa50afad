import type { Secret } from './secret.ts';

/** One hop of a ProxyJump chain. */
export interface JumpSpec {
  host: string;
  port: number;
  user: string;
}

/**
 * How host keys are checked (OpenSSH's StrictHostKeyChecking): `strict` refuses unknown keys (yes, ask),
 * `accept-new` records unknown keys, `off` (no) records unknown keys and accepts changed ones (never revoked
 * ones), with password authentication then disabled, as OpenSSH does.
 */
export type HostKeyPolicy = 'strict' | 'accept-new' | 'off';

export type BecomeMethod = 'sudo' | 'su';

/**
 * Everything needed to reach one host, resolved from inventory variables, ansible.cfg and the OpenSSH client
 * configuration. Secret fields (password, becomePassword) are Secret objects: they print as ********.
 */
export interface ConnectionSpec {
  /** inventory name, for messages */
  name: string;
  /** 'local': run on the controller without SSH (ansible_connection: local); default 'ssh' */
  connection?: 'ssh' | 'local';
  host: string; // ansible_host (defaults to the inventory name)
  port: number; // ansible_port (22)
  user: string; // ansible_user (current user)
  privateKeyFile?: string; // ansible_ssh_private_key_file, absolute
  /** further key files to offer after privateKeyFile (more IdentityFile options / ssh config lines), absolute */
  moreIdentityFiles?: string[];
  /** password for password / keyboard-interactive authentication (ansible_password, ansible_ssh_pass) */
  password?: Secret;
  /** StrictHostKeyChecking; undefined: strict unless --accept-new-host-keys */
  hostKeyPolicy?: HostKeyPolicy;
  knownHostsFile?: string; // lvsplay_known_hosts, absolute; default ~/.ssh/known_hosts
  /** ProxyJump chain, outermost first (from ansible_ssh_common_args -o ProxyJump=... / -J ...) */
  jumps: JumpSpec[];
  become: boolean; // ansible_become
  becomeUser?: string; // ansible_become_user (root)
  /** ansible_become_method (sudo) */
  becomeMethod?: BecomeMethod;
  /** written to sudo's stdin when it asks (ansible_become_password, ansible_become_pass) */
  becomePassword?: Secret;
  connectTimeoutMs?: number; // ansible_timeout (seconds in the inventory)
  /** hosts per connection to a jump host (lvsplay_jump_channels): this host joins a jump connection carrying fewer */
  jumpChannels?: number;
}

export interface ExecOptions {
  /** kill the command and fail after this long */
  timeoutMs?: number;
  /** override the spec's become for this exec */
  become?: boolean;
  /** called with each decoded chunk of stdout as it arrives (long-running probes); stdout is still collected */
  onStdout?: (chunk: string) => void;
}

/** Options of a script run in a Shell. */
export interface ShellExecOptions extends ExecOptions {
  /**
   * Another script follows in the same shell: the shell reports this one's end with a marker and waits for the next
   * one. Without it the script is the shell's last (its stdin ends after it; its result is the channel's exit).
   */
  more?: boolean;
}

/**
 * One remote shell for a sequence of scripts (facts, then the changes planned from them): one channel and one
 * process start on the host instead of one per script; each script is still one round trip. Scripts run one
 * after another; the shell's variables and working directory carry over between them (lvsplay's batch scripts
 * set only their own). A script that ends the shell (`exit`) gives its result as exec does; the next one starts
 * a new shell.
 */
export interface Shell {
  exec(script: string, opts?: ShellExecOptions): Promise<ExecResult>;
  /** End the shell (EOF on its stdin when it still waits for a script); the connection stays open. */
  release(): void;
}

export interface ExecResult {
  /** exit status; 128 + signal number when the command was killed by a signal */
  code: number;
  /** set when the command was killed by a signal, as Node names them (e.g. 'SIGKILL') */
  signal?: string;
  stdout: string;
  stderr: string;
}

/** An open SSH connection to one host. Every exec is one round trip. */
export interface Connection {
  readonly spec: ConnectionSpec;
  /** Run a POSIX sh script (sent on stdin to `sh -s`, through sudo or su when become). */
  exec(script: string, opts?: ExecOptions): Promise<ExecResult>;
  /** A shell kept between scripts (see Shell); connections without one run each script as its own exec. */
  shell?(opts?: { become?: boolean }): Shell;
  /** scripts run so far on this connection (round trips) */
  readonly roundTrips: number;
  close(): Promise<void>;
}

/** The connection's own shell, or one that runs each script as a separate exec (same results, one more process start). */
export function shellOf(conn: Connection): Shell {
  return conn.shell?.() ?? { exec: (script, opts) => conn.exec(script, opts), release: () => undefined };
}

/** The host could not be reached (connect, auth, host key, timeout). */
export class UnreachableError extends Error {
  constructor(
    readonly host: string,
    message: string,
    /** what a command lost with its connection had written to stdout by then (how far an apply script got) */
    readonly partialStdout?: string,
  ) {
    super(message);
    this.name = 'UnreachableError';
  }
}
