/** One hop of a ProxyJump chain. */
export interface JumpSpec {
  host: string;
  port: number;
  user: string;
}

/** Everything needed to reach one host, resolved from inventory variables. */
export interface ConnectionSpec {
  /** inventory name, for messages */
  name: string;
  host: string; // ansible_host (defaults to the inventory name)
  port: number; // ansible_port (22)
  user: string; // ansible_user (current user)
  privateKeyFile?: string; // ansible_ssh_private_key_file, absolute
  knownHostsFile?: string; // lvsplay_known_hosts, absolute; default ~/.ssh/known_hosts
  /** ProxyJump chain, outermost first (from ansible_ssh_common_args -o ProxyJump=... / -J ...) */
  jumps: JumpSpec[];
  become: boolean; // ansible_become
  becomeUser?: string; // ansible_become_user (root)
  connectTimeoutMs?: number; // ansible_timeout (seconds in the inventory)
}

export interface ExecOptions {
  /** kill the command and fail after this long */
  timeoutMs?: number;
  /** override the spec's become for this exec */
  become?: boolean;
  /** called with each decoded chunk of stdout as it arrives (long-running probes); stdout is still collected */
  onStdout?: (chunk: string) => void;
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
  /** Run a POSIX sh script (sent on stdin to `sh -s`, through `sudo -n` when become). */
  exec(script: string, opts?: ExecOptions): Promise<ExecResult>;
  /** execs so far on this connection */
  readonly roundTrips: number;
  close(): Promise<void>;
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
