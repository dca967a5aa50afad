import type { Inventory, Vars } from '../inventory/types.ts';
import type { VerifyEntry } from '../verify/spec.ts';
import type { PredictedState } from './predicted-state.ts';

/**
 * A fact is a command plus a parser (pyinfra's model). All facts a host's steps declare are gathered in ONE exec
 * per host, each command in its own subshell with delimited output; the parser gets that command's stdout and exit code.
 */
export interface Fact<T = unknown> {
  /** unique key: two steps declaring the same key share one gathered value */
  readonly key: string;
  /** POSIX sh snippet, read-only on the host; runs as the connection user (or become) */
  readonly command: string;
  parse(stdout: string, exitCode: number): T;
  /**
   * Set on facts that one command can gather for several arguments at once (fewer processes on the host: a file
   * fact per managed file would start a stat each). gatherFacts runs one command for all facts of a host with the
   * same `batch.kind` and gives each fact the output its own `command` would have printed.
   */
  readonly batch?: FactBatch;
}

export interface FactBatch {
  kind: string;
  /** this fact's argument (a path) */
  arg: string;
  /** one command for these args (in this order) */
  command(args: readonly string[]): string;
  /** that command's output → each arg's output, in order, as the fact's own command prints it */
  split(stdout: string, args: readonly string[]): string[];
}

/** The host a step or role is expanded/planned for. */
export interface HostInfo {
  name: string;
  vars: Vars;
  groups: string[];
}

export interface PlanContext {
  host: HostInfo;
  /** the gathered value of a fact the step declared (throws if it was not declared) */
  fact<T>(f: Fact<T>): T;
  /**
   * Predicted state shared by the steps of this host, in order: a step that will change something later steps
   * depend on records it here (e.g. `predict.module('ip_vs').set(true)`), so the plan stays pure and --check stays exact.
   */
  predict: PredictedState;
}

/** One change a step will make: a summary for the operator and the POSIX sh that makes it. */
export interface Change {
  summary: string;
  /** runs with `set -e` in its own subshell; must be safe to run exactly once */
  script: string;
  /** unified diff shown with --diff (file content changes) */
  diff?: string;
}

export interface Plan {
  changes: Change[];
  /** shown in the plan (e.g. a sysctl key the running kernel lacks, skipped) */
  warnings?: string[];
  /** the whole step is skipped, with the reason */
  skipped?: string;
  /**
   * The changes concern these host groups as a whole (a VRRP instance and its members): the run applies them to
   * every host of a group in the same batch, or refuses before touching any host (see Step.together).
   */
  together?: TogetherGroup[];
}

export interface TogetherGroup {
  /** for messages: 'VRRP instance VI_1' */
  name: string;
  hosts: string[];
}

export interface StepOptions {
  /** handler names notified when this step changes something */
  notify?: string | string[];
  tags?: string[];
  /** label shown in the progress and recap instead of the default */
  name?: string;
  /** Ansible's no_log: the step's changes, diff, output and error text are hidden in every output */
  secret?: boolean;
  /** the same as `secret` (Ansible's spelling) */
  noLog?: boolean;
}

/** A step plans purely from facts: (desired, facts) → changes. Only the engine does I/O. */
export interface Step {
  readonly kind: string; // 'file', 'sysctl', ...
  readonly name: string; // 'file /etc/sysctl.d/90-lvs.conf'
  readonly facts: readonly Fact[];
  plan(ctx: PlanContext): Plan;
  readonly notify?: readonly string[];
  readonly tags?: readonly string[];
  /** its plans may name `together` groups: the engine plans every host of the play before applying any */
  readonly together?: boolean;
  /** hide changes, diff, output and error text (StepOptions.secret / noLog) */
  readonly secret?: boolean;
}

/** Context for expanding roles and per-host step functions (pure: inventory data only, no facts). */
export interface ExpandContext {
  host: HostInfo;
  inventory: Inventory;
  /** hosts of the current play (after --limit) */
  playHosts: string[];
}

/** Something that expands into steps for one host. */
export type StepLike = Step | Role | readonly StepLike[] | ((ctx: ExpandContext) => StepLike) | null | undefined | false;

/** A problem found before anything is touched; reported with exit 4. */
export interface Problem {
  message: string;
  host?: string;
  field?: string;
  file?: string;
  line?: number;
  hint?: string;
}

export interface ValidateContext {
  inventory: Inventory;
  /** hosts of the play this role is used in (after --limit) */
  playHosts: string[];
  /** the whole playbook, for cross-play checks (e.g. a DR real server needs a realserver-dr role somewhere) */
  playbook: Playbook;
}

/** What a playbook-level check sees: the playbook, the inventory, and per play its hosts (after --limit) and roles. */
export interface PlaybookCheckContext {
  inventory: Inventory;
  playbook: Playbook;
  plays: Array<{ hosts: string[]; roles: Role[] }>;
}

/** A problem and the role that reports it (its name prefixes the message). */
export interface RoleProblem {
  role: Role;
  problem: Problem;
}

/**
 * A check of the whole playbook against the inventory that roles bring (the LVS cluster rules): the engine runs each
 * distinct check once per playbook, before any host is touched, however many roles bring it.
 */
export interface PlaybookCheck {
  readonly name: string;
  run(ctx: PlaybookCheckContext): RoleProblem[];
}

/** A role: a named, typed bundle of steps, with whole-inventory validation that runs before any host is touched. */
export interface Role {
  readonly role: string; // role name, e.g. 'director-nat'
  steps(ctx: ExpandContext): StepLike;
  validate?(ctx: ValidateContext): Problem[];
  /** playbook-level checks this role needs (run once per playbook, see PlaybookCheck) */
  readonly checks?: readonly PlaybookCheck[];
  /** handlers this role brings (name → step), merged into the play's */
  handlers?: Record<string, Step | ((ctx: ExpandContext) => Step)>;
}

export interface Play {
  name?: string;
  /** host pattern (same syntax as --limit) */
  hosts: string;
  /** rolling batches: a number, a percentage ('30%'), or a list of either (Ansible semantics) */
  serial?: number | string | Array<number | string>;
  /** stop the play when more than this percentage of a batch's hosts failed */
  maxFailPercentage?: number;
  roles?: Role[];
  steps?: StepLike[];
  /** handler name → step; run once per host at the end of the play, only if notified */
  handlers?: Record<string, Step | ((ctx: ExpandContext) => Step)>;
  tags?: string[];
}

export interface Playbook {
  name: string;
  plays: Play[];
  /** end-of-run verification: entries built by services({...}) (docs/verification.md); none = every service from `clients` */
  verify?: VerifyEntry[];
}
