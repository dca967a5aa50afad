import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { renderEjs } from '../ejs.ts';
import * as z from 'zod';
import { ValidationError } from '../errors.ts';
import type { Change, Step, StepOptions } from '../engine/types.ts';
import { fileFact } from '../facts/file.ts';
import { sh } from '../shell.ts';
import { atomicWriteScript } from './atomic-write.ts';
import { absolutePath, commonShape, fileMode, makeStep, modeString, ownerName, parseOptions, PlanError } from './common.ts';
import { unifiedDiff } from './diff.ts';

export interface FileOptions extends StepOptions {
  /** the exact content; or `template` (ejs source) / `templateFile` (path of an ejs file) rendered with `vars` */
  content?: string;
  template?: string;
  templateFile?: string;
  vars?: Record<string, unknown>;
  /** '0644' (string) or 0o644; default: keep the existing file's mode, 0644 for a new file */
  mode?: string | number;
  owner?: string | number;
  group?: string | number;
  /** command checking the new content before it replaces the old file; `%s` is the temp file (unquoted) */
  validate?: string;
  /** keep the previous version: true → PATH.lvsplay-backup, or a path */
  backup?: boolean | string;
}

const schema = z
  .strictObject({
    ...commonShape,
    content: z.string().optional(),
    template: z.string().optional(),
    templateFile: z.string().min(1).optional(),
    vars: z.record(z.string(), z.unknown()).optional(),
    mode: fileMode.optional(),
    owner: ownerName.optional(),
    group: ownerName.optional(),
    validate: z.string().refine((v) => v.includes('%s'), { message: 'must contain %s (the temp file to check), e.g. "keepalived -t -f %s"' }).optional(),
    backup: z.union([z.boolean(), absolutePath]).optional(),
  })
  .refine((o) => [o.content, o.template, o.templateFile].filter((x) => x !== undefined).length === 1, {
    message: 'give exactly one of content, template or templateFile',
    path: ['content'],
  })
  .refine((o) => o.vars === undefined || o.content === undefined, { message: 'vars only apply to template/templateFile', path: ['vars'] });

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

/** Render the content at construction time, so a template error is a validation error before any host is touched. */
function renderContent(label: string, o: z.output<typeof schema>): string {
  if (o.content !== undefined) return o.content;
  let source = o.template;
  const filename = o.templateFile;
  if (filename !== undefined) {
    try {
      source = readFileSync(filename, 'utf8');
    } catch (e) {
      throw new ValidationError(`${label}: cannot read templateFile ${filename}: ${(e as Error).message}`, { field: 'templateFile' });
    }
  }
  try {
    return renderEjs(source!, o.vars ?? {}, filename ? { filename } : {});
  } catch (e) {
    throw new ValidationError(`${label}: template error: ${(e as Error).message}`, { field: filename ? 'templateFile' : 'template', ...(filename ? { file: filename } : {}) }, 'check the template and that every variable it uses is in vars');
  }
}

/**
 * A whole file: content (or an ejs template) compared by sha256, written atomically (temp file in the same
 * directory + rename), validated on the temp file before the swap, the previous version kept as a backup.
 * Mode and owner converge separately when only they differ.
 */
export function file(path: string, options: FileOptions): Step {
  const label = `file ${path}`;
  const p = absolutePath.safeParse(path);
  if (!p.success) throw new ValidationError(`${label}: path must be absolute`, { field: 'path' });
  const o = parseOptions(schema, options, label);
  const content = renderContent(label, o);
  const hash = sha256(content);
  const fact = fileFact(path);
  const backupPath = o.backup === true ? `${path}.lvsplay-backup` : o.backup || undefined;
  return makeStep('file', label, [fact], o, (ctx) => {
    const f = ctx.fact(fact);
    if (f.exists && f.type !== 'file') throw new PlanError(`${label}: ${path} exists and is a ${f.type}, not a regular file`);
    const changes: Change[] = [];
    const ownerDiffers = f.exists && ((o.owner !== undefined && o.owner !== f.owner && o.owner !== String(f.uid)) || (o.group !== undefined && o.group !== f.group && o.group !== String(f.gid)));
    const modeDiffers = f.exists && o.mode !== undefined && o.mode !== f.mode;
    if (!f.exists || f.sha256 !== hash) {
      changes.push({
        summary: f.exists ? `update ${path}` : `create ${path}`,
        script: atomicWriteScript({
          path,
          content,
          // keep what the operator did not ask to change
          mode: o.mode ?? (f.exists ? f.mode : 0o644),
          ...(o.owner !== undefined ? { owner: o.owner } : f.exists ? { owner: String(f.uid) } : {}),
          ...(o.group !== undefined ? { group: o.group } : f.exists ? { group: String(f.gid) } : {}),
          ...(o.validate ? { validate: o.validate } : {}),
          ...(backupPath ? { backupPath } : {}),
        }),
        // a file too large to gather has no old content to diff against
        ...(f.exists && f.content === undefined ? {} : { diff: unifiedDiff(f.exists ? f.content! : '', content, f.exists ? path : '/dev/null', path) }),
      });
      ctx.predict.file(path).set(content);
      return { changes, ...(f.exists && f.content === undefined ? { warnings: [`${path} is too large for a diff`] } : {}) };
    }
    if (modeDiffers) changes.push({ summary: `mode ${modeString(f.mode)} → ${modeString(o.mode!)}`, script: sh`chmod ${modeString(o.mode!)} ${path}` });
    if (ownerDiffers) {
      const spec = `${o.owner ?? ''}${o.group !== undefined ? `:${o.group}` : ''}`;
      changes.push({ summary: `owner ${f.owner}:${f.group} → ${spec}`, script: sh`chown ${spec} ${path}` });
    }
    return { changes };
  });
}
