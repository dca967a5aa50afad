import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { isMap, isScalar } from 'yaml';
import { UsageError } from '../errors.ts';
import { Problems } from './problems.ts';
import { splitShellWords } from './shell-words.ts';
import type { Vars } from './types.ts';
import { parseYamlText, readYamlFile, toPlain, locationOf, type YamlFile } from './yaml-file.ts';

/**
 * The variables of `-e` options, in order (a later one wins, key by key), as Ansible's --extra-vars:
 * - `@file.yaml` / `@file.json`: a YAML/JSON mapping from a file (relative to `cwd`);
 * - `{...}` (or anything starting with `{` or `[`): an inline YAML/JSON mapping;
 * - otherwise `key=value` words, several per string, split like a shell (`-e 'a=1 msg="hi there"'`);
 *   values stay strings, as in Ansible.
 * Bad syntax in an argument is a UsageError; a bad @file is a ValidationError naming file:line.
 */
export function parseExtraVars(args: string[], cwd: string): Vars {
  const out: Vars = {};
  for (const arg of args) Object.assign(out, parseOne(arg, cwd));
  return out;
}

function mappingOf(file: YamlFile, what: string): Vars {
  const root = file.doc.contents;
  if (root === null || (isScalar(root) && root.value === null)) return {};
  if (!isMap(root)) throw new UsageError(`${what} must be a mapping of variable names to values`);
  return toPlain(file, root) as Vars;
}

function parseOne(arg: string, cwd: string): Vars {
  const text = arg.trim();
  if (text === '') return {};
  if (text.startsWith('@')) {
    const name = text.slice(1);
    const path = resolve(cwd, name);
    if (!existsSync(path)) throw new UsageError(`-e @${name}: file not found (${path})`);
    const problems = new Problems();
    const file = readYamlFile(path, name, problems);
    problems.throwIfAny();
    const root = file!.doc.contents;
    if (root !== null && !isMap(root) && !(isScalar(root) && root.value === null)) {
      problems.add('an extra vars file must be a mapping of variable names to values', locationOf(file!, root), 'write\n  some_var: value');
      problems.throwIfAny();
    }
    return mappingOf(file!, `-e @${name}`);
  }
  if (text.startsWith('{') || text.startsWith('[')) {
    const problems = new Problems();
    const file = parseYamlText(text, '-e', problems);
    if (!problems.empty) throw new UsageError(`-e ${arg}: ${problems.list.map((e) => e.message).join('; ')}`);
    return mappingOf(file, `-e ${arg}`);
  }
  let words: string[];
  try {
    words = splitShellWords(text);
  } catch (err) {
    throw new UsageError(`-e ${arg}: ${(err as Error).message}`);
  }
  const vars: Vars = {};
  for (const word of words) {
    const eq = word.indexOf('=');
    if (eq <= 0) {
      throw new UsageError(`-e ${arg}: ${JSON.stringify(word)} is not key=value (use key=value, a JSON/YAML mapping, or @file.yaml)`);
    }
    vars[word.slice(0, eq)] = word.slice(eq + 1);
  }
  return vars;
}
