/**
 * Ansible host ranges in inventory host names: `web[01:03]` → web01, web02, web03; `db-[a:c]` → db-a, db-b,
 * db-c; `n[0:10:5]` → n0, n5, n10. A leading zero on the start pads every number to the start's width.
 * Several ranges in one name multiply out. Throws Error (message only) on a malformed range.
 */
export function expandHostRange(name: string): string[] {
  const open = name.indexOf('[');
  const close = name.indexOf(']', open);
  const colon = name.indexOf(':', open);
  // only brackets holding a colon are ranges (as Ansible's detect_range)
  if (open < 0 || close < 0 || colon < 0 || colon > close) return [name];
  const head = name.slice(0, open);
  const tail = name.slice(close + 1);
  const parts = name.slice(open + 1, close).split(':');
  if (parts.length > 3) throw new Error(`host range [${parts.join(':')}] has too many fields; use [start:end] or [start:end:step]`);
  const [beg, end, stepText = '1'] = parts;
  if (!end) throw new Error(`host range [${parts.join(':')}] has no end`);
  if (!/^\d+$/.test(stepText) || Number(stepText) < 1) throw new Error(`host range step ${JSON.stringify(stepText)} must be a positive integer`);
  const step = Number(stepText);
  const start = beg === '' ? '0' : beg;
  const items: string[] = [];
  if (/^\d+$/.test(start) && /^\d+$/.test(end)) {
    const from = Number(start);
    const to = Number(end);
    if (from > to) throw new Error(`host range [${parts.join(':')}]: start is after end`);
    const width = start.length > 1 && start.startsWith('0') ? start.length : 0;
    for (let i = from; i <= to; i += step) items.push(String(i).padStart(width, '0'));
  } else if (/^[a-zA-Z]$/.test(start) && /^[a-zA-Z]$/.test(end)) {
    const from = start.charCodeAt(0);
    const to = end.charCodeAt(0);
    if (from > to) throw new Error(`host range [${parts.join(':')}]: start is after end`);
    for (let c = from; c <= to; c += step) items.push(String.fromCharCode(c));
  } else {
    throw new Error(`host range [${parts.join(':')}] must be numeric ([01:10]) or single letters ([a:f])`);
  }
  return items.flatMap((item) => expandHostRange(head + item + tail));
}
