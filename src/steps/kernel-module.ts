import * as z from 'zod';
import type { Change, Step, StepOptions } from '../engine/types.ts';
import { fileFact } from '../facts/file.ts';
import { toolsFact } from '../facts/host.ts';
import { kernelModuleFact, moduleKey } from '../facts/kernel-module.ts';
import { sh } from '../shell.ts';
import { atomicWriteScript } from './atomic-write.ts';
import { badArg, commonShape, makeStep, parseOptions } from './common.ts';
import { modprobeCommand } from './modprobe.ts';

export interface KernelModuleOptions extends StepOptions {
  /**
   * load at boot through /etc/modules-load.d/FILE.conf: `true` (default) uses the module name as FILE, a string
   * names the file (several modules can share one, e.g. 'ipvs'), `false` loads it now only
   */
  persist?: boolean | string;
}

const schema = z.strictObject({
  ...commonShape,
  persist: z.union([z.boolean(), z.string().regex(/^[A-Za-z0-9_.-]+$/, 'must be a file name like "ipvs" (no slashes)')]).optional(),
});

/**
 * A kernel module loaded now (unless built in) and at boot. Records it in the predicted state so later steps
 * (sysctl net.ipv4.vs.*, ipvs, link tunl0) know it will be there.
 */
export function kernelModule(name: string, options: KernelModuleOptions = {}): Step {
  const label = `kernelModule ${name}`;
  if (typeof name !== 'string' || !/^[A-Za-z0-9_-]+$/.test(name)) badArg(label, 'name', 'must be a module name like "ip_vs"');
  const o = parseOptions(schema, options, label);
  const persist = o.persist ?? true;
  const confPath = persist === false ? undefined : `/etc/modules-load.d/${persist === true ? moduleKey(name) : persist.replace(/\.conf$/, '')}.conf`;
  const modFact = kernelModuleFact(name);
  const confFact = confPath ? fileFact(confPath) : undefined;
  return makeStep('kernelModule', label, [modFact, toolsFact, ...(confFact ? [confFact] : [])], o, (ctx) => {
    const changes: Change[] = [];
    const state = ctx.fact(modFact);
    const loaded = ctx.predict.module(moduleKey(name));
    if (state === 'absent' && loaded.get() !== true) {
      changes.push({ summary: `load module ${name}`, script: modprobeCommand(ctx.fact(toolsFact), name, label) });
    }
    loaded.set(true);
    if (confPath && confFact) {
      const f = ctx.fact(confFact);
      // several steps may share the file: each ensures its own line, and plans against what earlier steps predicted
      const predicted = ctx.predict.file(confPath);
      const current = predicted.get() ?? (f.exists && f.type === 'file' ? (f.content ?? '') : '');
      const lines = current.split('\n').map((l) => l.replace(/#.*/, '').trim());
      if (!lines.includes(name) && !lines.includes(moduleKey(name))) {
        const next = `${current}${current && !current.endsWith('\n') ? '\n' : ''}${name}\n`;
        predicted.set(next);
        changes.push({
          summary: `load ${name} at boot (${confPath})`,
          // re-read the file on the host so a line another step appended in the same run is kept
          script: [
            sh`if ! grep -qx ${name} ${confPath} 2>/dev/null; then`,
            atomicWriteScript({
              path: confPath,
              fromShell: sh`awk 1 ${confPath} 2>/dev/null || true; echo ${name}`,
              mode: f.exists ? f.mode : 0o644,
            }),
            `fi`,
          ].join('\n'),
        });
      }
    }
    return { changes };
  });
}
