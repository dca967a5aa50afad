/**
 * Ansible's common Jinja filters and tests with Ansible's semantics (ansible-core 2.14 plugins/filter/core.py and
 * Jinja2's builtins), for nunjucks. Values print as Python does (True, None, ['a', 1]) since that is what Ansible
 * renders into strings.
 */
import { basename, dirname } from 'node:path';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { isJinjaUndefined, undefinedName } from './jinja-undefined.ts';

type Fn = (...args: any[]) => unknown; // eslint-disable-line @typescript-eslint/no-explicit-any

/** nunjucks passes keyword arguments as a trailing object marked __keywords. */
function splitKeywords(args: unknown[]): { pos: unknown[]; kw: Record<string, unknown> } {
  const last = args[args.length - 1];
  if (last && typeof last === 'object' && (last as { __keywords?: boolean }).__keywords) {
    const { __keywords, ...kw } = last as Record<string, unknown>;
    void __keywords;
    return { pos: args.slice(0, -1), kw };
  }
  return { pos: args, kw: {} };
}

/** A filter taking Python-style (positional..., name=value) arguments in the order `names`. */
function withArgs(names: string[], f: (value: unknown, a: Record<string, unknown>) => unknown): Fn {
  return (value: unknown, ...args: unknown[]) => {
    const { pos, kw } = splitKeywords(args);
    const a: Record<string, unknown> = { ...kw };
    pos.forEach((v, i) => {
      if (names[i] !== undefined) a[names[i]!] = v;
    });
    return f(value, a);
  };
}

export function isMapping(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !isJinjaUndefined(v);
}

/** Python truthiness: empty strings, lists and dicts, 0, None and False are false. */
export function pyTruthy(v: unknown): boolean {
  if (isJinjaUndefined(v) || v === null || v === false || v === 0 || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  if (isMapping(v)) return Object.keys(v).length > 0;
  return Boolean(v);
}

function pyString(s: string): string {
  const q = s.includes("'") && !s.includes('"') ? '"' : "'";
  return q + s.replace(/\\/g, '\\\\').replace(new RegExp(q, 'g'), `\\${q}`).replace(/\n/g, '\\n').replace(/\t/g, '\\t') + q;
}

/** Python repr(): what Jinja prints for a value inside a list or dict. */
function pyRepr(v: unknown): string {
  if (typeof v === 'string') return pyString(v);
  if (Array.isArray(v)) return `[${v.map(pyRepr).join(', ')}]`;
  if (isMapping(v)) return `{${Object.entries(v).map(([k, x]) => `${pyString(k)}: ${pyRepr(x)}`).join(', ')}}`;
  return pyText(v);
}

/** Python str(): what Jinja prints for `{{ value }}`. */
export function pyText(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (v === null || v === undefined) return 'None';
  if (typeof v === 'number') return Number.isInteger(v) || !Number.isFinite(v) ? String(v) : String(v);
  if (Array.isArray(v) || isMapping(v)) return pyRepr(v);
  return String(v);
}

/** Ansible's `bool` filter (core.py to_bool): yes/on/1/true (any case) and 1 are true, everything else false. */
export function toBool(a: unknown): boolean | null | undefined {
  if (a === null || a === undefined || typeof a === 'boolean') return a;
  const v = typeof a === 'string' ? a.toLowerCase() : a;
  return v === 'yes' || v === 'on' || v === '1' || v === 'true' || v === 1;
}

const INT_DIGITS: Record<number, RegExp> = {
  2: /^[+-]?(?:0b)?[01]+$/i,
  8: /^[+-]?(?:0o)?[0-7]+$/i,
  10: /^[+-]?\d+$/,
  16: /^[+-]?(?:0x)?[0-9a-f]+$/i,
};

function parsePyFloat(s: string): number | undefined {
  const t = s.trim().replace(/(?<=\d)_(?=\d)/g, '');
  if (/^[+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?$/i.test(t)) return Number(t);
  if (/^[+-]?(?:inf|infinity)$/i.test(t)) return t.startsWith('-') ? -Infinity : Infinity;
  return undefined;
}

/** Jinja's `int(value, default=0, base=10)`: int(value, base), else int(float(value)) ("42.23" → 42), else default. */
export function toInt(value: unknown, def: unknown = 0, base: unknown = 10): unknown {
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'number') return Number.isFinite(value) ? Math.trunc(value) : def;
  if (typeof value !== 'string') return def;
  const s = value.trim().replace(/(?<=[0-9a-f])_(?=[0-9a-f])/gi, '');
  const b = Number(base);
  const re = INT_DIGITS[b];
  if (re?.test(s)) {
    const neg = s.startsWith('-');
    const digits = s.replace(/^[+-]/, '').replace(/^0[box]/i, '');
    const n = parseInt(digits, b);
    return neg ? -n : n;
  }
  const f = parsePyFloat(s);
  return f !== undefined && Number.isFinite(f) ? Math.trunc(f) : def;
}

function toFloat(value: unknown, def: unknown = 0): unknown {
  if (typeof value === 'number') return value;
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'string') return parsePyFloat(value) ?? def;
  return def;
}

/** Python regular expression → JavaScript (named groups, \A, \Z); flags from Ansible's ignorecase/multiline. */
function pyRegExp(pattern: unknown, flags: string): RegExp {
  const src = String(pattern)
    .replace(/\(\?P<(\w+)>/g, '(?<$1>')
    .replace(/\(\?P=(\w+)\)/g, '\\k<$1>')
    .replace(/\\A/g, '^')
    .replace(/\\Z/g, '$(?![\\s\\S])');
  try {
    return new RegExp(src, flags);
  } catch (e) {
    throw new Error(`invalid regular expression ${JSON.stringify(String(pattern))}: ${(e as Error).message}`);
  }
}

/** Python re.sub replacement (\1, \g<1>, \g<name>, \\) → JavaScript's ($1, $<name>, literal $ as $$). */
function pyReplacement(r: unknown): string {
  return String(r).replace(/\$/g, '$$$$').replace(/\\(?:g<(\w+)>|(\d{1,2})|(.))/g, (_m, g: string | undefined, d: string | undefined, c: string | undefined) => {
    if (g !== undefined) return /^\d+$/.test(g) ? `$${g}` : `$<${g}>`;
    if (d !== undefined) return `$${d}`;
    return c === 'n' ? '\n' : c === 't' ? '\t' : c === '\\' ? '\\' : `\\${c}`;
  });
}

/** Python json.dumps: separators ', ' and ': ', non-ASCII escaped (ensure_ascii), optional indent and sort_keys. */
export function pyJsonDumps(v: unknown, indent?: number, sortKeys = false): string {
  const norm = (x: unknown): unknown => {
    if (Array.isArray(x)) return x.map(norm);
    if (isMapping(x)) {
      const keys = Object.keys(x);
      if (sortKeys) keys.sort();
      return Object.fromEntries(keys.map((k) => [k, norm(x[k])]));
    }
    if (isJinjaUndefined(x)) return undefinedName(x) === undefined ? null : String(x); // throws for a marker
    return x;
  };
  let out = indent === undefined ? compactJson(norm(v)) : JSON.stringify(norm(v), null, indent);
  out = out.replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return out;
}

function compactJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(compactJson).join(', ')}]`;
  if (isMapping(v)) return `{${Object.entries(v).map(([k, x]) => `${JSON.stringify(k)}: ${compactJson(x)}`).join(', ')}}`;
  return JSON.stringify(v ?? null);
}

function shellQuote(s: unknown): string {
  const t = pyText(s);
  if (t === '') return "''";
  return /^[\w@%+=:,./-]+$/.test(t) ? t : `'${t.replace(/'/g, `'"'"'`)}'`;
}

function combine(dicts: unknown[], recursive: boolean): Record<string, unknown> {
  const merge = (a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> => {
    const out = { ...a };
    for (const [k, v] of Object.entries(b)) out[k] = recursive && isMapping(out[k]) && isMapping(v) ? merge(out[k] as Record<string, unknown>, v) : v;
    return out;
  };
  return dicts.reduce<Record<string, unknown>>((acc, d) => {
    if (!isMapping(d)) throw new Error(`combine expects dictionaries, got ${pyRepr(d)}`);
    return merge(acc, d);
  }, {});
}

function flatten(v: unknown, levels: number | undefined, depth = 0): unknown[] {
  if (!Array.isArray(v)) return [v];
  return v.flatMap((x) => (Array.isArray(x) && (levels === undefined || depth < levels) ? flatten(x, levels, depth + 1) : [x]));
}

function asList(v: unknown, filter: string): unknown[] {
  if (Array.isArray(v)) return v;
  if (typeof v === 'string') return [...v];
  if (isMapping(v)) return Object.keys(v);
  throw new Error(`${filter} expects a list, got ${pyRepr(v)}`);
}

/** The filters, by name. `callFilter` lets `map('lower')` / `select` reach the environment's other filters. */
export function ansibleFilters(callFilter: (name: string, value: unknown, args: unknown[]) => unknown): Record<string, Fn> {
  const dflt = withArgs(['default_value', 'boolean'], (v, a) => (isJinjaUndefined(v) || (a.boolean && !pyTruthy(v)) ? (a.default_value ?? '') : v));
  return {
    default: dflt,
    d: dflt,
    mandatory: withArgs(['msg'], (v, a) => {
      if (isJinjaUndefined(v)) throw new Error(a.msg ? String(a.msg) : `Mandatory variable ${undefinedName(v) ? `'${undefinedName(v)}' ` : ''}not defined.`);
      return v;
    }),
    bool: (v: unknown) => toBool(v),
    int: withArgs(['default', 'base'], (v, a) => toInt(v, a.default ?? 0, a.base ?? 10)),
    float: withArgs(['default'], (v, a) => toFloat(v, a.default ?? 0)),
    string: (v: unknown) => pyText(v),
    lower: (v: unknown) => pyText(v).toLowerCase(),
    upper: (v: unknown) => pyText(v).toUpperCase(),
    capitalize: (v: unknown) => {
      const s = pyText(v);
      return s.charAt(0).toUpperCase() + s.slice(1).toLowerCase();
    },
    trim: (v: unknown) => pyText(v).trim(),
    replace: withArgs(['old', 'new', 'count'], (v, a) => {
      const parts = pyText(v).split(pyText(a.old));
      const count = a.count === undefined || a.count === null ? -1 : Number(a.count);
      if (count < 0 || count >= parts.length - 1) return parts.join(pyText(a.new));
      return parts.slice(0, count + 1).join(pyText(a.new)) + pyText(a.old) + parts.slice(count + 1).join(pyText(a.old));
    }),
    regex_replace: withArgs(['pattern', 'replacement', 'ignorecase', 'multiline'], (v, a) =>
      pyText(v).replace(pyRegExp(a.pattern ?? '', `g${a.ignorecase ? 'i' : ''}${a.multiline ? 'm' : ''}`), pyReplacement(a.replacement ?? '')),
    ),
    regex_search: withArgs(['regex', 'group'], (v, a) => {
      const m = pyText(v).match(pyRegExp(a.regex ?? '', `${a.ignorecase ? 'i' : ''}${a.multiline ? 'm' : ''}`));
      if (!m) return null;
      if (typeof a.group === 'string') {
        const g = a.group.match(/^\\(\d+)$|^\\g<(\w+)>$/);
        if (g) return [g[1] !== undefined ? m[Number(g[1])] : m.groups?.[g[2]!]];
      }
      return m[0];
    }),
    regex_findall: withArgs(['regex'], (v, a) => {
      const out: unknown[] = [];
      for (const m of pyText(v).matchAll(pyRegExp(a.regex ?? '', `g${a.ignorecase ? 'i' : ''}${a.multiline ? 'm' : ''}`))) {
        out.push(m.length <= 1 ? m[0] : m.length === 2 ? m[1] : m.slice(1));
      }
      return out;
    }),
    regex_escape: (v: unknown) => pyText(v).replace(/[^A-Za-z0-9_]/g, '\\$&'),
    split: withArgs(['sep', 'maxsplit'], (v, a) => {
      const s = pyText(v);
      const max = a.maxsplit === undefined ? -1 : Number(a.maxsplit);
      const parts = a.sep === undefined || a.sep === null ? s.trim().split(/\s+/).filter(Boolean) : s.split(pyText(a.sep));
      return max < 0 || parts.length <= max + 1 ? parts : [...parts.slice(0, max), parts.slice(max).join(a.sep === undefined ? ' ' : pyText(a.sep))];
    }),
    join: withArgs(['d', 'attribute'], (v, a) =>
      asList(v, 'join')
        .map((x) => pyText(a.attribute !== undefined && isMapping(x) ? x[String(a.attribute)] : x))
        .join(pyText(a.d ?? '')),
    ),
    to_json: (v: unknown) => pyJsonDumps(v),
    to_nice_json: withArgs(['indent'], (v, a) => pyJsonDumps(v, Number(a.indent ?? 4), true)),
    from_json: (v: unknown) => JSON.parse(pyText(v)),
    to_yaml: (v: unknown) => stringifyYaml(v, { collectionStyle: 'flow' }),
    to_nice_yaml: withArgs(['indent'], (v, a) => stringifyYaml(v, { indent: Number(a.indent ?? 4) })),
    from_yaml: (v: unknown) => parseYaml(pyText(v), { version: '1.1' }),
    length: (v: unknown) => asList(v, 'length').length,
    count: (v: unknown) => asList(v, 'count').length,
    first: (v: unknown) => asList(v, 'first')[0],
    last: (v: unknown) => asList(v, 'last').at(-1),
    list: (v: unknown) => asList(v, 'list'),
    unique: (v: unknown) => {
      const seen = new Set<string>();
      return asList(v, 'unique').filter((x) => {
        const k = JSON.stringify(x);
        if (seen.has(k)) return false;
        seen.add(k);
        return true;
      });
    },
    flatten: withArgs(['levels'], (v, a) => flatten(v, a.levels === undefined || a.levels === null ? undefined : Number(a.levels))),
    min: (v: unknown) => asList(v, 'min').reduce((m: unknown, x) => (m === undefined || (x as number) < (m as number) ? x : m), undefined),
    max: (v: unknown) => asList(v, 'max').reduce((m: unknown, x) => (m === undefined || (x as number) > (m as number) ? x : m), undefined),
    ternary: withArgs(['true_val', 'false_val', 'none_val'], (v, a) =>
      v === null && a.none_val !== undefined ? a.none_val : pyTruthy(v) ? a.true_val : a.false_val,
    ),
    combine: (...args: unknown[]) => {
      const { pos, kw } = splitKeywords(args);
      return combine(pos.flatMap((x) => (Array.isArray(x) ? x : [x])), !!kw.recursive);
    },
    dict2items: withArgs(['key_name', 'value_name'], (v, a) => {
      if (!isMapping(v)) throw new Error(`dict2items requires a dictionary, got ${pyRepr(v)}`);
      return Object.entries(v).map(([k, x]) => ({ [String(a.key_name ?? 'key')]: k, [String(a.value_name ?? 'value')]: x }));
    }),
    items2dict: withArgs(['key_name', 'value_name'], (v, a) =>
      Object.fromEntries(asList(v, 'items2dict').map((x) => [String((x as Record<string, unknown>)[String(a.key_name ?? 'key')]), (x as Record<string, unknown>)[String(a.value_name ?? 'value')]])),
    ),
    map: (v: unknown, ...args: unknown[]) => {
      const { pos, kw } = splitKeywords(args);
      const items = asList(v, 'map');
      if (kw.attribute !== undefined) return items.map((x) => (isMapping(x) && String(kw.attribute) in x ? x[String(kw.attribute)] : kw.default));
      const [name, ...rest] = pos;
      if (typeof name !== 'string') throw new Error("map needs a filter name (map('lower')) or attribute=");
      return items.map((x) => callFilter(name, x, rest));
    },
    extract: (key: unknown, container: unknown, morekeys?: unknown) => {
      let out = (container as Record<string, unknown>)?.[key as string];
      for (const k of Array.isArray(morekeys) ? morekeys : morekeys === undefined ? [] : [morekeys]) out = (out as Record<string, unknown>)?.[k as string];
      return out;
    },
    basename: (v: unknown) => basename(pyText(v)),
    dirname: (v: unknown) => dirname(pyText(v)),
    b64encode: (v: unknown) => Buffer.from(pyText(v), 'utf8').toString('base64'),
    b64decode: (v: unknown) => Buffer.from(pyText(v), 'base64').toString('utf8'),
    quote: (v: unknown) => shellQuote(v),
  };
}

/** Jinja/Ansible tests (`x is defined`, `x is match('re')`). */
export function ansibleTests(): Record<string, Fn> {
  return {
    defined: (v: unknown) => !isJinjaUndefined(v),
    undefined: (v: unknown) => isJinjaUndefined(v),
    none: (v: unknown) => v === null,
    string: (v: unknown) => typeof v === 'string',
    number: (v: unknown) => typeof v === 'number',
    integer: (v: unknown) => Number.isInteger(v),
    boolean: (v: unknown) => typeof v === 'boolean',
    mapping: (v: unknown) => isMapping(v),
    sequence: (v: unknown) => Array.isArray(v) || typeof v === 'string',
    iterable: (v: unknown) => Array.isArray(v) || typeof v === 'string' || isMapping(v),
    truthy: (v: unknown) => pyTruthy(v),
    falsy: (v: unknown) => !pyTruthy(v),
    match: (v: unknown, re: unknown) => pyRegExp(`^(?:${String(re)})`, '').test(pyText(v)),
    search: (v: unknown, re: unknown) => pyRegExp(re, '').test(pyText(v)),
    regex: (v: unknown, re: unknown) => pyRegExp(re, '').test(pyText(v)),
    in: (v: unknown, seq: unknown) => (Array.isArray(seq) || typeof seq === 'string' ? seq.includes(v as never) : isMapping(seq) ? String(v) in seq : false),
  };
}
