/**
 * Python's `ast.literal_eval` for the values of an INI inventory, as Ansible's ini plugin reads them
 * (`_parse_value`): a Python literal becomes its value (True/False/None, ints, floats, strings, lists, tuples as
 * lists, dicts); anything else (`hello world`, `yes`, `{{ x }}`, `0123`) stays the text as written.
 * Python comments (`8080 # the port`) are part of Python's syntax, so they are dropped from a literal.
 */
export function pythonLiteralOrText(text: string): unknown {
  try {
    return new LiteralParser(text).parseWhole();
  } catch (err) {
    if (err instanceof NotALiteral) return text;
    throw err;
  }
}

/** The text is not a Python literal (Python's SyntaxError/ValueError); the caller keeps it as a string. */
class NotALiteral extends Error {}

const NUMBER =
  /^(?:0[xX](?:_?[0-9a-fA-F])+|0[oO](?:_?[0-7])+|0[bB](?:_?[01])+|(?:(?:[0-9](?:_?[0-9])*)?\.[0-9](?:_?[0-9])*|[0-9](?:_?[0-9])*\.?)(?:[eE][+-]?[0-9](?:_?[0-9])*)?[jJ]?)/;
const NAME = /^[A-Za-z_][A-Za-z0-9_]*/;
const STRING_PREFIX = /^(?:[rRuUbB]|[rR][bB]|[bB][rR])?(?='|")/;

class LiteralParser {
  private pos = 0;
  constructor(private readonly src: string) {}

  parseWhole(): unknown {
    // literal_eval strips leading spaces and tabs before parsing
    const value = this.value();
    this.skip();
    if (this.pos < this.src.length) throw new NotALiteral();
    return value;
  }

  /** Whitespace, line continuations and `# comments` (inside brackets newlines are whitespace too). */
  private skip(): void {
    for (;;) {
      const c = this.src[this.pos];
      if (c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f') this.pos++;
      else if (c === '#') {
        const nl = this.src.indexOf('\n', this.pos);
        this.pos = nl < 0 ? this.src.length : nl;
      } else return;
    }
  }

  private peek(): string | undefined {
    this.skip();
    return this.src[this.pos];
  }

  private value(): unknown {
    const c = this.peek();
    if (c === undefined) throw new NotALiteral();
    if (c === '[') return this.sequence('[', ']');
    if (c === '(') return this.sequence('(', ')');
    if (c === '{') return this.dict();
    if (c === '-' || c === '+') {
      this.pos++;
      const n = this.value();
      if (typeof n !== 'number') throw new NotALiteral();
      return c === '-' ? -n : n;
    }
    const rest = this.src.slice(this.pos);
    if (STRING_PREFIX.test(rest)) return this.strings();
    const num = NUMBER.exec(rest);
    if (num && num[0].length > 0 && /^[0-9.]/.test(rest)) return this.number(num[0]);
    const name = NAME.exec(rest);
    if (name) {
      this.pos += name[0].length;
      if (name[0] === 'True') return true;
      if (name[0] === 'False') return false;
      if (name[0] === 'None') return null;
    }
    throw new NotALiteral();
  }

  private number(text: string): number {
    this.pos += text.length;
    // a name or number glued to the literal (`1abc`, `1.2.3`) is a syntax error in Python
    if (/^[A-Za-z0-9_.]/.test(this.src.slice(this.pos))) throw new NotALiteral();
    if (/[jJ]$/.test(text)) throw new NotALiteral(); // complex numbers have no JSON form: keep the text
    const clean = text.replace(/_/g, '');
    if (/^0[xXoObB]/.test(clean)) return Number(clean);
    // Python 3 rejects leading zeros in a decimal integer (`0123`), but `00` and `0.5` are fine
    if (/^0[0-9]+$/.test(clean) && /[1-9]/.test(clean)) throw new NotALiteral();
    return Number(clean);
  }

  /** One string or several adjacent ones (`'a' "b"` is `'ab'` in Python). */
  private strings(): string {
    let out = '';
    let kinds = 0;
    while (this.peek() !== undefined && STRING_PREFIX.test(this.src.slice(this.pos))) {
      const prefix = STRING_PREFIX.exec(this.src.slice(this.pos))![0];
      this.pos += prefix.length;
      const raw = /[rR]/.test(prefix);
      if (/[bB]/.test(prefix)) kinds |= 2;
      else kinds |= 1;
      out += this.stringBody(raw);
    }
    if (kinds === 3) throw new NotALiteral(); // bytes and str cannot be concatenated
    return out;
  }

  private stringBody(raw: boolean): string {
    const q = this.src[this.pos];
    const triple = this.src.startsWith(q.repeat(3), this.pos);
    const close = triple ? q.repeat(3) : q;
    this.pos += close.length;
    let out = '';
    for (;;) {
      if (this.pos >= this.src.length) throw new NotALiteral();
      if (this.src.startsWith(close, this.pos)) {
        this.pos += close.length;
        return out;
      }
      const c = this.src[this.pos];
      if (!triple && c === '\n') throw new NotALiteral();
      if (c !== '\\') {
        out += c;
        this.pos++;
        continue;
      }
      const e = this.src[this.pos + 1];
      if (e === undefined) throw new NotALiteral();
      if (raw) {
        out += c + e;
        this.pos += 2;
        continue;
      }
      this.pos += 2;
      out += this.escape(e);
    }
  }

  private escape(e: string): string {
    const simple: Record<string, string> = { '\n': '', '\\': '\\', "'": "'", '"': '"', a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v' };
    if (e in simple) return simple[e];
    if (/[0-7]/.test(e)) {
      const m = /^[0-7]{0,2}/.exec(this.src.slice(this.pos))![0];
      this.pos += m.length;
      return String.fromCodePoint(parseInt(e + m, 8));
    }
    const hexLen = e === 'x' ? 2 : e === 'u' ? 4 : e === 'U' ? 8 : 0;
    if (hexLen) {
      const hex = this.src.slice(this.pos, this.pos + hexLen);
      if (!new RegExp(`^[0-9a-fA-F]{${hexLen}}$`).test(hex)) throw new NotALiteral();
      this.pos += hexLen;
      return String.fromCodePoint(parseInt(hex, 16));
    }
    return '\\' + e; // Python keeps unknown escapes as written
  }

  private sequence(open: string, close: string): unknown {
    this.pos++; // open
    const items: unknown[] = [];
    let sawComma = false;
    for (;;) {
      if (this.peek() === close) {
        this.pos++;
        break;
      }
      items.push(this.value());
      const next = this.peek();
      if (next === ',') {
        this.pos++;
        sawComma = true;
      } else if (next === close) {
        this.pos++;
        break;
      } else throw new NotALiteral();
    }
    // `(1)` is just 1 in Python; `(1,)` and `()` are tuples (JSON lists here, as Ansible prints them)
    if (open === '(' && items.length === 1 && !sawComma) return items[0];
    return items;
  }

  private dict(): unknown {
    this.pos++; // {
    if (this.peek() === '}') {
      this.pos++;
      return {};
    }
    const out: Record<string, unknown> = {};
    for (;;) {
      const key = this.value();
      if (this.peek() !== ':') throw new NotALiteral(); // a set (`{1, 2}`) has no JSON form either
      this.pos++;
      if (key !== null && typeof key === 'object') throw new NotALiteral(); // unhashable key
      out[keyText(key)] = this.value();
      const next = this.peek();
      if (next === ',') {
        this.pos++;
        if (this.peek() === '}') {
          this.pos++;
          return out;
        }
      } else if (next === '}') {
        this.pos++;
        return out;
      } else throw new NotALiteral();
    }
  }
}

/** Dict keys as Python's json.dumps writes them: True → "true", None → "null", 1 → "1". */
function keyText(key: unknown): string {
  if (key === true) return 'true';
  if (key === false) return 'false';
  if (key === null) return 'null';
  return String(key);
}
