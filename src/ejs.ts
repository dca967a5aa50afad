/**
 * ejs, loaded on the first render (createRequire, so the bundle leaves it a runtime import): a playbook without
 * templates never loads it, and loading it was ~15 ms of every run's start-up (`import 'lvsplay'` pulled it in).
 */
import { createRequire } from 'node:module';
import type Ejs from 'ejs';

let ejs: typeof Ejs | undefined;

/** ejs.render, synchronous. */
export function renderEjs(template: string, data: Ejs.Data, options: Ejs.Options = {}): string {
  ejs ??= createRequire(import.meta.url)('ejs') as typeof Ejs;
  return ejs.render(template, data, { ...options, async: false });
}
