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
  type ScalarTag,
  type Tags,
} from 'yaml';
import type { Location } from '../errors.ts';
import { ValidationError } from '../errors.ts';
import { addSecretsOf } from '../secret-values.ts';
import type { Problems } from './problems.ts';
import { decryptVaultText, isVaultText, VaultedValue } from './vault.ts';

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
// `!vault |` values (ansible-vault encrypt_string) stay encrypted until read (vault.ts).
const vaultTag: ScalarTag = {
  tag: '!vault',
  identify: (v) => v instanceof VaultedValue,
  resolve: (text) => new VaultedValue(text),
  stringify: (item) => String((item.value as VaultedValue).ciphertext),
};
function pyyamlTags(tags: Tags): Tags {
  return [...tags, vaultTag]
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
    uniqueKeys: false, // duplicates are reported by reportDuplicateKeys
  });
  const file: YamlFile = { display, doc, lines, wellFormed: doc.errors.length === 0 };
  for (const err of doc.errors) {
    const at = lines.linePos(err.pos[0]);
    problems.add(`YAML syntax error: ${err.message.split('\n')[0]}`, { file: display, line: at.line, col: at.col });
  }
  reportDuplicateKeys(file, problems);
  return file;
}

/**
 * Duplicate keys in any mapping, at the line of the repeated key. Done here rather than with the parser's
 * uniqueKeys option, whose error position is not always the key's.
 */
function reportDuplicateKeys(file: YamlFile, problems: Problems): void {
  const found: { key: string; first: Node; again: Node }[] = [];
  visit(file.doc, {
    Map(_, map) {
      const seen = new Map<string, Node>();
      for (const pair of map.items) {
        if (!isPair(pair) || !isScalar(pair.key) || pair.key.value === null) continue;
        const key = String(pair.key.value);
        if (key === '<<' && pair.key.source === '<<') continue; // several merge keys are legal
        const first = seen.get(key);
        if (!first) {
          seen.set(key, pair.key);
          continue;
        }
        found.push({ key, first, again: pair.key });
      }
      return undefined;
    },
  });
  found.sort((a, b) => (lineOf(file, a.again) ?? 0) - (lineOf(file, b.again) ?? 0));
  for (const { key, first, again } of found) {
    problems.add(
      `duplicate key ${JSON.stringify(key)} (first at line ${lineOf(file, first)}): keys of a YAML mapping must be unique`,
      locationOf(file, again),
      'merge the two entries into one, or rename one of them',
    );
  }
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
  if (!isVaultText(text)) return parseYamlText(text, display, problems);
  const plain = decryptVaultFile(text, display, problems);
  return plain === undefined ? undefined : parseVaultedYaml(plain, display, problems);
}

/**
 * A whole vault-encrypted file, decrypted now (its variable names are inside); a problem and undefined when it
 * cannot be. Its text is not a secret, its values are: see parseVaultedYaml.
 */
export function decryptVaultFile(text: string, display: string, problems: Problems): string | undefined {
  try {
    return decryptVaultText(text, 'this file', { file: display }, { wholeFile: true });
  } catch (e) {
    if (!(e instanceof ValidationError)) throw e;
    problems.add(e.message, e.location, e.hint);
    return undefined;
  }
}

/** Parse the YAML of a decrypted vault file; every value in it becomes a secret of the run. */
export function parseVaultedYaml(text: string, display: string, problems: Problems): YamlFile {
  const file = parseYamlText(text, display, problems);
  addSecretsOf(file.doc.toJS());
  return file;
}

function lineOf(file: YamlFile, node: Node | null | undefined): number | undefined {
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
