// Figures for reports and merges, measured (not a timed test):
//   1. the HTML report of a 100 000-message `tcp-client --ping` run (per-message events kept, so
//      every round trip is a point): its size, and how long `netnote report` takes to build it;
//   2. the same for a 60 s `tcp-client --stream --parallel 8` run against `tcp-server --sink`;
//   3. `netnote merge` of 100 runs of 10 000 round-trip samples each: how long it takes, and
//      whether its percentiles (and count, min, max, mean, stddev, chart buckets, and 201
//      percentiles read from the merged histogram) equal those of one recorder that recorded all
//      1 000 000 samples. The samples are drawn here (a log-normal spread around 0.3 ms with a
//      tail), recorded by netnote's own RttRecorder (bundled from src/ with esbuild), split into
//      100 NDJSON runs, and merged by the built CLI.
//
//   npm run build && node bench/report-figures.mjs [--ping-count 100000] [--stream-seconds 60]
//                                                  [--runs 100] [--samples 10000] [--rounds 5]
//
// Times are medians of --rounds runs of the same command. Files go to a temporary folder,
// removed at the end.
import { execFileSync, spawn } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const NETNOTE = join(root, 'bin/netnote');
const { values } = parseArgs({
  options: {
    'ping-count': { type: 'string', default: '100000' },
    'stream-seconds': { type: 'string', default: '60' },
    runs: { type: 'string', default: '100' },
    samples: { type: 'string', default: '10000' },
    rounds: { type: 'string', default: '5' },
  },
});
const PING_COUNT = Number(values['ping-count']);
const STREAM_SECONDS = Number(values['stream-seconds']);
const RUNS = Number(values.runs);
const SAMPLES = Number(values.samples);
const ROUNDS = Number(values.rounds);
const dir = mkdtempSync(join(tmpdir(), 'netnote-figures-'));

/** Starts `netnote ARGS` and resolves with its port once it listens. */
function server(args) {
  const child = spawn(process.execPath, [NETNOTE, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (chunk) => {
      out += chunk;
      const match = /bind address: \S+, (\d+)\n/.exec(out);
      if (match) resolve({ child, port: match[1] });
    });
    child.on('exit', () => reject(new Error(`server exited: ${out}`)));
  });
}

/** Runs `netnote ARGS` with stdout to a file. */
async function runToFile(args, path) {
  const out = createWriteStream(path);
  const child = spawn(process.execPath, [NETNOTE, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  child.stdout.pipe(out);
  const [code] = await Promise.all([
    new Promise((resolve) => child.on('exit', resolve)),
    new Promise((resolve) => out.on('close', resolve)),
  ]);
  if (code !== 0) throw new Error(`netnote ${args.join(' ')}: exit ${code}`);
}

/** Median wall time (ms) of running `netnote ARGS` ROUNDS times; the last run's stdout. */
function timed(args) {
  const times = [];
  let stdout = '';
  for (let i = 0; i < ROUNDS; i++) {
    const started = performance.now();
    stdout = execFileSync(process.execPath, [NETNOTE, ...args], { encoding: 'utf8', maxBuffer: 1 << 28 });
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  return { ms: times[Math.floor(times.length / 2)], stdout };
}

const kib = (bytes) => `${(bytes / 1024).toFixed(1)} KiB`;
const rows = [];

// 1. A 100 000-message ping run's report.
{
  const echo = await server(['tcp-server', '127.0.0.1', '0', '--quiet']);
  const run = join(dir, 'ping.ndjson');
  await runToFile(['--json', 'tcp-client', '127.0.0.1', echo.port, '--ping', '-c', String(PING_COUNT), '--size', '64'], run);
  echo.child.kill('SIGTERM');
  const html = join(dir, 'ping.html');
  const { ms } = timed(['report', run, '-o', html]);
  rows.push([`report of a ${PING_COUNT}-message --ping run (every round trip drawn)`, kib(statSync(html).size), `${ms.toFixed(0)} ms`, `NDJSON ${kib(statSync(run).size)}`]);
}

// 2. A 60 s --stream --parallel 8 run's report.
{
  const sink = await server(['tcp-server', '127.0.0.1', '0', '--sink', '--quiet']);
  const run = join(dir, 'stream.ndjson');
  await runToFile(['--json', 'tcp-client', '127.0.0.1', sink.port, '--stream', '--duration', `${STREAM_SECONDS}s`, '--parallel', '8'], run);
  sink.child.kill('SIGTERM');
  const html = join(dir, 'stream.html');
  const { ms } = timed(['report', run, '-o', html]);
  rows.push([`report of a ${STREAM_SECONDS} s --stream --parallel 8 run`, kib(statSync(html).size), `${ms.toFixed(0)} ms`, `NDJSON ${kib(statSync(run).size)}`]);
}

// 3. merge of RUNS runs of SAMPLES samples, against one recorder of them all.
{
  const bundled = join(dir, 'rtt.mjs');
  await build({ entryPoints: [join(root, 'src/core/measure/rtt.ts')], bundle: true, format: 'esm', platform: 'node', outfile: bundled, logLevel: 'warning' });
  const { RttRecorder } = await import(pathToFileURL(bundled).href);
  const hdr = await import('hdr-histogram-js');
  // A deterministic generator, so every run of this script measures the same samples.
  let seed = 0x2545f491;
  const random = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
  const sample = () => {
    const normal = Math.sqrt(-2 * Math.log(random() || 1e-12)) * Math.cos(2 * Math.PI * random());
    const tail = random() < 0.01 ? 20 * random() : 1; // 1 % of round trips up to 20× slower
    return 300_000 * Math.exp(0.5 * normal) * tail; // ns
  };
  const single = await RttRecorder.create();
  const files = [];
  const end = Date.now();
  for (let r = 0; r < RUNS; r++) {
    const part = await RttRecorder.create();
    for (let i = 0; i < SAMPLES; i++) {
      const ns = sample();
      part.record(ns);
      single.record(ns);
    }
    const rttMs = part.summary();
    const summary = {
      proto: 'tcp', remote: { address: '127.0.0.1', port: 7, family: 'IPv4' }, local: { address: '127.0.0.1', port: 40000 + r, family: 'IPv4' }, connected: true,
      rounds: SAMPLES, sent: { messages: SAMPLES, bytes: SAMPLES * 64 }, received: { messages: SAMPLES, bytes: SAMPLES * 64 }, rttMs,
      durationMs: 10_000, ended: 'completed', datagrams: null, wire: null,
    };
    const path = join(dir, `run-${String(r).padStart(3, '0')}.ndjson`);
    writeFileSync(path, `${JSON.stringify({ v: 1, time: new Date(end).toISOString(), event: 'summary', role: 'client', summary, exitCode: 0, error: null })}\n`);
    files.push(path);
  }
  const expected = single.summary();
  const { ms, stdout } = timed(['--json', 'merge', ...files]);
  const merged = JSON.parse(stdout.trim().split('\n').at(-1)).summary.rttMs;
  const percentiles = (s) => {
    const h = hdr.decodeFromCompressedBase64(s.histogram);
    return Array.from({ length: 201 }, (_, i) => h.getValueAtPercentile(i / 2));
  };
  const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);
  const { histogram: _m, ...shownMerged } = merged;
  const { histogram: _e, ...shownExpected } = expected;
  const equal = same(shownMerged, shownExpected) && same(percentiles(merged), percentiles(expected));
  rows.push([`merge of ${RUNS} runs of ${SAMPLES} samples`, '', `${ms.toFixed(0)} ms`, equal ? 'equal to the single run: every field and 201 percentiles' : 'DIFFERENT from the single run']);
  rows.push(['  merged', '', '', `count ${merged.count}, p50 ${merged.p50}, p90 ${merged.p90}, p99 ${merged.p99}, p99.9 ${merged.p999}, max ${merged.max}, mean ${merged.mean}, stddev ${merged.stddev} ms`]);
  rows.push(['  single run', '', '', `count ${expected.count}, p50 ${expected.p50}, p90 ${expected.p90}, p99 ${expected.p99}, p99.9 ${expected.p999}, max ${expected.max}, mean ${expected.mean}, stddev ${expected.stddev} ms`]);
  if (!equal) process.exitCode = 1;
}

rmSync(dir, { recursive: true, force: true });
console.log(`node ${process.version}, ${ROUNDS} rounds (median)`);
for (const row of rows) console.log(row.filter((cell) => cell !== '').join(' | '));
