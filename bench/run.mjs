// Echo benchmarks on loopback, in two sections:
//   TCP: throughput of netnote's tcp-server against a bare Node echo and socat;
//   UDP: 64-byte round-trip latency of netnote's udp-server against a bare Node dgram echo, and
//        what netnote's own udp-client adds to the round trips it measures.
//
//   npm run bench                      (builds, then runs this)
//   node bench/run.mjs [--rounds 7] [--seconds 2] [--udp-count 10000] [--only tcp|udp]
//
// One C client per section (bench/loadgen.c, bench/udpping.c) drives every server the same way,
// so differences are the servers' own. The machine is shared and noisy: contenders run
// round-robin (A B C D, A B C D, ...) so a slow moment hits all of them alike, and the median of
// the rounds is reported. Prints a table per section, writes bench/results.json. Exit 0 even when
// a target is missed (this is a report); exit 1 when a contender fails to run or an echo comes
// back wrong.

import { execFileSync, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const HOST = '127.0.0.1';
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const NETNOTE = path.join(ROOT, 'bin', 'netnote');
const RESULTS = path.join(ROOT, 'bench', 'results.json');
const CONNECTIONS = [1, 4];
const WARMUP_SECONDS = 0.25; // loadgen discards the first bytes of each run (connect, JIT, slow start)
const UDP_SIZE = 64; // bytes per datagram, both ways
const UDP_WARMUP = 200; // round trips udpping makes before it starts timing
const UDP_TIMEOUT_MS = 1000; // a datagram with no echo by then is lost (udp-client's default too)
const RUN_TIMEOUT_MS = 60_000; // one UDP client run that takes longer than this has hung

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '7' },
    seconds: { type: 'string', default: '2' },
    'udp-count': { type: 'string', default: '10000' },
    only: { type: 'string' },
  },
});
const ROUNDS = Number(args.rounds);
const SECONDS = Number(args.seconds);
const UDP_COUNT = Number(args['udp-count']);
const SECTIONS = args.only === undefined ? ['tcp', 'udp'] : [args.only];
if (!(ROUNDS >= 1 && SECONDS > 0 && Number.isInteger(UDP_COUNT) && UDP_COUNT >= 100 && ['tcp', 'udp'].includes(SECTIONS[0]))) {
  console.error('usage: node bench/run.mjs [--rounds N] [--seconds S] [--udp-count N>=100] [--only tcp|udp]');
  process.exit(2);
}

// ---------------------------------------------------------------------------------------------
// Processes: every child is tracked, so nothing outlives the benchmark, even on an error or ^C.

const children = new Set();

function track(child, name) {
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

/** Resolves with the first match of `pattern` in what `read()` returns, polling until it shows. */
async function waitFor(read, pattern, what, child, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const match = pattern.exec(read());
    if (match) return match;
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${what} exited before it was ready`);
    if (Date.now() > deadline) throw new Error(`${what} not ready after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Collects a child's output as text, for errors and for the port line. */
function capture(stream) {
  const box = { text: '' };
  stream?.setEncoding('utf8').on('data', (chunk) => {
    box.text += chunk;
  });
  return box;
}

/** A port nobody listens on right now (socat needs one; the others bind port 0). */
function freePort() {
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
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

// ---------------------------------------------------------------------------------------------
// Contenders. start() resolves with { port, stop() }; stop() rejects if the server misbehaved.

const BIND_LINE = /\[server\] bind address: 127\.0\.0\.1, (\d+)/;

/**
 * netnote tcp-server (or udp-server); `logFile` null = --quiet with stdout on a pipe, else every
 * message to that file.
 */
async function startNetnote(name, logFile, command = 'tcp-server') {
  const argv = [NETNOTE, command, HOST, '0', ...(logFile ? [] : ['--quiet'])];
  // A file opened for append, so the benchmark can truncate it between rounds to bound its size.
  const logFd = logFile ? fs.openSync(logFile, 'a') : null;
  const child = track(spawn(process.execPath, argv, {
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
    async stop() {
      child.kill('SIGTERM');
      const { code, signal } = await withTimeout(child.exited, 10_000, () => child.kill('SIGKILL'));
      // The documented contract: SIGTERM ends tcp-server (and udp-server) with exit 0.
      if (code !== 0) throw new Error(`${name} exited with ${code ?? signal} on SIGTERM, expected 0\n${err.text}`);
    },
  };
}

/**
 * The brief's baseline: the whole echo server is `s.pipe(s)`. Nagle off, as netnote sets it, so
 * the ratio measures the code and not a socket option.
 */
async function startBareNode(name, logFile = null) {
  // With a log file, every chunk is also written to it as it is (no formatting): what logging
  // the whole stream synchronously costs at the least, the reference for netnote's log row.
  const code = `
    const net = require('node:net');
    const fs = require('node:fs');
    const log = ${logFile ? `fs.openSync(${JSON.stringify(logFile)}, 'w')` : 'null'};
    const server = net.createServer({ noDelay: true }, (s) => {
      s.on('error', () => {}); // a client reset must not crash the baseline
      if (log !== null) s.on('data', (chunk) => fs.writeSync(log, chunk));
      s.pipe(s);
    });
    server.listen(0, '${HOST}', () => console.log('port ' + server.address().port));`;
  const child = track(spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'pipe'] }), name);
  const out = capture(child.stdout);
  capture(child.stderr);
  const port = Number((await waitFor(() => out.text, /port (\d+)/, name, child))[1]);
  return {
    port,
    async stop() {
      child.kill('SIGTERM');
      await withTimeout(child.exited, 10_000, () => child.kill('SIGKILL'));
    },
  };
}

/** The UDP baseline: each datagram sent back where it came from, and nothing else. */
async function startBareDgram(name) {
  const code = `
    const dgram = require('node:dgram');
    const socket = dgram.createSocket('udp4');
    socket.on('message', (m, r) => socket.send(m, r.port, r.address));
    socket.bind(0, '${HOST}', () => console.log('port ' + socket.address().port));`;
  const child = track(spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'pipe'] }), name);
  const out = capture(child.stdout);
  capture(child.stderr);
  const port = Number((await waitFor(() => out.text, /port (\d+)/, name, child))[1]);
  return {
    port,
    async stop() {
      child.kill('SIGTERM');
      await withTimeout(child.exited, 10_000, () => child.kill('SIGKILL'));
    },
  };
}

async function startSocat(name) {
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
  return {
    port,
    async stop() {
      kill(child, 'SIGTERM');
      await withTimeout(child.exited, 10_000, () => kill(child, 'SIGKILL'));
    },
  };
}

function withTimeout(promise, ms, onTimeout) {
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

// ---------------------------------------------------------------------------------------------
// Setup: socat present (TCP), the C clients compiled, scratch directory.

function have(command) {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

if (SECTIONS.includes('tcp') && !have('socat')) {
  console.log('bench: socat is missing; installing it: apt-get install -y socat');
  const [command, ...rest] = [...(process.getuid?.() === 0 ? [] : ['sudo']), 'apt-get', 'install', '-y', 'socat'];
  execFileSync(command, rest, { stdio: 'inherit' });
}
if (!have('cc')) {
  console.error('bench: a C compiler (cc) is needed to build bench/loadgen.c and bench/udpping.c');
  process.exit(1);
}

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'netnote-bench-'));
process.on('exit', () => fs.rmSync(scratch, { recursive: true, force: true }));
const LOADGEN = path.join(scratch, 'loadgen');
const UDPPING = path.join(scratch, 'udpping');
if (SECTIONS.includes('tcp')) execFileSync('cc', ['-O2', '-Wall', '-o', LOADGEN, path.join(ROOT, 'bench', 'loadgen.c')], { stdio: 'inherit' });
if (SECTIONS.includes('udp')) execFileSync('cc', ['-O2', '-Wall', '-o', UDPPING, path.join(ROOT, 'bench', 'udpping.c')], { stdio: 'inherit' });
const LOG_FILE = path.join(scratch, 'netnote-server.log');
const BARE_LOG_FILE = path.join(scratch, 'bare-server.log');

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

const round1 = (x) => Math.round(x * 10) / 10;

/** Prints rows as a table: the first row is the header; `numeric` columns are right-aligned. */
function printTable(rows, numeric) {
  const widths = rows[0].map((_, col) => Math.max(...rows.map((row) => row[col].length)));
  console.log();
  for (const [i, row] of rows.entries()) {
    console.log(row.map((cell, col) => (numeric.has(col) ? cell.padStart(widths[col]) : cell.padEnd(widths[col]))).join('  ').trimEnd());
    if (i === 0) console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  }
}

/** Starts every server (they stay up: each round measures steady state), runs `body`, stops them all. */
async function withServers(contenders, body) {
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
// TCP: echo throughput.

const CONTENDERS = [
  { id: 'netnote-quiet', label: 'netnote --quiet', start: () => startNetnote('netnote --quiet', null) },
  { id: 'bare-node', label: 'bare node s.pipe(s)', start: () => startBareNode('bare node') },
  { id: 'socat', label: 'socat EXEC:cat', start: () => startSocat('socat') },
  { id: 'netnote-log-file', label: 'netnote, log to file', start: () => startNetnote('netnote (log to file)', LOG_FILE) },
  { id: 'bare-node-log-file', label: 'bare node, raw chunks to file', start: () => startBareNode('bare node (log to file)', BARE_LOG_FILE) },
];

const RATIOS = [
  { id: 'netnote/bare-node', of: 'netnote-quiet', to: 'bare-node', target: 0.9 },
  { id: 'netnote/socat', of: 'netnote-quiet', to: 'socat', target: 3 },
  { id: 'netnote-log-file/netnote-quiet', of: 'netnote-log-file', to: 'netnote-quiet', target: 0.5 },
  // No target: how far the same target is reachable at all when every byte goes to a file.
  { id: 'bare-node-log-file/bare-node', of: 'bare-node-log-file', to: 'bare-node', target: null },
];

/** One loadgen run; rejects on a corrupted, closed or stalled echo. */
async function measure(port, conns) {
  const child = track(spawn(LOADGEN, [HOST, String(port), String(conns), String(SECONDS), String(WARMUP_SECONDS)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  }), 'loadgen');
  const out = capture(child.stdout);
  const err = capture(child.stderr);
  const { code, signal } = await child.exited;
  if (code !== 0) throw new Error(`loadgen failed (${code ?? signal}): ${err.text.trim()}`);
  return JSON.parse(out.text);
}

/** The TCP section: runs the rounds, prints its table, returns its part of results.json. */
async function runTcp() {
  const rounds = [];
  await withServers(CONTENDERS, async (servers) => {
    const total = ROUNDS * CONNECTIONS.length * CONTENDERS.length * (SECONDS + WARMUP_SECONDS);
    console.log(`bench tcp: ${ROUNDS} rounds x ${CONNECTIONS.length} connection counts x ${CONTENDERS.length} contenders, ` +
      `${SECONDS} s each (about ${Math.ceil(total)} s); Node ${process.version}, ${os.availableParallelism()} cores`);

    for (let round = 1; round <= ROUNDS; round++) {
      for (const conns of CONNECTIONS) {
        const line = [];
        for (const contender of CONTENDERS) {
          const result = await measure(servers.get(contender.id).port, conns);
          const entry = { round, conns, contender: contender.id, mbps: result.mbps, bytes: result.bytes, seconds: result.seconds, verifiedBytes: result.verifiedBytes };
          const logFile = { 'netnote-log-file': LOG_FILE, 'bare-node-log-file': BARE_LOG_FILE }[contender.id];
          if (logFile) {
            // What the server logged this round; then start the file over so it stays small.
            entry.logBytes = fs.statSync(logFile).size;
            fs.truncateSync(logFile, 0);
          }
          rounds.push(entry);
          line.push(`${contender.id} ${result.mbps.toFixed(0)}`);
        }
        console.log(`  round ${round}, ${conns} conn${conns > 1 ? 's' : ''}: ${line.join(', ')} MB/s`);
      }
    }
  });

  const medians = {};
  for (const contender of CONTENDERS) {
    medians[contender.id] = {};
    for (const conns of CONNECTIONS) {
      const values = rounds.filter((r) => r.contender === contender.id && r.conns === conns).map((r) => r.mbps);
      medians[contender.id][conns] = { median: median(values), min: Math.min(...values), max: Math.max(...values) };
    }
  }

  const ratios = [];
  for (const ratio of RATIOS) {
    for (const conns of CONNECTIONS) {
      const value = medians[ratio.of][conns].median / medians[ratio.to][conns].median;
      ratios.push({ ...ratio, conns, value, pass: ratio.target === null || value >= ratio.target });
    }
  }

  const labelOf = (id) => CONTENDERS.find((c) => c.id === id).label;
  const rows = [['contender', 'conns', 'median MB/s', 'min-max MB/s', 'ratio', 'target', 'result']];
  for (const conns of CONNECTIONS) {
    for (const contender of CONTENDERS) {
      const m = medians[contender.id][conns];
      const base = [contender.label, String(conns), m.median.toFixed(1), `${m.min.toFixed(0)}-${m.max.toFixed(0)}`];
      const mine = ratios.filter((r) => r.of === contender.id && r.conns === conns);
      if (mine.length === 0) rows.push([...base, '', '', '']);
      mine.forEach((r, i) => rows.push([
        ...(i === 0 ? base : ['', '', '', '']),
        `${r.value.toFixed(2)} x ${labelOf(r.to)}`, r.target === null ? 'ref.' : `>= ${r.target}`, r.target === null ? '' : r.pass ? 'pass' : 'MISS',
      ]));
    }
  }
  printTable(rows, new Set([1, 2, 3]));
  console.log('\nMB/s = 10^6 bytes per second echoed back to the load generator (64 KiB blocks, 256 KiB in flight per connection).');

  const missed = ratios.filter((r) => !r.pass);
  if (missed.length) console.log(`Missed: ${missed.map((r) => `${r.id} at ${r.conns} conn${r.conns > 1 ? 's' : ''} (${r.value.toFixed(2)} < ${r.target})`).join('; ')}`);

  return {
    settings: { rounds: ROUNDS, secondsPerRun: SECONDS, warmupSeconds: WARMUP_SECONDS, blockBytes: 65536, blocksInFlightPerConnection: 4, connections: CONNECTIONS, host: HOST },
    contenders: CONTENDERS.map(({ id, label }) => ({ id, label })),
    rounds,
    medians,
    ratios: ratios.map(({ id, conns, value, target, pass }) => ({ id, conns, value, target, pass })),
  };
}

// ---------------------------------------------------------------------------------------------
// UDP: round-trip latency of 64-byte datagrams, one at a time.

const UDP_SERVERS = [
  { id: 'netnote-udp-server', label: 'netnote udp-server --quiet', start: () => startNetnote('netnote udp-server --quiet', null, 'udp-server') },
  { id: 'bare-dgram', label: 'bare node dgram echo', start: () => startBareDgram('bare node dgram echo') },
];

/** A run is a client against a server; all three alternate in every round, in this order. */
const UDP_CONTENDERS = [
  { id: 'udpping/netnote', label: 'udpping -> netnote udp-server', client: 'udpping', server: 'netnote-udp-server' },
  { id: 'udpping/bare', label: 'udpping -> bare dgram echo', client: 'udpping', server: 'bare-dgram' },
  { id: 'udp-client/bare', label: 'netnote udp-client -> bare dgram echo', client: 'udp-client', server: 'bare-dgram' },
];

// Latencies: lower is better, so a target is a ceiling. Rate: higher is better; no target.
const UDP_RATIOS = [
  { id: 'netnote-udp-server/bare-dgram p50', of: 'udpping/netnote', to: 'udpping/bare', metric: 'p50', target: 1.5 },
  { id: 'netnote-udp-server/bare-dgram p99', of: 'udpping/netnote', to: 'udpping/bare', metric: 'p99', target: null },
  // The self-overhead of the measurement: netnote's client against the C one, same bare echo.
  { id: 'udp-client/udpping p50', of: 'udp-client/bare', to: 'udpping/bare', metric: 'p50', target: null },
  { id: 'udp-client/udpping p99', of: 'udp-client/bare', to: 'udpping/bare', metric: 'p99', target: null },
  { id: 'udp-client/udpping rate', of: 'udp-client/bare', to: 'udpping/bare', metric: 'perSecond', target: null },
];

/** Runs a client to its end: stdout, or a rejection on a non-zero exit or a hang. */
async function runClient(name, command, argv) {
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

/** One run of udpping (rejects on a wrong echo or a dead server); latencies in microseconds. */
async function measureUdpping(port) {
  const text = await runClient('udpping', UDPPING, [HOST, String(port), String(UDP_COUNT), String(UDP_WARMUP), String(UDP_SIZE), String(UDP_TIMEOUT_MS)]);
  const r = JSON.parse(text);
  return { p50: r.p50, p99: r.p99, min: r.min, max: r.max, perSecond: r.perSecond, durationMs: r.durationMs, received: r.received, lost: r.lost, late: r.late };
}

/**
 * One run of netnote's own client, as the brief gives it. --size makes its datagram (16-byte
 * probe header + payload) the same 64 bytes as udpping's. The rate is count / durationMs from
 * its summary; its latencies are its own rttMs, in microseconds here.
 */
async function measureUdpClient(port) {
  const text = await runClient('netnote udp-client', process.execPath, [NETNOTE, 'udp-client', HOST, String(port),
    '--probe', '--interval', '0', '--count', String(UDP_COUNT), '--quiet', '--json', '--size', String(UDP_SIZE - 16)]);
  const last = text.trim().split('\n').at(-1);
  const event = JSON.parse(last);
  if (event.event !== 'summary' || !event.summary?.rttMs) throw new Error(`netnote udp-client: no summary with rttMs in its last line: ${last}`);
  const { summary } = event;
  if (summary.sent.bytes !== UDP_COUNT * UDP_SIZE) throw new Error(`netnote udp-client sent ${summary.sent.bytes} bytes, expected ${UDP_COUNT} x ${UDP_SIZE}`);
  const us = (ms) => round1(ms * 1000);
  return {
    p50: us(summary.rttMs.p50), p99: us(summary.rttMs.p99), min: us(summary.rttMs.min), max: us(summary.rttMs.max),
    perSecond: round1(UDP_COUNT / (summary.durationMs / 1000)), durationMs: summary.durationMs,
    received: summary.received.messages, lost: summary.datagrams.lost, late: summary.datagrams.late,
  };
}

/** The UDP section: runs the rounds, prints its table, returns its part of results.json. */
async function runUdp() {
  const rounds = [];
  await withServers(UDP_SERVERS, async (servers) => {
    console.log(`bench udp: ${ROUNDS} rounds x ${UDP_CONTENDERS.length} client/server pairs, ${UDP_COUNT} round trips of ` +
      `${UDP_SIZE} bytes each; Node ${process.version}, ${os.availableParallelism()} cores`);
    for (let round = 1; round <= ROUNDS; round++) {
      const line = [];
      for (const contender of UDP_CONTENDERS) {
        const { port } = servers.get(contender.server);
        const result = contender.client === 'udpping' ? await measureUdpping(port) : await measureUdpClient(port);
        rounds.push({ round, contender: contender.id, ...result });
        line.push(`${contender.id} ${result.p50.toFixed(0)}/${result.p99.toFixed(0)}`);
      }
      console.log(`  round ${round}: ${line.join(', ')} us (p50/p99)`);
    }
  });

  const medians = {};
  for (const contender of UDP_CONTENDERS) {
    const mine = rounds.filter((r) => r.contender === contender.id);
    medians[contender.id] = { lost: mine.reduce((sum, r) => sum + r.lost, 0) };
    for (const metric of ['p50', 'p99', 'perSecond']) {
      const values = mine.map((r) => r[metric]);
      medians[contender.id][metric] = { median: round1(median(values)), min: Math.min(...values), max: Math.max(...values) };
    }
  }

  const ratios = UDP_RATIOS.map((ratio) => {
    const value = medians[ratio.of][ratio.metric].median / medians[ratio.to][ratio.metric].median;
    return { ...ratio, value, pass: ratio.target === null || value <= ratio.target };
  });

  const labelOf = (id) => UDP_CONTENDERS.find((c) => c.id === id).label;
  const span = (m) => `${m.min.toFixed(0)}-${m.max.toFixed(0)}`;
  const rows = [['client -> server', 'p50 us', 'min-max', 'p99 us', 'min-max', 'round trips/s', 'lost', 'ratio', 'target', 'result']];
  for (const contender of UDP_CONTENDERS) {
    const m = medians[contender.id];
    const base = [contender.label, m.p50.median.toFixed(1), span(m.p50), m.p99.median.toFixed(1), span(m.p99), m.perSecond.median.toFixed(0), String(m.lost)];
    const mine = ratios.filter((r) => r.of === contender.id);
    if (mine.length === 0) rows.push([...base, '', '', '']);
    mine.forEach((r, i) => rows.push([
      ...(i === 0 ? base : base.map(() => '')),
      `${{ p50: 'p50', p99: 'p99', perSecond: 'rate' }[r.metric]} ${r.value.toFixed(2)} x ${labelOf(r.to)}`,
      r.target === null ? 'ref.' : `<= ${r.target}`, r.target === null ? '' : r.pass ? 'pass' : 'MISS',
    ]));
  }
  printTable(rows, new Set([1, 2, 3, 4, 5, 6]));
  console.log(`\nus = microseconds per round trip of one ${UDP_SIZE}-byte datagram, sent only after the previous echo came back;` +
    `\nmedians of ${ROUNDS} rounds of ${UDP_COUNT} round trips; lost = datagrams with no echo within ${UDP_TIMEOUT_MS} ms, all rounds.`);

  const missed = ratios.filter((r) => !r.pass);
  if (missed.length) console.log(`Missed: ${missed.map((r) => `${r.id} (${r.value.toFixed(2)} > ${r.target})`).join('; ')}`);

  return {
    settings: { rounds: ROUNDS, roundTripsPerRun: UDP_COUNT, warmupRoundTrips: UDP_WARMUP, datagramBytes: UDP_SIZE, timeoutMs: UDP_TIMEOUT_MS, host: HOST, unit: 'microseconds' },
    servers: UDP_SERVERS.map(({ id, label }) => ({ id, label })),
    contenders: UDP_CONTENDERS.map(({ id, label, client, server }) => ({ id, label, client, server })),
    rounds,
    medians,
    ratios: ratios.map(({ id, of, to, metric, value, target, pass }) => ({ id, of, to, metric, value, target, pass })),
  };
}

// ---------------------------------------------------------------------------------------------
// The run: TCP, then UDP (or the one --only names), then results.json with what ran.

const started = Date.now();
// The machine is shared: say how busy it was (the 1-minute load average over the core count).
const loadAtStart = os.loadavg();
console.log(`bench: load average ${loadAtStart.map((l) => l.toFixed(2)).join(' ')} on ${os.availableParallelism()} cores`);
const tcp = SECTIONS.includes('tcp') ? await runTcp() : null;
if (tcp && SECTIONS.includes('udp')) console.log();
const udp = SECTIONS.includes('udp') ? await runUdp() : null;

fs.writeFileSync(RESULTS, `${JSON.stringify({
  date: new Date().toISOString(),
  node: process.version,
  platform: `${os.platform()} ${os.release()} ${os.arch()}`,
  cpuModel: os.cpus()[0]?.model ?? null,
  cores: os.availableParallelism(),
  loadAverage: { start: loadAtStart, end: os.loadavg() },
  sections: SECTIONS,
  wallSeconds: Math.round((Date.now() - started) / 100) / 10,
  // The TCP section keeps the keys it always had, at the top level.
  ...(tcp ?? {}),
  ...(udp ? { udp } : {}),
}, null, 2)}\n`);
console.log(`\nResults: ${path.relative(process.cwd(), RESULTS) || RESULTS} (${Math.round((Date.now() - started) / 1000)} s)`);
