import type { HostTools } from '../facts/host.ts';
import { sh } from '../shell.ts';
import { PlanError } from './common.ts';

/** `modprobe NAME`, or `busybox modprobe NAME` on hosts without kmod; a clear error when neither exists. */
export function modprobeCommand(tools: HostTools, name: string, forWhat: string): string {
  if (tools.has('modprobe')) return sh`modprobe ${name}`;
  if (tools.has('busybox-modprobe')) return sh`busybox modprobe ${name}`;
  throw new PlanError(`${forWhat}: cannot load kernel module ${name}: neither modprobe nor busybox modprobe is installed`, 'install kmod (apt-get install kmod / dnf install kmod) or busybox');
}
