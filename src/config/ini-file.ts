/**
 * An INI reader with the semantics of Python's configparser as Ansible reads ansible.cfg
 * (`ConfigParser(inline_comment_prefixes=(';',))`, values taken with `raw=True`, so no %-interpolation).
 *
 * Why not an npm INI parser: the well-kept one (`ini`) has other rules than configparser: no `key: value`
 * delimiter, no indented continuation lines, `#` inline comments, `key[]` arrays and quote handling of its own,
 * and no duplicate checks. An ansible.cfg read by it would silently mean something else than it means to Ansible.
 *
 * Rules kept: `[section]` headers (names case-sensitive); `key = value` or `key: value` (first `=` or `:`), keys
 * lower-cased, both sides trimmed; whole-line comments starting with `#` or `;` (after indentation); inline
 * comments starting with `;` after whitespace; a line indented deeper than its key continues the value (joined with
 * newlines); `[DEFAULT]` values are inherited by every section; a duplicate section or key in a section, a key
 * outside any section, and a line without a delimiter are errors (configparser's strict mode, which Ansible uses).
 */

export interface IniEntry {
  value: string;
  line: number;
}

export type IniSections = Map<string, Map<string, IniEntry>>;

export class IniError extends Error {
  constructor(
    message: string,
    readonly line: number,
  ) {
    super(message);
    this.name = 'IniError';
  }
}

const SECTION = /^\[(.+)\]/;

function stripInlineComment(text: string): string {
  for (let i = 1; i < text.length; i++) {
    if (text[i] === ';' && /\s/.test(text[i - 1])) return text.slice(0, i);
  }
  return text;
}

/** Parse INI text; throws IniError naming the 1-based line. */
export function parseIni(text: string): IniSections {
  const sections: IniSections = new Map();
  let current: Map<string, IniEntry> | undefined;
  let last: { entry: IniEntry; indent: number; blanks: number } | undefined;
  const lines = text.split(/\r?\n/);
  for (let n = 0; n < lines.length; n++) {
    const lineNo = n + 1;
    const raw = lines[n];
    const indent = raw.length - raw.trimStart().length;
    const trimmed = raw.trim();
    if (trimmed.startsWith('#') || trimmed.startsWith(';')) continue;
    const content = stripInlineComment(raw).trim();
    if (content === '') {
      if (last) last.blanks++;
      continue;
    }
    if (last && indent > last.indent) {
      // continuation of the previous value; blank lines inside a value are kept (empty_lines_in_values)
      last.entry.value += '\n'.repeat(last.blanks + 1) + content;
      last.blanks = 0;
      continue;
    }
    last = undefined;
    const header = SECTION.exec(content);
    if (header) {
      const name = header[1];
      if (sections.has(name)) throw new IniError(`section [${name}] appears twice`, lineNo);
      current = new Map();
      sections.set(name, current);
      continue;
    }
    if (!current) throw new IniError(`"${content}" is outside any [section]`, lineNo);
    const at = content.search(/[=:]/);
    if (at <= 0) throw new IniError(`"${content}" is not "key = value"`, lineNo);
    const key = content.slice(0, at).trim().toLowerCase();
    if (current.has(key)) throw new IniError(`key ${key} appears twice in its section`, lineNo);
    const entry = { value: content.slice(at + 1).trim(), line: lineNo };
    current.set(key, entry);
    last = { entry, indent, blanks: 0 };
  }
  return sections;
}

/** The value of `key` in `section`, falling back to [DEFAULT], as configparser's get() (no such section: none). */
export function iniValue(sections: IniSections, section: string, key: string): IniEntry | undefined {
  const own = sections.get(section);
  if (!own && section !== 'DEFAULT') return undefined;
  return own?.get(key) ?? sections.get('DEFAULT')?.get(key);
}
