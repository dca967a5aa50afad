/**
 * The report screenshots of docs/reports.md (docs/img/report-*.png): one block of each kind of report, rendered from the
 * recorded fixtures and shot in Debian's chromium. Run: node --import=tsx test/report/docs-screenshots.ts
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { reportFromFile, writeHtml } from '../../src/report/index.ts';

const shots = [
  { fixture: 'vm-site-run.jsonl', block: 0, out: 'report-run.png' },
  { fixture: 'vm-verify-fail.jsonl', block: 1, out: 'report-verify.png' },
  { fixture: 'drill-failover-linkdown.json', block: 0, out: 'report-failover.png' },
  { fixture: 'vm-drill-realservers.json', block: 1, out: 'report-realservers.png' },
];
const dir = mkdtempSync(join(tmpdir(), 'lvsplay-shots-'));
mkdirSync('docs/img', { recursive: true });
const ctx = await chromium.launchPersistentContext(join(dir, 'profile'), {
  executablePath: '/usr/bin/chromium',
  headless: true,
  viewport: { width: 1040, height: 900 },
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
try {
  for (const s of shots) {
    const html = join(dir, `${s.out}.html`);
    writeHtml(html, await reportFromFile(`test/fixtures/report/${s.fixture}`));
    const page = await ctx.newPage();
    await page.goto(`file://${html}`);
    await page.locator('.block').nth(s.block).screenshot({ path: join('docs/img', s.out) });
    await page.close();
  }
} finally {
  await ctx.close();
  rmSync(dir, { recursive: true, force: true });
}
