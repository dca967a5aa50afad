/**
 * The package's root directory (ends with a slash), from wherever this code runs: src/package-root.ts (sources)
 * or a chunk of the bundle under dist/ (compiled, scripts/build-dist.js), so it is found by walking up to the
 * nearest package.json rather than by a fixed depth. Files that are not code (package.json, role templates, the
 * bench's Ansible playbook) are read from the source tree through it.
 */
import { existsSync } from 'node:fs';
import { dirname, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

function packageRoot(from: string): string {
  for (let dir = dirname(from); ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir.endsWith(sep) ? dir : dir + sep;
    if (dirname(dir) === dir) throw new Error(`lvsplay: no package.json above ${from}`);
  }
}

export const PACKAGE_ROOT = packageRoot(fileURLToPath(import.meta.url));
