import type { Fact } from '../engine/types.ts';
import { factKey } from '../engine/fact-key.ts';
import { raw, sh } from '../shell.ts';
import { FactParseError, section, splitSections } from './sections.ts';

export type PackageManager = 'apt' | 'dnf' | 'yum';

export interface PackagesState {
  manager?: PackageManager;
  installed: Set<string>;
  missing: Set<string>;
}

/** The package manager (apt > dnf > yum) and which of `names` are installed. Names must be validated. */
export function packagesFact(names: readonly string[]): Fact<PackagesState> {
  const sorted = [...new Set(names)].sort();
  const key = factKey('pkg', sorted);
  const rpmLoop = sh`for p in ${sorted}; do if rpm -q "$p" >/dev/null 2>&1; then echo "installed $p"; else echo "missing $p"; fi; done`;
  return {
    key,
    command: [
      `if command -v apt-get >/dev/null 2>&1 && command -v dpkg-query >/dev/null 2>&1; then echo @@apt`,
      sh`  for p in ${sorted}; do case "$(dpkg-query -W -f='\${Status}' "$p" 2>/dev/null)" in`,
      `    *" ok installed") echo "installed $p";; *) echo "missing $p";; esac; done`,
      sh`elif command -v dnf >/dev/null 2>&1; then echo @@dnf; ${raw(rpmLoop)}`,
      sh`elif command -v yum >/dev/null 2>&1; then echo @@yum; ${raw(rpmLoop)}`,
      `else echo @@none; fi`,
    ].join('\n'),
    parse(stdout): PackagesState {
      const s = splitSections(stdout);
      const m = s[0]?.name;
      if (m !== 'apt' && m !== 'dnf' && m !== 'yum' && m !== 'none') throw new FactParseError(key, 'no package manager marker', stdout);
      const installed = new Set<string>();
      const missing = new Set<string>();
      for (const line of section(s, m)!.lines) {
        const [state, name] = line.split(' ');
        if (state === 'installed' && name) installed.add(name);
        else if (state === 'missing' && name) missing.add(name);
        else if (line.trim()) throw new FactParseError(key, `unexpected line ${JSON.stringify(line)}`, stdout);
      }
      return { ...(m === 'none' ? {} : { manager: m }), installed, missing };
    },
  };
}
