import type { Fact } from '../engine/types.ts';
import { factKey } from '../engine/fact-key.ts';
import { raw, sh } from '../shell.ts';
import { FactParseError, section, splitSections } from './sections.ts';

export type IpFamilyTables = 4 | 6;
export const iptablesCmd = (family: IpFamilyTables) => (family === 6 ? 'ip6tables' : 'iptables');

export interface IptablesTable {
  /** false when the iptables command is missing on the host */
  tool: boolean;
  /** every chain of the table: built-in chains map to their policy, user chains to null */
  chains: Map<string, string | null>;
  /** rules as `iptables -S` prints them, without the leading `-A CHAIN ` (per chain, in order) */
  rules: Map<string, string[]>;
}

/** Parse `iptables -t TABLE -S` output (same for iptables-nft and iptables-legacy). */
function parseIptablesSave(key: string, text: string): Omit<IptablesTable, 'tool'> {
  const chains = new Map<string, string | null>();
  const rules = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    let m: RegExpExecArray | null;
    if ((m = /^-P (\S+) (\S+)$/.exec(line))) chains.set(m[1]!, m[2]!);
    else if ((m = /^-N (\S+)$/.exec(line))) chains.set(m[1]!, null);
    else if ((m = /^-A (\S+) (.*)$/.exec(line))) {
      const list = rules.get(m[1]!) ?? [];
      list.push(m[2]!);
      rules.set(m[1]!, list);
    } else if (line.startsWith('#') || line.startsWith('Warning:')) continue;
    else throw new FactParseError(key, `unexpected iptables -S line ${JSON.stringify(line)}`, text);
  }
  return { chains, rules };
}

/** The chains and rules of one table (`iptables -t TABLE -S`). */
export function iptablesTableFact(table: string, family: IpFamilyTables = 4): Fact<IptablesTable> {
  const cmd = iptablesCmd(family);
  const key = factKey(cmd, table);
  return {
    key,
    command: [
      sh`if ! command -v ${cmd} >/dev/null 2>&1; then echo @@notool`,
      sh`elif out=$(${cmd} -w -t ${table} -S 2>&1); then echo @@rules; printf '%s\\n' "$out"`,
      `else echo "@@error $?"; printf '%s\\n' "$out"; fi`,
    ].join('\n'),
    parse(stdout): IptablesTable {
      const s = splitSections(stdout);
      if (section(s, 'notool')) return { tool: false, chains: new Map(), rules: new Map() };
      const err = section(s, 'error');
      if (err) throw new FactParseError(key, `${cmd} -t ${table} -S failed: ${err.lines.join(' ')}`, stdout);
      const r = section(s, 'rules');
      if (!r) throw new FactParseError(key, 'no @@rules section', stdout);
      return { tool: true, ...parseIptablesSave(key, r.lines.join('\n')) };
    },
  };
}

export interface IptablesRuleCheck {
  tool: boolean;
  chainExists: boolean;
  /** exit code of `iptables -C`: 0 present, 1 absent (or the chain is missing), 2 bad rule / unknown target */
  check: number;
  /** what -C printed on stderr when it did not answer 0 */
  message: string;
}

/**
 * `iptables -C` for one rule: the kernel's own comparison, so the step never has to re-create iptables' rule
 * normalisation (-p tcp adds -m tcp, /32 suffixes …). `args` are already shell-quoted words.
 */
export function iptablesRuleFact(table: string, chain: string, args: string, family: IpFamilyTables = 4): Fact<IptablesRuleCheck> {
  const cmd = iptablesCmd(family);
  const key = factKey(`${cmd}-check`, table, chain, args);
  return {
    key,
    command: [
      sh`if ! command -v ${cmd} >/dev/null 2>&1; then echo @@notool; else`,
      sh`  if ${cmd} -w -t ${table} -S ${chain} >/dev/null 2>&1; then echo @@chain yes; else echo @@chain no; fi`,
      // args: the rule's words, quoted by the step (sh`${words}`)
      sh`  out=$(${cmd} -w -t ${table} -C ${chain} ${raw(args)} 2>&1); echo "@@check $?"; printf '%s\\n' "$out"`,
      `fi`,
    ].join('\n'),
    parse(stdout): IptablesRuleCheck {
      const s = splitSections(stdout);
      if (section(s, 'notool')) return { tool: false, chainExists: false, check: 127, message: `${cmd} is not installed` };
      const chainS = section(s, 'chain');
      const check = section(s, 'check');
      if (!chainS || !check || !/^\d+$/.test(check.arg)) throw new FactParseError(key, 'missing @@chain/@@check', stdout);
      return {
        tool: true,
        chainExists: chainS.arg === 'yes',
        check: Number(check.arg),
        message: check.lines.filter((l) => !l.startsWith('Try `')).join('\n').trim(),
      };
    },
  };
}
