// rtt: the udp section's method for TCP: 64-byte round trips, one at a time, through netnote's
// tcp-server against a bare Node echo (bench/tcpping.c drives both), and what
// `tcp-client --ping` adds to the round trips it measures (it against tcpping, same bare echo).

import {
  compiled, HOST, NETNOTE, netnoteRoundTrips, NODE_AND_CORES, runClient, runLatencySection, startBareNode, startNetnote,
} from '../harness.mjs';

const RTT_SIZE = 64; // bytes per message, both ways
const RTT_WARMUP = 200; // round trips tcpping makes before it starts timing
const TCPPING = compiled('tcpping');

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
async function measureTcpping(port, count) {
  const text = await runClient('tcpping', TCPPING, [HOST, String(port), String(count), String(RTT_WARMUP), String(RTT_SIZE)]);
  const r = JSON.parse(text);
  return { p50: r.p50, p99: r.p99, min: r.min, max: r.max, perSecond: r.perSecond, durationMs: r.durationMs, received: r.received };
}

/** One run of `netnote tcp-client --ping`, as the brief gives it; its rttMs in microseconds here. */
async function measureTcpClientPing(port, count) {
  const name = 'netnote tcp-client --ping';
  const text = await runClient(name, process.execPath, [NETNOTE, 'tcp-client', HOST, String(port),
    '--ping', '-c', String(count), '--size', String(RTT_SIZE), '--quiet', '--json']);
  const { summary, result } = netnoteRoundTrips(name, text, count);
  const bytes = count * RTT_SIZE;
  if (summary.rttMs.count !== count || summary.sent.bytes !== bytes || summary.received.bytes !== bytes) {
    throw new Error(`netnote tcp-client --ping: ${summary.rttMs.count} RTTs, ${summary.sent.bytes} bytes sent, ${summary.received.bytes} received; expected ${count}, ${bytes}, ${bytes}`);
  }
  return result;
}

/** Runs the rounds, prints the table, returns the section's part of results.json. */
async function run({ rounds, rttCount: count }) {
  const section = await runLatencySection({
    rounds,
    header: `bench rtt: ${rounds} rounds x ${RTT_CONTENDERS.length} client/server pairs, ${count} TCP round trips of ` +
      `${RTT_SIZE} bytes each; ${NODE_AND_CORES}`,
    servers: RTT_SERVERS, contenders: RTT_CONTENDERS, ratios: RTT_RATIOS,
    measure: (contender, port) => (contender.client === 'tcpping' ? measureTcpping(port, count) : measureTcpClientPing(port, count)),
    footnote: `\nus = microseconds per round trip of one ${RTT_SIZE}-byte message on one TCP connection (TCP_NODELAY), sent only after` +
      `\nthe previous echo came back; medians of ${rounds} rounds of ${count} round trips (tcpping: after ${RTT_WARMUP} unmeasured ones).`,
  });
  return {
    settings: { rounds, roundTripsPerRun: count, warmupRoundTrips: RTT_WARMUP, messageBytes: RTT_SIZE, host: HOST, unit: 'microseconds' },
    ...section,
  };
}

export const rtt = { name: 'rtt', client: 'tcpping', run };
