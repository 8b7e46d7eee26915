// stream: one-way TCP throughput on one connection, `tcp-client --stream` -> `tcp-server --sink`
// against iperf3 -c -> iperf3 -s.

import { spawnSync } from 'node:child_process';
import {
  HOST, median, NETNOTE, NODE_AND_CORES, printTable, runClient, sleep, startIperf3, startNetnote, withServers,
} from '../harness.mjs';

const STREAM_SERVERS = [
  { id: 'netnote-sink', label: 'netnote tcp-server --sink --quiet', start: () => startNetnote('netnote tcp-server --sink', null, 'tcp-server', { extra: ['--sink'] }) },
  { id: 'iperf3-server', label: 'iperf3 -s', start: () => startIperf3('iperf3 -s') },
];
const STREAM_CONTENDERS = [
  { id: 'netnote', label: 'netnote tcp-client --stream -> tcp-server --sink', server: 'netnote-sink' },
  { id: 'iperf3', label: 'iperf3 -c -> iperf3 -s', server: 'iperf3-server' },
];

const UNITS = { B: 1, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3, TiB: 1024 ** 4 };

/** netnote's client for `seconds`; its summary's rate, and what the sink says it received. */
async function measureNetnoteStream(server, seconds) {
  const text = await runClient('netnote tcp-client --stream', process.execPath, [NETNOTE, 'tcp-client', HOST, String(server.port),
    '--stream', '--duration', `${seconds}s`, '--quiet', '--json']);
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

/** iperf3's client for `seconds`; the receiver's rate (end.sum_received), as iperf3 reports it. */
async function measureIperf3(server, seconds) {
  const text = await runClient('iperf3 -c', 'iperf3', ['-c', HOST, '-p', String(server.port), '-t', String(seconds), '-J']);
  const r = JSON.parse(text);
  if (r.error || !r.end?.sum_received) throw new Error(`iperf3 -c: ${r.error ?? 'no end.sum_received in its JSON'}`);
  return {
    bitsPerSecond: r.end.sum_received.bits_per_second, bytes: r.end.sum_received.bytes, durationMs: r.end.sum_received.seconds * 1000,
    sentBitsPerSecond: r.end.sum_sent.bits_per_second,
  };
}

/** Runs the rounds, prints the table, returns the section's part of results.json. */
async function run({ streamSeconds: seconds, streamRounds: roundCount }) {
  const rounds = [];
  await withServers(STREAM_SERVERS, async (servers) => {
    console.log(`bench stream: ${roundCount} rounds x ${STREAM_CONTENDERS.length} client/server pairs, ${seconds} s each; ${NODE_AND_CORES}`);
    for (let round = 1; round <= roundCount; round++) {
      const line = [];
      for (const contender of STREAM_CONTENDERS) {
        const server = servers.get(contender.server);
        const result = contender.id === 'netnote' ? await measureNetnoteStream(server, seconds) : await measureIperf3(server, seconds);
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
  console.log(`\nGbit/s = 10^9 bits per second of payload, one connection, ${seconds} s: netnote's own summary (bitsPerSecond; the sink's` +
    `\ncount checked against it), iperf3's receiver side (end.sum_received); medians of ${roundCount} rounds.`);
  if (!ratios[0].pass) console.log(`Missed: netnote-stream/iperf3 (${value.toFixed(2)} < 1.0)`);
  return {
    settings: { rounds: roundCount, seconds, host: HOST, iperf3: spawnSync('iperf3', ['--version'], { encoding: 'utf8' }).stdout.split('\n')[0] },
    contenders: STREAM_CONTENDERS.map(({ id, label, server }) => ({ id, label, server })),
    rounds,
    medians,
    ratios,
  };
}

export const stream = { name: 'stream', tool: 'iperf3', run };
