/** Minimal steps for engine tests: a file under a temp dir, planned from a real fact. */
import type { Fact, Step } from '../../src/engine/types.ts';
import { q, printBytes } from '../../src/shell.ts';

export function contentFact(path: string): Fact<string | null> {
  return {
    key: `test-content:${path}`,
    command: `if [ -f ${q(path)} ]; then cat ${q(path)}; else echo MISSING; exit 3; fi`,
    parse: (out, code) => (code === 3 ? null : out),
  };
}

export function testFile(path: string, content: string, opts: { notify?: string[]; tags?: string[] } = {}): Step {
  const f = contentFact(path);
  return {
    kind: 'testfile',
    name: `testfile ${path}`,
    facts: [f],
    notify: opts.notify,
    tags: opts.tags,
    plan(ctx) {
      const cur = ctx.fact(f);
      if (cur === content) return { changes: [] };
      return { changes: [{ summary: `write ${path}`, script: `${printBytes(content)} > ${q(path)}`, diff: `-${cur ?? ''}\n+${content}\n` }] };
    },
  };
}

/** A step whose change always fails, to test stop-at-first-failure. */
export function failing(msg: string): Step {
  return {
    kind: 'fail',
    name: `fail ${msg}`,
    facts: [],
    plan: () => ({ changes: [{ summary: `fail ${msg}`, script: `echo ${q(msg)} >&2; false; echo not-reached` }] }),
  };
}

/** A step that appends a line to a log file every time it runs (for handlers). */
export function appendLine(path: string, line: string): Step {
  return {
    kind: 'append',
    name: `append ${line}`,
    facts: [],
    plan: () => ({ changes: [{ summary: `append ${line} to ${path}`, script: `echo ${q(line)} >> ${q(path)}` }] }),
  };
}
