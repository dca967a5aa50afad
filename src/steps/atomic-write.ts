import { posix } from 'node:path';
import { printBytes, raw, sh } from '../shell.ts';

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
 */
export function atomicWriteScript(o: AtomicWriteOptions): string {
  const dir = posix.dirname(o.path);
  const base = posix.basename(o.path);
  const lines = [
    sh`mkdir -p ${dir}`,
    sh`lvs_tmp=$(mktemp ${`${dir}/.${base}.lvsplay.XXXXXX`})`,
    `trap 'rm -f "$lvs_tmp"' EXIT`,
    // fromShell is shell code by design (built by the caller with sh)
    o.fromShell !== undefined ? sh`{ ${raw(o.fromShell)}
} > "$lvs_tmp"` : sh`${printBytes(o.content ?? '')} > "$lvs_tmp"`,
  ];
  if (o.mode !== undefined) lines.push(`chmod ${o.mode.toString(8).padStart(4, '0')} "$lvs_tmp"`);
  else lines.push(`chmod 0644 "$lvs_tmp"`); // mktemp creates 0600
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
