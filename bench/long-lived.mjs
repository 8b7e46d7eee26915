// Figures for docs/long-lived.md (links that live for days), measured in network namespaces (root):
//
//   idle-timeout: how long `netnote idle-timeout` takes to bracket a NAT's idle timeout (a
//                 masquerading router whose conntrack forgets after --nat-timeout seconds), at the
//                 default resolution, TCP and UDP, --runs times each: the brackets and the run times;
//   reconnect:    a client with --reconnect (default back-off 1s,30s) against a server stopped and
//                 started again --restarts times, down --down seconds each: time to reconnect and
//                 time without a connection, median and max, from the client's own summary;
//   wire:         a device's pattern (a message every 10 s, heartbeats every 4 s, keepalive 1 s)
//                 through the NAT for --wire-seconds, captured with tcpdump on the device's link:
//                 the bytes a minute the capture saw against the summary's projection of a day / 1440.
//
//   npm run bench:long-lived
//   node bench/long-lived.mjs [--only idle-timeout,reconnect,wire] [--runs 5] [--nat-timeout 6]
//                             [--restarts 10] [--down 2] [--wire-seconds 60]
//
// Prints a table per section and the exact command lines it ran. Nothing here is part of npm test:
// the whole run takes a few minutes.

import { execFileSync, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const NETNOTE = path.join(ROOT, 'bin', 'netnote');
const { values: args } = parseArgs({
  options: {
    only: { type: 'string', default: 'idle-timeout,reconnect,wire' },
    runs: { type: 'string', default: '5' },
    'nat-timeout': { type: 'string', default: '6' },
    restarts: { type: 'string', default: '10' },
    down: { type: 'string', default: '2' },
    'wire-seconds': { type: 'string', default: '60' },
  },
});
const sections = args.only.split(',');
const NAT_TIMEOUT = Number(args['nat-timeout']);
const tag = `nnb${process.pid % 100000}`;
const ns = { device: `${tag}d`, router: `${tag}r`, server: `${tag}s` };
const SERVER = '198.51.100.2';
const children = new Set();

const run = (command, argv, options = {}) => execFileSync(command, argv, { encoding: 'utf8', ...options });
const inNs = (name, command, argv, options) => run('ip', ['netns', 'exec', name, command, ...argv], options);

/** device 192.0.2.2 — 192.0.2.1 router 198.51.100.1 — 198.51.100.2 server, as test/support/netns.ts createNat makes it. */
function makeNat() {
  for (const name of Object.values(ns)) {
    spawnSync('ip', ['netns', 'del', name]);
    run('ip', ['netns', 'add', name]);
    inNs(name, 'ip', ['link', 'set', 'lo', 'up']);
  }
  run('ip', ['link', 'add', `${tag}a`, 'netns', ns.device, 'type', 'veth', 'peer', 'name', `${tag}b`, 'netns', ns.router]);
  run('ip', ['link', 'add', `${tag}c`, 'netns', ns.router, 'type', 'veth', 'peer', 'name', `${tag}e`, 'netns', ns.server]);
  for (const [name, dev, address] of [[ns.device, `${tag}a`, '192.0.2.2/24'], [ns.router, `${tag}b`, '192.0.2.1/24'], [ns.router, `${tag}c`, '198.51.100.1/24'], [ns.server, `${tag}e`, `${SERVER}/24`]]) {
    inNs(name, 'ip', ['addr', 'add', address, 'dev', dev]);
    inNs(name, 'ip', ['link', 'set', dev, 'up']);
  }
  inNs(ns.device, 'ip', ['route', 'add', 'default', 'via', '192.0.2.1']);
  inNs(ns.router, 'sysctl', ['-qw', 'net.ipv4.ip_forward=1']);
  inNs(ns.router, 'nft', ['-f', '-'], {
    input: `table ip nat {\n chain post {\n  type nat hook postrouting priority 100; policy accept;\n  oifname "${tag}c" masquerade\n }\n}\n`
      + `table inet filter {\n chain forwarded {\n  type filter hook forward priority 0; policy accept;\n  ct state invalid drop\n }\n}\n`,
  });
  inNs(ns.router, 'sysctl', ['-qw', `net.netfilter.nf_conntrack_tcp_timeout_established=${NAT_TIMEOUT}`, `net.netfilter.nf_conntrack_udp_timeout=${NAT_TIMEOUT}`,
    `net.netfilter.nf_conntrack_udp_timeout_stream=${NAT_TIMEOUT}`, 'net.netfilter.nf_conntrack_tcp_loose=0']);
  // A real link's frames, not 64 KiB offloaded segments, for the capture.
  inNs(ns.device, 'ethtool', ['-K', `${tag}a`, 'tso', 'off', 'gso', 'off', 'gro', 'off']);
}

function cleanup() {
  for (const child of children) child.kill('SIGKILL');
  for (const name of Object.values(ns)) spawnSync('ip', ['netns', 'del', name]);
}
process.on('exit', cleanup);
process.on('SIGINT', () => process.exit(130));

/** A netnote process in a namespace; resolves with its output once `ready` shows in stdout. */
function start(name, argv, ready) {
  const child = spawn('ip', ['netns', 'exec', name, process.execPath, NETNOTE, ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (chunk) => (out += chunk));
  const done = new Promise((resolve) => child.on('close', (code) => {
    children.delete(child);
    resolve({ code, out });
  }));
  const up = ready ? new Promise((resolve) => {
    const look = () => (ready.test(out) ? resolve(out.match(ready)) : setTimeout(look, 20));
    look();
  }) : Promise.resolve(null);
  return { child, done, up, stop: (signal = 'SIGTERM') => child.kill(signal) };
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.ceil(values.length / 2) - 1];
const shown = [];
function command(name, argv) {
  const line = `ip netns exec ${name} netnote ${argv.join(' ')}`;
  if (!shown.includes(line)) shown.push(line);
  return argv;
}

async function idleTimeout() {
  const servers = [start(ns.server, ['tcp-server', SERVER, '8080', '--quiet'], /listening/), start(ns.server, ['udp-server', SERVER, '8080', '--quiet'], /bind address/)];
  await Promise.all(servers.map((s) => s.up));
  const rows = [];
  for (const proto of ['tcp', 'udp']) {
    const times = [];
    const brackets = [];
    for (let i = 0; i < Number(args.runs); i++) {
      const started = performance.now();
      const { out, code } = await start(ns.device, command(ns.device, ['--json', 'idle-timeout', SERVER, '8080', '--proto', proto])).done;
      const seconds = (performance.now() - started) / 1000;
      const summary = JSON.parse(out.trim().split('\n').at(-1)).summary;
      if (code !== 0) throw new Error(`idle-timeout --proto ${proto} exited ${code}`);
      times.push(seconds);
      brackets.push(`${summary.lowMs / 1000}–${summary.highMs / 1000} s`);
    }
    rows.push([`idle-timeout --proto ${proto}`, `NAT ${NAT_TIMEOUT} s`, [...new Set(brackets)].join(', '), `${median(times).toFixed(1)} s`, `${Math.max(...times).toFixed(1)} s`]);
  }
  for (const s of servers) s.stop('SIGKILL');
  return { title: `idle-timeout against a NAT forgetting after ${NAT_TIMEOUT} s, default resolution (5 % or 1 s), ${args.runs} runs each`, header: ['run', 'path', 'bracket(s)', 'run time p50', 'max'], rows };
}

async function reconnect() {
  let server = start(ns.server, ['tcp-server', SERVER, '8081', '--quiet'], /listening/);
  await server.up;
  const client = start(ns.device, command(ns.device, ['--json', '--quiet', 'tcp-client', SERVER, '8081', '-i', '1s', '--reconnect']));
  const restarts = Number(args.restarts);
  for (let i = 0; i < restarts; i++) {
    await new Promise((resolve) => setTimeout(resolve, 3000));
    server.stop('SIGTERM');
    await server.done;
    await new Promise((resolve) => setTimeout(resolve, Number(args.down) * 1000));
    server = start(ns.server, ['tcp-server', SERVER, '8081', '--quiet'], /listening/);
    await server.up;
  }
  await new Promise((resolve) => setTimeout(resolve, 5000));
  client.stop('SIGINT');
  const { out } = await client.done;
  server.stop('SIGKILL');
  const r = JSON.parse(out.trim().split('\n').at(-1)).summary.reconnects;
  const down = r.gaps.map((g) => g.downMs / 1000);
  const again = r.gaps.flatMap((g) => (g.reconnectMs === null ? [] : [g.reconnectMs / 1000]));
  return {
    title: `--reconnect (back-off 1s,30s) against tcp-server stopped (SIGTERM) and started ${restarts} times, ${args.down} s down each, through the NAT`,
    header: ['figure', 'p50', 'max', 'n'],
    rows: [
      ['time to reconnect (loss noticed → connected)', `${median(again).toFixed(2)} s`, `${Math.max(...again).toFixed(2)} s`, String(again.length)],
      ['time without a connection (last worked → connected)', `${median(down).toFixed(2)} s`, `${Math.max(...down).toFixed(2)} s`, String(down.length)],
      ['attempts in all', String(r.attempts), '', ''],
    ],
  };
}

async function wire() {
  const server = start(ns.server, ['tcp-server', SERVER, '8082', '--quiet'], /listening/);
  await server.up;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'netnote-long-lived-'));
  const pcap = path.join(dir, 'device.pcap');
  const capture = spawn('ip', ['netns', 'exec', ns.device, 'tcpdump', '-i', `${tag}a`, '-w', pcap, '-U', 'tcp port 8082'], { stdio: 'ignore' });
  children.add(capture);
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const seconds = Number(args['wire-seconds']);
  const count = Math.floor(seconds / 10);
  const argv = command(ns.device, ['--json', '--quiet', 'tcp-client', SERVER, '8082', '-c', String(count), '-i', '10s', '--heartbeat', '4s', '--heartbeat-data', 'PING', '--keepalive', '1s']);
  const started = performance.now();
  const { out } = await start(ns.device, argv).done;
  const ranS = (performance.now() - started) / 1000;
  await new Promise((resolve) => setTimeout(resolve, 1000));
  capture.kill('SIGINT');
  await new Promise((resolve) => capture.on('close', resolve));
  server.stop('SIGKILL');
  const frames = readPcap(pcap);
  fs.rmSync(dir, { recursive: true, force: true });
  const summary = JSON.parse(out.trim().split('\n').at(-1)).summary;
  const captured = frames.reduce((total, f) => total + f.length, 0);
  const projection = summary.wire.projection;
  const cycles = 86_400_000 / projection.cycleMs;
  // A cycle is a message, its echo and ACK, and the quiet 10 s after it (heartbeats, probes): the
  // capture holds one connection's open and close, `count` messages and `count - 1` such gaps.
  const openClose = 74 + 74 + 66 + 3 * 66;
  const exchange = 76 + 76 + 66;
  const capturedPerCycle = (captured - openClose - exchange) / (count - 1);
  const projectedPerCycle = (projection.day.bytes - openClose) / cycles;
  // A keepalive probe: a bare segment from the device, one byte behind what it had sent.
  const device = frames.find((f) => f.syn && !f.ack)?.from;
  let next = 0;
  let probes = 0;
  for (const f of frames.filter((frame) => frame.from === device && !frame.syn)) {
    if (f.payload === 0 && f.seq === ((next - 1) >>> 0)) probes++;
    next = Math.max(next, (f.seq + f.payload) >>> 0);
  }
  return {
    title: `a message every 10 s, a heartbeat every 4 s, keepalive 1 s: ${count} messages (${ranS.toFixed(0)} s) through the NAT, tcpdump on the device's link`,
    header: ['figure', 'tcpdump', 'netnote', 'difference'],
    rows: [
      ['the run, bytes on the wire', String(captured), String(summary.wire.wireBytes), pct(summary.wire.wireBytes, captured)],
      ['the run, frames', String(frames.length), String(summary.wire.packets), pct(summary.wire.packets, frames.length)],
      ['the run, keepalive probes', String(probes), String(summary.keepalive.probesSent), pct(summary.keepalive.probesSent, probes)],
      ['one 10 s cycle, bytes (projection: a day / cycles)', capturedPerCycle.toFixed(0), projectedPerCycle.toFixed(0), pct(projectedPerCycle, capturedPerCycle)],
      ['a day at this pattern', `${(capturedPerCycle * cycles / 1048576).toFixed(2)} MiB`, `${(projection.day.bytes / 1048576).toFixed(2)} MiB`, ''],
      ['30 days', `${(capturedPerCycle * cycles * 30 / 1048576).toFixed(1)} MiB`, `${(projection.days30.bytes / 1048576).toFixed(1)} MiB`, ''],
    ],
  };
}

const pct = (model, real) => `${model >= real ? '+' : ''}${(((model - real) / real) * 100).toFixed(1)} %`;

/** The frames of a classic pcap file (Ethernet, IPv4, TCP): length on the link, sender, flags, sequence number, payload. */
function readPcap(file) {
  const data = fs.readFileSync(file);
  const frames = [];
  for (let offset = 24; offset + 16 <= data.length;) {
    const captured = data.readUInt32LE(offset + 8);
    const frame = data.subarray(offset + 16, offset + 16 + captured);
    const ip = 14;
    const ihl = (frame[ip] & 0x0f) * 4;
    const tcp = ip + ihl;
    const flags = frame[tcp + 13];
    frames.push({
      length: data.readUInt32LE(offset + 12),
      from: `${[...frame.subarray(ip + 12, ip + 16)].join('.')}:${frame.readUInt16BE(tcp)}`,
      syn: (flags & 0x02) !== 0, ack: (flags & 0x10) !== 0,
      seq: frame.readUInt32BE(tcp + 4),
      payload: frame.readUInt16BE(ip + 2) - ihl - (frame[tcp + 12] >> 4) * 4,
    });
    offset += 16 + captured;
  }
  return frames;
}

function printTable({ title, header, rows }) {
  const widths = header.map((_, i) => Math.max(...[header, ...rows].map((row) => String(row[i] ?? '').length)));
  const line = (row) => `| ${row.map((cell, i) => String(cell ?? '').padEnd(widths[i])).join(' | ')} |`;
  console.log(`\n${title}\n`);
  console.log(line(header));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const row of rows) console.log(line(row));
}

makeNat();
console.log(`${os.cpus().length} cores, Node ${process.version}, load ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
const sectionsRun = { 'idle-timeout': idleTimeout, reconnect, wire };
for (const name of sections) printTable(await sectionsRun[name]());
console.log('\ncommand lines (in the device namespace):');
for (const line of shown) console.log(`  ${line}`);
