import * as z from 'zod';
import type { Step, StepOptions } from '../engine/types.ts';
import { iptablesCmd, iptablesRuleFact, iptablesTableFact } from '../facts/iptables.ts';
import { raw, sh } from '../shell.ts';
import { badArg, commonShape, makeStep, parseOptions, PlanError } from './common.ts';
import { shellWords } from './shellwords.ts';

const TABLES = ['filter', 'nat', 'mangle', 'raw', 'security'] as const;
type Table = (typeof TABLES)[number];
const CHAIN = /^[A-Za-z0-9_.-]{1,28}$/;
const BUILTIN = new Set(['INPUT', 'OUTPUT', 'FORWARD', 'PREROUTING', 'POSTROUTING']);

function checkTableChain(label: string, table: string, chain: string): asserts table is Table {
  if (!(TABLES as readonly string[]).includes(table)) badArg(label, 'table', `"${table}" is not a table`, `use one of ${TABLES.join(', ')}`);
  if (typeof chain !== 'string' || !CHAIN.test(chain)) badArg(label, 'chain', `"${chain}" is not a chain name`, 'letters, digits, _ . - (max 28)');
}

export interface IptablesChainOptions extends StepOptions {
  /** 6 for ip6tables (default 4) */
  family?: 4 | 6;
}

const famShape = { family: z.union([z.literal(4), z.literal(6)]).optional() };

/** A user-defined chain (`iptables -N`), created only when absent. */
export function iptablesChain(table: string, chain: string, options: IptablesChainOptions = {}): Step {
  const label = `iptablesChain ${table} ${chain}`;
  checkTableChain(label, table, chain);
  if (BUILTIN.has(chain)) badArg(label, 'chain', `${chain} is a built-in chain`, 'built-in chains always exist; only user chains are created');
  const o = parseOptions(z.strictObject({ ...commonShape, ...famShape }), options, label);
  const family = o.family ?? 4;
  const fact = iptablesTableFact(table, family);
  const cmd = iptablesCmd(family);
  return makeStep('iptablesChain', label, [fact], o, (ctx) => {
    const t = ctx.fact(fact);
    if (!t.tool) throw new PlanError(`${label}: ${cmd} is not installed`, 'install iptables');
    const created = ctx.predict.chain(family, table, chain);
    const exists = t.chains.has(chain) || created.get() === true;
    created.set(true);
    if (exists) return { changes: [] };
    // -N fails when the chain exists: re-check on the host so a concurrent creation is not an error
    return { changes: [{ summary: `create chain ${chain} in ${table}`, script: sh`${cmd} -w -t ${table} -S ${chain} >/dev/null 2>&1 || ${cmd} -w -t ${table} -N ${chain}` }] };
  });
}

export interface IptablesRuleOptions extends StepOptions {
  /** 'append' (default), 'first', or a 1-based rule number to insert at */
  position?: 'append' | 'first' | number;
  /** added as `-m comment --comment TEXT` */
  comment?: string;
  /** 'absent' deletes the rule (default 'present') */
  state?: 'present' | 'absent';
  family?: 4 | 6;
}

/**
 * A rule in a chain, checked with `iptables -C` (the kernel's own comparison: works for iptables-nft and legacy,
 * and with iptables' normalisation of the rule text) before `-A`/`-I`. The rule is an argument list or a string
 * split like sh words (no expansions).
 */
export function iptablesRule(table: string, chain: string, rule: string | readonly string[], options: IptablesRuleOptions = {}): Step {
  const label = `iptablesRule ${table} ${chain} ${typeof rule === 'string' ? rule : (rule ?? []).join(' ')}`;
  checkTableChain(label, table, chain);
  const o = parseOptions(
    z.strictObject({
      ...commonShape,
      ...famShape,
      position: z.union([z.enum(['append', 'first']), z.number().int().min(1)]).optional(),
      comment: z.string().min(1).max(256).refine((c) => !/[\n"]/.test(c), 'must be one line without double quotes').optional(),
      state: z.enum(['present', 'absent']).optional(),
    }),
    options,
    label,
  );
  let words: string[];
  if (typeof rule === 'string') {
    const r = shellWords(rule);
    if ('error' in r) badArg(label, 'rule', r.error, 'write the rule as an array of arguments or quote the special characters');
    words = r.words;
  } else if (Array.isArray(rule) && rule.every((w) => typeof w === 'string')) words = [...rule];
  else badArg(label, 'rule', 'must be a string or an array of strings');
  if (words.length === 0) badArg(label, 'rule', 'is empty');
  const bad = words.find((w) => /^-(A|I|D|C|N|X|F|P|R|Z|E|t)$|^--(append|insert|delete|check|table)$/.test(w));
  if (bad) badArg(label, 'rule', `contains ${bad}`, 'give only the match and target (table, chain and position are separate arguments)');
  if (!words.includes('-j') && !words.includes('--jump') && !words.includes('-g') && !words.includes('--goto')) {
    badArg(label, 'rule', 'has no target (-j)', 'e.g. "-p tcp --dport 80 -j ACCEPT"');
  }
  if (o.comment) words.push('-m', 'comment', '--comment', o.comment);
  const args = sh`${words}`;
  const family = o.family ?? 4;
  const cmd = iptablesCmd(family);
  const state = o.state ?? 'present';
  const fact = iptablesRuleFact(table, chain, args, family);
  const jumpIdx = words.findIndex((w) => w === '-j' || w === '--jump' || w === '-g' || w === '--goto');
  const target = words[jumpIdx + 1];
  const position = o.position ?? 'append';
  return makeStep('iptablesRule', label, [fact], o, (ctx) => {
    const r = ctx.fact(fact);
    if (!r.tool) throw new PlanError(`${label}: ${cmd} is not installed`, 'install iptables');
    const chainPredicted = ctx.predict.chain(family, table, chain).get() === true;
    const targetPredicted = target !== undefined && ctx.predict.chain(family, table, target).get() === true;
    const predicted = ctx.predict.rule(family, table, chain, args).get();
    let present: boolean;
    if (predicted !== undefined) present = predicted;
    else if (r.check === 0) present = true;
    else if (r.check === 1 || (!r.chainExists && chainPredicted) || targetPredicted) {
      // 1: absent (also what -C answers for a missing chain); other codes are fine only when the chain or the
      // jump target is created by an earlier step of this run
      if (!r.chainExists && !chainPredicted && !BUILTIN.has(chain)) {
        if (state === 'absent') return { changes: [] };
        throw new PlanError(`${label}: chain ${chain} does not exist in table ${table}`, `add iptablesChain('${table}', '${chain}') before this step`);
      }
      present = false;
    } else throw new PlanError(`${label}: ${cmd} -C rejected the rule: ${r.message || `exit ${r.check}`}`, 'check the rule syntax and that its target chain exists');
    ctx.predict.rule(family, table, chain, args).set(state === 'present');
    if (state === 'present' && !present) {
      const add = position === 'append' ? ['-A', chain] : ['-I', chain, position === 'first' ? 1 : position];
      return {
        changes: [{ summary: `add rule to ${table}/${chain}: ${words.join(' ')}`, script: sh`${cmd} -w -t ${table} -C ${chain} ${words} 2>/dev/null || ${cmd} -w -t ${table} ${add} ${words}` }],
      };
    }
    if (state === 'absent' && present) {
      return { changes: [{ summary: `delete rule from ${table}/${chain}: ${words.join(' ')}`, script: sh`while ${cmd} -w -t ${table} -C ${chain} ${words} 2>/dev/null; do ${cmd} -w -t ${table} -D ${chain} ${words}; done` }] };
    }
    return { changes: [] };
  });
}
