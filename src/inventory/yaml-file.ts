import { readFileSync } from 'node:fs';
import {
  isPair,
  isScalar,
  LineCounter,
  parseDocument,
  visit,
  type Document,
  type Node,
  type ParsedNode,
  type Tags,
} from 'yaml';
import type { Location } from '../errors.ts';
import type { Problems } from './problems.ts';

/** One parsed YAML file (inventory, group_vars/host_vars file, or -e @file) with what is needed to name lines. */
export interface YamlFile {
  /** the path as shown in messages */
  display: string;
  doc: Document.Parsed;
  lines: LineCounter;
  /** false when the file has syntax errors beyond duplicate keys: its structure is then not trustworthy */
  wellFormed: boolean;
}

// Ansible reads YAML with PyYAML, i.e. YAML 1.1: `yes`/`no`/`on`/`off` are booleans there, and operators'
// inventories rely on it. The yaml package's 1.1 schema also treats `y`/`n` as booleans (PyYAML does not) and
// turns dates into Date objects; keep both as plain strings, as variables are plain data here.
const pyyamlTrue = /^(?:[Yy]es|YES|[Tt]rue|TRUE|[Oo]n|ON)$/;
const pyyamlFalse = /^(?:[Nn]o|NO|[Ff]alse|FALSE|[Oo]ff|OFF)$/;
function pyyamlTags(tags: Tags): Tags {
  return tags
    .filter((t) => !(typeof t === 'object' && t.tag === 'tag:yaml.org,2002:timestamp'))
    .map((t) => {
      if (typeof t !== 'object' || t.tag !== 'tag:yaml.org,2002:bool' || !t.test) return t;
      return { ...t, test: t.test.test('yes') ? pyyamlTrue : pyyamlFalse };
    });
}

export function parseYamlText(text: string, display: string, problems: Problems): YamlFile {
  const lines = new LineCounter();
  const doc = parseDocument(text, {
    version: '1.1',
    customTags: pyyamlTags,
    lineCounter: lines,
    prettyErrors: false,
    uniqueKeys: true,
  });
  const file: YamlFile = { display, doc, lines, wellFormed: true };
  for (const err of doc.errors) {
    const at = lines.linePos(err.pos[0]);
    if (err.code === 'DUPLICATE_KEY') {
      const dup = duplicateKeyInfo(file, err.pos[0]);
      const what = dup ? `duplicate key ${JSON.stringify(dup.key)} (first at line ${dup.firstLine})` : 'duplicate key';
      problems.add(
        `${what}: keys of a YAML mapping must be unique`,
        { file: display, line: at.line, col: at.col },
        'merge the two entries into one, or rename one of them',
      );
    } else {
      file.wellFormed = false;
      problems.add(`YAML syntax error: ${err.message.split('\n')[0]}`, { file: display, line: at.line, col: at.col });
    }
  }
  return file;
}

/** Read and parse a YAML file; a file that cannot be read is reported and yields undefined. */
export function readYamlFile(path: string, display: string, problems: Problems): YamlFile | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    problems.add(`cannot read file: ${(err as Error).message}`, { file: display });
    return undefined;
  }
  if (text.startsWith('$ANSIBLE_VAULT')) {
    problems.add('ansible-vault encrypted files are not supported', { file: display }, 'decrypt it (ansible-vault decrypt) or keep secrets elsewhere');
    return undefined;
  }
  return parseYamlText(text, display, problems);
}

/** The key text and first-occurrence line of a duplicate key reported at `pos`. */
function duplicateKeyInfo(file: YamlFile, pos: number): { key: string; firstLine: number } | undefined {
  let found: { key: string; firstLine: number } | undefined;
  visit(file.doc, {
    Map(_, map) {
      const keyAt = (p: unknown) => (isPair(p) && isScalar(p.key) && p.key.range ? p.key.range[0] : -1);
      const dup = map.items.find((p) => keyAt(p) === pos);
      if (!dup || !isScalar(dup.key)) return undefined;
      const key = String(dup.key.value);
      const first = map.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === key);
      found = { key, firstLine: first ? lineOf(file, first.key as Node) ?? 0 : 0 };
      return visit.BREAK;
    },
  });
  return found;
}

export function lineOf(file: YamlFile, node: Node | null | undefined): number | undefined {
  const start = (node as ParsedNode | null | undefined)?.range?.[0];
  return start === undefined ? undefined : file.lines.linePos(start).line;
}

export function locationOf(file: YamlFile, node: Node | null | undefined): Location {
  const line = lineOf(file, node);
  return line === undefined ? { file: file.display } : { file: file.display, line };
}

/** Plain JS value of a node (aliases resolved against the file's document). */
export function toPlain(file: YamlFile, node: unknown): unknown {
  if (node === null || node === undefined) return null;
  return (node as Node).toJS(file.doc);
}

/** The string form of a mapping key, or undefined for keys that are not scalars (`? [a, b]`). */
export function keyName(key: unknown): string | undefined {
  if (!isScalar(key)) return undefined;
  return key.value === null ? undefined : String(key.value);
}
