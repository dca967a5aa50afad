import { posix } from 'node:path';
import { printContent, raw, sh } from '../shell.ts';

export interface AtomicWriteOptions {
  path: string;
  /** the new content; or `fromShell`: a shell command whose stdout is the new content (computed on the host) */
  content?: string | Buffer;
  fromShell?: string;
  /** numeric mode; applied to the temp file before the rename */
  mode?: number;
  owner?: string;
  group?: string;
  /** command run on the temp file before the swap; `%s` is replaced by its (quoted) path */
  validate?: string;
  /** copy the old file to `backupPath` first */
  backupPath?: string;
}

/**
 * Shell that replaces `path` with `content` atomically: a temp file in the same directory (so rename(2) is atomic
 * on the same filesystem), mode/owner set and optionally validated before the rename, removed on any failure.
 * Readers see the old file or the new one, never a half-written file; on a validation failure the old file stays
 * and the validator's output goes to stderr.
 *
 * Few processes (the script runs on every host, and a fork + exec costs about a millisecond): the directory test,
 * the temp file's creation and the text content are shell builtins, so a plain file costs one `mv`. The temp file
 * is named after the shell's PID and created exclusively (noclobber) with a umask that gives it the final mode;
 * `mktemp` only when that name is taken (a leftover of a killed run), `chmod` only for a mode no umask gives
 * (execute, setuid, setgid, sticky bits) or after mktemp (which creates 0600).
 */
export function atomicWriteScript(o: AtomicWriteOptions): string {
  const dir = posix.dirname(o.path);
  const base = posix.basename(o.path);
  const mode = o.mode ?? 0o644;
  const modeText = mode.toString(8).padStart(4, '0');
  const chmod = `chmod ${modeText} "$lvs_tmp"`;
  const umask = (0o777 & ~mode).toString(8).padStart(4, '0');
  const lines = [
    sh`[ -d ${dir} ] || mkdir -p ${dir}`,
    sh`lvs_tmp=${`${dir}/.${base}.lvsplay.`}$$`,
    // a symlink or other non-regular file already there is not written through: mktemp then
    sh`if ! (umask ${umask}; set -C; : > "$lvs_tmp") 2>/dev/null || [ -L "$lvs_tmp" ] || [ ! -f "$lvs_tmp" ]; then lvs_tmp=$(mktemp ${`${dir}/.${base}.lvsplay.XXXXXX`}); ${raw(chmod)}; fi`,
    `trap 'rm -f "$lvs_tmp"' EXIT`,
    // fromShell is shell code by design (built by the caller with sh)
    o.fromShell !== undefined ? sh`{ ${raw(o.fromShell)}
} > "$lvs_tmp"` : sh`${printContent(o.content ?? '')} > "$lvs_tmp"`,
  ];
  if ((mode & ~0o666) !== 0) lines.push(chmod);
  if (o.owner !== undefined || o.group !== undefined) {
    lines.push(sh`chown ${`${o.owner ?? ''}${o.group !== undefined ? `:${o.group}` : ''}`} "$lvs_tmp"`);
  }
  if (o.validate) {
    // %s → the temp file; the validator runs in a subshell so its exit code decides, and its output is kept
    const cmd = o.validate.split('%s').join('"$lvs_tmp"');
    lines.push(
      // the validator is the operator's shell command by design
      sh`if ! lvs_out=$( (${raw(cmd)}) 2>&1 ); then`,
      `  printf '%s\\n' "$lvs_out" >&2`,
      sh`  echo ${`validation failed (${o.validate}): ${o.path} left unchanged`} >&2`,
      `  exit 1`,
      `fi`,
    );
  }
  if (o.backupPath) lines.push(sh`if [ -f ${o.path} ]; then cp -p ${o.path} ${o.backupPath}; fi`);
  lines.push(sh`mv -f "$lvs_tmp" ${o.path}`, `trap - EXIT`);
  return lines.join('\n');
}
