import type { Fact } from '../engine/types.ts';
import { factKey } from '../engine/fact-key.ts';
import { raw, sh } from '../shell.ts';
import { FactParseError } from './sections.ts';

/** Whether a path exists (for `command(…, {creates})`). */
export function pathExistsFact(path: string): Fact<boolean> {
  const key = factKey('exists', path);
  return {
    key,
    command: sh`if [ -e ${path} ]; then echo yes; else echo no; fi`,
    parse(stdout): boolean {
      const v = stdout.trim();
      if (v !== 'yes' && v !== 'no') throw new FactParseError(key, 'expected yes|no', stdout);
      return v === 'yes';
    },
  };
}

/**
 * The exit code of an operator's guard command (`unless`/`onlyIf`), run during fact gathering with no stdin and
 * its output discarded. The operator is responsible for the guard being read-only.
 */
export function commandExitFact(cmd: string): Fact<number> {
  const key = factKey('exit', cmd);
  return {
    key,
    // the guard is the operator's shell command by design
    command: sh`(\n${raw(cmd)}\n) </dev/null >/dev/null 2>&1; echo "rc $?"`,
    parse(stdout): number {
      const m = /rc (\d+)\s*$/.exec(stdout);
      if (!m) throw new FactParseError(key, 'no exit code', stdout);
      return Number(m[1]);
    },
  };
}
