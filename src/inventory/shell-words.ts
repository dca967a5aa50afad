/**
 * Split a string into words as a POSIX shell (and Python's shlex in posix mode, which Ansible uses) would,
 * without expansions: whitespace separates words; '...' is literal; inside "..." a backslash escapes only
 * `"`, `\`, `$`, `` ` `` and newline; outside quotes a backslash escapes any character.
 * With `comments`, a `#` outside quotes ends the input (Python's shlex.split(comments=True), which Ansible's
 * INI inventory uses: `web1 port=22 # note`).
 * Throws Error on an unterminated quote or a trailing backslash.
 */
export function splitShellWords(input: string, opts: { comments?: boolean } = {}): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let i = 0;
  while (i < input.length) {
    const c = input[i];
    if (c === '#' && opts.comments) break;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
      i++;
    } else if (c === "'") {
      const end = input.indexOf("'", i + 1);
      if (end < 0) throw new Error(`unterminated single quote at character ${i + 1}`);
      word += input.slice(i + 1, end);
      inWord = true;
      i = end + 1;
    } else if (c === '"') {
      let j = i + 1;
      for (;;) {
        if (j >= input.length) throw new Error(`unterminated double quote at character ${i + 1}`);
        const d = input[j];
        if (d === '"') break;
        if (d === '\\' && j + 1 < input.length && '"\\$`\n'.includes(input[j + 1])) {
          if (input[j + 1] !== '\n') word += input[j + 1];
          j += 2;
        } else {
          word += d;
          j++;
        }
      }
      inWord = true;
      i = j + 1;
    } else if (c === '\\') {
      if (i + 1 >= input.length) throw new Error('trailing backslash');
      if (input[i + 1] !== '\n') word += input[i + 1];
      inWord = true;
      i += 2;
    } else {
      word += c;
      inWord = true;
      i++;
    }
  }
  if (inWord) words.push(word);
  return words;
}
