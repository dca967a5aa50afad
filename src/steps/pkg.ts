import * as z from 'zod';
import type { Step, StepOptions } from '../engine/types.ts';
import { packagesFact } from '../facts/pkg.ts';
import { sh } from '../shell.ts';
import { badArg, commonShape, makeStep, parseOptions, PlanError } from './common.ts';

export interface PkgOptions extends StepOptions {
  /** refresh the package lists first (apt-get update) when something must be installed; default false */
  updateCache?: boolean;
}

const schema = z.strictObject({ ...commonShape, updateCache: z.boolean().optional() });
const PKG_NAME = /^[A-Za-z0-9][A-Za-z0-9+._-]*(:[A-Za-z0-9_-]+)?$/;

/**
 * Packages installed with the host's manager (apt, else dnf, else yum). Only missing packages are installed and
 * nothing is upgraded (apt-get --no-upgrade; dnf/yum install never upgrades an installed package by name).
 */
export function pkg(names: string | readonly string[], options: PkgOptions = {}): Step {
  const list = typeof names === 'string' ? [names] : [...(names ?? [])];
  const label = `pkg ${list.join(' ')}`;
  if (list.length === 0) badArg(label, 'names', 'at least one package name is required');
  for (const n of list) if (typeof n !== 'string' || !PKG_NAME.test(n)) badArg(label, 'names', `"${n}" is not a package name`, 'use the distribution package name, e.g. "ipvsadm"');
  const o = parseOptions(schema, options, label);
  const fact = packagesFact(list);
  return makeStep('pkg', label, [fact], o, (ctx) => {
    const st = ctx.fact(fact);
    const missing = list.filter((n) => !st.installed.has(n));
    if (missing.length === 0) return { changes: [] };
    if (!st.manager) throw new PlanError(`${label}: no supported package manager (apt-get, dnf, yum) on the host`, 'install the packages by other means');
    const script =
      st.manager === 'apt'
        ? [
            'export DEBIAN_FRONTEND=noninteractive',
            ...(o.updateCache ? ['apt-get update -q >/dev/null'] : []),
            sh`apt-get install -y -q --no-upgrade ${missing} >/dev/null`,
          ].join('\n')
        : st.manager === 'dnf'
          ? sh`dnf install -y -q ${[...(o.updateCache ? ['--refresh'] : []), ...missing]} >/dev/null`
          : `${o.updateCache ? 'yum makecache -q >/dev/null\n' : ''}${sh`yum install -y -q ${missing} >/dev/null`}`;
    return { changes: [{ summary: `install ${missing.join(', ')} (${st.manager})`, script }] };
  });
}
