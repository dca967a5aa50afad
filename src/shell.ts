/**
 * The one place lvsplay quotes for POSIX sh. Scripts and fact commands are written with the `sh` tagged template
 * (as zx's `$`): every interpolated value is quoted, so a path, interface or unit name with spaces, quotes or `$` is
 * one word and never shell code. See docs/steps.md ("Writing a step's script").
 */

/** Quote one word for POSIX sh: bare when it has only safe characters, else single quotes (embedded ' closed and escaped). */
export function q(s: string | number): string {
  const str = String(s);
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(str)) return str;
  return `'${str.replace(/'/g, `'\\''`)}'`;
}

/** Shell code that `sh` inserts as it is: made only by `raw()` (never by accident from a string). */
export class RawShell {
  constructor(readonly code: string) {}
  toString(): string {
    return this.code;
  }
}

/**
 * Mark a pre-built shell fragment so that `sh` inserts it unquoted. Use it only for code that is shell by design and
 * says why at the call: a fragment `sh` built before, an operator's command (`command:` steps, `validate`), a
 * constant. Anything that names a thing (path, device, unit, user) is interpolated plainly, and gets quoted.
 */
export function raw(code: string): RawShell {
  return new RawShell(code);
}

/** A value `sh` can interpolate: a word (quoted), a list of words (each quoted, space-separated), or raw code. */
export type ShellValue = string | number | RawShell | readonly (string | number | RawShell)[];

function word(v: string | number | RawShell): string {
  return v instanceof RawShell ? v.code : q(v);
}

/**
 * Tagged template for shell: the literal parts are shell code, every `${value}` is quoted (`q`), an array becomes
 * its words quoted one by one and joined by spaces (an empty array inserts nothing), `raw(code)` is inserted as is.
 *
 *     sh`mkdir -p ${dir} && chmod ${mode} ${[a, b]}`   →   mkdir -p '/srv/my dir' && chmod 0644 a 'b c'
 */
export function sh(strings: TemplateStringsArray, ...values: ShellValue[]): string {
  let out = strings[0]!;
  values.forEach((v, i) => {
    out += Array.isArray(v) ? v.map(word).join(' ') : word(v as string | number | RawShell);
    out += strings[i + 1]!;
  });
  return out;
}

/** A heredoc-free way to put arbitrary bytes in a script: base64, decoded on the host. */
export function b64(content: string | Buffer): string {
  return Buffer.from(content).toString('base64');
}

/**
 * Shell that writes `content` to stdout on the host, as a pipeline that can take a redirect:
 * sh`${printBytes(c)} > ${file}`. base64 has no quote characters, and printf is a builtin (no argument-length limit).
 */
export function printBytes(content: string | Buffer): RawShell {
  return raw(`printf '%s\\n' '${b64(content)}' | base64 -d`);
}

/**
 * Shell that writes `content` to stdout, for a redirect: text (no NUL byte, valid UTF-8) as a quoted printf
 * argument, with no process started (printf is a builtin); anything else through printBytes (base64 -d).
 */
export function printContent(content: string | Buffer): RawShell {
  const text = typeof content === 'string' ? content : content.toString('utf8');
  const isText = !text.includes('\0') && (typeof content === 'string' || Buffer.from(text, 'utf8').equals(content));
  return isText ? raw(`printf '%s' ${q(text)}`) : printBytes(content);
}
