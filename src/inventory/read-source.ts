import { readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { isMap, isScalar, type YAMLMap } from 'yaml';
import { parseIniInventory } from './ini-inventory.ts';
import { isListShape, parseJsonInventory } from './json-inventory.ts';
import { parseYamlInventory } from './parse-inventory.ts';
import { Problems } from './problems.ts';
import type { RawInventory } from './raw-inventory.ts';
import { decryptVaultFile, keyName, parseVaultedYaml, parseYamlText, type YamlFile } from './yaml-file.ts';
import { isVaultText } from './vault.ts';

/** One inventory file to read: its absolute path and the path as shown in messages. */
export interface SourceFile {
  path: string;
  display: string;
}

// Ansible's defaults: INVENTORY_IGNORE_EXTS (REJECT_EXTS + .orig .ini .cfg .retry) and the names always skipped
// when an inventory source is a directory (inventory/manager.py IGNORED_ALWAYS)
const INVENTORY_IGNORE_EXTS = ['.pyc', '.pyo', '.swp', '.bak', '~', '.rpm', '.md', '.txt', '.rst', '.orig', '.ini', '.cfg', '.retry'];
const IGNORED_NAMES = ['host_vars', 'group_vars', 'vars_plugins'];
// the yaml plugin's yaml_extensions: only these (or no extension) are tried as YAML
const YAML_EXTENSIONS = ['.yaml', '.yml', '.json'];

function isIgnoredInDirectory(name: string): boolean {
  return name.startsWith('.') || IGNORED_NAMES.includes(name) || INVENTORY_IGNORE_EXTS.some((ext) => name.endsWith(ext));
}

/**
 * The files an inventory source stands for: the file itself, or for a directory every file in it, recursively,
 * sorted by name, without those Ansible skips there (hidden files, group_vars/, host_vars/, *.ini, *.cfg, *.md,
 * *~, *.retry, *.orig ...; an explicitly given file is read whatever its extension).
 */
export function sourceFiles(path: string, display: string): SourceFile[] {
  if (!statSync(path).isDirectory()) return [{ path, display }];
  const out: SourceFile[] = [];
  for (const name of readdirSync(path).sort()) {
    if (isIgnoredInDirectory(name)) continue;
    out.push(...sourceFiles(join(path, name), join(display, name)));
  }
  return out;
}

/**
 * Read one inventory file into `inv`, its format found from its content as Ansible's plugins do, in their order:
 * a file with no extension or .yaml/.yml/.json that is YAML (JSON included) with a mapping at the top is a YAML
 * inventory, or the `ansible-inventory --list` JSON shape; anything else is read as INI. Problems go to
 * `problems`; returns false when the file could not be read or parsed at all (its structure is then unknown).
 */
export function readInventorySource(file: SourceFile, inv: RawInventory, problems: Problems): boolean {
  let text: string;
  try {
    text = readFileSync(file.path, 'utf8');
  } catch (err) {
    problems.add(`cannot read inventory: ${(err as Error).message}`, { file: file.display });
    return false;
  }
  const where = { file: file.display };
  if (isVaultText(text)) {
    // a vault-encrypted YAML inventory (vault.ts); its values become secrets. INI inside a vault is not read.
    const plain = decryptVaultFile(text, file.display, problems);
    if (plain === undefined) return false;
    const yaml = parseVaultedYaml(plain, file.display, problems);
    if (yaml.wellFormed && isMap(yaml.doc.contents)) {
      readYamlShaped(yaml, yaml.doc.contents, inv, problems);
      return true;
    }
    problems.add('a vault-encrypted inventory must be a YAML inventory (INI and JSON inside a vault are not read)', where, 'keep the inventory in clear and the secrets in vaulted group_vars/host_vars');
    return false;
  }
  if (text.startsWith('#!')) {
    problems.add('inventory scripts are not supported (this file starts with #!)', where, 'save what the script prints (./script --list > inventory.json) and give that file with -i');
    return false;
  }

  const ext = extname(file.path);
  const yamlProblems = new Problems();
  let yaml: YamlFile | undefined;
  if (ext === '' || YAML_EXTENSIONS.includes(ext)) {
    yaml = parseYamlText(text, file.display, yamlProblems);
    const root = yaml.doc.contents;
    if (yaml.wellFormed && isMap(root)) {
      problems.list.push(...yamlProblems.list);
      readYamlShaped(yaml, root, inv, problems);
      return true;
    }
    if (yaml.wellFormed && (root === null || (isScalar(root) && root.value === null))) return true; // empty: no hosts
  }

  const iniProblems = new Problems();
  parseIniInventory(text, file.display, inv, iniProblems);
  if (iniProblems.empty) return true;
  // neither format reads it: show the errors of the format the file was most likely meant to be in
  const meantAsYaml = yaml !== undefined && (ext !== '' || !/^\s*\[[^\]]+\]\s*$/m.test(text));
  if (!meantAsYaml) {
    problems.list.push(...iniProblems.list);
    return true;
  }
  problems.list.push(...yamlProblems.list);
  if (!yaml!.wellFormed) return false;
  parseYamlInventory(yaml!, inv, problems); // reports why the top level is not an inventory
  return true;
}

function readYamlShaped(yaml: YamlFile, root: YAMLMap, inv: RawInventory, problems: Problems): void {
  const plugin = root.items.find((p) => keyName(p.key) === 'plugin');
  if (plugin) {
    problems.add(
      'inventory plugin configurations (plugin: ...) are not supported',
      { file: yaml.display },
      'export the inventory once with ansible-inventory -i THIS_FILE --list > inventory.json and give that file with -i',
    );
    return;
  }
  if (isListShape(root, yaml.display.endsWith('.json'))) parseJsonInventory(yaml, root, inv, problems);
  else parseYamlInventory(yaml, inv, problems);
}
