/**
 * Facts that print several parts delimit them with `@@name rest` marker lines; this splits such output.
 * A marker line starts with `@@` at column 0; every other line belongs to the section opened last.
 */
export interface Section {
  name: string;
  /** the rest of the marker line after the name */
  arg: string;
  lines: string[];
}

export function splitSections(stdout: string): Section[] {
  const out: Section[] = [];
  let cur: Section | undefined;
  for (const line of stdout.split('\n')) {
    const m = /^@@(\S+) ?(.*)$/.exec(line);
    if (m) {
      cur = { name: m[1]!, arg: m[2]!, lines: [] };
      out.push(cur);
    } else if (cur) {
      cur.lines.push(line);
    }
  }
  for (const s of out) while (s.lines.length && s.lines[s.lines.length - 1] === '') s.lines.pop();
  return out;
}

export function section(sections: Section[], name: string): Section | undefined {
  return sections.find((s) => s.name === name);
}

/** A fact whose output could not be understood: names the fact and shows the start of the output. */
export class FactParseError extends Error {
  constructor(key: string, what: string, stdout: string) {
    super(`fact ${key}: ${what}; output was: ${JSON.stringify(stdout.slice(0, 300))}`);
    this.name = 'FactParseError';
  }
}
