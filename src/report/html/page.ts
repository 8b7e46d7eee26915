import type { Hdr } from '../../core/measure/rtt.js';
import { VERSION } from '../../version.js';
import type { RecordedSummary, RunRecord } from '../run/record.js';
import { DRAW_SCRIPT, UPLOT_SCRIPT, UPLOT_STYLE } from './assets.js';
import { PALETTE, chartSpecs, type RunView } from './charts.js';
import { summaryRows } from './table.js';

/**
 * One self-contained HTML file for one or more runs: the summary table, then the charts their
 * data allows, several runs overlaid one colour each. Scripts and styles are inlined and no font is
 * fetched, so the file opens anywhere with no network; it prints one chart per block.
 */
export function renderHtml(records: RunRecord[], hdr: Hdr): string {
  const runs: RunView[] = records.map((record, i) => ({ label: record.label, color: PALETTE[i % PALETTE.length]!, record }));
  const charts = chartSpecs(runs, hdr);
  const title = runs.length === 1 ? runs[0]!.label : `${runs.length} runs compared`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="netnote ${VERSION}">
<title>netnote report: ${escape(title)}</title>
<style>${UPLOT_STYLE}</style>
<style>${STYLE}</style>
</head>
<body>
<header>
<h1>netnote report</h1>
<p class="meta">netnote ${VERSION}, made ${new Date().toISOString().slice(0, 19).replace('T', ' ')} UTC</p>
<ol class="runs">${runs.map((run) => `<li><span class="swatch" style="background:${run.color}"></span><code>${escape(run.label)}</code>${startedAt(run.record)}</li>`).join('')}</ol>
</header>
<main>
<section class="summary">
<h2>Summary</h2>
${tables(runs)}
</section>
<section id="charts" class="charts" data-charts="${charts.length}">
<h2>Charts</h2>
${charts.length === 0 ? '<p>No chart applies to these runs: their summaries have no time series or distribution.</p>' : ''}
</section>
</main>
<script>${inlineScript(UPLOT_SCRIPT)}</script>
<script type="application/json" id="netnote-charts">${inlineScript(JSON.stringify(charts))}</script>
<script>${inlineScript(DRAW_SCRIPT)}</script>
</body>
</html>
`;
}

function startedAt(record: RunRecord): string {
  return record.startedAt === null ? '' : ` <span class="when">${new Date(record.startedAt).toISOString().slice(0, 23).replace('T', ' ')} UTC</span>`;
}

/** One table per kind of summary (a ping's, a stream's, a server's…), the runs that have it side by side. */
function tables(runs: RunView[]): string {
  const kinds = new Map<string, Array<{ run: RunView; summary: RecordedSummary }>>();
  for (const run of runs) {
    for (const summary of run.record.summaries) {
      const kind = `${summary.role} · ${summary.role === 'server' ? `${summary.summary.proto}-server` : summary.summary.proto}`;
      if (!kinds.has(kind)) kinds.set(kind, []);
      kinds.get(kind)!.push({ run, summary });
    }
  }
  const parts = [...kinds].map(([kind, columns]) => {
    const rows = new Map<string, string[]>();
    columns.forEach(({ summary }, i) => {
      for (const [label, value] of summaryRows(summary)) {
        if (!rows.has(label)) rows.set(label, new Array<string>(columns.length).fill(''));
        rows.get(label)![i] = value;
      }
    });
    return `<table class="figures">
<caption>${escape(kind)}</caption>
<thead><tr><th scope="col"></th>${columns.map(({ run }) => `<th scope="col"><span class="swatch" style="background:${run.color}"></span>${escape(run.label)}</th>`).join('')}</tr></thead>
<tbody>
${[...rows].map(([label, values]) => `<tr><th scope="row">${escape(label)}</th>${values.map((v) => `<td>${escape(v)}</td>`).join('')}</tr>`).join('\n')}
</tbody>
</table>`;
  });
  for (const run of runs.filter((r) => r.record.summaries.length === 0 && r.record.error)) {
    parts.push(`<p class="error"><span class="swatch" style="background:${run.color}"></span>${escape(run.label)}: ended before its summary: ${escape(run.record.error!.message)} (exit ${run.record.error!.exitCode})</p>`);
  }
  return parts.join('\n');
}

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Text inside <script>: `</script` or `<!--` in it would end or confuse the element. */
function inlineScript(text: string): string {
  return text.replace(/<\/(script)/gi, '<\\/$1').replace(/<!--/g, '<\\!--');
}

// System fonts only: nothing to fetch. Print: charts keep whole on a page, colours kept.
const STYLE = `
:root { color-scheme: light; font-family: system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; color: #1b1b1b; }
body { margin: 0 auto; padding: 1.5rem; max-width: 1100px; }
h1 { font-size: 1.5rem; margin: 0 0 .25rem; }
h2 { font-size: 1.15rem; margin: 1.5rem 0 .5rem; }
.meta, .when { color: #666; font-size: .85rem; }
.runs { padding-left: 1.2rem; }
.runs li { margin: .2rem 0; }
code { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: .85rem; }
.swatch { display: inline-block; width: .8em; height: .8em; border-radius: 2px; margin-right: .4em; vertical-align: -.05em; }
table.figures { border-collapse: collapse; margin: .5rem 0 1.2rem; font-size: .9rem; }
table.figures caption { text-align: left; font-weight: 600; padding: .2rem 0; }
table.figures th, table.figures td { border-bottom: 1px solid #ddd; padding: .25rem .8rem .25rem 0; text-align: left; vertical-align: top; }
table.figures td { font-variant-numeric: tabular-nums; }
table.figures thead th { border-bottom: 2px solid #999; }
.error { color: #a00; }
figure.chart { margin: 0 0 1.5rem; break-inside: avoid; page-break-inside: avoid; }
figure.chart figcaption { font-weight: 600; margin-bottom: .3rem; }
figure.chart p.note { color: #555; font-size: .85rem; margin: .3rem 0 0; }
@media print {
  body { max-width: none; padding: 0; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  .u-cursor-x, .u-cursor-y, .u-select { display: none; }
  table.figures { break-inside: avoid; }
}
`;
