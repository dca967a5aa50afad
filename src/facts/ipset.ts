import type { Fact } from '../engine/types.ts';
import { factKey } from '../engine/fact-key.ts';
import { sh } from '../shell.ts';
import { FactParseError, section, splitSections } from './sections.ts';

export type IpsetState =
  | { tool: false }
  | { tool: true; exists: false }
  | {
      tool: true;
      exists: true;
      type: string; // hash:ip,port
      /** options of the create line after the type, e.g. {family: 'inet', hashsize: '1024', …} */
      options: Record<string, string>;
      /** members as ipset prints them (`10.96.0.10,tcp:80`), without per-entry options */
      members: string[];
    };

/** Parse `ipset save NAME` output. */
function parseIpsetSave(key: string, name: string, text: string): IpsetState {
  let type: string | undefined;
  const options: Record<string, string> = {};
  const members: string[] = [];
  for (const line of text.split('\n')) {
    const w = line.trim().split(/\s+/);
    if (w[0] === 'create' && w[1] === name) {
      type = w[2];
      for (let i = 3; i < w.length; i++) {
        const k = w[i]!;
        const v = w[i + 1];
        // flag-only options (counters, comment, skbinfo, forceadd) have no value
        if (v === undefined || ['counters', 'comment', 'skbinfo', 'forceadd'].includes(k)) options[k] = '';
        else {
          options[k] = v;
          i++;
        }
      }
    } else if (w[0] === 'add' && w[1] === name && w[2]) members.push(w[2]);
    else if (line.trim()) throw new FactParseError(key, `unexpected ipset save line ${JSON.stringify(line)}`, text);
  }
  if (!type) throw new FactParseError(key, `no create line for set ${name}`, text);
  return { tool: true, exists: true, type, options, members };
}

/** One set's type, options and members (`ipset save NAME`). */
export function ipsetFact(name: string): Fact<IpsetState> {
  const key = factKey('ipset', name);
  return {
    key,
    command: [
      `if ! command -v ipset >/dev/null 2>&1; then echo @@notool`,
      sh`elif out=$(ipset save ${name} 2>&1); then echo @@set; printf '%s\\n' "$out"`,
      `else echo "@@error $?"; printf '%s\\n' "$out"; fi`,
    ].join('\n'),
    parse(stdout): IpsetState {
      const s = splitSections(stdout);
      if (section(s, 'notool')) return { tool: false };
      const err = section(s, 'error');
      if (err) {
        const msg = err.lines.join(' ');
        if (/does not exist/.test(msg)) return { tool: true, exists: false };
        throw new FactParseError(key, `ipset save failed: ${msg}`, stdout);
      }
      const set = section(s, 'set');
      if (!set) throw new FactParseError(key, 'no @@set section', stdout);
      return parseIpsetSave(key, name, set.lines.join('\n'));
    },
  };
}
