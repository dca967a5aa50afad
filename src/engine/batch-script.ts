/**
 * Many commands in one exec. Each section runs in its own subshell with stdin from /dev/null (the script itself
 * arrives on stdin to `sh -s`, a command reading stdin would eat it), between markers carrying a per-run nonce,
 * so one round trip serves any number of facts or changes.
 */
import { randomBytes } from 'node:crypto';
import { sh } from '../shell.ts';

export interface Section {
  /** shell run in a subshell */
  script: string;
}

export interface SectionResult {
  index: number;
  output: string;
  code: number;
}

export interface BatchOptions {
  /** `set -e` inside each section (changes); facts run without it */
  errexit: boolean;
  /** stop after the first section whose exit code is not 0 (changes) */
  stopOnFailure: boolean;
  /** merge stderr into the section's output (changes: the operator wants the error text) */
  mergeStderr: boolean;
}

export function newNonce(): string {
  return randomBytes(6).toString('hex');
}

const SYSTEM_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export function buildBatch(sections: readonly Section[], nonce: string, opts: BatchOptions): string {
  const lines: string[] = [
    '# lvsplay batch',
    'LC_ALL=C; export LC_ALL',
    // the system directories first, once: a PATH that already starts with them (sshd's default for root) is left
    // as it is, since every command lookup tries each entry in turn (a missing tool costs a stat per entry)
    `case "$PATH:" in ${SYSTEM_PATH}:*) ;; :) PATH=${SYSTEM_PATH} ;; *) PATH=${SYSTEM_PATH}:$PATH ;; esac; export PATH`,
  ];
  sections.forEach((s, i) => {
    lines.push(sh`printf ${`\\n@@${nonce}:B:${i}@@\\n`}`);
    lines.push(`(${opts.errexit ? ' set -e;' : ''}`);
    lines.push(s.script);
    lines.push(`) </dev/null${opts.mergeStderr ? ' 2>&1' : ' 2>/dev/null'}`);
    lines.push(sh`lvsplay_rc=$?; printf ${`\\n@@${nonce}:E:${i}:%s@@\\n`} "$lvsplay_rc"`);
    if (opts.stopOnFailure) lines.push('[ "$lvsplay_rc" -eq 0 ] || exit 0');
  });
  return lines.join('\n') + '\n';
}

/** Parse the output of buildBatch. Sections that did not run (stopped earlier, or the exec died) are absent. */
export function parseBatch(stdout: string, nonce: string): SectionResult[] {
  const results: SectionResult[] = [];
  const re = new RegExp(`\\n@@${nonce}:B:(\\d+)@@\\n([\\s\\S]*?)\\n@@${nonce}:E:\\1:(\\d+)@@\\n`, 'g');
  for (const m of stdout.matchAll(re)) {
    let output = m[2];
    // the end marker's leading newline is ours; a command whose output ended in \n leaves one more
    results.push({ index: Number(m[1]), output, code: Number(m[3]) });
  }
  return results;
}

/** Output of a section that started but never reached its end marker (the exec was killed or the shell died). */
export function unfinishedSection(stdout: string, nonce: string, done: number): string | undefined {
  const marker = `\n@@${nonce}:B:${done}@@\n`;
  const at = stdout.indexOf(marker);
  return at < 0 ? undefined : stdout.slice(at + marker.length);
}
