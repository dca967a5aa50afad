/**
 * The report page: one self-contained HTML file (inline CSS and SVG, no script, no network), printable.
 * The template is EJS (escapes every text; the SVG charts are inserted raw).
 */
import ejs from 'ejs';

export interface Card {
  label: string;
  value: string;
  /** verdict class of the value: pass, fail, degraded, neutral */
  tone?: string;
}

export interface Table {
  head: string[];
  rows: string[][];
  /** per row: a verdict class for the last cell */
  tones?: string[];
}

export interface Block {
  title: string;
  verdict?: string;
  facts?: string[];
  cards?: Card[];
  svg?: string;
  /** a sentence under the chart saying how to read it */
  caption?: string;
  tables?: Array<{ title?: string } & Table>;
  reasons?: Array<{ tone: string; text: string }>;
  notes?: string[];
}

export interface Section {
  title: string;
  intro?: string;
  blocks: Block[];
}

export interface Page {
  title: string;
  verdict: string;
  subtitle: string;
  source: string;
  generated: string;
  sections: Section[];
}

/** CSS class of a verdict word. */
export function tone(verdict: string): string {
  const v = verdict.toUpperCase();
  if (v === 'PASS' || v === 'OK') return 'pass';
  if (v === 'DEGRADED' || v === 'CHANGED' || v === 'WARN') return 'degraded';
  if (v === 'FAIL' || v === 'FAILED' || v === 'UNREACHABLE') return 'fail';
  return 'neutral';
}

const CSS = `
:root { --pass:#1a7f37; --pass-bg:#dafbe1; --fail:#cf222e; --fail-bg:#ffebe9; --degraded:#9a6700; --degraded-bg:#fff8c5;
  --neutral:#57606a; --neutral-bg:#eaeef2; --ink:#1f2328; --line:#d0d7de; }
* { box-sizing: border-box; }
body { font: 14px/1.45 Helvetica, Arial, sans-serif; color: var(--ink); margin: 0; background: #f6f8fa; }
main { max-width: 1000px; margin: 0 auto; padding: 24px 28px 48px; background: white; min-height: 100vh; }
header { display: flex; align-items: center; justify-content: space-between; gap: 14px; border-bottom: 2px solid var(--line); padding-bottom: 12px; }
header h1 { font-size: 22px; margin: 0; }
header .meta { color: var(--neutral); font-size: 12px; margin: 4px 0 0; }
h2 { font-size: 18px; margin: 28px 0 8px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
h3 { font-size: 15px; margin: 0; display: flex; align-items: center; gap: 10px; }
.badge { display: inline-block; font-weight: bold; font-size: 13px; letter-spacing: .04em; padding: 3px 10px; border-radius: 12px; }
header .badge { font-size: 16px; padding: 5px 14px; }
.badge.pass { background: var(--pass-bg); color: var(--pass); border: 1px solid var(--pass); }
.badge.fail { background: var(--fail-bg); color: var(--fail); border: 1px solid var(--fail); }
.badge.degraded { background: var(--degraded-bg); color: var(--degraded); border: 1px solid var(--degraded); }
.badge.neutral { background: var(--neutral-bg); color: var(--neutral); border: 1px solid var(--neutral); }
.block { border: 1px solid var(--line); border-radius: 6px; padding: 14px 16px; margin: 14px 0; break-inside: avoid; page-break-inside: avoid; }
.block.fail { border-left: 6px solid var(--fail); } .block.pass { border-left: 6px solid var(--pass); }
.block.degraded { border-left: 6px solid var(--degraded); }
.facts { color: var(--neutral); margin: 4px 0 10px; font-size: 13px; }
.facts span + span::before { content: " · "; }
.cards { display: flex; flex-wrap: wrap; gap: 8px; margin: 10px 0; }
.card { border: 1px solid var(--line); border-radius: 6px; padding: 6px 12px; min-width: 110px; }
.card .l { font-size: 11px; color: var(--neutral); text-transform: uppercase; letter-spacing: .03em; }
.card .v { font-size: 18px; font-weight: bold; }
.card.pass .v { color: var(--pass); } .card.fail .v { color: var(--fail); } .card.degraded .v { color: var(--degraded); }
figure { margin: 8px 0; overflow-x: auto; } figure svg { max-width: 100%; height: auto; }
figcaption { font-size: 12px; color: var(--neutral); }
table { border-collapse: collapse; margin: 8px 0; font-size: 13px; }
th, td { border-bottom: 1px solid var(--line); padding: 3px 10px; text-align: left; vertical-align: top; white-space: pre-line; }
th.num, td.num { text-align: right; } th { background: #f6f8fa; font-weight: 600; }
td.pass { color: var(--pass); font-weight: bold; } td.fail { color: var(--fail); font-weight: bold; }
td.degraded { color: var(--degraded); font-weight: bold; }
.caption { font-weight: 600; margin: 10px 0 2px; font-size: 13px; }
ul.reasons { padding-left: 0; list-style: none; margin: 8px 0; }
ul.reasons li { padding: 4px 10px; margin: 3px 0; border-radius: 4px; }
ul.reasons li.fail { background: var(--fail-bg); color: #82071e; } ul.reasons li.degraded { background: var(--degraded-bg); color: #7d4e00; }
ul.reasons li.neutral { background: var(--neutral-bg); }
ul.notes { color: var(--neutral); font-size: 12.5px; margin: 6px 0; padding-left: 20px; }
pre { white-space: pre-wrap; margin: 0; font: 12px/1.4 ui-monospace, Menlo, Consolas, monospace; }
@media print { body { background: white; } main { max-width: none; padding: 0; } h2 { break-after: avoid; } }
`;

const TEMPLATE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="lvsplay">
<title><%= page.title %></title>
<style><%- css %></style>
</head>
<body><main>
<header>
  <div>
    <h1><%= page.title %></h1>
    <p class="meta"><%= page.subtitle %><br>from <%= page.source %> · generated <%= page.generated %></p>
  </div>
  <span class="badge <%= tone(page.verdict) %>" data-verdict="<%= page.verdict %>"><%= page.verdict %></span>
</header>
<% for (const s of page.sections) { %>
<section>
  <h2><%= s.title %></h2>
  <% if (s.intro) { %><p><%= s.intro %></p><% } %>
  <% for (const b of s.blocks) { %>
  <div class="block <%= b.verdict ? tone(b.verdict) : '' %>">
    <h3><%= b.title %><% if (b.verdict) { %> <span class="badge <%= tone(b.verdict) %>"><%= b.verdict %></span><% } %></h3>
    <% if (b.facts && b.facts.length) { %><p class="facts"><% for (const f of b.facts) { %><span><%= f %></span><% } %></p><% } %>
    <% if (b.cards && b.cards.length) { %><div class="cards"><% for (const c of b.cards) { %><div class="card <%= c.tone || '' %>"><div class="l"><%= c.label %></div><div class="v"><%= c.value %></div></div><% } %></div><% } %>
    <% if (b.reasons && b.reasons.length) { %><ul class="reasons"><% for (const r of b.reasons) { %><li class="<%= r.tone %>"><%= r.text %></li><% } %></ul><% } %>
    <% if (b.svg) { %><figure class="chart"><%- b.svg %><% if (b.caption) { %><figcaption><%= b.caption %></figcaption><% } %></figure><% } %>
    <% for (const t of b.tables || []) { %>
      <% if (t.title) { %><p class="caption"><%= t.title %></p><% } %>
      <% const num = numericColumns(t); %>
      <table><thead><tr><% t.head.forEach((h, j) => { %><th class="<%= num[j] ? 'num' : '' %>"><%= h %></th><% }) %></tr></thead><tbody>
      <% t.rows.forEach((r, i) => { %><tr><% r.forEach((c, j) => { %><td class="<%= num[j] ? 'num' : '' %> <%= j === r.length - 1 && t.tones ? t.tones[i] || '' : '' %>"><%= c %></td><% }) %></tr><% }) %>
      </tbody></table>
    <% } %>
    <% if (b.notes && b.notes.length) { %><ul class="notes"><% for (const n of b.notes) { %><li><%= n %></li><% } %></ul><% } %>
  </div>
  <% } %>
</section>
<% } %>
</main></body>
</html>
`;

/** Columns whose cells are all numbers, shares or durations (or empty): right-aligned. */
export function numericColumns(t: Table): boolean[] {
  return t.head.map((_, j) => t.rows.some((r) => /^\d/.test(r[j] ?? '')) && t.rows.every((r) => /^(—|-|n\/a|never|\d+(\.\d+)?(%|ms|s)?)$/.test(r[j] ?? '')));
}

export function renderPage(page: Page): string {
  return ejs.render(TEMPLATE, { page, css: CSS, tone, numericColumns });
}
