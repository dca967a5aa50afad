/**
 * Tier 2: one QEMU/TCG VM with a Debian kernel (real IPVS) running the same namespace fleet inside.
 */
import { existsSync } from 'node:fs';
import { run } from './run.ts';

export const QEMU = 'qemu-system-x86_64';
export const QBOOT = '/usr/share/qemu/qboot.rom';

/** Why QEMU cannot run on this machine, or undefined when it can. */
export async function vmCannotRunReason(): Promise<string | undefined> {
  const v = await run(QEMU, ['--version']).catch((e: Error) => ({ code: 127, stdout: '', stderr: e.message }));
  if (v.code !== 0) return `${QEMU} does not run (${v.stderr.trim() || `exit ${v.code}`}); lvsplay lab install --vm installs it`;
  if (!existsSync(QBOOT)) return `${QBOOT} is missing (package qemu-system-data)`;
  return undefined;
}
