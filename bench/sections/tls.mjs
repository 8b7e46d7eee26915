// tls: how many TLS handshakes a second `tcp-server --tls` accepts, with an ECDSA P-256 and an
// RSA 2048 certificate, against a bare Node tls.createServer echo and `openssl s_server` holding
// the same certificate; and `tcp-client --stream --tls` -> `tcp-server --sink --tls` against the
// same pair without TLS (MB/s).
//
// The handshakes are driven by `openssl s_time -new` (full handshakes, TLS 1.3, nothing sent
// after them), two at once, for --tls-seconds: the count of connections each made, over the
// wall time of the pair. The certificates are made by the openssl command in the scratch dir.
// Contenders alternate within each round; medians of the rounds are reported.

import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {
  capture, freePort, HOST, median, NETNOTE, NODE_AND_CORES, printTable, runClient, scratch, sleep, startNetnote, startNodeScript, stopper, track, waitFor, withServers,
} from '../harness.mjs';

const KEY_TYPES = {
  ecdsa: { label: 'ECDSA P-256', genpkey: ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256'] },
  rsa: { label: 'RSA 2048', genpkey: ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048'] },
};
const LOADERS = 2; // s_time processes at once: the server is never idle between two handshakes

/** A self-signed certificate for 127.0.0.1 with this key type, made by openssl. */
function certificate(type) {
  const key = path.join(scratch, `tls-${type}.key`);
  const cert = path.join(scratch, `tls-${type}.pem`);
  execFileSync('openssl', ['genpkey', ...KEY_TYPES[type].genpkey, '-out', key], { stdio: 'pipe' });
  execFileSync('openssl', ['req', '-x509', '-key', key, '-subj', '/CN=netnote bench', '-addext', 'subjectAltName=IP:127.0.0.1', '-days', '2', '-out', cert], { stdio: 'pipe' });
  return { key, cert };
}

/** Node's own TLS echo: tls.createServer and s.pipe(s), nothing else. */
function startBareTls(name, { key, cert }) {
  return startNodeScript(name, `
    const tls = require('node:tls');
    const fs = require('node:fs');
    const server = tls.createServer({ key: fs.readFileSync(${JSON.stringify(key)}), cert: fs.readFileSync(${JSON.stringify(cert)}) }, (s) => {
      s.on('error', () => {});
      s.pipe(s);
    });
    server.on('tlsClientError', () => {});
    server.listen(0, '${HOST}', 511, () => console.log('port ' + server.address().port));`);
}

async function startOpensslServer(name, { key, cert }) {
  const port = await freePort();
  const child = track(spawn('openssl', ['s_server', '-accept', `${HOST}:${port}`, '-cert', cert, '-key', key, '-naccept', '1000000000'], { stdio: ['pipe', 'pipe', 'pipe'] }), name);
  const out = capture(child.stdout);
  const err = capture(child.stderr);
  await waitFor(() => out.text + err.text, /ACCEPT/, name, child);
  return { port, pid: child.pid, stop: stopper(child) };
}

/** CPU time (user + system) a process has used, in ms, from /proc. */
function cpuMs(pid) {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
}
const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

/**
 * Handshakes a second: LOADERS `openssl s_time -new` at once for `seconds`; and the server's CPU
 * time per handshake (what the load on a shared machine changes least).
 */
async function handshakes({ port, pid }, seconds) {
  const cpuBefore = cpuMs(pid);
  const started = performance.now();
  const outputs = await Promise.all(Array.from({ length: LOADERS }, () =>
    runClient('openssl s_time', 'openssl', ['s_time', '-connect', `${HOST}:${port}`, '-new', '-time', String(seconds)])));
  const wallS = (performance.now() - started) / 1000;
  const count = outputs.reduce((sum, text) => {
    const match = /(\d+) connections in [\d.]+s;/.exec(text);
    if (!match) throw new Error(`openssl s_time: no connection count in its output: ${text.slice(-300)}`);
    return sum + Number(match[1]);
  }, 0);
  if (count === 0) throw new Error('openssl s_time made no connection');
  await sleep(200); // the server closes what s_time left behind: its CPU time counts too
  return { handshakes: count, wallS, perSecond: count / wallS, cpuMsPerHandshake: (cpuMs(pid) - cpuBefore) / count };
}

/** netnote's stream for `seconds`, through its --json summary: MB/s of payload. */
async function stream(port, seconds, tls) {
  const text = await runClient('netnote tcp-client --stream', process.execPath, [NETNOTE, '--json', '--quiet', 'tcp-client', HOST, String(port),
    '--stream', '--duration', `${seconds}s`, ...(tls ? ['--tls', '-k'] : [])]);
  const summary = JSON.parse(text.trim().split('\n').at(-1)).summary;
  if (summary?.proto !== 'tcp-stream' || (tls && !summary.tls)) throw new Error(`netnote tcp-client --stream: no ${tls ? 'TLS ' : ''}stream summary`);
  return { mbps: summary.bitsPerSecond / 8e6, bytes: summary.bytes };
}

const stats = (values) => ({ median: median(values), min: Math.min(...values), max: Math.max(...values) });

async function run({ tlsRounds: roundCount, tlsSeconds: seconds, streamSeconds }) {
  const certs = { ecdsa: certificate('ecdsa'), rsa: certificate('rsa') };
  const servers = [];
  for (const type of Object.keys(KEY_TYPES)) {
    servers.push(
      { id: `netnote-${type}`, type, kind: 'netnote', label: `netnote tcp-server --tls --quiet (${KEY_TYPES[type].label})`, start: () => startNetnote(`netnote tls ${type}`, null, 'tcp-server', { extra: ['--tls', '--cert', certs[type].cert, '--key', certs[type].key] }) },
      { id: `bare-node-${type}`, type, kind: 'bare-node', label: `bare node tls.createServer (${KEY_TYPES[type].label})`, start: () => startBareTls(`bare tls ${type}`, certs[type]) },
      { id: `openssl-${type}`, type, kind: 'openssl', label: `openssl s_server (${KEY_TYPES[type].label})`, start: () => startOpensslServer(`openssl s_server ${type}`, certs[type]) },
    );
  }
  const sinks = [
    { id: 'sink-tls', label: 'tcp-client --stream --tls -k -> tcp-server --sink --tls (ECDSA P-256)', tls: true, start: () => startNetnote('netnote sink tls', null, 'tcp-server', { extra: ['--sink', '--tls', '--cert', certs.ecdsa.cert, '--key', certs.ecdsa.key] }) },
    { id: 'sink-plain', label: 'tcp-client --stream -> tcp-server --sink', tls: false, start: () => startNetnote('netnote sink', null, 'tcp-server', { extra: ['--sink'] }) },
  ];
  const version = execFileSync('openssl', ['version'], { encoding: 'utf8' }).trim();
  const rounds = [];
  await withServers([...servers, ...sinks], async (running) => {
    console.log(`bench tls: ${roundCount} rounds x ${servers.length} servers, ${LOADERS} x openssl s_time -new for ${seconds} s each; ` +
      `then ${roundCount} rounds of --stream ${streamSeconds} s with and without TLS; ${version}; ${NODE_AND_CORES}`);
    for (let round = 1; round <= roundCount; round++) {
      const line = [];
      // The order rotates each round: no contender always runs first, on a machine warming up.
      const order = servers.map((_, i) => servers[(i + round - 1) % servers.length]);
      for (const server of order) {
        const result = await handshakes(running.get(server.id), seconds);
        rounds.push({ round, contender: server.id, ...result });
        line.push(`${server.id} ${result.perSecond.toFixed(0)} (${result.cpuMsPerHandshake.toFixed(2)} ms)`);
      }
      console.log(`  round ${round}: ${line.join(', ')} handshakes/s (server CPU per handshake)`);
    }
    for (let round = 1; round <= roundCount; round++) {
      const line = [];
      for (const sink of round % 2 ? sinks : [...sinks].reverse()) {
        const result = await stream(running.get(sink.id).port, streamSeconds, sink.tls);
        rounds.push({ round, contender: sink.id, ...result });
        line.push(`${sink.id} ${result.mbps.toFixed(0)}`);
      }
      console.log(`  stream round ${round}: ${line.join(', ')} MB/s`);
    }
  });

  const medians = {};
  const cpu = {};
  for (const server of servers) {
    const mine = rounds.filter((r) => r.contender === server.id);
    medians[server.id] = stats(mine.map((r) => r.perSecond));
    cpu[server.id] = stats(mine.map((r) => r.cpuMsPerHandshake));
  }
  for (const sink of sinks) medians[sink.id] = stats(rounds.filter((r) => r.contender === sink.id).map((r) => r.mbps));
  const ratios = [];
  for (const type of Object.keys(KEY_TYPES)) {
    ratios.push({ id: `netnote-${type}/bare-node-${type}`, of: `netnote-${type}`, to: `bare-node-${type}`, target: 0.9 });
    ratios.push({ id: `netnote-${type}/openssl-${type}`, of: `netnote-${type}`, to: `openssl-${type}`, target: null });
  }
  ratios.push({ id: 'sink-tls/sink-plain', of: 'sink-tls', to: 'sink-plain', target: null });
  for (const r of ratios) {
    r.value = medians[r.of].median / medians[r.to].median;
    r.pass = r.target === null || r.value >= r.target;
  }
  // The same comparison by CPU: how many handshakes a second of the server's CPU buys, against bare node's.
  for (const type of Object.keys(KEY_TYPES)) {
    const value = cpu[`bare-node-${type}`].median / cpu[`netnote-${type}`].median;
    ratios.push({ id: `netnote-${type}/bare-node-${type} cpu`, of: `netnote-${type}`, to: `bare-node-${type}`, target: null, value, pass: true });
  }

  const rows = [['server', 'handshakes/s', 'min-max', 'CPU ms/handshake', 'ratio', 'target', 'result']];
  const labelOf = (id) => [...servers, ...sinks].find((x) => x.id === id).label;
  for (const server of servers) {
    const m = medians[server.id];
    const mine = ratios.filter((r) => r.of === server.id);
    const base = [server.label, m.median.toFixed(0), `${m.min.toFixed(0)}-${m.max.toFixed(0)}`, cpu[server.id].median.toFixed(3)];
    if (mine.length === 0) rows.push([...base, '', '', '']);
    mine.forEach((r, i) => rows.push([...(i === 0 ? base : base.map(() => '')),
      `${r.id.endsWith(' cpu') ? 'by CPU ' : ''}${r.value.toFixed(2)} x ${labelOf(r.to).replace(/ \(.*\)$/, '')}`,
      r.target === null ? 'ref.' : `>= ${r.target}`, r.target === null ? '' : r.pass ? 'pass' : 'MISS']));
  }
  printTable(rows, new Set([1, 2, 3]));
  const streamRows = [['client -> server', 'MB/s', 'min-max', 'ratio']];
  for (const sink of sinks) {
    const m = medians[sink.id];
    const r = ratios.find((x) => x.of === sink.id);
    streamRows.push([sink.label, m.median.toFixed(0), `${m.min.toFixed(0)}-${m.max.toFixed(0)}`, r ? `${r.value.toFixed(2)} x plain TCP` : '']);
  }
  printTable(streamRows, new Set([1, 2]));
  console.log(`\nhandshakes/s = full TLS 1.3 handshakes (new sessions) that ${LOADERS} concurrent \`openssl s_time -connect ${HOST}:PORT -new -time ${seconds}\` completed,` +
    `\nover their wall time; CPU ms/handshake = the server process's user + system time (/proc) over those handshakes ("by CPU":` +
    `\nbare node's CPU per handshake / netnote's, the handshakes a second each could serve with the same CPU); MB/s = 10^6 payload bytes a second in netnote's --stream summary, ${streamSeconds} s, one connection; medians of ${roundCount} rounds.`);
  const missed = ratios.filter((r) => !r.pass);
  if (missed.length) console.log(`Missed: ${missed.map((r) => `${r.id} (${r.value.toFixed(2)} < ${r.target})`).join('; ')}`);
  return {
    settings: { rounds: roundCount, seconds, loaders: LOADERS, streamSeconds, openssl: version },
    contenders: [...servers, ...sinks].map(({ id, label }) => ({ id, label })),
    rounds,
    medians,
    cpuMsPerHandshake: cpu,
    ratios,
  };
}

export const tls = { name: 'tls', tool: 'openssl', run };
