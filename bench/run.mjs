// Benchmarks on loopback, in sections (all of them by default, in this order), one module each
// in bench/sections/ (its own comment says what it measures and how):
//   tcp:      throughput of netnote's tcp-server against a bare Node echo and socat, and, in the
//             same rounds, what logging every message to a file costs it (logging.mjs);
//   udp:      64-byte round-trip latency of netnote's udp-server against a bare Node dgram echo,
//             and what netnote's own udp-client adds to the round trips it measures;
//   rtt:      the same for TCP: 64-byte round trips through netnote's tcp-server against a bare
//             Node echo, and what `tcp-client --ping` adds to the round trips it measures;
//   capacity: 10 000 connections opened at once and held by `tcp-server --backlog 4096`: how
//             many, how fast, how much memory per connection (and a bare Node server for
//             reference), plus what `tcp-client --connections` says about the same server;
//   stream:   `tcp-client --stream` -> `tcp-server --sink` against iperf3 -> iperf3 -s;
//   startup:  `node bin/netnote --help` against `node -e 0` (hyperfine), and an esbuild bundle
//             of the same CLI for reference;
//   script:   64-byte request/reply through `tcp-server --script` (a regex rule, a templated
//             reply) against the plain echo, 1 and 64 connections (bench/reqrep.c), and a Modbus
//             poll loop against the issue's example server script: p50 and p99 round trip.
//   tls:      TLS handshakes a second accepted by `tcp-server --tls` (ECDSA P-256, RSA 2048)
//             against a bare Node tls.createServer and openssl s_server (openssl s_time), and
//             `--stream` over TLS against plain TCP.
//   pacing:   `udp-client --one-way --rate` at 1k, 10k and 100k datagrams/s, as the receiver
//             counted them (target: within 2 % over 10 s); the unpaced ceiling against
//             `iperf3 -u -b 0`; one-way loss and jitter against iperf3 -u over the same nft
//             drop rule, in namespaces.
// What they share (processes, servers, statistics, tables, results.json) is bench/harness.mjs.
//
//   npm run bench                      (builds, then runs this)
//   node bench/run.mjs [--rounds 7] [--seconds 2] [--udp-count 10000] [--rtt-count 5000]
//                      [--capacity 10000] [--capacity-rounds 3] [--stream-seconds 5]
//                      [--stream-rounds 3] [--startup-rounds 4] [--startup-runs 8]
//                      [--tls-rounds 5] [--tls-seconds 3] [--pacing-seconds 10] [--pacing-rounds 2]
//                      [--only tcp|udp|rtt|capacity|stream|startup|script|tls|pacing[,...]]
//
// Clients that are not netnote drive the servers (bench/loadgen.c, udpping.c, tcpping.c,
// hold.c, reqrep.c, iperf3), so differences are the servers' own. The machine is shared and noisy:
// contenders run round-robin (A B C D, A B C D, ...) so a slow moment hits all of them alike,
// and the median of the rounds is reported. Prints a table per section and a combined table of
// every target at the end, writes bench/results.json. Exit 0 even when a target is missed (this
// is a report); exit 1 when a contender fails to run or an echo comes back wrong.

import os from 'node:os';
import { NODE_AND_CORES, parseArguments, prepare, printTable, writeResults } from './harness.mjs';
import { capacity } from './sections/capacity.mjs';
import { rtt } from './sections/rtt.mjs';
import { script } from './sections/script.mjs';
import { startup } from './sections/startup.mjs';
import { stream } from './sections/stream.mjs';
import { tcp } from './sections/tcp.mjs';
import { tls } from './sections/tls.mjs';
import { udp } from './sections/udp.mjs';
import { pacing } from './sections/udp-pacing.mjs';

const ALL_SECTIONS = [tcp, udp, rtt, capacity, stream, startup, script, tls, pacing];
const { settings, sections: SECTIONS } = parseArguments(ALL_SECTIONS.map((s) => s.name));
const selected = ALL_SECTIONS.filter((s) => SECTIONS.includes(s.name));
prepare(selected);

/** The combined table: every target of the sections that ran, one row each. */
function summaryRows({ tcp, udp, rtt, capacity, stream, startup, script, tls, pacing }) {
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
    const { connections: n, requested, serverWaitMs, clientHold } = capacity.settings;
    const [held, open, rss] = capacity.targets;
    rows.push({ row: `${n} connections held by tcp-server (hold.c)`, measured: `${held.value}/${n}${n < requested ? ` (of ${requested} asked)` : ''}`, target: `all ${requested}`, result: held.pass ? 'pass' : 'MISS' });
    rows.push({ row: `  time to open them all (established + accepted)`, measured: open.value === null ? `not all in ${serverWaitMs / 1000} s` : `${(open.value / 1000).toFixed(2)} s`, target: `<= ${open.target / 1000} s`, result: open.pass ? 'pass' : 'MISS' });
    rows.push({ row: `  server RSS per connection`, measured: `${rss.value.toFixed(1)} KiB`, target: `<= ${rss.target} KB`, result: rss.pass ? 'pass' : 'MISS' });
    const b = capacity.medians['hold/bare-node'];
    rows.push({ row: `  (bare node echo, same client)`, measured: `${b.heldMin}/${n}, ${b.openMs.median === null ? '-' : (b.openMs.median / 1000).toFixed(2)} s, ${b.rssPerConnKiB.median.toFixed(1)} KiB`, target: 'ref.', result: '' });
    const c = capacity.medians['tcp-client/netnote'];
    rows.push({ row: `  (tcp-client --connections ${n} --hold ${clientHold}: its own report)`, measured: `${c.establishedMin}/${n} est., ${c.aliveMin} alive, open ${(c.openMs.median / 1000).toFixed(2)} s, run ${(c.wallMs.median / 1000).toFixed(2)} s`, target: 'ref.', result: '' });
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
  if (script) {
    for (const r of script.ratios) rows.push({ row: `64 B request/reply, tcp-server --script (regex, template) / echo, ${r.conns} conn${r.conns > 1 ? 's' : ''}`, ...ratio(r, '>=') });
    const m = script.modbus;
    rows.push({ row: '  Modbus poll loop against tcp-server --script: p50 / p99', measured: `${m.p50.toFixed(0)} / ${m.p99.toFixed(0)} us`, target: 'ref.', result: '' });
  }
  if (tls) {
    const names = {
      'netnote-ecdsa/bare-node-ecdsa': 'TLS handshakes/s, tcp-server --tls / bare node tls (ECDSA P-256)',
      'netnote-ecdsa/openssl-ecdsa': '  (tcp-server --tls / openssl s_server, ECDSA P-256)',
      'netnote-rsa/bare-node-rsa': 'TLS handshakes/s, tcp-server --tls / bare node tls (RSA 2048)',
      'netnote-rsa/openssl-rsa': '  (tcp-server --tls / openssl s_server, RSA 2048)',
      'netnote-ecdsa/bare-node-ecdsa cpu': '  (handshakes per CPU second, tcp-server --tls / bare node, ECDSA P-256)',
      'netnote-rsa/bare-node-rsa cpu': '  (handshakes per CPU second, tcp-server --tls / bare node, RSA 2048)',
      'sink-tls/sink-plain': '  (--stream over TLS / plain TCP, MB/s)',
    };
    for (const r of tls.ratios) rows.push({ row: names[r.id], ...ratio(r, '>=') });
  }
  if (pacing) {
    const seconds = pacing.settings.seconds;
    for (const p of pacing.accuracy) {
      rows.push({ row: `udp-client --rate ${p.rate}, ${seconds} s: rate at the receiver vs asked`, measured: `${(p.error * 100).toFixed(3)}% off (${p.received} of ${p.expected} counted${p.result === 'receiver dropped' ? ': the receiver dropped some' : ''})`, target: '<= 2%', result: p.result === 'pass' ? 'pass' : p.result === 'MISS' ? 'MISS' : '' });
    }
    const c = pacing.ceiling;
    rows.push({ row: '  (64 B as fast as it goes: sent/received a second, netnote vs iperf3 -u -b 0)', measured: `${c.netnote.sent.toFixed(0)}/${c.netnote.received.toFixed(0)} vs ${c.iperf3.sent.toFixed(0)}/${c.iperf3.received.toFixed(0)}`, target: 'ref.', result: '' });
    for (const r of pacing.loss ?? []) {
      rows.push({ row: `  (one-way loss over nft 1 in 20, round ${r.round}: netnote vs iperf3 -u, each against nft's count)`, measured: `${r.netnote.lost}/${r.netnote.nft} vs ${r.iperf3.lost}/${r.iperf3.nft}`, target: 'ref.', result: '' });
    }
  }
  return rows;
}

// The run: the sections in order (or the ones --only names), the combined table, results.json.
const started = Date.now();
// The machine is shared: say how busy it was (the 1-minute load average over the core count).
const loadAtStart = os.loadavg();
console.log(`bench: load average ${loadAtStart.map((l) => l.toFixed(2)).join(' ')} on ${os.availableParallelism()} cores; sections: ${SECTIONS.join(', ')}`);
const results = {};
const sectionSeconds = {};
for (const [i, section] of selected.entries()) {
  if (i > 0) console.log();
  const t0 = Date.now();
  results[section.name] = await section.run(settings);
  sectionSeconds[section.name] = Math.round((Date.now() - t0) / 100) / 10;
}

const summary = summaryRows(results);
const table = [['row', 'measured', 'target', 'result'], ...summary.map((r) => [r.row, r.measured, r.target, r.result])];
console.log(`
=== All targets (${SECTIONS.join(', ')}; ${NODE_AND_CORES}, ` +
  `load average ${loadAtStart[0].toFixed(2)} at the start, ${os.loadavg()[0].toFixed(2)} at the end) ===`);
printTable(table, new Set());
const missedRows = summary.filter((r) => r.result === 'MISS');
console.log(`
${summary.filter((r) => r.result === 'pass').length} pass, ${missedRows.length} missed${missedRows.length ? `: ${missedRows.map((r) => r.row.trim()).join('; ')}` : ''}`);

const written = writeResults({ sections: SECTIONS, started, loadAtStart, sectionSeconds, results, summary });
console.log(`\nResults: ${written} (${Math.round((Date.now() - started) / 1000)} s)`);
