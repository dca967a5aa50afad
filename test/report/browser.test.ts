// Each kind of report, written by the real CLI (`lvsplay report`) from recorded lab files, opened in Debian's
// chromium (headless, through playwright-core; no browser is downloaded): the charts rendered (SVG with marks, a
// real size), nothing was fetched from the network, and the screenshot is not blank (many distinct colours, the
// verdict colour present). REPORT_SCREENSHOTS=DIR keeps the screenshots (docs/reports.md's images come from
// test/report/docs-screenshots.ts).
import test from 'ava';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { lvsplay } from '../helpers/cli.ts';

const CHROMIUM = '/usr/bin/chromium';
const FIX = 'test/fixtures/report/';
const dir = mkdtempSync(join(tmpdir(), 'lvsplay-report-'));
const keep = process.env.REPORT_SCREENSHOTS;
let ctx: BrowserContext | undefined;

test.before(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run npm test's pretest (lvsplay lab install --vm installs chromium)`);
  ctx = await chromium.launchPersistentContext(join(dir, 'profile'), {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1040, height: 900 },
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});
test.after.always(async () => {
  await ctx?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Distinct colours of a PNG and how many of its pixels have the given colour, decoded by the browser itself. */
async function pixels(png: Buffer, rgb: [number, number, number]): Promise<{ colours: number; matching: number; width: number; height: number }> {
  const page = await ctx!.newPage();
  try {
    return await page.evaluate(async ({ b64, rgb }) => {
      const img = new Image();
      img.src = `data:image/png;base64,${b64}`;
      await img.decode();
      const c = document.createElement('canvas');
      c.width = img.width;
      c.height = img.height;
      const g = c.getContext('2d')!;
      g.drawImage(img, 0, 0);
      const d = g.getImageData(0, 0, c.width, c.height).data;
      const seen = new Set<number>();
      let matching = 0;
      for (let i = 0; i < d.length; i += 4) {
        seen.add((d[i]! << 16) | (d[i + 1]! << 8) | d[i + 2]!);
        if (Math.abs(d[i]! - rgb[0]) < 8 && Math.abs(d[i + 1]! - rgb[1]) < 8 && Math.abs(d[i + 2]! - rgb[2]) < 8) matching++;
      }
      return { colours: seen.size, matching, width: c.width, height: c.height };
    }, { b64: png.toString('base64'), rgb });
  } finally {
    await page.close();
  }
}

const VERDICT_RGB: Record<string, [number, number, number]> = { PASS: [0x1a, 0x7f, 0x37], FAIL: [0xcf, 0x22, 0x2e], DEGRADED: [0x9a, 0x67, 0x00] };

/** marks: at least this many data marks of a kind (Vega's aria-roledescription: bar, tick, text mark…) in all the charts */
const cases: Array<{ file: string; charts: number; marks: Record<string, number>; verdict: string; text: RegExp[] }> = [
  { file: 'vm-site-run.jsonl', charts: 5, marks: { bar: 7 + 8, tick: 8 }, verdict: 'PASS', text: [/Recap/, /Changes per host/, /web-nat/, /VIP carried by/i] },
  { file: 'vm-verify-degraded.jsonl', charts: 4, marks: { bar: 5, tick: 8 }, verdict: 'DEGRADED', text: [/fails its health check/, /down \(allowed\)/] },
  { file: 'vm-verify-fail.jsonl', charts: 4, marks: { bar: 8, tick: 8 }, verdict: 'FAIL', text: [/no director holds 198\.18\.0\.110/, /MISSING/] },
  { file: 'drill-failover-kill.json', charts: 1, marks: { bar: 3, tick: 300, 'rect mark': 1 }, verdict: 'FAIL', text: [/split brain/, /takeover by dir2/, /preempt back to dir1/] },
  { file: 'drill-failover-linkdown.json', charts: 1, marks: { bar: 3, tick: 300 }, verdict: 'PASS', text: [/longest gap/, /probe timeout/] },
  // recorded with the probes kept (probeLog): every probe a tick on its real server's lane, 0 failed
  { file: 'vm-drill-realservers-pass.json', charts: 1, marks: { bar: 10, tick: 1000 }, verdict: 'PASS', text: [/web-dr — rolling/] },
  { file: 'vm-drill-realservers.json', charts: 3, marks: { bar: 11, point: 8 }, verdict: 'FAIL', text: [/web-dr — rolling/, /240 failed/, /did not come back/] },
];

for (const c of cases) {
  test.serial(`${c.file}: the report opens in chromium with its charts drawn`, async (t) => {
    const html = join(dir, c.file.replace(/\.jsonl?$/, '.html'));
    const r = await lvsplay(['report', FIX + c.file, '-o', html], { timeoutMs: 120_000 });
    t.is(r.code, 0, r.stderr);
    t.regex(r.stdout, /report: wrote .*\.html \(\d+ KB\)/);
    const page = await ctx!.newPage();
    const requests: string[] = [];
    page.on('request', (q) => requests.push(q.url()));
    await page.goto(`file://${html}`);
    t.deepEqual(requests.filter((u) => !u.startsWith('file://')), [], 'nothing fetched from the network');
    const charts = page.locator('figure.chart svg');
    t.is(await charts.count(), c.charts);
    for (let i = 0; i < c.charts; i++) {
      const box = await charts.nth(i).boundingBox();
      t.true(!!box && box.width > 400 && box.height > 80, `chart ${i} is ${box?.width}×${box?.height}`);
      const marks = await charts.nth(i).locator('path, line, rect').count();
      t.true(marks > 10, `chart ${i} has ${marks} drawn elements`);
    }
    for (const [kind, min] of Object.entries(c.marks)) {
      const n = await page.locator(`figure.chart svg [aria-roledescription="${kind}"]`).count();
      t.true(n >= min, `${n} ${kind} marks, at least ${min} expected`);
    }
    const body = await page.locator('main').innerText();
    for (const re of c.text) t.regex(body, re);
    t.is(await page.locator('header .badge').innerText(), c.verdict);
    const png = await page.screenshot({ fullPage: true });
    if (keep) {
      mkdirSync(keep, { recursive: true });
      writeFileSync(join(keep, c.file.replace(/\.jsonl?$/, '.png')), png);
    }
    const px = await pixels(png, VERDICT_RGB[c.verdict]!);
    t.true(png.length > 40_000, `screenshot ${png.length} bytes`);
    t.true(px.colours > 200, `${px.colours} distinct colours`);
    t.true(px.matching > 100, `${px.matching} pixels of the ${c.verdict} colour`);
    t.true(px.height > 600, `page ${px.width}×${px.height}`);
    // printable: the print stylesheet lays it out on pages
    const pdf = await page.pdf({ format: 'A4' });
    t.true(pdf.length > 10_000 && readFileSync(html, 'utf8').includes('@media print'));
    await page.close();
  });
}
