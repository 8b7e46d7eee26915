// What every section of the benchmark shares: the arguments, the child processes (tracked, so
// nothing outlives a run), the servers it starts, the C clients it compiles, the statistics, the
// tables, and results.json. The sections are in bench/sections/; bench/run.mjs runs them.

import { execFileSync, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

export const HOST = '127.0.0.1';
export const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const NETNOTE = path.join(ROOT, 'bin', 'netnote');
const RESULTS = path.join(ROOT, 'bench', 'results.json');
export const RUN_TIMEOUT_MS = 60_000; // one client run (UDP, RTT, stream, hyperfine round) that takes longer than this has hung
export const NODE_AND_CORES = `Node ${process.version}, ${os.availableParallelism()} cores`;

// ---------------------------------------------------------------------------------------------
// Arguments.

/**
 * The command line, checked: the settings every section reads, and the sections to run (of
 * `names`, in that order). Exits 2 with the usage on anything it does not accept.
 */
export function parseArguments(names) {
  const { values: args } = parseArgs({
    options: {
      rounds: { type: 'string', default: '7' },
      seconds: { type: 'string', default: '2' },
      'udp-count': { type: 'string', default: '10000' },
      'rtt-count': { type: 'string', default: '5000' },
      capacity: { type: 'string', default: '10000' },
      'capacity-rounds': { type: 'string', default: '3' },
      'stream-seconds': { type: 'string', default: '5' },
      'stream-rounds': { type: 'string', default: '3' },
      'startup-rounds': { type: 'string', default: '4' },
      'startup-runs': { type: 'string', default: '8' },
      'tls-rounds': { type: 'string', default: '5' },
      'tls-seconds': { type: 'string', default: '3' },
      'pacing-seconds': { type: 'string', default: '10' },
      'pacing-rounds': { type: 'string', default: '2' },
      only: { type: 'string' },
    },
  });
  const settings = {
    rounds: Number(args.rounds),
    seconds: Number(args.seconds),
    udpCount: Number(args['udp-count']),
    rttCount: Number(args['rtt-count']),
    capacity: Number(args.capacity),
    capacityRounds: Number(args['capacity-rounds']),
    streamSeconds: Number(args['stream-seconds']),
    streamRounds: Number(args['stream-rounds']),
    startupRounds: Number(args['startup-rounds']),
    startupRuns: Number(args['startup-runs']),
    tlsRounds: Number(args['tls-rounds']),
    tlsSeconds: Number(args['tls-seconds']),
    pacingSeconds: Number(args['pacing-seconds']),
    pacingRounds: Number(args['pacing-rounds']),
  };
  // --only takes one section or several, separated by commas (or |, quoted).
  const only = args.only?.split(/[,|]/);
  const sections = only === undefined ? names : names.filter((s) => only.includes(s));
  const s = settings;
  const positiveInt = (x) => Number.isInteger(x) && x >= 1;
  if (!(s.rounds >= 1 && s.seconds > 0 && Number.isInteger(s.udpCount) && s.udpCount >= 100 && Number.isInteger(s.rttCount) && s.rttCount >= 100 &&
    positiveInt(s.capacity) && positiveInt(s.capacityRounds) && s.streamSeconds >= 1 && positiveInt(s.streamRounds) &&
    positiveInt(s.startupRounds) && s.startupRuns >= 2 && Number.isInteger(s.startupRuns) && positiveInt(s.tlsRounds) && positiveInt(s.tlsSeconds) && positiveInt(s.pacingSeconds) && positiveInt(s.pacingRounds) &&
    sections.length > 0 && (only === undefined || only.every((name) => names.includes(name))))) {
    console.error('usage: node bench/run.mjs [--rounds N] [--seconds S] [--udp-count N>=100] [--rtt-count N>=100] [--capacity N]\n' +
      '         [--capacity-rounds N] [--stream-seconds S>=1] [--stream-rounds N] [--startup-rounds N] [--startup-runs N>=2]\n' +
      '         [--tls-rounds N] [--tls-seconds N] [--pacing-seconds N] [--pacing-rounds N]\n' +
      `         [--only ${names.join('|')}[,...]]`);
    process.exit(2);
  }
  return { settings, sections };
}

// ---------------------------------------------------------------------------------------------
// Processes: every child is tracked, so nothing outlives the benchmark, even on an error or ^C.

const children = new Set();

export function track(child, name) {
  children.add(child);
  child.exited = new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      children.delete(child);
      resolve({ code, signal });
    });
    // A command that cannot be started never exits: report it as ended with no code.
    child.on('error', (err) => {
      console.error(`bench: ${name}: ${err.message}`);
      children.delete(child);
      resolve({ code: null, signal: null });
    });
  });
  return child;
}

/** socat runs in its own process group, so its per-connection forks get the signal too. */
function kill(child, signal) {
  try {
    if (child.group) process.kill(-child.pid, signal);
    else child.kill(signal);
  } catch {
    // already gone
  }
}

function killAll() {
  for (const child of children) kill(child, 'SIGKILL');
}

process.on('exit', killAll);
for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]]) {
  process.on(signal, () => {
    console.error(`\nbench: ${signal}, stopping servers`);
    process.exit(code); // the 'exit' handler kills them
  });
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export function withTimeout(promise, ms, onTimeout) {
  let timer;
  return Promise.race([
    promise,
    new Promise((resolve) => {
      timer = setTimeout(() => {
        onTimeout();
        resolve(promise);
      }, ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** Resolves with the first match of `pattern` in what `read()` returns, polling until it shows. */
export async function waitFor(read, pattern, what, child, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const match = pattern.exec(read());
    if (match) return match;
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${what} exited before it was ready`);
    if (Date.now() > deadline) throw new Error(`${what} not ready after ${timeoutMs} ms`);
    await sleep(20);
  }
}

/** Collects a child's output as text, for errors and for the port line. */
export function capture(stream) {
  const box = { text: '' };
  stream?.setEncoding('utf8').on('data', (chunk) => {
    box.text += chunk;
  });
  return box;
}

/** A port nobody listens on right now (socat, iperf3 and openssl s_server need one; the others bind port 0). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, HOST, () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

/** Resolves once socat accepts connections: it prints nothing when it is ready. */
async function waitForListen(port, what, child) {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const ok = await new Promise((resolve) => {
      const socket = net.connect(port, HOST, () => {
        socket.destroy();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
    });
    if (ok) return;
    if (child.exitCode !== null) throw new Error(`${what} exited before it was ready`);
    if (Date.now() > deadline) throw new Error(`${what} not listening on ${port} after 10 s`);
    await sleep(50);
  }
}

/**
 * Raises the soft limit on open files as far as it goes (the hard limit, if 65536 is not
 * allowed), then runs the command in the same process (exec: the pid is the command's).
 */
const ULIMIT_SCRIPT = 'ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec "$@"';
export function spawnWithUlimit(command, argv, options) {
  return spawn('sh', ['-c', ULIMIT_SCRIPT, 'sh', command, ...argv], options);
}

/** Runs a client to its end: stdout, or a rejection on a non-zero exit or a hang. */
export async function runClient(name, command, argv) {
  const child = track(spawn(command, argv, { cwd: ROOT, env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] }), name);
  const out = capture(child.stdout);
  const err = capture(child.stderr);
  let hung = false;
  const { code, signal } = await withTimeout(child.exited, RUN_TIMEOUT_MS, () => {
    hung = true;
    child.kill('SIGKILL');
  });
  if (hung) throw new Error(`${name} did not finish within ${RUN_TIMEOUT_MS / 1000} s`);
  if (code !== 0) throw new Error(`${name} failed (${code ?? signal}): ${(err.text || out.text).trim()}`);
  return out.text;
}

// ---------------------------------------------------------------------------------------------
// Servers. start() resolves with { port, stop() }; stop() rejects if the server misbehaved.

const BIND_LINE = /\[server\] bind address: 127\.0\.0\.1, (\d+)/;

/** The stop() of a server with no exit contract: SIGTERM, and SIGKILL if it is still up 10 s later. */
export function stopper(child) {
  return async () => {
    kill(child, 'SIGTERM');
    await withTimeout(child.exited, 10_000, () => kill(child, 'SIGKILL'));
  };
}

/**
 * netnote tcp-server (or udp-server); `logFile` null = --quiet with stdout on a pipe, else every
 * message to that file. `extra`: more options; `ulimit`: raise the open-files limit first.
 */
export async function startNetnote(name, logFile, command = 'tcp-server', { extra = [], ulimit = false } = {}) {
  const argv = [NETNOTE, command, HOST, '0', ...(logFile ? [] : ['--quiet']), ...extra];
  // A file opened for append, so the benchmark can truncate it between rounds to bound its size.
  const logFd = logFile ? fs.openSync(logFile, 'a') : null;
  const child = track((ulimit ? spawnWithUlimit : spawn)(process.execPath, argv, {
    cwd: ROOT,
    env: { ...process.env, NO_COLOR: '1' },
    stdio: ['ignore', logFd ?? 'pipe', 'pipe'],
  }), name);
  if (logFd !== null) fs.closeSync(logFd); // the child has its own copy
  const out = capture(child.stdout);
  const err = capture(child.stderr);
  const read = logFile ? () => fs.readFileSync(logFile, 'utf8') : () => out.text;
  const port = Number((await waitFor(read, BIND_LINE, name, child))[1]);
  return {
    port,
    pid: child.pid,
    output: () => out.text,
    async stop() {
      child.kill('SIGTERM');
      const { code, signal } = await withTimeout(child.exited, 10_000, () => child.kill('SIGKILL'));
      // The documented contract: SIGTERM ends tcp-server (and udp-server), summary printed, with exit 143.
      if (code !== 143) throw new Error(`${name} exited with ${code ?? signal} on SIGTERM, expected 143\n${err.text}`);
    },
  };
}

/** A bare Node server: `code` for `node -e`, which prints `port N` once it listens. */
export async function startNodeScript(name, code, ulimit = false) {
  const child = track((ulimit ? spawnWithUlimit : spawn)(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'pipe'] }), name);
  const out = capture(child.stdout);
  capture(child.stderr);
  const port = Number((await waitFor(() => out.text, /port (\d+)/, name, child))[1]);
  return { port, pid: child.pid, stop: stopper(child) };
}

/**
 * The brief's baseline: the whole echo server is `s.pipe(s)`. Nagle off, as netnote sets it, so
 * the ratio measures the code and not a socket option.
 */
export function startBareNode(name, logFile = null, { backlog = null, ulimit = false } = {}) {
  // With a log file, every chunk is also written to it as it is (no formatting): what logging
  // the whole stream synchronously costs at the least, the reference for netnote's log row.
  return startNodeScript(name, `
    const net = require('node:net');
    const fs = require('node:fs');
    const log = ${logFile ? `fs.openSync(${JSON.stringify(logFile)}, 'w')` : 'null'};
    const server = net.createServer({ noDelay: true }, (s) => {
      s.on('error', () => {}); // a client reset must not crash the baseline
      if (log !== null) s.on('data', (chunk) => fs.writeSync(log, chunk));
      s.pipe(s);
    });
    server.listen(0, '${HOST}', ${backlog ?? 511}, () => console.log('port ' + server.address().port));`, ulimit);
}

/** The UDP baseline: each datagram sent back where it came from, and nothing else. */
export function startBareDgram(name) {
  return startNodeScript(name, `
    const dgram = require('node:dgram');
    const socket = dgram.createSocket('udp4');
    socket.on('message', (m, r) => socket.send(m, r.port, r.address));
    socket.bind(0, '${HOST}', () => console.log('port ' + socket.address().port));`);
}

export async function startSocat(name) {
  const port = await freePort();
  // detached: socat and the socat + cat it forks per connection get a process group of their own.
  const child = track(spawn('socat', [`TCP-LISTEN:${port},bind=${HOST},reuseaddr,fork`, 'EXEC:cat'], {
    stdio: ['ignore', 'ignore', 'pipe'],
    detached: true,
  }), name);
  child.group = true;
  const err = capture(child.stderr);
  try {
    await waitForListen(port, name, child);
  } catch (e) {
    throw new Error(`${e.message}\n${err.text}`);
  }
  return { port, stop: stopper(child) };
}

/** iperf3 -s on a free port, kept up for every round (it serves one test at a time). */
export async function startIperf3(name) {
  const port = await freePort();
  const child = track(spawn('iperf3', ['-s', '-B', HOST, '-p', String(port), '--forceflush'], { stdio: ['ignore', 'pipe', 'pipe'] }), name);
  const out = capture(child.stdout);
  const err = capture(child.stderr);
  try {
    await waitFor(() => out.text, /Server listening on \d+/, name, child);
  } catch (e) {
    throw new Error(`${e.message}\n${err.text}`);
  }
  return { port, stop: stopper(child) };
}

/** Starts every server (they stay up: each round measures steady state), runs `body`, stops them all. */
export async function withServers(contenders, body) {
  const servers = new Map();
  let failure = null;
  try {
    for (const contender of contenders) servers.set(contender.id, await contender.start());
    await body(servers);
  } catch (err) {
    failure = err;
  } finally {
    for (const [id, server] of servers) {
      try {
        await server.stop();
      } catch (err) {
        failure ??= err;
        console.error(`bench: stopping ${id}: ${err.message}`);
      }
    }
  }
  if (failure) {
    console.error(`bench: FAILED: ${failure.message}`);
    process.exit(1);
  }
}

// ---------------------------------------------------------------------------------------------
// Setup: the tools the selected sections use, the C clients compiled, a scratch directory.

export const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'netnote-bench-'));
process.on('exit', () => fs.rmSync(scratch, { recursive: true, force: true }));

/** Where bench/NAME.c is compiled to (by prepare(), for the sections that name it as their client). */
export const compiled = (name) => path.join(scratch, name);

function have(command) {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

/**
 * Installs each section's `tool` (socat, iperf3, hyperfine) that is missing, then compiles each
 * section's `client` (bench/NAME.c); exits 1 without a C compiler.
 */
export function prepare(sections) {
  for (const { tool } of sections) {
    if (tool && !have(tool)) {
      console.log(`bench: ${tool} is missing; installing it: apt-get install -y ${tool}`);
      const [command, ...rest] = [...(process.getuid?.() === 0 ? [] : ['sudo']), 'apt-get', 'install', '-y', tool];
      execFileSync(command, rest, { stdio: 'inherit' });
    }
  }
  if (!have('cc')) {
    console.error('bench: a C compiler (cc) is needed to build the load generators in bench/*.c');
    process.exit(1);
  }
  for (const { client } of sections) {
    if (client) execFileSync('cc', ['-O2', '-Wall', '-o', compiled(client), path.join(ROOT, 'bench', `${client}.c`)], { stdio: 'inherit' });
  }
}

// ---------------------------------------------------------------------------------------------
// Statistics and tables.

export const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

export const round1 = (x) => Math.round(x * 10) / 10;

/** Prints rows as a table: the first row is the header; `numeric` columns are right-aligned. */
export function printTable(rows, numeric) {
  const widths = rows[0].map((_, col) => Math.max(...rows.map((row) => row[col].length)));
  console.log();
  for (const [i, row] of rows.entries()) {
    console.log(row.map((cell, col) => (numeric.has(col) ? cell.padStart(widths[col]) : cell.padEnd(widths[col]))).join('  ').trimEnd());
    if (i === 0) console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  }
}

// ---------------------------------------------------------------------------------------------
// Latency sections (udp, rtt): the same method, the same table.

/**
 * The summary in the last line of a netnote client's --json output, with its round trips in
 * microseconds; `count` round trips were asked for, the rate is count / durationMs.
 */
export function netnoteRoundTrips(name, text, count) {
  const last = text.trim().split('\n').at(-1);
  const event = JSON.parse(last);
  if (event.event !== 'summary' || !event.summary?.rttMs) throw new Error(`${name}: no summary with rttMs in its last line: ${last}`);
  const { summary } = event;
  const us = (ms) => round1(ms * 1000);
  return {
    summary,
    result: {
      p50: us(summary.rttMs.p50), p99: us(summary.rttMs.p99), min: us(summary.rttMs.min), max: us(summary.rttMs.max),
      perSecond: round1(count / (summary.durationMs / 1000)), durationMs: summary.durationMs, received: summary.received.messages,
    },
  };
}

/** Medians (with min and max) of the rounds' metrics, per contender. */
function latencyMedians(rounds, contenders, metrics) {
  const medians = {};
  for (const contender of contenders) {
    const mine = rounds.filter((r) => r.contender === contender.id);
    medians[contender.id] = {};
    for (const metric of metrics) {
      const values = mine.map((r) => r[metric]);
      medians[contender.id][metric] = { median: round1(median(values)), min: Math.min(...values), max: Math.max(...values) };
    }
  }
  return medians;
}

/**
 * A latency section (udp, rtt): every client/server pair once per round, round-robin; medians of
 * p50, p99 and rate; ratios against their targets (ceilings); a table. `lost` adds the count of
 * datagrams without an echo, summed over the rounds.
 */
export async function runLatencySection({ rounds: roundCount, header, servers, contenders, ratios: specs, lost = false, measure, footnote }) {
  const rounds = [];
  await withServers(servers, async (running) => {
    console.log(header);
    for (let round = 1; round <= roundCount; round++) {
      const line = [];
      for (const contender of contenders) {
        const result = await measure(contender, running.get(contender.server).port);
        rounds.push({ round, contender: contender.id, ...result });
        line.push(`${contender.id} ${result.p50.toFixed(0)}/${result.p99.toFixed(0)}`);
      }
      console.log(`  round ${round}: ${line.join(', ')} us (p50/p99)`);
    }
  });

  const medians = latencyMedians(rounds, contenders, ['p50', 'p99', 'perSecond']);
  if (lost) {
    for (const { id } of contenders) medians[id].lost = rounds.filter((r) => r.contender === id).reduce((sum, r) => sum + r.lost, 0);
  }
  const ratios = specs.map((ratio) => {
    const value = medians[ratio.of][ratio.metric].median / medians[ratio.to][ratio.metric].median;
    return { ...ratio, value, pass: ratio.target === null || value <= ratio.target };
  });

  const labelOf = (id) => contenders.find((c) => c.id === id).label;
  const span = (m) => `${m.min.toFixed(0)}-${m.max.toFixed(0)}`;
  const rows = [['client -> server', 'p50 us', 'min-max', 'p99 us', 'min-max', 'round trips/s', ...(lost ? ['lost'] : []), 'ratio', 'target', 'result']];
  for (const contender of contenders) {
    const m = medians[contender.id];
    const base = [contender.label, m.p50.median.toFixed(1), span(m.p50), m.p99.median.toFixed(1), span(m.p99), m.perSecond.median.toFixed(0), ...(lost ? [String(m.lost)] : [])];
    const mine = ratios.filter((r) => r.of === contender.id);
    if (mine.length === 0) rows.push([...base, '', '', '']);
    mine.forEach((r, i) => rows.push([
      ...(i === 0 ? base : base.map(() => '')),
      `${{ p50: 'p50', p99: 'p99', perSecond: 'rate' }[r.metric]} ${r.value.toFixed(2)} x ${labelOf(r.to)}`,
      r.target === null ? 'ref.' : `<= ${r.target}`, r.target === null ? '' : r.pass ? 'pass' : 'MISS',
    ]));
  }
  printTable(rows, new Set(lost ? [1, 2, 3, 4, 5, 6] : [1, 2, 3, 4, 5]));
  console.log(footnote);

  const missed = ratios.filter((r) => !r.pass);
  if (missed.length) console.log(`Missed: ${missed.map((r) => `${r.id} (${r.value.toFixed(2)} > ${r.target})`).join('; ')}`);

  return {
    servers: servers.map(({ id, label }) => ({ id, label })),
    contenders: contenders.map(({ id, label, client, server }) => ({ id, label, client, server })),
    rounds,
    medians,
    ratios: ratios.map(({ id, of, to, metric, value, target, pass }) => ({ id, of, to, metric, value, target, pass })),
  };
}

// ---------------------------------------------------------------------------------------------
// results.json.

/** Writes the run to bench/results.json; returns its path as the user would type it. */
export function writeResults({ sections, started, loadAtStart, sectionSeconds, results, summary }) {
  const { tcp, ...others } = results;
  fs.writeFileSync(RESULTS, `${JSON.stringify({
    date: new Date().toISOString(),
    node: process.version,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    cpuModel: os.cpus()[0]?.model ?? null,
    cores: os.availableParallelism(),
    loadAverage: { start: loadAtStart, end: os.loadavg() },
    sections,
    wallSeconds: Math.round((Date.now() - started) / 100) / 10,
    sectionSeconds,
    // The TCP section keeps the keys it always had, at the top level; the others are under their name.
    ...(tcp ?? {}),
    ...others,
    summary,
  }, null, 2)}\n`);
  return path.relative(process.cwd(), RESULTS) || RESULTS;
}
