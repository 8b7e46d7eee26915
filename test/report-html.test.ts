// HTML reports opened in a real browser: headless Chromium (Debian's, driven by playwright-core;
// playwright never downloads one) loads each report from file://, and the test checks that every
// chart the report announces was drawn by uPlot, in its runs' colours, with nothing fetched and
// no console error. Screenshots and a printed PDF are kept in test-output/ (ignored by git).
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runCli, saveRun, startCli, startServer } from './support/cli.js';
import { needs } from './support/needs.js';

const CHROMIUM = '/usr/bin/chromium';
const chromiumMissing = existsSync(CHROMIUM) ? null : `${CHROMIUM} missing (Debian package chromium)`;
// Without the background-networking flags Chromium reaches for the network at start-up, which
// this machine's closed network refuses.
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const OUTPUT = fileURLToPath(new URL('../test-output/', import.meta.url));

const dir = mkdtempSync(join(tmpdir(), 'netnote-report-'));
const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const clean of cleanups.splice(0).reverse()) await clean();
});

let browser: BrowserContext | undefined;
let profile = '';
beforeAll(async () => {
  if (chromiumMissing) return;
  mkdirSync(OUTPUT, { recursive: true });
  profile = mkdtempSync(join(tmpdir(), 'netnote-chromium-')); // a fresh profile every run
  browser = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: FLAGS, viewport: { width: 1200, height: 900 } });
}, 60_000);
afterAll(async () => {
  await browser?.close();
  rmSync(profile, { recursive: true, force: true });
  rmSync(dir, { recursive: true, force: true });
});

interface Opened {
  page: Page;
  errors: string[];
  requests: string[];
}

async function open(file: string): Promise<Opened> {
  const page = await browser!.newPage();
  cleanups.push(() => page.close());
  const errors: string[] = [];
  const requests: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  page.on('pageerror', (error) => errors.push(String(error)));
  page.on('request', (request) => requests.push(request.url()));
  await page.goto(pathToFileURL(file).href);
  await page.waitForFunction(() => document.body.dataset.chartsDrawn !== undefined, null, { timeout: 15_000 });
  return { page, errors, requests };
}

interface DrawnChart {
  id: string;
  series: number;
  legend: number;
  drawn: number;
  canvases: number;
  /** Series colours (#rrggbb) found among the canvas's pixels. */
  colours: string[];
}

/** What the browser drew for each chart: uPlot's own elements, and the colours on its canvas. */
async function drawnCharts(page: Page, colours: string[]): Promise<{ announced: number; charts: DrawnChart[] }> {
  return page.evaluate((wanted) => {
    const near = (a: number[], b: number[]) => a.every((v, i) => Math.abs(v - b[i]!) <= 12);
    const rgb = (hex: string) => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
    const charts = [...document.querySelectorAll<HTMLElement>('figure.chart')].map((figure) => {
      const plot = figure.querySelector<HTMLElement>('.uplot');
      const canvas = figure.querySelector('canvas');
      const found = new Set<string>();
      if (canvas) {
        const pixels = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
        for (let p = 0; p < pixels.length; p += 4 * 3) {
          if (pixels[p + 3]! < 250) continue;
          const px = [pixels[p]!, pixels[p + 1]!, pixels[p + 2]!];
          for (const hex of wanted) if (near(px, rgb(hex))) found.add(hex);
        }
      }
      return {
        id: figure.dataset.chart!,
        series: Number(figure.dataset.series),
        legend: figure.querySelectorAll('.u-legend .u-series').length,
        drawn: Number(plot?.dataset.drawn ?? 0),
        canvases: figure.querySelectorAll('canvas').length,
        colours: [...found].sort(),
      };
    });
    return { announced: Number(document.getElementById('charts')!.dataset.charts), charts };
  }, colours);
}

const saved = (name: string, args: string[]) => saveRun(join(dir, name), args);

const RUN_COLOURS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#17becf'];

describe('HTML reports in Chromium', needs(chromiumMissing), () => {
  it('netnote report of six runs of every mode: each chart drawn, runs overlaid in their colours, nothing fetched, no console error', async () => {
    const echo = await startServer('tcp-server', ['--quiet']);
    cleanups.push(() => echo.stop('SIGKILL'));
    const udp = startCli(['udp-server', '127.0.0.1', '0', '--quiet']);
    cleanups.push(() => udp.stop('SIGKILL'));
    const udpPort = (await udp.waitFor(/bind address: \S+, (\d+)\n/))[1]!;
    const sink = startCli(['--json', 'tcp-server', '127.0.0.1', '0', '--sink']);
    cleanups.push(() => sink.stop('SIGKILL'));
    const sinkPort = (await sink.waitFor(/"event":"listening".*?"port":(\d+)/))[1]!;
    const limited = await startServer('tcp-server', ['--quiet', '--max-clients', '15', '--backlog', '64']);
    cleanups.push(() => limited.stop('SIGKILL'));

    const files = [
      await saved('ping-small.ndjson', ['tcp-client', '127.0.0.1', String(echo.port), '--ping', '-c', '500', '--size', '16']),
      await saved('ping-large.ndjson', ['tcp-client', '127.0.0.1', String(echo.port), '--ping', '-c', '500', '--size', '4096']),
      await saved('udp-probe.ndjson', ['--quiet', 'udp-client', '127.0.0.1', udpPort, '--probe', '-c', '300', '-i', '5ms']),
      await saved('stream.ndjson', ['tcp-client', '127.0.0.1', sinkPort, '--stream', '--duration', '2s', '--parallel', '2']),
      await saved('connections.ndjson', ['tcp-client', '127.0.0.1', String(limited.port), '--connections', '20', '--hold', '300ms']),
    ];
    const sinkRun = await sink.stop('SIGTERM');
    writeFileSync(join(dir, 'sink.ndjson'), sinkRun.stdout);
    files.push(join(dir, 'sink.ndjson'));

    const html = join(dir, 'all.html');
    const made = await runCli(['report', ...files, '-o', html]);
    expect(made.stderr).toBe('');
    expect(made.code).toBe(0);
    expect(made.stdout).toBe('');
    const text = readFileSync(html, 'utf8');
    expect(text).not.toMatch(/<(script|link|img)[^>]+(src|href)=/); // everything inline

    const { page, errors, requests } = await open(html);
    const { announced, charts } = await drawnCharts(page, RUN_COLOURS);
    await page.screenshot({ path: join(OUTPUT, 'report-six-runs.png'), fullPage: true });
    expect(errors).toEqual([]);
    expect(requests).toEqual([pathToFileURL(html).href]);
    expect(charts.map((c) => c.id)).toEqual(['rtt-percentiles', 'rtt-histogram', 'rtt-time', 'throughput', 'udp-loss', 'udp-jitter', 'connections', 'wire']);
    expect(announced).toBe(charts.length);
    for (const chart of charts) {
      expect(chart.canvases, chart.id).toBe(1);
      expect(chart.drawn, chart.id).toBeGreaterThanOrEqual(1);
      expect(chart.legend, chart.id).toBe(chart.series);
    }
    const byId = Object.fromEntries(charts.map((c) => [c.id, c]));
    // The two ping runs overlaid in their own colours; the others in theirs.
    expect(byId['rtt-percentiles']!.series).toBe(3); // both pings and the UDP probe run
    expect(byId['rtt-percentiles']!.colours).toEqual(['#1f77b4', '#2ca02c', '#d62728']);
    expect(byId['rtt-time']!.colours).toEqual(['#1f77b4', '#d62728']);
    expect(byId['throughput']!.colours).toEqual(expect.arrayContaining(['#9467bd', '#17becf'])); // the stream, the sink
    expect(byId['throughput']!.series).toBe(2 + 1 + 1 + 2); // stream total + 2 connections, sink total + its 2 clients
    expect(byId['udp-loss']!.colours).toContain('#2ca02c');
    expect(byId['connections']!.colours).toContain('#ff7f0e');
    expect(byId['wire']!.series).toBe(2);

    // Printed: charts redrawn for the page's width, each kept whole.
    await page.emulateMedia({ media: 'print' });
    const pdf = await page.pdf({ path: join(OUTPUT, 'report-six-runs.pdf'), format: 'A4', printBackground: true });
    expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
    expect(await page.evaluate(() => getComputedStyle(document.querySelector('figure.chart')!).breakInside)).toBe('avoid');
    expect(errors).toEqual([]);
  });

  it('netnote report of one-way, reverse and --bidir runs: the receiver\'s seconds charted, each way of --bidir its own series, the receiver\'s figures in the table', async () => {
    const sink = await startServer('udp-server', ['--sink', '--quiet']);
    cleanups.push(() => sink.stop('SIGKILL'));
    const echo = await startServer('tcp-server', ['--quiet']);
    cleanups.push(() => echo.stop('SIGKILL'));
    const files = [
      await saved('one-way.ndjson', ['--quiet', 'udp-client', '127.0.0.1', String(sink.port), '--one-way', '--rate', '500', '--duration', '2s']),
      await saved('reverse.ndjson', ['--quiet', 'udp-client', '127.0.0.1', String(sink.port), '--reverse', '--rate', '300', '--duration', '2s']),
      await saved('bidir.ndjson', ['tcp-client', '127.0.0.1', String(echo.port), '--stream', '--bidir', '--bitrate', '8M', '--duration', '2s']),
    ];
    const html = join(dir, 'one-way.html');
    const made = await runCli(['report', ...files, '-o', html]);
    expect(made.code, made.stderr).toBe(0);
    const { page, errors } = await open(html);
    const { charts } = await drawnCharts(page, RUN_COLOURS);
    await page.screenshot({ path: join(OUTPUT, 'report-one-way.png'), fullPage: true });
    expect(errors).toEqual([]);
    const byId = Object.fromEntries(charts.map((c) => [c.id, c]));
    expect(byId['one-way']!.series).toBe(2);
    expect(byId['one-way']!.colours).toEqual(['#1f77b4', '#d62728']);
    expect(byId['throughput']!.series).toBe(2); // sent and received, each a total
    // One table for the two UDP runs, a column each.
    const table = await page.locator('table.figures').first().textContent();
    expect(table).toContain('one wayclient to server (--one-way)server to client (--reverse)');
    expect(table).toContain('receiver: received1000 of 1000600 of 600');
    expect(table).toContain('receiver: loss0.0% (0 lost)0.0% (0 lost)');
  });

  it('links that live for days: reconnects as a timeline and per gap, idle-timeout trials by idle time, and their figures in the table', async () => {
    const dropping = await startServer('tcp-server', ['--quiet', '--drop-after', '600ms', '--drop-mode', 'reset']);
    cleanups.push(() => dropping.stop('SIGKILL'));
    const echo = await startServer('tcp-server', ['--quiet']);
    cleanups.push(() => echo.stop('SIGKILL'));
    const files = [
      await saved('reconnects.ndjson', ['--quiet', 'tcp-client', '127.0.0.1', String(dropping.port), '-c', '8', '-i', '250ms', '--reconnect', '--backoff', '100ms', '--heartbeat', '200ms', '--heartbeat-data', 'hb']),
      await saved('idle-timeout.ndjson', ['--quiet', 'idle-timeout', '127.0.0.1', String(echo.port), '--max', '2s', '-w', '500ms']),
    ];
    const html = join(dir, 'long-lived.html');
    const made = await runCli(['report', ...files, '-o', html]);
    expect(made.code, made.stderr).toBe(0);
    const { page, errors } = await open(html);
    const { charts } = await drawnCharts(page, RUN_COLOURS);
    await page.screenshot({ path: join(OUTPUT, 'report-long-lived.png'), fullPage: true });
    expect(errors).toEqual([]);
    // (--quiet runs: no per-message events, so no chart of each round trip.)
    expect(charts.map((c) => c.id)).toEqual(['rtt-percentiles', 'rtt-histogram', 'reconnects', 'reconnect-gaps', 'idle-trials', 'wire']);
    for (const chart of charts) expect(chart.drawn, chart.id).toBeGreaterThanOrEqual(1);
    const byId = Object.fromEntries(charts.map((c) => [c.id, c]));
    expect(byId['reconnects']!.colours).toContain('#1f77b4');
    expect(byId['idle-trials']!.series).toBe(2); // uplink and downlink of the idle-timeout run
    const spec = await page.evaluate(() => JSON.parse(document.getElementById('netnote-charts')!.textContent!) as Array<{ id: string; series: Array<{ xs: number[]; ys: Array<number | null> }> }>);
    // The timeline goes down once per gap and up again.
    const timeline = spec.find((c) => c.id === 'reconnects')!.series[0]!;
    const gaps = spec.find((c) => c.id === 'reconnect-gaps')!.series[0]!.xs.length;
    expect(gaps).toBeGreaterThanOrEqual(1);
    expect(timeline.ys.filter((y) => y === 0)).toHaveLength(gaps);
    // Loopback keeps everything: every trial survived.
    expect(spec.find((c) => c.id === 'idle-trials')!.series.every((s) => s.ys.every((y) => y === 1))).toBe(true);
    const tables = await page.locator('table.figures').allTextContents();
    expect(tables.join('\n')).toMatch(/reconnects\d+ \(\d+ attempts\)/);
    expect(tables.join('\n')).toContain('heartbeats');
    expect(tables.join('\n')).toContain('downlinksurvived 2.00 s, none failed');
  });

  it('--report on a --quiet --ping run: the log stays quiet, the report has every round trip', async () => {
    const server = await startServer('tcp-server', ['--quiet']);
    cleanups.push(() => server.stop('SIGKILL'));
    const html = join(dir, 'live.html');
    const run = await runCli(['--quiet', '--report', html, 'tcp-client', '127.0.0.1', String(server.port), '--ping', '-c', '300']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).not.toContain('recv data');
    expect(run.stdout).not.toContain('send data');
    expect(run.stdout).toMatch(/^\[client\] sent 300 \(2\.93 KiB\), received 300 \(2\.93 KiB\), 0 without reply$/m);
    const { page, errors } = await open(html);
    const { charts } = await drawnCharts(page, RUN_COLOURS);
    await page.screenshot({ path: join(OUTPUT, 'report-live-ping.png'), fullPage: true });
    expect(errors).toEqual([]);
    expect(charts.map((c) => c.id)).toEqual(['rtt-percentiles', 'rtt-histogram', 'rtt-time', 'wire']);
    // Every round trip is a point of the time chart.
    const points = await page.evaluate(() => (JSON.parse(document.getElementById('netnote-charts')!.textContent!) as Array<{ id: string; series: Array<{ xs: number[] }> }>)
      .find((c) => c.id === 'rtt-time')!.series[0]!.xs.length);
    expect(points).toBe(300);
    expect(await page.locator('table.figures').first().textContent()).toContain('round trips timed300');
  });
});

describe('netnote report, without a browser', () => {
  it('a run that is not NDJSON is a usage error (exit 2) and no file; an output it cannot write, exit 8', async () => {
    const run = join(dir, 'not-json.ndjson');
    writeFileSync(run, 'hello\n');
    const bad = await runCli(['report', run, '-o', join(dir, 'x.html')]);
    expect(bad.stderr).toMatch(/^netnote: not-json\.ndjson line 1 is not JSON: hello\nnetnote: hint: give files written by netnote --json/);
    expect(bad.code).toBe(2);
    expect(existsSync(join(dir, 'x.html'))).toBe(false);

    const server = await startServer('tcp-server', ['--quiet']);
    cleanups.push(() => server.stop('SIGKILL'));
    const good = await saveRun(join(dir, 'one.ndjson'), ['--quiet', 'tcp-client', '127.0.0.1', String(server.port), '-c', '1']);
    const unwritable = await runCli(['report', good, '-o', '/dev/full']);
    expect(unwritable.stderr).toBe('netnote: cannot write --output /dev/full: no space left on the device (ENOSPC)\nnetnote: hint: free some space, or write somewhere else\n');
    expect(unwritable.code).toBe(8);
  });
});
