/**
 * Jinja2 templates in variable values, rendered with nunjucks (Jinja2-compatible) plus Ansible's filters,
 * StrictUndefined and Python-style printing. A value that is exactly one `{{ expression }}` keeps the type of its
 * result (a list stays a list, 8080 stays a number); anything else renders to a string, which, as in Ansible,
 * becomes a list/dict/bool when it reads as one (`[a, b]`, `{k: v}`, True/False).
 */
import { createRequire } from 'node:module';
import type NunjucksLib from 'nunjucks';
import { parse as parseYaml } from 'yaml';
import { ansibleFilters, ansibleTests, pyText, pyTruthy } from './jinja-filters.ts';
import { isJinjaUndefined, undefinedMarker, undefinedUse } from './jinja-undefined.ts';

/** Where a template looks its names up (a host's variables and Ansible's magic variables). */
export interface TemplateScope {
  has(name: string): boolean;
  get(name: string): unknown;
}

/** A template that cannot be rendered; `construct` says which part and why (undefined variable, unknown filter, syntax). */
export class TemplateRenderError extends Error {
  constructor(readonly construct: string) {
    super(construct);
    this.name = 'TemplateRenderError';
  }
}

export function isTemplate(v: unknown): v is string {
  return typeof v === 'string' && (v.includes('{{') || v.includes('{%'));
}

const NATIVE = '__lvsplay_native';
const TRUTHY = '__lvsplay_truthy';

interface Frame {
  scope: TemplateScope;
  /** an error thrown by a lookup (an inner variable's own render error, a cycle, a vault error): reported as is */
  inner?: unknown;
  native?: { value: unknown };
}
const frames: Frame[] = [];

// nunjucks is loaded, and set up as Jinja (below), when the first template renders: inventories and runs without a
// template do not pay for it at start-up. Its CommonJS entry, so that a synchronous render can load it.
interface Nunjucks {
  lib: typeof NunjucksLib;
  env: NunjucksLib.Environment;
}
let nunjucksReady: Nunjucks | undefined;

function jinja(): Nunjucks {
  if (nunjucksReady) return nunjucksReady;
  const nunjucks = createRequire(import.meta.url)('nunjucks') as typeof NunjucksLib;
  const env = new nunjucks.Environment(null, { autoescape: false, throwOnUndefined: false });
  const builtins: Record<string, unknown> = {
    ...(env as unknown as { globals: Record<string, unknown> }).globals,
    True: true,
    False: false,
    None: null,
    [TRUTHY]: (v: unknown) => {
      if (isJinjaUndefined(v) && v !== undefined) String(v); // throws, naming the variable
      return pyTruthy(v);
    },
    [NATIVE]: (v: unknown) => {
      frames.at(-1)!.native = { value: v };
      return '';
    },
  };
  // Every name a template uses resolves through the current frame's scope; unknown names are Jinja undefineds.
  (env as unknown as { globals: object }).globals = new Proxy(builtins, {
    has: (_, name) => typeof name === 'string',
    get(_, name) {
      if (typeof name !== 'string') return undefined;
      const frame = frames.at(-1);
      if (frame?.scope.has(name)) {
        try {
          return frame.scope.get(name);
        } catch (e) {
          frame.inner ??= e;
          throw e;
        }
      }
      if (name in builtins) return builtins[name];
      return undefinedMarker(name);
    },
  });
  const filters = ansibleFilters((name, value, args) => {
    const f = env.getFilter(name) as (...a: unknown[]) => unknown;
    return f(value, ...args);
  });
  for (const [name, f] of Object.entries(filters)) env.addFilter(name, f);
  for (const [name, t] of Object.entries(ansibleTests())) (env as unknown as { addTest(n: string, f: unknown): void }).addTest(name, t); // not in @types/nunjucks

  // Print as Jinja does (True, None, ['a', 1]); an undefined attribute is an error, as under StrictUndefined.
  // nunjucks' compiled templates call runtime.suppressValue for every {{ }} output; lvsplay is its only user here.
  const runtime = (nunjucks as unknown as { runtime: { suppressValue: (v: unknown, esc: boolean) => unknown; SafeString: new (s: string) => unknown } }).runtime;
  const suppressValue = runtime.suppressValue;
  runtime.suppressValue = (v: unknown, esc: boolean) => {
    if (v === undefined) {
      const e = new TemplateRenderError('undefined: an attribute or key that does not exist');
      frames.at(-1)!.inner ??= e;
      throw e;
    }
    if (isJinjaUndefined(v)) return String(v); // throws, naming the variable
    return suppressValue(typeof v === 'string' || v instanceof runtime.SafeString ? v : pyText(v), esc);
  };

  // `{% if x %}` and `a if x else b` test x with Python truthiness ([] and {} are false), and an undefined x is an
  // error as under StrictUndefined: the compiler wraps the condition in a call to TRUTHY before compiling it.
  type AstNode = { lineno: number; colno: number };
  type NodeCtor = new (lineno: number, colno: number, ...fields: unknown[]) => AstNode;
  const nj = nunjucks as unknown as {
    nodes: { FunCall: NodeCtor; Symbol: NodeCtor; NodeList: NodeCtor };
    compiler: { Compiler: { prototype: Record<string, (this: unknown, node: { cond: AstNode }, ...rest: unknown[]) => unknown> } };
  };
  for (const method of ['compileIf', 'compileInlineIf']) {
    const compile = nj.compiler.Compiler.prototype[method]!;
    nj.compiler.Compiler.prototype[method] = function (node, ...rest) {
      const c = node.cond;
      node.cond = new nj.nodes.FunCall(c.lineno, c.colno, new nj.nodes.Symbol(c.lineno, c.colno, TRUTHY), new nj.nodes.NodeList(c.lineno, c.colno, [c]));
      return compile.call(this, node, ...rest);
    };
  }
  nunjucksReady = { lib: nunjucks, env };
  return nunjucksReady;
}

/** `{{ expr }}` and nothing else: the expression, for a typed result. */
function singleExpression(text: string): string | undefined {
  const m = /^\s*\{\{-?((?:(?!\{\{|\}\}|\{%|\{#).)*?)-?\}\}\s*$/s.exec(text);
  return m ? m[1] : undefined;
}

/** Ansible's conversion of a rendered string that reads as a list, dict or bool. */
function literal(out: string): unknown {
  if (out === 'True') return true;
  if (out === 'False') return false;
  if (!out.startsWith('[') && !out.startsWith('{')) return out;
  try {
    const doc = parseYaml(out, { version: '1.2', prettyErrors: false });
    return doc !== null && typeof doc === 'object' ? doc : out;
  } catch {
    return out;
  }
}

function construct(e: unknown, frame: Frame): unknown {
  if (frame.inner) return frame.inner;
  if (e instanceof TemplateRenderError) return e;
  const u = undefinedUse.error;
  if (u) return new TemplateRenderError(u.variable.includes(' ') ? `undefined: ${u.variable}` : `undefined variable '${u.variable}'`);
  const msg = String((e as Error)?.message ?? e);
  const line = /\[Line (\d+), Column (\d+)\]/.exec(msg);
  const text = msg.replace(/^\(unknown path\)\s*(\[Line \d+, Column \d+\])?\s*/, '').replace(/^Error: /, '').trim();
  const at = line ? ` (template line ${line[1]}, column ${line[2]})` : '';
  const filter = /filter not found: (\S+)/.exec(text);
  if (filter) return new TemplateRenderError(`unknown filter '${filter[1]}'`);
  const test = /test not found: (\S+)/.exec(text);
  if (test) return new TemplateRenderError(`unknown test '${test[1]}'`);
  if (/expected|unexpected|unknown block tag|parse/i.test(text)) return new TemplateRenderError(`syntax error: ${text}${at}`);
  return new TemplateRenderError(`${text}${at}`);
}

// one compiled template per distinct text: a group variable is rendered once per host
const compiled = new Map<string, NunjucksLib.Template>();
function renderString(text: string): string {
  let t = compiled.get(text);
  if (!t) {
    const { lib, env } = jinja();
    t = new lib.Template(text, env, undefined, true); // eager compile: a syntax error is thrown here
    compiled.set(text, t);
  }
  return t.render({});
}

/** Render `text` with `scope`; throws TemplateRenderError (or the error of a variable it uses). */
export function renderTemplate(text: string, scope: TemplateScope): unknown {
  const expr = singleExpression(text);
  const frame: Frame = { scope };
  const saved = undefinedUse.error;
  undefinedUse.error = undefined;
  frames.push(frame);
  try {
    if (expr !== undefined && expr.trim() !== '') {
      renderString(`{{ ${NATIVE}((${expr})) }}`);
      const v = frame.native?.value;
      if (v === undefined) throw new TemplateRenderError(`undefined: ${expr.trim()} (an attribute or key that does not exist)`);
      if (isJinjaUndefined(v)) String(v); // throws, naming the variable
      return typeof v === 'string' ? literal(v) : v;
    }
    return literal(renderString(text));
  } catch (e) {
    throw construct(e, frame);
  } finally {
    frames.pop();
    undefinedUse.error = saved;
  }
}
