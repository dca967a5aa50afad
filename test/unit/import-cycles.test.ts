/**
 * No import cycle in src/: dependencies point one way (docs/architecture.md). Every static import and re-export
 * counts, type-only ones too (a type cycle still ties two modules together); dynamic import() is left out (it loads
 * lazily, on purpose).
 */
import test from 'ava';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const SRC = join(ROOT, 'src');

/** The .ts files a module imports statically (relative specifiers only: packages cannot import us back). */
function staticImports(file: string): string[] {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, false);
  const out: string[] = [];
  for (const st of source.statements) {
    const spec = (ts.isImportDeclaration(st) || ts.isExportDeclaration(st)) && st.moduleSpecifier && ts.isStringLiteral(st.moduleSpecifier) ? st.moduleSpecifier.text : undefined;
    if (!spec?.startsWith('.')) continue;
    const target = resolve(dirname(file), spec);
    if (existsSync(target)) out.push(target);
  }
  return out;
}

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? tsFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
}

/** Each cycle once, as the list of files around it (depth-first search over the import graph of `files`). */
function importCycles(files: readonly string[]): string[][] {
  const inSet = new Set(files);
  const graph = new Map(files.map((f) => [f, staticImports(f).filter((t) => inSet.has(t))]));
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const cycles: string[][] = [];
  const visit = (f: string): void => {
    state.set(f, 'open');
    stack.push(f);
    for (const t of graph.get(f)!) {
      if (state.get(t) === 'open') cycles.push(stack.slice(stack.indexOf(t)));
      else if (!state.has(t)) visit(t);
    }
    stack.pop();
    state.set(f, 'done');
  };
  for (const f of files) if (!state.has(f)) visit(f);
  return cycles;
}

test('src/ has no import cycle', (t) => {
  const files = tsFiles(SRC);
  t.true(files.length > 100, 'the walk found the sources');
  const cycles = importCycles(files).map((c) => [...c, c[0]!].map((f) => relative(ROOT, f)).join(' → '));
  t.deepEqual(cycles, []);
});

test('the cycle finder finds a cycle (its own fixture)', (t) => {
  const dir = join(ROOT, 'test/fixtures/import-cycle');
  const cycles = importCycles(tsFiles(dir)).map((c) => c.map((f) => relative(dir, f)).sort());
  t.deepEqual(cycles, [['a.ts', 'b.ts', 'c.ts']]);
});

// the layer order of docs/architecture.md: roles build on src/ (the cluster model, steps, engine), never the reverse
test('no module of src/ imports roles/', (t) => {
  const ROLES = join(ROOT, 'roles');
  const offenders = tsFiles(SRC).flatMap((f) => staticImports(f).filter((x) => x.startsWith(ROLES + '/')).map((x) => `${relative(ROOT, f)} → ${relative(ROOT, x)}`));
  t.deepEqual(offenders, []);
});
