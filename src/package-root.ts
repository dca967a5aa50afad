/**
 * The package's root directory, from wherever this module runs: src/package-root.ts (sources) or
 * dist/src/package-root.js (compiled). Files that are not code (package.json, role templates, the bench's
 * Ansible playbook) are read from the source tree through it.
 */
import { fileURLToPath } from 'node:url';

export const PACKAGE_ROOT = fileURLToPath(new URL(import.meta.url.endsWith('.ts') ? '..' : '../..', import.meta.url));
