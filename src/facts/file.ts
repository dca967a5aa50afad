import { createHash } from 'node:crypto';
import type { Fact } from '../engine/types.ts';
import { factKey } from '../engine/fact-key.ts';
import { sh } from '../shell.ts';
import { FactParseError, section, splitSections } from './sections.ts';

/** Files up to this size have their content gathered (for diffs and managed blocks); bigger ones only a hash. */
const FILE_CONTENT_LIMIT = 1024 * 1024;

export type FileState =
  | { exists: false }
  | {
      exists: true;
      /** 'file' for a regular file, otherwise what it is (a directory cannot be managed as a file) */
      type: 'file' | 'directory' | 'other';
      mode: number;
      uid: number;
      gid: number;
      owner: string;
      group: string;
      size: number;
      sha256: string;
      /** the content, when the file is not larger than FILE_CONTENT_LIMIT */
      content?: string;
    };

/** The content of a small regular file `$f` (base64), or the sha256 of a large one; `$st` holds its stat line. */
const CONTENT_OR_HASH = [
  `  if [ "\${st##* }" -le ${FILE_CONTENT_LIMIT} ]; then echo @@content; base64 < "$f"`,
  `  else echo @@sha256; set -- $(sha256sum < "$f"); echo "$1"; fi`,
];
const NOT_A_FILE = [`elif [ -d "$f" ]; then echo @@directory`, `elif [ -e "$f" ]; then echo @@other`, `else echo @@absent; fi`];
const STAT_FORMAT = '%a %u %g %U %G %s';

/** A file's existence, mode, owner, sha256 and (if small) content. Symlinks are followed, as a write would. */
export function fileFact(path: string): Fact<FileState> {
  // two processes for a small file (stat, base64; its sha256 is computed here from the content), three for a large
  // one (stat, sha256sum, no content): facts run on every host of every run. Several files: one stat for all (batch)
  const command = [
    sh`f=${path}`,
    `if [ -f "$f" ]; then`,
    `  st=$(stat -L -c '${STAT_FORMAT}' "$f") && echo @@stat && echo "$st"`,
    ...CONTENT_OR_HASH,
    ...NOT_A_FILE,
  ].join('\n');
  const key = factKey('file', path);
  return {
    key,
    command,
    // a path with a newline, or space at either end, cannot be told from stat's line (read trims, %n ends the line)
    ...(/\n|^\s|\s$/.test(path) ? {} : { batch: { kind: 'file', arg: path, command: filesCommand, split: splitFiles } }),
    parse(stdout): FileState {
      const s = splitSections(stdout);
      if (section(s, 'absent')) return { exists: false };
      const none = { mode: 0, uid: 0, gid: 0, owner: '', group: '', size: 0, sha256: '' };
      if (section(s, 'directory')) return { exists: true, type: 'directory', ...none };
      if (section(s, 'other')) return { exists: true, type: 'other', ...none };
      const st = section(s, 'stat')?.lines[0]?.split(' ');
      const content = section(s, 'content');
      const bytes = content ? Buffer.from(content.lines.join(''), 'base64') : undefined;
      const sha = bytes ? createHash('sha256').update(bytes).digest('hex') : section(s, 'sha256')?.lines[0]?.trim();
      if (!st || st.length < 6 || !sha || !/^[0-9a-f]{64}$/.test(sha)) throw new FactParseError(key, 'no stat/sha256 output', stdout);
      return {
        exists: true,
        type: 'file',
        mode: parseInt(st[0]!, 8),
        uid: Number(st[1]),
        gid: Number(st[2]),
        owner: st[3]!,
        group: st[4]!,
        size: Number(st[5]),
        sha256: sha,
        ...(bytes ? { content: bytes.toString('utf8') } : {}),
      };
    },
  };
}

/**
 * The file facts of several paths in one section: one `stat` for all of them (only when one is a regular file),
 * each path's stat line found in its output with shell builtins, then each path's part as fileFact prints it,
 * after an `@@@file N` line.
 */
function filesCommand(paths: readonly string[]): string {
  return [
    sh`lvs_st=; for f in ${paths}; do if [ -f "$f" ]; then lvs_st=$(stat -L -c ${`${STAT_FORMAT} %n`} -- ${paths} 2>/dev/null); break; fi; done`,
    'lvs_i=0',
    sh`for f in ${paths}; do`,
    '  echo "@@@file $lvs_i"; lvs_i=$((lvs_i + 1))',
    '  if [ -f "$f" ]; then',
    '    st=',
    '    while read -r lvs_a lvs_u lvs_g lvs_on lvs_gn lvs_sz lvs_n; do',
    '      if [ "$lvs_n" = "$f" ]; then st="$lvs_a $lvs_u $lvs_g $lvs_on $lvs_gn $lvs_sz"; break; fi',
    '    done <<LVS_STAT',
    '$lvs_st',
    'LVS_STAT',
    // not in the batch stat's output (created since, or stat refused it): its own stat, as a single file fact
    `    [ -n "$st" ] || st=$(stat -L -c '${STAT_FORMAT}' "$f") || continue`,
    '    echo @@stat; echo "$st"',
    ...CONTENT_OR_HASH.map((l) => `  ${l}`),
    ...NOT_A_FILE.map((l) => `  ${l}`),
    'done',
  ].join('\n');
}

/** Each path's part of filesCommand's output, in order; a part that is missing or out of order ends the list. */
function splitFiles(stdout: string, paths: readonly string[]): string[] {
  const starts = [...stdout.matchAll(/^@@@file (\d+)\n/gm)];
  const parts: string[] = [];
  for (let k = 0; k < starts.length && k < paths.length && Number(starts[k]![1]) === k; k++) {
    parts.push(stdout.slice(starts[k]!.index! + starts[k]![0].length, starts[k + 1]?.index ?? stdout.length));
  }
  return parts;
}
