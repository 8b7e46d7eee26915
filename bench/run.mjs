// Benchmarks on loopback, in sections (all of them by default, in this order):
//   tcp:      throughput of netnote's tcp-server against a bare Node echo and socat;
//   udp:      64-byte round-trip latency of netnote's udp-server against a bare Node dgram echo,
//             and what netnote's own udp-client adds to the round trips it measures;
//   rtt:      the same for TCP: 64-byte round trips through netnote's tcp-server against a bare
//             Node echo, and what `tcp-client --ping` adds to the round trips it measures;
//   capacity: 10 000 connections opened at once and held by `tcp-server --backlog 4096`: how
//             many, how fast, how much memory per connection (and a bare Node server for
//             reference), plus what `tcp-client --connections` says about the same server;
//   stream:   `tcp-client --stream` -> `tcp-server --sink` against iperf3 -> iperf3 -s;
//   startup:  `node bin/netnote --help` against `node -e 0` (hyperfine), and an esbuild bundle
//             of the same CLI for reference.
//
//   npm run bench                      (builds, then runs this)
//   node bench/run.mjs [--rounds 7] [--seconds 2] [--udp-count 10000] [--rtt-count 5000]
//                      [--capacity 10000] [--capacity-rounds 3] [--stream-seconds 5]
//                      [--stream-rounds 3] [--startup-rounds 4] [--startup-runs 8]
//                      [--only tcp|udp|rtt|capacity|stream|startup[,...]]
//
// Clients that are not netnote drive the servers (bench/loadgen.c, udpping.c, tcpping.c,
// hold.c, iperf3), so differences are the servers' own. The machine is shared and noisy:
// contenders run round-robin (A B C D, A B C D, ...) so a slow moment hits all of them alike,
// and the median of the rounds is reported. Prints a table per section and a combined table of
// every target at the end, writes bench/results.json. Exit 0 even when a target is missed (this
// is a report); exit 1 when a contender fails to run or an echo comes back wrong.

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
const RUN_TIMEOUT_MS = 60_000; // one client run (UDP, RTT, stream, hyperfine round) that takes longer than this has hung

const ALL_SECTIONS = ['tcp', 'udp', 'rtt', 'capacity', 'stream', 'startup'];
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
    only: { type: 'string' },
  },
});
const ROUNDS = Number(args.rounds);
const SECONDS = Number(args.seconds);
const UDP_COUNT = Number(args['udp-count']);
const RTT_COUNT = Number(args['rtt-count']);
const CAPACITY = Number(args.capacity);
const CAPACITY_ROUNDS = Number(args['capacity-rounds']);
const STREAM_SECONDS = Number(args['stream-seconds']);
const STREAM_ROUNDS = Number(args['stream-rounds']);
const STARTUP_ROUNDS = Number(args['startup-rounds']);
const STARTUP_RUNS = Number(args['startup-runs']);
// --only takes one section or several, separated by commas (or |, quoted).
const SECTIONS = args.only === undefined ? ALL_SECTIONS : ALL_SECTIONS.filter((s) => args.only.split(/[,|]/).includes(s));
const positiveInt = (x) => Number.isInteger(x) && x >= 1;
if (!(ROUNDS >= 1 && SECONDS > 0 && Number.isInteger(UDP_COUNT) && UDP_COUNT >= 100 && Number.isInteger(RTT_COUNT) && RTT_COUNT >= 100 &&
  positiveInt(CAPACITY) && positiveInt(CAPACITY_ROUNDS) && STREAM_SECONDS >= 1 && positiveInt(STREAM_ROUNDS) &&
  positiveInt(STARTUP_ROUNDS) && STARTUP_RUNS >= 2 && Number.isInteger(STARTUP_RUNS) &&
  SECTIONS.length > 0 && (args.only === undefined || args.only.split(/[,|]/).every((s) => ALL_SECTIONS.includes(s))))) {
  console.error('usage: node bench/run.mjs [--rounds N] [--seconds S] [--udp-count N>=100] [--rtt-count N>=100] [--capacity N]\n' +
    '         [--capacity-rounds N] [--stream-seconds S>=1] [--stream-rounds N] [--startup-rounds N] [--startup-runs N>=2]\n' +
    `         [--only ${ALL_SECTIONS.join('|')}[,...]]`);
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
 * Raises the soft limit on open files as far as it goes (the hard limit, if 65536 is not
 * allowed), then runs the command in the same process (exec: the pid is the command's).
 */
const ULIMIT_SCRIPT = 'ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec "$@"';
function spawnWithUlimit(command, argv, options) {
  return spawn('sh', ['-c', ULIMIT_SCRIPT, 'sh', command, ...argv], options);
}

/**
 * netnote tcp-server (or udp-server); `logFile` null = --quiet with stdout on a pipe, else every
 * message to that file. `extra`: more options; `ulimit`: raise the open-files limit first.
 */
async function startNetnote(name, logFile, command = 'tcp-server', { extra = [], ulimit = false } = {}) {
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
      // The documented contract: SIGTERM ends tcp-server (and udp-server) with exit 0.
      if (code !== 0) throw new Error(`${name} exited with ${code ?? signal} on SIGTERM, expected 0\n${err.text}`);
    },
  };
}

/**
 * The brief's baseline: the whole echo server is `s.pipe(s)`. Nagle off, as netnote sets it, so
 * the ratio measures the code and not a socket option.
 */
async function startBareNode(name, logFile = null, { backlog = null, ulimit = false } = {}) {
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
    server.listen(0, '${HOST}', ${backlog ?? 511}, () => console.log('port ' + server.address().port));`;
  const child = track((ulimit ? spawnWithUlimit : spawn)(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'pipe'] }), name);
  const out = capture(child.stdout);
  capture(child.stderr);
  const port = Number((await waitFor(() => out.text, /port (\d+)/, name, child))[1]);
  return {
    port,
    pid: child.pid,
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
// Setup: socat, iperf3, hyperfine present (for the sections that use them), the C clients
// compiled, scratch directory.

function have(command) {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

for (const [section, tool] of [['tcp', 'socat'], ['stream', 'iperf3'], ['startup', 'hyperfine']]) {
  if (SECTIONS.includes(section) && !have(tool)) {
    console.log(`bench: ${tool} is missing; installing it: apt-get install -y ${tool}`);
    const [command, ...rest] = [...(process.getuid?.() === 0 ? [] : ['sudo']), 'apt-get', 'install', '-y', tool];
    execFileSync(command, rest, { stdio: 'inherit' });
  }
}
if (!have('cc')) {
  console.error('bench: a C compiler (cc) is needed to build the load generators in bench/*.c');
  process.exit(1);
}

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'netnote-bench-'));
process.on('exit', () => fs.rmSync(scratch, { recursive: true, force: true }));
const LOADGEN = path.join(scratch, 'loadgen');
const UDPPING = path.join(scratch, 'udpping');
const TCPPING = path.join(scratch, 'tcpping');
const HOLD = path.join(scratch, 'hold');
for (const [section, binary] of [['tcp', LOADGEN], ['udp', UDPPING], ['rtt', TCPPING], ['capacity', HOLD]]) {
  if (SECTIONS.includes(section)) execFileSync('cc', ['-O2', '-Wall', '-o', binary, path.join(ROOT, 'bench', `${path.basename(binary)}.c`)], { stdio: 'inherit' });
}
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
  const section = await runLatencySection({
    header: `bench udp: ${ROUNDS} rounds x ${UDP_CONTENDERS.length} client/server pairs, ${UDP_COUNT} round trips of ` +
      `${UDP_SIZE} bytes each; Node ${process.version}, ${os.availableParallelism()} cores`,
    servers: UDP_SERVERS, contenders: UDP_CONTENDERS, ratios: UDP_RATIOS, lost: true,
    measure: (contender, port) => (contender.client === 'udpping' ? measureUdpping(port) : measureUdpClient(port)),
    footnote: `\nus = microseconds per round trip of one ${UDP_SIZE}-byte datagram, sent only after the previous echo came back;` +
      `\nmedians of ${ROUNDS} rounds of ${UDP_COUNT} round trips; lost = datagrams with no echo within ${UDP_TIMEOUT_MS} ms, all rounds.`,
  });
  return {
    settings: { rounds: ROUNDS, roundTripsPerRun: UDP_COUNT, warmupRoundTrips: UDP_WARMUP, datagramBytes: UDP_SIZE, timeoutMs: UDP_TIMEOUT_MS, host: HOST, unit: 'microseconds' },
    ...section,
  };
}

// ---------------------------------------------------------------------------------------------
// RTT: TCP round-trip latency of 64-byte messages, one at a time (the UDP section's method).

const RTT_SIZE = 64; // bytes per message, both ways
const RTT_WARMUP = 200; // round trips tcpping makes before it starts timing

const RTT_SERVERS = [
  { id: 'netnote-tcp-server', label: 'netnote tcp-server --quiet', start: () => startNetnote('netnote tcp-server --quiet (rtt)', null) },
  { id: 'bare-node', label: 'bare node echo', start: () => startBareNode('bare node echo (rtt)') },
];

/** A run is a client against a server; all three alternate in every round, in this order. */
const RTT_CONTENDERS = [
  { id: 'tcpping/netnote', label: 'tcpping -> netnote tcp-server', client: 'tcpping', server: 'netnote-tcp-server' },
  { id: 'tcpping/bare', label: 'tcpping -> bare node echo', client: 'tcpping', server: 'bare-node' },
  { id: 'tcp-client/bare', label: 'netnote tcp-client --ping -> bare node echo', client: 'tcp-client', server: 'bare-node' },
];

// Latencies: lower is better, so a target is a ceiling. Rate: higher is better; no target.
const RTT_RATIOS = [
  { id: 'netnote-tcp-server/bare-node p50', of: 'tcpping/netnote', to: 'tcpping/bare', metric: 'p50', target: 1.2 },
  { id: 'netnote-tcp-server/bare-node p99', of: 'tcpping/netnote', to: 'tcpping/bare', metric: 'p99', target: null },
  // The self-overhead of the measurement: netnote's client against the C one, same bare echo.
  { id: 'tcp-client-ping/tcpping p50', of: 'tcp-client/bare', to: 'tcpping/bare', metric: 'p50', target: 1.3 },
  { id: 'tcp-client-ping/tcpping p99', of: 'tcp-client/bare', to: 'tcpping/bare', metric: 'p99', target: null },
  { id: 'tcp-client-ping/tcpping rate', of: 'tcp-client/bare', to: 'tcpping/bare', metric: 'perSecond', target: null },
];

/** One run of tcpping (rejects on a wrong echo or a dead server); latencies in microseconds. */
async function measureTcpping(port) {
  const text = await runClient('tcpping', TCPPING, [HOST, String(port), String(RTT_COUNT), String(RTT_WARMUP), String(RTT_SIZE)]);
  const r = JSON.parse(text);
  return { p50: r.p50, p99: r.p99, min: r.min, max: r.max, perSecond: r.perSecond, durationMs: r.durationMs, received: r.received };
}

/** One run of `netnote tcp-client --ping`, as the brief gives it; its rttMs in microseconds here. */
async function measureTcpClientPing(port) {
  const text = await runClient('netnote tcp-client --ping', process.execPath, [NETNOTE, 'tcp-client', HOST, String(port),
    '--ping', '-c', String(RTT_COUNT), '--size', String(RTT_SIZE), '--quiet', '--json']);
  const last = text.trim().split('\n').at(-1);
  const event = JSON.parse(last);
  if (event.event !== 'summary' || !event.summary?.rttMs) throw new Error(`netnote tcp-client --ping: no summary with rttMs in its last line: ${last}`);
  const { summary } = event;
  const bytes = RTT_COUNT * RTT_SIZE;
  if (summary.rttMs.count !== RTT_COUNT || summary.sent.bytes !== bytes || summary.received.bytes !== bytes) {
    throw new Error(`netnote tcp-client --ping: ${summary.rttMs.count} RTTs, ${summary.sent.bytes} bytes sent, ${summary.received.bytes} received; expected ${RTT_COUNT}, ${bytes}, ${bytes}`);
  }
  const us = (ms) => round1(ms * 1000);
  return {
    p50: us(summary.rttMs.p50), p99: us(summary.rttMs.p99), min: us(summary.rttMs.min), max: us(summary.rttMs.max),
    perSecond: round1(RTT_COUNT / (summary.durationMs / 1000)), durationMs: summary.durationMs, received: summary.received.messages,
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
async function runLatencySection({ header, servers, contenders, ratios: specs, lost = false, measure, footnote }) {
  const rounds = [];
  await withServers(servers, async (running) => {
    console.log(header);
    for (let round = 1; round <= ROUNDS; round++) {
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

/** The RTT section: runs the rounds, prints its table, returns its part of results.json. */
async function runRtt() {
  const section = await runLatencySection({
    header: `bench rtt: ${ROUNDS} rounds x ${RTT_CONTENDERS.length} client/server pairs, ${RTT_COUNT} TCP round trips of ` +
      `${RTT_SIZE} bytes each; Node ${process.version}, ${os.availableParallelism()} cores`,
    servers: RTT_SERVERS, contenders: RTT_CONTENDERS, ratios: RTT_RATIOS,
    measure: (contender, port) => (contender.client === 'tcpping' ? measureTcpping(port) : measureTcpClientPing(port)),
    footnote: `\nus = microseconds per round trip of one ${RTT_SIZE}-byte message on one TCP connection (TCP_NODELAY), sent only after` +
      `\nthe previous echo came back; medians of ${ROUNDS} rounds of ${RTT_COUNT} round trips (tcpping: after ${RTT_WARMUP} unmeasured ones).`,
  });
  return {
    settings: { rounds: ROUNDS, roundTripsPerRun: RTT_COUNT, warmupRoundTrips: RTT_WARMUP, messageBytes: RTT_SIZE, host: HOST, unit: 'microseconds' },
    ...section,
  };
}

// ---------------------------------------------------------------------------------------------
// Capacity: N connections opened at once by bench/hold.c and held by a server.

const CAPACITY_BACKLOG = 4096;
const CAPACITY_HOLD_MS = 1000; // hold.c keeps them at least this long once opened
const CAPACITY_OPEN_TIMEOUT_MS = 10_000; // hold.c: a handshake not done by then timed out
const CAPACITY_WAIT_MS = 15_000; // how long the server gets to accept every connection
const CAPACITY_SETTLE_MS = 300; // pause before reading the server's RSS (start-up, then all accepted)
const CAPACITY_CLIENT_HOLD = '2s'; // netnote tcp-client --connections N --hold 2s
const CAPACITY_FD_MARGIN = 64; // file descriptors a process needs besides its connections
const CAPACITY_TARGET = { openMs: 3000, rssPerConnKiB: 15 };

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const fdCount = (pid) => fs.readdirSync(`/proc/${pid}/fd`).length;
const rssKiB = (pid) => Number(/VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))[1]);

/**
 * What the machine allows: the open-files limit that ULIMIT_SCRIPT gets (and the error it met
 * on the way, if 65536 was refused), the ephemeral port range, the listen backlog ceiling.
 */
function capacityLimits() {
  const probe = spawnSync('sh', ['-c', 'ulimit -n 65536 2>&1 || ulimit -n "$(ulimit -Hn)"; echo "NOFILE $(ulimit -n) $(ulimit -Hn)"'], { encoding: 'utf8' });
  const m = /^NOFILE (\S+) (\S+)$/m.exec(probe.stdout);
  const num = (x) => (x === 'unlimited' ? Infinity : Number(x));
  const [low, high] = fs.readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
  return {
    openFiles: num(m[1]),
    openFilesHard: num(m[2]),
    raiseError: probe.stdout.slice(0, m.index).trim() || null,
    ephemeralPorts: high - low + 1,
    somaxconn: Number(fs.readFileSync('/proc/sys/net/core/somaxconn', 'utf8')),
  };
}

/** Resolves once the server has closed its side of every connection (or after 10 s). */
async function waitForFds(pid, base) {
  const deadline = Date.now() + 10_000;
  while (fdCount(pid) > base && Date.now() < deadline) await sleep(50);
  return fdCount(pid) - base;
}

/**
 * One hold.c run against a started server: N connections at once, the server's sockets counted
 * in /proc/PID/fd until it has them all, its VmRSS read before and once they are all held.
 */
async function holdRun(server, n) {
  const base = fdCount(server.pid);
  const rssBefore = rssKiB(server.pid);
  const t0 = performance.now();
  const child = track(spawnWithUlimit(HOLD, [HOST, server.port, n, CAPACITY_HOLD_MS, CAPACITY_OPEN_TIMEOUT_MS].map(String), {
    stdio: ['pipe', 'pipe', 'pipe'],
  }), 'hold');
  child.stdin.on('error', () => {}); // hold.c gone early: its exit code tells
  const out = capture(child.stdout);
  const err = capture(child.stderr);
  let acceptedMs = null;
  let peak = 0;
  for (;;) {
    const held = fdCount(server.pid) - base;
    peak = Math.max(peak, held);
    if (held >= n) {
      acceptedMs = performance.now() - t0;
      break;
    }
    if (child.exitCode !== null || child.signalCode !== null || performance.now() - t0 > CAPACITY_WAIT_MS) break;
    await sleep(20);
  }
  let open;
  try {
    open = JSON.parse((await waitFor(() => out.text, /^\{"phase":"open".*$/m, 'hold', child, CAPACITY_WAIT_MS))[0]);
  } catch (e) {
    child.kill('SIGKILL');
    throw new Error(`${e.message}: ${err.text.trim()}`);
  }
  await sleep(CAPACITY_SETTLE_MS);
  const heldByServer = fdCount(server.pid) - base;
  const rssAfter = rssKiB(server.pid);
  child.stdin.end(); // hold.c lets go after CAPACITY_HOLD_MS and this
  const { code, signal } = await withTimeout(child.exited, 10_000 + CAPACITY_HOLD_MS, () => child.kill('SIGKILL'));
  if (code !== 0) throw new Error(`hold failed (${code ?? signal}): ${err.text.trim()}`);
  const hold = JSON.parse(/^\{"phase":"hold".*$/m.exec(out.text)[0]);
  const left = await waitForFds(server.pid, base);
  if (left > 0) console.log(`  (the server still had ${left} of the connections 10 s after hold.c closed them)`);
  return {
    attempted: n,
    established: open.established,
    failed: { refused: open.refused, reset: open.reset, timedOut: open.timedOut, other: open.otherErrors, firstError: open.firstError },
    clientOpenMs: open.openMs,
    serverAcceptedMs: acceptedMs === null ? null : round1(acceptedMs),
    // Open = established on the client and accepted by the server, whichever came last.
    openMs: acceptedMs === null ? null : round1(Math.max(open.openMs, acceptedMs)),
    serverPeak: Math.max(peak, heldByServer),
    heldByServer,
    alive: hold.alive,
    closedDuringHold: hold.closedDuringHold,
    held: Math.min(open.established, heldByServer, hold.alive),
    rssBeforeKiB: rssBefore,
    rssAfterKiB: rssAfter,
    rssPerConnKiB: Math.round(((rssAfter - rssBefore) / n) * 100) / 100,
  };
}

/** The second opinion: `netnote tcp-client --connections N --hold 2s --json` against the server. */
async function netnoteCapacityRun(server, n) {
  const base = fdCount(server.pid);
  const t0 = performance.now();
  const name = 'netnote tcp-client --connections';
  const child = track(spawnWithUlimit(process.execPath, [NETNOTE, 'tcp-client', HOST, String(server.port), '--connections', String(n),
    '--hold', CAPACITY_CLIENT_HOLD, '--json'], { cwd: ROOT, env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] }), name);
  const out = capture(child.stdout);
  const err = capture(child.stderr);
  let peak = 0;
  let acceptedMs = null;
  while (child.exitCode === null && child.signalCode === null) {
    const held = fdCount(server.pid) - base;
    peak = Math.max(peak, held);
    if (acceptedMs === null && held >= n) acceptedMs = round1(performance.now() - t0);
    if (performance.now() - t0 > RUN_TIMEOUT_MS) {
      child.kill('SIGKILL');
      throw new Error(`${name} did not finish within ${RUN_TIMEOUT_MS / 1000} s`);
    }
    await sleep(20);
  }
  const { code, signal } = await child.exited;
  const wallMs = round1(performance.now() - t0);
  const last = out.text.trim().split('\n').at(-1) ?? '';
  let event;
  try {
    event = JSON.parse(last);
  } catch {
    throw new Error(`${name} exited with ${code ?? signal} and no JSON summary: ${(err.text || out.text).trim().slice(-500)}`);
  }
  if (event.event !== 'summary' || event.summary?.proto !== 'tcp-capacity') throw new Error(`${name}: no capacity summary in its last line: ${last}`);
  const s = event.summary;
  await waitForFds(server.pid, base);
  return {
    exitCode: code, wallMs, attempted: s.attempted, established: s.established, refused: s.refused, reset: s.reset, timedOut: s.timedOut,
    otherErrors: s.otherErrors, openMs: s.openMs, alive: s.alive, closedDuringHold: s.closedDuringHold, holdMs: s.holdMs,
    serverPeak: peak, serverAcceptedMs: acceptedMs,
  };
}

const CAPACITY_SERVERS = [
  {
    id: 'netnote', label: `netnote tcp-server --quiet --backlog ${CAPACITY_BACKLOG}`,
    start: () => startNetnote('netnote tcp-server (capacity)', null, 'tcp-server', { extra: ['--backlog', String(CAPACITY_BACKLOG)], ulimit: true }),
  },
  {
    id: 'bare-node', label: `bare node echo, backlog ${CAPACITY_BACKLOG}`,
    start: () => startBareNode('bare node echo (capacity)', null, { backlog: CAPACITY_BACKLOG, ulimit: true }),
  },
];

/** The capacity section: a fresh server per run, so each RSS is measured from the same start. */
async function runCapacity() {
  const limits = capacityLimits();
  const fit = Math.min(limits.openFiles - CAPACITY_FD_MARGIN, limits.ephemeralPorts - CAPACITY_FD_MARGIN);
  let n = CAPACITY;
  let limitedBy = null;
  if (limits.raiseError) console.log(`bench capacity: ulimit -n 65536: ${limits.raiseError}; using the hard limit, ${limits.openFiles}`);
  if (n > fit) {
    limitedBy = limits.openFiles - CAPACITY_FD_MARGIN < limits.ephemeralPorts - CAPACITY_FD_MARGIN
      ? `the open-files limit is ${limits.openFiles} (hard ${limits.openFilesHard}${limits.raiseError ? `; ulimit -n 65536: ${limits.raiseError}` : ''})`
      : `the ephemeral port range has ${limits.ephemeralPorts} ports (net.ipv4.ip_local_port_range)`;
    n = fit;
    console.log(`bench capacity: ${CAPACITY} connections do not fit: ${limitedBy}; measuring ${n}`);
  }
  console.log(`bench capacity: ${CAPACITY_ROUNDS} rounds x ${CAPACITY_SERVERS.length} servers, ${n} connections opened at once by hold.c ` +
    `(+ netnote tcp-client --connections ${n} against netnote); open files ${limits.openFiles}, ${limits.ephemeralPorts} ephemeral ports, ` +
    `somaxconn ${limits.somaxconn}; Node ${process.version}, ${os.availableParallelism()} cores`);

  const rounds = [];
  for (let round = 1; round <= CAPACITY_ROUNDS; round++) {
    const line = [];
    for (const contender of CAPACITY_SERVERS) {
      await withServers([contender], async (servers) => {
        const server = servers.get(contender.id);
        await sleep(CAPACITY_SETTLE_MS);
        const r = await holdRun(server, n);
        rounds.push({ round, contender: `hold/${contender.id}`, ...r });
        line.push(`hold->${contender.id} ${r.held}/${n} held, open ${r.openMs === null ? '-' : (r.openMs / 1000).toFixed(2)} s, ${r.rssPerConnKiB.toFixed(1)} KiB/conn`);
        if (contender.id === 'netnote') {
          const c = await netnoteCapacityRun(server, n);
          rounds.push({ round, contender: 'tcp-client/netnote', ...c });
          line.push(`tcp-client->netnote ${c.established}/${n} established, ${c.alive} alive, open ${(c.openMs / 1000).toFixed(2)} s, run ${(c.wallMs / 1000).toFixed(2)} s`);
        }
      });
    }
    console.log(`  round ${round}: ${line.join('; ')}`);
  }

  const stats = (values) => (values.some((v) => v === null)
    ? { median: null, min: null, max: null }
    : { median: round1(median(values)), min: Math.min(...values), max: Math.max(...values) });
  const medians = {};
  for (const id of ['hold/netnote', 'hold/bare-node']) {
    const mine = rounds.filter((r) => r.contender === id);
    medians[id] = { heldMin: Math.min(...mine.map((r) => r.held)) };
    for (const metric of ['openMs', 'clientOpenMs', 'serverAcceptedMs', 'rssPerConnKiB', 'rssBeforeKiB']) medians[id][metric] = stats(mine.map((r) => r[metric]));
  }
  const clientRuns = rounds.filter((r) => r.contender === 'tcp-client/netnote');
  medians['tcp-client/netnote'] = {
    establishedMin: Math.min(...clientRuns.map((r) => r.established)),
    aliveMin: Math.min(...clientRuns.map((r) => r.alive)),
    serverPeakMin: Math.min(...clientRuns.map((r) => r.serverPeak)),
    openMs: stats(clientRuns.map((r) => r.openMs)),
    wallMs: stats(clientRuns.map((r) => r.wallMs)),
  };

  const m = medians['hold/netnote'];
  const targets = [
    { id: 'held', value: m.heldMin, target: n, pass: m.heldMin === n && n === CAPACITY },
    { id: 'openMs', value: m.openMs.median, target: CAPACITY_TARGET.openMs, pass: m.openMs.median !== null && m.openMs.median <= CAPACITY_TARGET.openMs },
    { id: 'rssPerConnKiB', value: m.rssPerConnKiB.median, target: CAPACITY_TARGET.rssPerConnKiB, pass: m.rssPerConnKiB.median <= CAPACITY_TARGET.rssPerConnKiB },
  ];

  const sec = (x) => (x === null ? '-' : (x / 1000).toFixed(2));
  const span = (x, f) => (x.min === null ? '-' : `${f(x.min)}-${f(x.max)}`);
  const rows = [['client -> server', 'held (min)', 'open s', 'min-max', 'client s', 'server s', 'RSS before MB', 'KiB/conn', 'min-max']];
  for (const contender of CAPACITY_SERVERS) {
    const x = medians[`hold/${contender.id}`];
    rows.push([`hold.c -> ${contender.label}`, `${x.heldMin}/${n}`, sec(x.openMs.median), span(x.openMs, sec), sec(x.clientOpenMs.median),
      sec(x.serverAcceptedMs.median), (x.rssBeforeKiB.median / 1024).toFixed(1), x.rssPerConnKiB.median.toFixed(1), span(x.rssPerConnKiB, (v) => v.toFixed(1))]);
  }
  printTable(rows, new Set([1, 2, 3, 4, 5, 6, 7, 8]));
  console.log(`\nheld = connections established (hold.c), accepted (the server's sockets in /proc/PID/fd) and still open after the hold,` +
    `\nthe lowest of the ${CAPACITY_ROUNDS} rounds; open s = until all were both established and accepted (client s, server s: each side's own);` +
    `\nKiB/conn = (server VmRSS with all held - VmRSS before) / ${n}; medians of ${CAPACITY_ROUNDS} rounds, a fresh server each.`);
  const c = medians['tcp-client/netnote'];
  console.log(`\nnetnote tcp-client ${HOST} PORT --connections ${n} --hold ${CAPACITY_CLIENT_HOLD} --json against the netnote server (its own summary):` +
    `\n  established ${c.establishedMin}/${n} and alive after the hold ${c.aliveMin}/${n} (lowest of the rounds), openMs median ${sec(c.openMs.median)} s ` +
    `(${span(c.openMs, sec)}), whole run ${sec(c.wallMs.median)} s (${span(c.wallMs, sec)}); the server held at most ${c.serverPeakMin} of them at once (lowest round)`);
  const missed = targets.filter((t) => !t.pass);
  if (missed.length) console.log(`Missed: ${missed.map((t) => `${t.id} (${t.value} vs ${t.target})`).join('; ')}`);

  return {
    settings: {
      rounds: CAPACITY_ROUNDS, connections: n, requested: CAPACITY, limitedBy, backlog: CAPACITY_BACKLOG, holdMs: CAPACITY_HOLD_MS,
      openTimeoutMs: CAPACITY_OPEN_TIMEOUT_MS, serverWaitMs: CAPACITY_WAIT_MS, clientHold: CAPACITY_CLIENT_HOLD, limits, host: HOST,
    },
    servers: CAPACITY_SERVERS.map(({ id, label }) => ({ id, label })),
    rounds,
    medians,
    targets,
  };
}

// ---------------------------------------------------------------------------------------------
// Stream: one-way TCP throughput, netnote's client and sink against iperf3's.

/** iperf3 -s on a free port, kept up for every round (it serves one test at a time). */
async function startIperf3(name) {
  const port = await freePort();
  const child = track(spawn('iperf3', ['-s', '-B', HOST, '-p', String(port), '--forceflush'], { stdio: ['ignore', 'pipe', 'pipe'] }), name);
  const out = capture(child.stdout);
  const err = capture(child.stderr);
  try {
    await waitFor(() => out.text, /Server listening on \d+/, name, child);
  } catch (e) {
    throw new Error(`${e.message}\n${err.text}`);
  }
  return {
    port,
    async stop() {
      child.kill('SIGTERM');
      await withTimeout(child.exited, 10_000, () => child.kill('SIGKILL'));
    },
  };
}

const STREAM_SERVERS = [
  { id: 'netnote-sink', label: 'netnote tcp-server --sink --quiet', start: () => startNetnote('netnote tcp-server --sink', null, 'tcp-server', { extra: ['--sink'] }) },
  { id: 'iperf3-server', label: 'iperf3 -s', start: () => startIperf3('iperf3 -s') },
];
const STREAM_CONTENDERS = [
  { id: 'netnote', label: 'netnote tcp-client --stream -> tcp-server --sink', server: 'netnote-sink' },
  { id: 'iperf3', label: 'iperf3 -c -> iperf3 -s', server: 'iperf3-server' },
];

const UNITS = { B: 1, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3, TiB: 1024 ** 4 };

/** netnote's client for STREAM_SECONDS; its summary's rate, and what the sink says it received. */
async function measureNetnoteStream(server) {
  const text = await runClient('netnote tcp-client --stream', process.execPath, [NETNOTE, 'tcp-client', HOST, String(server.port),
    '--stream', '--duration', `${STREAM_SECONDS}s`, '--quiet', '--json']);
  const events = text.trim().split('\n').map((line) => JSON.parse(line));
  const summary = events.at(-1)?.summary;
  if (events.at(-1)?.event !== 'summary' || summary?.proto !== 'tcp-stream') throw new Error(`netnote tcp-client --stream: no stream summary in its last line`);
  // The sink logs each client's total when it disconnects (two decimals of a binary unit).
  const localPort = events.find((e) => e.event === 'connected')?.local?.port;
  const pattern = new RegExp(`\\[client addr: [^,]+, ${localPort}\\] disconnected\\s+\\(closed by peer; in ([\\d.]+) (B|KiB|MiB|GiB|TiB)`);
  let sinkBytes = null;
  for (let i = 0; i < 100 && sinkBytes === null; i++) {
    const m = pattern.exec(server.output());
    if (m) sinkBytes = Math.round(Number(m[1]) * UNITS[m[2]]);
    else await sleep(50);
  }
  if (sinkBytes === null) console.log(`  (the sink did not log the client on port ${localPort} as disconnected)`);
  else if (Math.abs(sinkBytes - summary.bytes) > 0.01 * summary.bytes) {
    throw new Error(`netnote tcp-client --stream sent ${summary.bytes} bytes, the sink says it received ${sinkBytes}`);
  }
  return { bitsPerSecond: summary.bitsPerSecond, bytes: summary.bytes, durationMs: summary.durationMs, sinkBytes };
}

/** iperf3's client for STREAM_SECONDS; the receiver's rate (end.sum_received), as iperf3 reports it. */
async function measureIperf3(server) {
  const text = await runClient('iperf3 -c', 'iperf3', ['-c', HOST, '-p', String(server.port), '-t', String(STREAM_SECONDS), '-J']);
  const r = JSON.parse(text);
  if (r.error || !r.end?.sum_received) throw new Error(`iperf3 -c: ${r.error ?? 'no end.sum_received in its JSON'}`);
  return {
    bitsPerSecond: r.end.sum_received.bits_per_second, bytes: r.end.sum_received.bytes, durationMs: r.end.sum_received.seconds * 1000,
    sentBitsPerSecond: r.end.sum_sent.bits_per_second,
  };
}

async function runStream() {
  const rounds = [];
  await withServers(STREAM_SERVERS, async (servers) => {
    console.log(`bench stream: ${STREAM_ROUNDS} rounds x ${STREAM_CONTENDERS.length} client/server pairs, ${STREAM_SECONDS} s each; ` +
      `Node ${process.version}, ${os.availableParallelism()} cores`);
    for (let round = 1; round <= STREAM_ROUNDS; round++) {
      const line = [];
      for (const contender of STREAM_CONTENDERS) {
        const server = servers.get(contender.server);
        const result = contender.id === 'netnote' ? await measureNetnoteStream(server) : await measureIperf3(server);
        rounds.push({ round, contender: contender.id, ...result });
        line.push(`${contender.id} ${(result.bitsPerSecond / 1e9).toFixed(2)}`);
      }
      console.log(`  round ${round}: ${line.join(', ')} Gbit/s`);
    }
  });
  const medians = {};
  for (const contender of STREAM_CONTENDERS) {
    const values = rounds.filter((r) => r.contender === contender.id).map((r) => r.bitsPerSecond);
    medians[contender.id] = { median: median(values), min: Math.min(...values), max: Math.max(...values) };
  }
  const value = medians.netnote.median / medians.iperf3.median;
  const ratios = [{ id: 'netnote-stream/iperf3', of: 'netnote', to: 'iperf3', value, target: 1.0, pass: value >= 1.0 }];
  const gbit = (x) => (x / 1e9).toFixed(2);
  const rows = [['client -> server', 'median Gbit/s', 'min-max', 'ratio', 'target', 'result']];
  for (const contender of STREAM_CONTENDERS) {
    const x = medians[contender.id];
    const r = ratios.find((q) => q.of === contender.id);
    rows.push([contender.label, gbit(x.median), `${gbit(x.min)}-${gbit(x.max)}`, r ? `${r.value.toFixed(2)} x iperf3` : '', r ? `>= ${r.target}` : '', r ? (r.pass ? 'pass' : 'MISS') : '']);
  }
  printTable(rows, new Set([1, 2]));
  console.log(`\nGbit/s = 10^9 bits per second of payload, one connection, ${STREAM_SECONDS} s: netnote's own summary (bitsPerSecond; the sink's` +
    `\ncount checked against it), iperf3's receiver side (end.sum_received); medians of ${STREAM_ROUNDS} rounds.`);
  if (!ratios[0].pass) console.log(`Missed: netnote-stream/iperf3 (${value.toFixed(2)} < 1.0)`);
  return {
    settings: { rounds: STREAM_ROUNDS, seconds: STREAM_SECONDS, host: HOST, iperf3: spawnSync('iperf3', ['--version'], { encoding: 'utf8' }).stdout.split('\n')[0] },
    contenders: STREAM_CONTENDERS.map(({ id, label, server }) => ({ id, label, server })),
    rounds,
    medians,
    ratios,
  };
}

// ---------------------------------------------------------------------------------------------
// Start-up: `node bin/netnote --help` against `node -e 0`, with hyperfine.

const STARTUP_WARMUP = 3;

async function runStartup() {
  // The same CLI bundled into one file (what bin/build-standalone.mjs does first), for reference.
  let bundle = path.join(scratch, 'netnote.cjs');
  try {
    const { build } = await import('esbuild');
    await build({ entryPoints: [path.join(ROOT, 'src', 'cli.ts')], bundle: true, platform: 'node', target: 'node20', format: 'cjs', outfile: bundle, logLevel: 'warning' });
  } catch (err) {
    console.log(`bench startup: no esbuild bundle (${err.message}); that row is left out`);
    bundle = null;
  }
  const COMMANDS = [
    { id: 'node', label: 'node -e 0', argv: [process.execPath, '-e', '0'] },
    { id: 'netnote', label: 'node bin/netnote --help', argv: [process.execPath, NETNOTE, '--help'] },
    ...(bundle ? [{ id: 'bundle', label: 'node netnote.cjs --help (esbuild bundle)', argv: [process.execPath, bundle, '--help'] }] : []),
  ];
  const quote = (arg) => (/^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, "'\\''")}'`);
  for (const command of COMMANDS) {
    command.line = command.argv.map(quote).join(' ');
    const check = spawnSync(command.argv[0], command.argv.slice(1), { encoding: 'utf8' });
    if (check.status !== 0) {
      console.error(`bench: FAILED: ${command.label} exited with ${check.status}: ${check.stderr}`);
      process.exit(1);
    }
  }
  const versionOf = spawnSync('hyperfine', ['--version'], { encoding: 'utf8' }).stdout.trim();
  console.log(`bench startup: ${STARTUP_ROUNDS} hyperfine rounds x ${COMMANDS.length} commands, ${STARTUP_WARMUP} warm-up + ${STARTUP_RUNS} runs each ` +
    `(${versionOf}, -N: no shell); Node ${process.version}, ${os.availableParallelism()} cores`);

  const rounds = [];
  const exported = path.join(scratch, 'hyperfine.json');
  for (let round = 1; round <= STARTUP_ROUNDS; round++) {
    // The order rotates from round to round, so no command always runs first (or last).
    const order = COMMANDS.map((_, i) => COMMANDS[(i + round - 1) % COMMANDS.length]);
    await runClient('hyperfine', 'hyperfine', ['-N', '--style', 'none', '--warmup', String(STARTUP_WARMUP), '--runs', String(STARTUP_RUNS),
      '--export-json', exported, ...order.map((c) => c.line)]);
    const { results } = JSON.parse(fs.readFileSync(exported, 'utf8'));
    const line = [];
    for (const command of COMMANDS) {
      const r = results.find((x) => x.command === command.line);
      const ms = (x) => round1(x * 1000);
      rounds.push({ round, contender: command.id, mean: ms(r.mean), stddev: ms(r.stddev), median: ms(r.median), min: ms(r.min), max: ms(r.max), user: ms(r.user), system: ms(r.system) });
      line.push(`${command.id} ${ms(r.mean).toFixed(1)}`);
    }
    console.log(`  round ${round}: ${line.join(', ')} ms (mean)`);
  }
  const medians = {};
  for (const command of COMMANDS) {
    const mine = rounds.filter((r) => r.contender === command.id);
    medians[command.id] = {};
    for (const metric of ['mean', 'user', 'system']) {
      const values = mine.map((r) => r[metric]);
      medians[command.id][metric] = { median: round1(median(values)), min: Math.min(...values), max: Math.max(...values) };
    }
  }
  const ratios = [{ id: 'netnote-help/node', of: 'netnote', to: 'node', target: 1.5 }, ...(bundle ? [{ id: 'bundle-help/node', of: 'bundle', to: 'node', target: null }] : [])]
    .map((r) => {
      const value = medians[r.of].mean.median / medians[r.to].mean.median;
      return { ...r, value, pass: r.target === null || value <= r.target };
    });
  const rows = [['command', 'mean ms', 'min-max', 'user ms', 'sys ms', 'ratio', 'target', 'result']];
  for (const command of COMMANDS) {
    const x = medians[command.id];
    const r = ratios.find((q) => q.of === command.id);
    rows.push([command.label, x.mean.median.toFixed(1), `${x.mean.min.toFixed(0)}-${x.mean.max.toFixed(0)}`, x.user.median.toFixed(1), x.system.median.toFixed(1),
      r ? `${r.value.toFixed(2)} x node -e 0` : '', r ? (r.target === null ? 'ref.' : `<= ${r.target}`) : '', r && r.target !== null ? (r.pass ? 'pass' : 'MISS') : '']);
  }
  printTable(rows, new Set([1, 2, 3, 4]));
  console.log(`\nms = wall time of one process from spawn to exit (hyperfine's mean of ${STARTUP_RUNS} runs after ${STARTUP_WARMUP} warm-up runs), median of ${STARTUP_ROUNDS} rounds;` +
    '\nuser/sys = CPU time of the process.');
  const missed = ratios.filter((r) => !r.pass);
  if (missed.length) console.log(`Missed: ${missed.map((r) => `${r.id} (${r.value.toFixed(2)} > ${r.target})`).join('; ')}`);
  return {
    settings: { rounds: STARTUP_ROUNDS, warmup: STARTUP_WARMUP, runs: STARTUP_RUNS, hyperfine: versionOf, bundle: bundle ? 'esbuild bundle of src/cli.ts (cjs, node20)' : null },
    commands: COMMANDS.map(({ id, label, line }) => ({ id, label, command: line })),
    rounds,
    medians,
    ratios,
  };
}

// ---------------------------------------------------------------------------------------------
// The combined table: every target of the sections that ran, one row each.

function summaryRows({ tcp, udp, rtt, capacity, stream, startup }) {
  const rows = [];
  const ratio = (r, op) => ({ measured: `${r.value.toFixed(2)} x`, target: r.target === null ? 'ref.' : `${op} ${r.target} x`, result: r.target === null ? '' : r.pass ? 'pass' : 'MISS' });
  if (tcp) {
    const names = {
      'netnote/bare-node': 'TCP echo 64 KiB, tcp-server --quiet / bare node pipe',
      'netnote/socat': 'TCP echo 64 KiB, tcp-server --quiet / socat fork',
      'netnote-log-file/netnote-quiet': 'TCP echo 64 KiB, tcp-server log to file / --quiet',
    };
    for (const r of tcp.ratios.filter((x) => names[x.id])) rows.push({ row: `${names[r.id]}, ${r.conns} conn${r.conns > 1 ? 's' : ''}`, ...ratio(r, '>=') });
  }
  if (rtt) {
    rows.push({ row: 'TCP 64 B RTT p50, tcp-server / bare node echo (tcpping)', ...ratio(rtt.ratios.find((r) => r.id === 'netnote-tcp-server/bare-node p50'), '<=') });
  }
  if (udp) {
    rows.push({ row: 'UDP 64 B RTT p50, udp-server / bare dgram echo (udpping)', ...ratio(udp.ratios.find((r) => r.id === 'netnote-udp-server/bare-dgram p50'), '<=') });
  }
  if (capacity) {
    const { connections: n, requested } = capacity.settings;
    const [held, open, rss] = capacity.targets;
    rows.push({ row: `${n} connections held by tcp-server (hold.c)`, measured: `${held.value}/${n}${n < requested ? ` (of ${requested} asked)` : ''}`, target: `all ${requested}`, result: held.pass ? 'pass' : 'MISS' });
    rows.push({ row: `  time to open them all (established + accepted)`, measured: open.value === null ? `not all in ${CAPACITY_WAIT_MS / 1000} s` : `${(open.value / 1000).toFixed(2)} s`, target: `<= ${CAPACITY_TARGET.openMs / 1000} s`, result: open.pass ? 'pass' : 'MISS' });
    rows.push({ row: `  server RSS per connection`, measured: `${rss.value.toFixed(1)} KiB`, target: `<= ${CAPACITY_TARGET.rssPerConnKiB} KB`, result: rss.pass ? 'pass' : 'MISS' });
    const b = capacity.medians['hold/bare-node'];
    rows.push({ row: `  (bare node echo, same client)`, measured: `${b.heldMin}/${n}, ${b.openMs.median === null ? '-' : (b.openMs.median / 1000).toFixed(2)} s, ${b.rssPerConnKiB.median.toFixed(1)} KiB`, target: 'ref.', result: '' });
    const c = capacity.medians['tcp-client/netnote'];
    rows.push({ row: `  (tcp-client --connections ${n} --hold ${CAPACITY_CLIENT_HOLD}: its own report)`, measured: `${c.establishedMin}/${n} est., ${c.aliveMin} alive, open ${(c.openMs.median / 1000).toFixed(2)} s, run ${(c.wallMs.median / 1000).toFixed(2)} s`, target: 'ref.', result: '' });
  }
  if (stream) rows.push({ row: 'tcp-client --stream -> --sink / iperf3 -c -> -s', ...ratio(stream.ratios[0], '>=') });
  if (rtt) {
    rows.push({ row: 'tcp-client --ping p50 / tcpping p50 (same bare echo)', ...ratio(rtt.ratios.find((r) => r.id === 'tcp-client-ping/tcpping p50'), '<=') });
  }
  if (startup) {
    for (const r of startup.ratios) {
      rows.push({ row: r.id === 'netnote-help/node' ? 'netnote --help start-up / node -e 0 (hyperfine)' : '  (esbuild bundle --help / node -e 0)', ...ratio(r, '<=') });
    }
  }
  return rows;
}

// ---------------------------------------------------------------------------------------------
// The run: the sections in order (or the ones --only names), the combined table, results.json.

const started = Date.now();
// The machine is shared: say how busy it was (the 1-minute load average over the core count).
const loadAtStart = os.loadavg();
console.log(`bench: load average ${loadAtStart.map((l) => l.toFixed(2)).join(' ')} on ${os.availableParallelism()} cores; sections: ${SECTIONS.join(', ')}`);
const RUNNERS = { tcp: runTcp, udp: runUdp, rtt: runRtt, capacity: runCapacity, stream: runStream, startup: runStartup };
const results = {};
const sectionSeconds = {};
for (const [i, section] of SECTIONS.entries()) {
  if (i > 0) console.log();
  const t0 = Date.now();
  results[section] = await RUNNERS[section]();
  sectionSeconds[section] = Math.round((Date.now() - t0) / 100) / 10;
}

const summary = summaryRows(results);
const table = [['row', 'measured', 'target', 'result'], ...summary.map((r) => [r.row, r.measured, r.target, r.result])];
console.log(`
=== All targets (${SECTIONS.join(', ')}; Node ${process.version}, ${os.availableParallelism()} cores, ` +
  `load average ${loadAtStart[0].toFixed(2)} at the start, ${os.loadavg()[0].toFixed(2)} at the end) ===`);
printTable(table, new Set());
const missedRows = summary.filter((r) => r.result === 'MISS');
console.log(`
${summary.filter((r) => r.result === 'pass').length} pass, ${missedRows.length} missed${missedRows.length ? `: ${missedRows.map((r) => r.row.trim()).join('; ')}` : ''}`);

const { tcp, ...others } = results;
fs.writeFileSync(RESULTS, `${JSON.stringify({
  date: new Date().toISOString(),
  node: process.version,
  platform: `${os.platform()} ${os.release()} ${os.arch()}`,
  cpuModel: os.cpus()[0]?.model ?? null,
  cores: os.availableParallelism(),
  loadAverage: { start: loadAtStart, end: os.loadavg() },
  sections: SECTIONS,
  wallSeconds: Math.round((Date.now() - started) / 100) / 10,
  sectionSeconds,
  // The TCP section keeps the keys it always had, at the top level; the others are under their name.
  ...(tcp ?? {}),
  ...others,
  summary,
}, null, 2)}\n`);
console.log(`\nResults: ${path.relative(process.cwd(), RESULTS) || RESULTS} (${Math.round((Date.now() - started) / 1000)} s)`);
