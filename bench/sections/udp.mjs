// udp: 64-byte round-trip latency of netnote's udp-server against a bare Node dgram echo
// (bench/udpping.c drives both), and what netnote's own udp-client adds to the round trips it
// measures (it against udpping, on the same bare echo). One datagram at a time.

import {
  compiled, HOST, NETNOTE, netnoteRoundTrips, NODE_AND_CORES, runClient, runLatencySection, startBareDgram, startNetnote,
} from '../harness.mjs';

const UDP_SIZE = 64; // bytes per datagram, both ways
const UDP_WARMUP = 200; // round trips udpping makes before it starts timing
const UDP_TIMEOUT_MS = 1000; // a datagram with no echo by then is lost (udp-client's default too)
const UDPPING = compiled('udpping');

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

/** One run of udpping (rejects on a wrong echo or a dead server); latencies in microseconds. */
async function measureUdpping(port, count) {
  const text = await runClient('udpping', UDPPING, [HOST, String(port), String(count), String(UDP_WARMUP), String(UDP_SIZE), String(UDP_TIMEOUT_MS)]);
  const r = JSON.parse(text);
  return { p50: r.p50, p99: r.p99, min: r.min, max: r.max, perSecond: r.perSecond, durationMs: r.durationMs, received: r.received, lost: r.lost, late: r.late };
}

/**
 * One run of netnote's own client, as the brief gives it. --size makes its datagram (16-byte
 * probe header + payload) the same 64 bytes as udpping's. The rate is count / durationMs from
 * its summary; its latencies are its own rttMs, in microseconds here.
 */
async function measureUdpClient(port, count) {
  const name = 'netnote udp-client';
  const text = await runClient(name, process.execPath, [NETNOTE, 'udp-client', HOST, String(port),
    '--probe', '--interval', '0', '--count', String(count), '--quiet', '--json', '--size', String(UDP_SIZE - 16)]);
  const { summary, result } = netnoteRoundTrips(name, text, count);
  if (summary.sent.bytes !== count * UDP_SIZE) throw new Error(`netnote udp-client sent ${summary.sent.bytes} bytes, expected ${count} x ${UDP_SIZE}`);
  return { ...result, lost: summary.datagrams.lost, late: summary.datagrams.late };
}

/** Runs the rounds, prints the table, returns the section's part of results.json. */
async function run({ rounds, udpCount: count }) {
  const section = await runLatencySection({
    rounds,
    header: `bench udp: ${rounds} rounds x ${UDP_CONTENDERS.length} client/server pairs, ${count} round trips of ` +
      `${UDP_SIZE} bytes each; ${NODE_AND_CORES}`,
    servers: UDP_SERVERS, contenders: UDP_CONTENDERS, ratios: UDP_RATIOS, lost: true,
    measure: (contender, port) => (contender.client === 'udpping' ? measureUdpping(port, count) : measureUdpClient(port, count)),
    footnote: `\nus = microseconds per round trip of one ${UDP_SIZE}-byte datagram, sent only after the previous echo came back;` +
      `\nmedians of ${rounds} rounds of ${count} round trips; lost = datagrams with no echo within ${UDP_TIMEOUT_MS} ms, all rounds.`,
  });
  return {
    settings: { rounds, roundTripsPerRun: count, warmupRoundTrips: UDP_WARMUP, datagramBytes: UDP_SIZE, timeoutMs: UDP_TIMEOUT_MS, host: HOST, unit: 'microseconds' },
    ...section,
  };
}

export const udp = { name: 'udp', client: 'udpping', run };
