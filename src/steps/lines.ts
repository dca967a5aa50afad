import * as z from 'zod';
import type { Change, Step, StepOptions } from '../engine/types.ts';
import { fileFact } from '../facts/file.ts';
import { atomicWriteScript } from './atomic-write.ts';
import { absolutePath, commonShape, fileMode, makeStep, parseOptions, PlanError } from './common.ts';
import { unifiedDiff } from './diff.ts';
import { ValidationError } from '../errors.ts';

export interface LinesOptions extends StepOptions {
  /** the managed lines (a string is split on newlines) */
  block: string | string[];
  /** marker line template; `{mark}` becomes BEGIN / END. Default '# {mark} lvsplay managed block' */
  marker?: string;
  /** 'absent' removes the block (default 'present') */
  state?: 'present' | 'absent';
  /** first line the file must start with, e.g. '#!/bin/sh'; default '#!/bin/sh' for …/rc.local */
  shebang?: string | false;
  /** file mode; default '0755' for …/rc.local, else the existing mode (0644 for a new file) */
  mode?: string | number;
}

const schema = z.strictObject({
  ...commonShape,
  block: z.union([z.string(), z.array(z.string().refine((l) => !l.includes('\n'), 'one line per array element'))]),
  marker: z.string().refine((m) => m.includes('{mark}') && !m.includes('\n'), 'must be one line containing {mark}').optional(),
  state: z.enum(['present', 'absent']).optional(),
  shebang: z.union([z.string().regex(/^#!\S/, 'must start with #! (e.g. "#!/bin/sh")'), z.literal(false)]).optional(),
  mode: fileMode.optional(),
});

export interface BlockEdit {
  content: string;
  /** lines of our block that also appear outside it (the operator's own copies): reported, never removed */
  duplicates: string[];
}

/**
 * The file's content with our block in place: replaced where its markers are, else inserted before a final
 * `exit 0` (rc.local would never reach lines after it), else appended. The shebang is ensured on the first line.
 */
export function editBlock(current: string, block: string[], begin: string, end: string, state: 'present' | 'absent', shebang?: string): BlockEdit {
  const lines = current === '' ? [] : current.replace(/\n$/, '').split('\n');
  const bi = lines.indexOf(begin);
  const ei = bi >= 0 ? lines.indexOf(end, bi + 1) : -1;
  let outside = lines;
  let at = -1;
  if (bi >= 0 && ei >= 0) {
    outside = [...lines.slice(0, bi), ...lines.slice(ei + 1)];
    at = bi;
  } else if (bi >= 0 || lines.includes(end)) {
    // a lone marker: a previous edit was cut short or the operator removed half; repair by dropping the marker
    outside = lines.filter((l) => l !== begin && l !== end);
  }
  const result = [...outside];
  if (state === 'present') {
    if (at < 0) {
      let last = result.length - 1;
      while (last >= 0 && result[last]!.trim() === '') last--;
      at = last >= 0 && /^\s*exit(\s+0)?\s*$/.test(result[last]!) ? last : result.length;
    }
    result.splice(at, 0, begin, ...block, end);
  }
  if (shebang && state === 'present' && !(result[0] ?? '').startsWith('#!')) result.unshift(shebang);
  const duplicates = block.filter((l) => l.trim() !== '' && outside.includes(l));
  return { content: result.length ? `${result.join('\n')}\n` : '', duplicates };
}

/**
 * A managed block inside a file the operator also edits (e.g. /etc/rc.local): our lines between BEGIN/END markers,
 * never duplicated on re-runs; for rc.local also the shebang and the executable bit, without which it never runs.
 */
export function lines(path: string, options: LinesOptions): Step {
  const label = `lines ${path}`;
  if (!absolutePath.safeParse(path).success) throw new ValidationError(`${label}: path must be absolute`, { field: 'path' });
  const o = parseOptions(schema, options, label);
  const block = typeof o.block === 'string' ? o.block.replace(/\n$/, '').split('\n') : o.block;
  const marker = o.marker ?? '# {mark} lvsplay managed block';
  const begin = marker.replace('{mark}', 'BEGIN');
  const end = marker.replace('{mark}', 'END');
  if (block.includes(begin) || block.includes(end)) throw new ValidationError(`${label}: the block contains a marker line`, { field: 'block' });
  const rcLocal = /(^|\/)rc\.local$/.test(path);
  const shebang = o.shebang === false ? undefined : (o.shebang ?? (rcLocal ? '#!/bin/sh' : undefined));
  const mode = o.mode ?? (rcLocal ? 0o755 : undefined);
  const state = o.state ?? 'present';
  const fact = fileFact(path);
  return makeStep('lines', label, [fact], o, (ctx) => {
    const f = ctx.fact(fact);
    if (f.exists && f.type !== 'file') throw new PlanError(`${label}: ${path} is a ${f.type}, not a regular file`);
    if (f.exists && f.content === undefined) throw new PlanError(`${label}: ${path} is too large to edit (over 1 MiB)`);
    const predicted = ctx.predict.file(path).get();
    const current = predicted ?? (f.exists ? f.content! : '');
    if (!f.exists && state === 'absent' && predicted === undefined) return { changes: [] };
    const edit = editBlock(current, block, begin, end, state, shebang);
    const warnings = edit.duplicates.map((l) => `line also present outside the managed block (left as is): ${l}`);
    const changes: Change[] = [];
    const targetMode = mode ?? (f.exists ? f.mode : 0o644);
    if (edit.content !== current || !f.exists || (mode !== undefined && f.mode !== mode)) {
      const contentChanged = edit.content !== current || !f.exists;
      changes.push({
        summary: !contentChanged ? `mode ${targetMode.toString(8)} on ${path}` : state === 'absent' ? `remove managed block from ${path}` : f.exists ? `update managed block in ${path}` : `create ${path} with managed block`,
        script: atomicWriteScript({ path, content: edit.content, mode: targetMode, ...(f.exists ? { owner: String(f.uid), group: String(f.gid) } : {}) }),
        ...(contentChanged ? { diff: unifiedDiff(current, edit.content, f.exists ? path : '/dev/null', path) } : {}),
      });
      ctx.predict.file(path).set(edit.content);
    }
    return { changes, ...(warnings.length ? { warnings } : {}) };
  });
}
