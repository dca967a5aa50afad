import { sh } from '../shell.ts';
import type { Fact } from '../engine/types.ts';
import { factKey } from '../engine/fact-key.ts';
import { FactParseError } from './sections.ts';

export type ModuleState = 'loaded' | 'builtin' | 'absent';

/** Kernel module names are reported with underscores (/proc/modules, /sys/module) whatever the file name says. */
export function moduleKey(name: string): string {
  return name.replace(/-/g, '_');
}

/**
 * Whether a module is loaded (/proc/modules), built into the kernel (/sys/module/NAME or modules.builtin) or absent.
 * `name` must already be validated ([A-Za-z0-9_-]): it is part of a grep pattern.
 */
export function kernelModuleFact(name: string): Fact<ModuleState> {
  const m = moduleKey(name);
  const file = m.replace(/_/g, '[-_]');
  const key = factKey('kmod', m);
  return {
    key,
    command: [
      sh`if grep -q ${`^${m} `} /proc/modules 2>/dev/null; then echo loaded`,
      sh`elif [ -d /sys/module/${m} ] || grep -qs ${`/${file}\\.ko`} "/lib/modules/$(uname -r)/modules.builtin"; then echo builtin`,
      `else echo absent; fi`,
    ].join('\n'),
    parse(stdout): ModuleState {
      const v = stdout.trim();
      if (v === 'loaded' || v === 'builtin' || v === 'absent') return v;
      throw new FactParseError(key, 'expected loaded|builtin|absent', stdout);
    },
  };
}
