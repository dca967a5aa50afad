/** `lvsplay report FILE [-o OUT.html]`: an HTML report of a saved `run`/`verify --json` or `drill --json` file. */
import { statSync } from 'node:fs';
import { parse } from './common.ts';
import { EXIT, UsageError } from '../errors.ts';
import type { CommandIO } from './io.ts';

export const REPORT_HELP = `Usage: lvsplay report EVENTS.jsonl|DRILL.json [-o FILE.html]

Render a file that lvsplay run/verify --json (JSON Lines) or drill failover|realservers --json wrote as one
self-contained HTML page (inline SVG charts and CSS, no script, no network; printable): the run's recap and changes
per host, the verification's shares per real server, the failover timeline, the realservers phases.

Options:
  -o, --output FILE.html   where to write (default: the input's name with .html)
  -h, --help

Exit codes: 0 written, 4 the file is not an lvsplay record, 5 bad options.`;

const options = { output: { type: 'string', short: 'o' }, help: { type: 'boolean', short: 'h' } } as const;

/** The default output: the input's name, its .json/.jsonl extension replaced by .html. */
export function defaultOutput(input: string): string {
  return input.replace(/\.(jsonl|json|ndjson)$/i, '') + '.html';
}

export async function reportCommand(argv: string[], io: CommandIO): Promise<number> {
  const { values: o, positionals } = parse(argv, options, 'report');
  if (o.help) {
    io.out(REPORT_HELP + '\n');
    return EXIT.ok;
  }
  if (positionals.length !== 1) throw new UsageError(`report: expected exactly one EVENTS.jsonl or DRILL.json, got ${positionals.length ? positionals.join(' ') : 'none'} (usage: lvsplay report FILE [-o FILE.html])`);
  const input = positionals[0]!;
  const output = o.output ?? defaultOutput(input);
  if (output === input) throw new UsageError(`report: the output ${output} would overwrite the input; give -o FILE.html`);
  const { reportFromFile, writeHtml } = await import('../report/index.ts');
  writeHtml(output, await reportFromFile(input));
  io.out(`report: wrote ${output} (${Math.ceil(statSync(output).size / 1024)} KB)\n`);
  return EXIT.ok;
}
