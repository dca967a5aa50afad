/**
 * Split a command-line string into words the way sh would for plain words, single and double quotes and
 * backslashes (no expansions: `$`, backticks and globs are refused so a rule cannot smuggle shell code).
 * Returns undefined with a reason on bad input.
 */
export function shellWords(text: string): { words: string[] } | { error: string } {
  const words: string[] = [];
  let cur = '';
  let inWord = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === "'") {
      const j = text.indexOf("'", i + 1);
      if (j < 0) return { error: 'unterminated single quote' };
      cur += text.slice(i + 1, j);
      i = j;
      inWord = true;
    } else if (c === '"') {
      let j = i + 1;
      for (; j < text.length && text[j] !== '"'; j++) {
        if (text[j] === '\\' && j + 1 < text.length && '"\\$`'.includes(text[j + 1]!)) cur += text[++j];
        else if (text[j] === '$' || text[j] === '`') return { error: 'expansions ($, `) are not allowed' };
        else cur += text[j];
      }
      if (j >= text.length) return { error: 'unterminated double quote' };
      i = j;
      inWord = true;
    } else if (c === '\\') {
      if (i + 1 >= text.length) return { error: 'trailing backslash' };
      cur += text[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(cur);
      cur = '';
      inWord = false;
    } else if ('$`;&|<>(){}*?[]'.includes(c)) {
      return { error: `shell character ${c} is not allowed (quote it)` };
    } else {
      cur += c;
      inWord = true;
    }
  }
  if (inWord) words.push(cur);
  return { words };
}
