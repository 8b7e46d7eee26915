// tcp: echo throughput of netnote's tcp-server against a bare Node echo and socat, each driven
// by bench/loadgen.c with 1 and with 4 connections; the logging contenders (./logging.mjs) run
// in the same rounds.

import { spawn } from 'node:child_process';
import {
  capture, compiled, HOST, median, NODE_AND_CORES, printTable, startBareNode, startNetnote, startSocat, track, withServers,
} from '../harness.mjs';
import { LOGGING_CONTENDERS, LOGGING_RATIOS } from './logging.mjs';

const CONNECTIONS = [1, 4];
const WARMUP_SECONDS = 0.25; // loadgen discards the first bytes of each run (connect, JIT, slow start)
const LOADGEN = compiled('loadgen');

const CONTENDERS = [
  { id: 'netnote-quiet', label: 'netnote --quiet', start: () => startNetnote('netnote --quiet', null) },
  { id: 'bare-node', label: 'bare node s.pipe(s)', start: () => startBareNode('bare node') },
  { id: 'socat', label: 'socat EXEC:cat', start: () => startSocat('socat') },
  ...LOGGING_CONTENDERS,
];

const RATIOS = [
  { id: 'netnote/bare-node', of: 'netnote-quiet', to: 'bare-node', target: 0.9 },
  { id: 'netnote/socat', of: 'netnote-quiet', to: 'socat', target: 3 },
  ...LOGGING_RATIOS,
];

/** One loadgen run; rejects on a corrupted, closed or stalled echo. */
async function measure(port, conns, seconds) {
  const child = track(spawn(LOADGEN, [HOST, String(port), String(conns), String(seconds), String(WARMUP_SECONDS)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  }), 'loadgen');
  const out = capture(child.stdout);
  const err = capture(child.stderr);
  const { code, signal } = await child.exited;
  if (code !== 0) throw new Error(`loadgen failed (${code ?? signal}): ${err.text.trim()}`);
  return JSON.parse(out.text);
}

/** Runs the rounds, prints the table, returns the section's part of results.json. */
async function run({ rounds: roundCount, seconds }) {
  const rounds = [];
  await withServers(CONTENDERS, async (servers) => {
    const total = roundCount * CONNECTIONS.length * CONTENDERS.length * (seconds + WARMUP_SECONDS);
    console.log(`bench tcp: ${roundCount} rounds x ${CONNECTIONS.length} connection counts x ${CONTENDERS.length} contenders, ` +
      `${seconds} s each (about ${Math.ceil(total)} s); ${NODE_AND_CORES}`);

    for (let round = 1; round <= roundCount; round++) {
      for (const conns of CONNECTIONS) {
        const line = [];
        for (const contender of CONTENDERS) {
          const result = await measure(servers.get(contender.id).port, conns, seconds);
          const entry = { round, conns, contender: contender.id, mbps: result.mbps, bytes: result.bytes, seconds: result.seconds, verifiedBytes: result.verifiedBytes };
          contender.afterRun?.(entry);
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
    settings: { rounds: roundCount, secondsPerRun: seconds, warmupSeconds: WARMUP_SECONDS, blockBytes: 65536, blocksInFlightPerConnection: 4, connections: CONNECTIONS, host: HOST },
    contenders: CONTENDERS.map(({ id, label }) => ({ id, label })),
    rounds,
    medians,
    ratios: ratios.map(({ id, conns, value, target, pass }) => ({ id, conns, value, target, pass })),
  };
}

export const tcp = { name: 'tcp', tool: 'socat', client: 'loadgen', run };
