/**
 * ssh command-line arguments (ansible_ssh_common_args, ansible_ssh_extra_args, ansible.cfg ssh_args) read as ssh
 * reads them: split with shell quoting rules, each option turned into a keyword = value pair in order (ssh keeps the
 * first value of each keyword). `-o Keyword=value`, `-oKeyword=value`, `-o "Keyword value"`, and the short forms
 * -J (ProxyJump), -p (Port), -l (User), -i (IdentityFile), -F (config file) are understood.
 */
import { splitShellWords } from './shell-words.ts';

export interface SshOption {
  /** lower-case ssh_config keyword ('port', 'proxyjump', ...), or 'configfile' for -F */
  keyword: string;
  value: string;
}

/** Keywords the SSH transport implements. */
const IMPLEMENTED_SSH_OPTIONS = new Set([
  'hostname',
  'port',
  'user',
  'identityfile',
  'proxyjump',
  'userknownhostsfile',
  'stricthostkeychecking',
  'connecttimeout',
  'configfile',
]);

/**
 * Options that change nothing for lvsplay's transport: it keeps one connection per host open anyway (ControlMaster,
 * ControlPersist, ControlPath), has no verbosity or compression knob that matters for a run.
 */
const NO_EFFECT = new Set(['controlmaster', 'controlpersist', 'controlpath', 'compression', 'loglevel', 'batchmode']);

/** Short flags without a value that change nothing here (-C compression, -q/-v verbosity, -T no tty, -n, -N). */
const NO_EFFECT_FLAGS = new Set(['C', 'q', 'v', 'T', 'n', '4', '6']);
/** Short options taking a value: the ones mapped to a keyword, and the rest (skipped with their value, warned). */
const SHORT_KEYWORD: Record<string, string> = { J: 'proxyjump', p: 'port', l: 'user', i: 'identityfile', F: 'configfile' };
const SHORT_WITH_VALUE = new Set(['B', 'b', 'c', 'D', 'E', 'e', 'I', 'L', 'm', 'O', 'P', 'Q', 'R', 'S', 'W', 'w', ...Object.keys(SHORT_KEYWORD)]);

export interface ParsedSshArgs {
  options: SshOption[];
  /** options understood by ssh that lvsplay does not implement ("-o ForwardAgent=yes", "-A") */
  ignored: string[];
}

/** Parse an ssh argument string. Throws Error (message without the string) on bad quoting or ProxyCommand. */
export function parseSshArgs(args: string): ParsedSshArgs {
  let words: string[];
  try {
    words = splitShellWords(args);
  } catch (err) {
    throw new Error(`cannot be split into words: ${(err as Error).message}`);
  }
  const options: SshOption[] = [];
  const ignored: string[] = [];
  for (let i = 0; i < words.length; i++) {
    const w = words[i];
    if (!w.startsWith('-') || w.length < 2) {
      ignored.push(w);
      continue;
    }
    const flag = w[1];
    if (flag === 'o') {
      const text = w.length > 2 ? w.slice(2) : words[++i];
      if (text === undefined) throw new Error('has -o without a value');
      const m = /^\s*([A-Za-z]+)\s*(?:=\s*|\s+)(.*)$/.exec(text);
      if (!m) {
        ignored.push(`-o ${text}`);
        continue;
      }
      const keyword = m[1].toLowerCase();
      if (keyword === 'proxycommand') throw new Error('uses ProxyCommand, which lvsplay does not support');
      if (IMPLEMENTED_SSH_OPTIONS.has(keyword)) options.push({ keyword, value: m[2].trim() });
      else if (!NO_EFFECT.has(keyword)) ignored.push(`-o ${m[1]}`);
      continue;
    }
    if (SHORT_WITH_VALUE.has(flag)) {
      const value = w.length > 2 ? w.slice(2) : words[++i];
      if (value === undefined) throw new Error(`has -${flag} without a value`);
      const keyword = SHORT_KEYWORD[flag];
      if (keyword) options.push({ keyword, value });
      else ignored.push(`-${flag}`);
      continue;
    }
    // clustered flags without values, e.g. -CTq
    for (const f of w.slice(1)) if (!NO_EFFECT_FLAGS.has(f)) ignored.push(`-${f}`);
  }
  return { options, ignored };
}

/**
 * The ProxyJump value in an ssh argument string, or undefined. ProxyCommand is refused, since ignoring it would
 * connect directly, bypassing the intended path.
 */
export function proxyJumpFromSshArgs(args: string): string | undefined {
  return parseSshArgs(args).options.find((o) => o.keyword === 'proxyjump')?.value;
}
