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

/** A file's existence, mode, owner, sha256 and (if small) content. Symlinks are followed, as a write would. */
export function fileFact(path: string): Fact<FileState> {
  // two processes for a small file (stat, base64; its sha256 is computed here from the content), three for a large
  // one (stat, sha256sum, no content): facts run on every host of every run
  const command = [
    sh`f=${path}`,
    `if [ -f "$f" ]; then`,
    `  st=$(stat -L -c '%a %u %g %U %G %s' "$f") && echo @@stat && echo "$st"`,
    `  if [ "\${st##* }" -le ${FILE_CONTENT_LIMIT} ]; then echo @@content; base64 < "$f"`,
    `  else echo @@sha256; set -- $(sha256sum < "$f"); echo "$1"; fi`,
    `elif [ -d "$f" ]; then echo @@directory`,
    `elif [ -e "$f" ]; then echo @@other`,
    `else echo @@absent; fi`,
  ].join('\n');
  const key = factKey('file', path);
  return {
    key,
    command,
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
