/**
 * Privilege escalation (become) for both transports: the command line that runs a script as another user through
 * sudo or su, and, when a become password is set, the dialog that answers the password prompt on stdin before the
 * script is sent (sudo -S with a prompt of our own; nothing is echoed, and the prompt never reaches the output).
 */
import { randomBytes } from 'node:crypto';
import { raw, sh } from '../shell.ts';
import type { ConnectionSpec, ExecResult } from './types.ts';

const SUDO_MISSING_MARK = 'lvsplay-become: sudo not found';
/** printed on stderr by the shell that sudo/su started: the password dialog is over, the script may be sent */
const READY_MARK = '@lvsplay-become-ready';

/** The user to become, or undefined when no become is needed (off, or already that user). */
function becomeTarget(spec: ConnectionSpec, become: boolean): string | undefined {
  const target = spec.becomeUser ?? 'root';
  // Already that user: sudo would add nothing but a dependency on sudo.
  return become && target !== spec.user ? target : undefined;
}

export interface BecomeCommand {
  /** the shell command line to run */
  command: string;
  /** set when the password dialog runs: feed stderr to it and send the script only once it is ready */
  dialog?: BecomeDialog;
}

/**
 * The command line that runs `command` (a shell command reading its script on stdin), through sudo or su when
 * becoming another user. With a become password, sudo reads it from stdin (-S) after printing a prompt of our own.
 */
export function becomeCommand(spec: ConnectionSpec, become: boolean, command = 'sh -s'): BecomeCommand {
  const target = becomeTarget(spec, become);
  if (target === undefined) return { command };
  const password = spec.becomePassword?.reveal();
  const method = spec.becomeMethod ?? 'sudo';
  // `command` is shell code by design (the caller's script runner, e.g. `sh -s`)
  const inner = sh`echo ${READY_MARK} >&2; exec ${raw(command)}`;
  if (method === 'su') {
    // su (util-linux, through PAM) prints "Password: " on stderr and reads the answer from stdin when there is no
    // terminal; run by root it asks nothing. LC_ALL=C keeps the prompt in English, so that it can be recognised.
    const su = sh`LC_ALL=C exec su -s /bin/sh -c ${password === undefined ? command : inner} ${target}`;
    return password === undefined ? { command: su } : { command: su, dialog: new BecomeDialog(password, /Password: ?/) };
  }
  const check = sh`command -v sudo >/dev/null 2>&1 || { echo ${SUDO_MISSING_MARK} >&2; exit 127; }; `;
  if (password === undefined) return { command: check + sh`exec sudo -n -u ${target} -- ${raw(command)}` };
  const prompt = `[lvsplay-become-${randomBytes(6).toString('hex')}] `;
  return {
    command: check + sh`exec sudo -S -p ${prompt} -u ${target} -- sh -c ${inner}`,
    dialog: new BecomeDialog(password, new RegExp(prompt.replace(/[[\]]/g, '\\$&'))),
  };
}

/**
 * Watches stderr until sudo asks (write the password once), or the started shell reports it is ready. A second
 * prompt means the password was refused: stdin is then closed, so that sudo gives up instead of waiting.
 */
export class BecomeDialog {
  private seen = '';
  private prompts = 0;
  /** sudo asked again: the password is wrong */
  wrongPassword = false;
  ready = false;

  constructor(
    private readonly password: string,
    private readonly prompt: RegExp,
  ) {}

  /**
   * Feed stderr text received before `ready`. Returns what to write to stdin ('' for nothing, null to close it)
   * and, once ready, the stderr text that followed the ready mark (the script's own).
   */
  feed(text: string): { write: string | null; rest?: string } {
    this.seen += text;
    let write: string | null = '';
    for (;;) {
      const p = this.prompt.exec(this.seen);
      const mark = this.seen.indexOf(READY_MARK + '\n');
      if (mark >= 0 && (!p || mark < p.index)) {
        this.ready = true;
        const rest = this.seen.slice(mark + READY_MARK.length + 1);
        this.seen = this.seen.slice(0, mark);
        return { write, rest };
      }
      if (!p) return { write };
      this.seen = this.seen.slice(0, p.index) + this.seen.slice(p.index + p[0].length);
      if (++this.prompts === 1) write = this.password + '\n';
      else {
        this.wrongPassword = true;
        return { write: null };
      }
    }
  }

  /** stderr received while the dialog ran, less our prompts (sudo's own complaints stay) */
  leftover(): string {
    return this.seen;
  }
}

/** A become failure recognised from sudo's own complaint (sudo fails before running the script), or undefined. */
export function becomeFailure(spec: ConnectionSpec, result: ExecResult, dialog: BecomeDialog | undefined): string | undefined {
  const target = spec.becomeUser ?? 'root';
  if (dialog?.wrongPassword) {
    return `sudo refused the become password for ${spec.user} to become ${target}; check ansible_become_password`;
  }
  if (result.code === 127 && result.stderr.includes(SUDO_MISSING_MARK)) {
    return `become needs sudo, which is not installed (or not on PATH) for ${spec.user}; install sudo on the host or connect as ${target}`;
  }
  if (dialog && !dialog.ready && result.code !== 0) {
    const line = result.stderr.split('\n').find((l) => l.startsWith('sudo: ') || l.startsWith('su: '));
    return `become ${target} failed for ${spec.user}${line ? `: ${line.trim()}` : ` (exit ${result.code})`}`;
  }
  if (result.code !== 1) return undefined;
  const line = result.stderr.split('\n').find((l) => l.startsWith('sudo: ') || l.startsWith('su: '));
  if (!line) return undefined;
  if (/password is required|terminal is required|askpass|must be run from a terminal/.test(line)) {
    return `${spec.becomeMethod ?? 'sudo'} asks ${spec.user} for a password to become ${target} (${line.trim()}); set ansible_become_password, allow it without a password (NOPASSWD in sudoers) or connect as ${target}`;
  }
  if (/unknown user|not in the sudoers|not allowed to|does not exist|Authentication failure/.test(line)) {
    return `${spec.becomeMethod ?? 'sudo'} refused to let ${spec.user} become ${target}: ${line.trim()}`;
  }
  return undefined;
}
