/**
 * HTML reports: `lvsplay report FILE -o OUT.html` and `--report OUT.html` on run/verify/drill. Loaded with
 * `await import()` only by those, so that no other command pays for Vega.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { ValidationError } from '../errors.ts';
import { buildPage } from './build.ts';
import { renderPage } from './page.ts';
import { drillReportFrom, parseReportText, runReportFrom, type ReportData } from './records.ts';
import { renderSvg } from './svg.ts';
import type { Reporter, RunEvent } from '../output/events.ts';

export { parseReportText, type ReportData } from './records.ts';

/** The HTML of a report. */
export async function reportHtml(data: ReportData, source: string, now?: Date): Promise<string> {
  return renderPage(await buildPage(data, { source, draw: renderSvg, ...(now ? { now } : {}) }));
}

/** Read a saved --json file (run/verify JSON Lines, or a drill's JSON) and render it. */
export async function reportFromFile(file: string): Promise<string> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ValidationError(`cannot read: ${(e as Error).message}`, { file }, 'give the file lvsplay run/verify --json or drill --json wrote');
  }
  return reportHtml(parseReportText(text, file), file);
}

export function writeHtml(file: string, html: string): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, html);
}

/** --report on run/verify: keeps the events, renders them when the run ends. */
export class HtmlReporter implements Reporter {
  private readonly events: RunEvent[] = [];
  constructor(private readonly file: string, private readonly source: string) {}
  event(e: RunEvent): void {
    this.events.push(e);
  }
  async close(): Promise<void> {
    if (this.events.length === 0) return; // nothing ran (an error before the first event): no report
    const data = runReportFrom(this.events.map((value) => ({ value })), this.source);
    writeHtml(this.file, await reportHtml(data, this.source));
  }
}

/** --report on drill: the drill's JSON object. */
export async function writeDrillReport(file: string, json: unknown, source: string): Promise<void> {
  writeHtml(file, await reportHtml(drillReportFrom(json, source), source));
}
