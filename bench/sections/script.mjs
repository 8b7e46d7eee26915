// script: what answering by rules costs a server. bench/reqrep.c keeps one 64-byte request in
// flight per connection (1 and 64 connections) against `tcp-server --quiet` (the echo, a pipe)
// and against `tcp-server --quiet --script` whose regex rule captures a field of the request and
// answers a templated 64-byte reply (the capture, {seq:u32be}, a CRC); requests per second, the
// median of alternating rounds. Then a Modbus poll loop (reqrep, one connection, the read of 10
// holding registers) against the issue's example server script: p50 and p99 round trip.

import fs from 'node:fs';
import path from 'node:path';
import {
  compiled, HOST, median, NODE_AND_CORES, printTable, ROOT, round1, runClient, scratch, startNetnote, withServers,
} from '../harness.mjs';

const CONNECTIONS = [1, 64];
const WARMUP_SECONDS = 0.5;
const REQREP = compiled('reqrep');
const TARGET = 0.8; // scripted requests/s at least this share of the echo's

// "REQ 0042 " and 55 x: 64 bytes. The reply: "ACK 0042 ", a u32 sequence number, 49 y, a CRC: 64.
const REQUEST = Buffer.concat([Buffer.from('REQ 0042 '), Buffer.alloc(55, 'x')]);
const SCRIPT = `# bench: a regex rule with a capture, a templated reply of 64 bytes
rules:
  - match: { regex: "^REQ (\\\\d{4}) " }
    reply: { text: "ACK {1} {seq:u32be}${'y'.repeat(49)}{crc16-modbus}" }
default: none
`;
const REPLY_PREFIX = Buffer.from('ACK 0042 ');

// Modbus TCP: transaction 1, unit 1, read holding registers 0..9; the reply is 29 bytes.
const MODBUS_REQUEST = '0001 0000 0006 01 03 0000 000a';
const MODBUS_REPLY = '0001 0000 0017 01 03 14 0001';
const MODBUS_SECONDS = 5;

/** One reqrep run; rejects on a wrong reply, a close or a stall. */
async function reqrep(port, conns, seconds, requestHex, replyBytes, prefixHex) {
  return JSON.parse(await runClient('reqrep', REQREP, [HOST, String(port), String(conns), String(seconds), requestHex, String(replyBytes), prefixHex, String(WARMUP_SECONDS)]));
}

async function run({ rounds: roundCount, seconds }) {
  const scriptPath = path.join(scratch, 'bench-script.yaml');
  fs.writeFileSync(scriptPath, SCRIPT);
  const contenders = [
    { id: 'echo', label: 'tcp-server --quiet (echo)', replyPrefix: REQUEST.subarray(0, 9), start: () => startNetnote('tcp-server --quiet (script bench, echo)', null) },
    {
      id: 'script', label: 'tcp-server --quiet --script (regex, template)', replyPrefix: REPLY_PREFIX,
      start: () => startNetnote('tcp-server --script (script bench)', null, 'tcp-server', { extra: ['--script', scriptPath] }),
    },
  ];
  const rounds = [];
  let modbus = null;
  await withServers(contenders, async (servers) => {
    console.log(`bench script: ${roundCount} rounds x ${CONNECTIONS.length} connection counts x ${contenders.length} servers, ${seconds} s each, ` +
      `64-byte requests, one in flight per connection; then a ${MODBUS_SECONDS} s Modbus poll loop; ${NODE_AND_CORES}`);
    for (let round = 1; round <= roundCount; round++) {
      for (const conns of CONNECTIONS) {
        const line = [];
        for (const contender of contenders) {
          const r = await reqrep(servers.get(contender.id).port, conns, seconds, REQUEST.toString('hex'), 64, contender.replyPrefix.toString('hex'));
          rounds.push({ round, conns, contender: contender.id, perSecond: r.perSecond, p50: r.p50, p99: r.p99, replies: r.replies });
          line.push(`${contender.id} ${r.perSecond.toFixed(0)}`);
        }
        console.log(`  round ${round}, ${conns} conn${conns > 1 ? 's' : ''}: ${line.join(', ')} requests/s`);
      }
    }
  });

  // The Modbus poll loop, against the issue's example server script (a regex-hex rule, the
  // transaction id copied back into the reply).
  const issueScript = path.join(ROOT, 'test', 'fixtures', 'scripts', 'issue-server.yaml');
  await withServers([{ id: 'modbus', start: () => startNetnote('tcp-server --script issue-server.yaml', null, 'tcp-server', { extra: ['--script', issueScript] }) }], async (servers) => {
    modbus = await reqrep(servers.get('modbus').port, 1, MODBUS_SECONDS, MODBUS_REQUEST, 29, MODBUS_REPLY);
  });

  const medians = {};
  const ratios = [];
  for (const conns of CONNECTIONS) {
    for (const { id } of contenders) {
      const mine = rounds.filter((r) => r.conns === conns && r.contender === id);
      medians[`${id}/${conns}`] = { perSecond: round1(median(mine.map((r) => r.perSecond))), p50: round1(median(mine.map((r) => r.p50))), p99: round1(median(mine.map((r) => r.p99))) };
    }
    const value = medians[`script/${conns}`].perSecond / medians[`echo/${conns}`].perSecond;
    ratios.push({ id: 'script/echo', conns, value, target: TARGET, pass: value >= TARGET });
  }

  const rows = [['server', 'conns', 'requests/s', 'p50 us', 'p99 us', 'ratio', 'target', 'result']];
  for (const conns of CONNECTIONS) {
    for (const contender of contenders) {
      const m = medians[`${contender.id}/${conns}`];
      const ratio = contender.id === 'script' ? ratios.find((r) => r.conns === conns) : null;
      rows.push([contender.label, String(conns), m.perSecond.toFixed(0), m.p50.toFixed(1), m.p99.toFixed(1),
        ratio ? `${ratio.value.toFixed(2)} x echo` : '', ratio ? `>= ${TARGET}` : 'ref.', ratio ? (ratio.pass ? 'pass' : 'MISS') : '']);
    }
  }
  printTable(rows, new Set([1, 2, 3, 4]));
  console.log(`\nModbus poll loop (reqrep, 1 connection, read 10 holding registers, ${MODBUS_SECONDS} s) against tcp-server --script issue-server.yaml:` +
    `\n  ${modbus.replies} polls, ${modbus.perSecond.toFixed(0)}/s; round trip p50 ${modbus.p50.toFixed(1)} us, p99 ${modbus.p99.toFixed(1)} us, max ${modbus.max.toFixed(1)} us`);
  const missed = ratios.filter((r) => !r.pass);
  if (missed.length) console.log(`Missed: ${missed.map((r) => `script/echo at ${r.conns} conns (${r.value.toFixed(2)} < ${r.target})`).join('; ')}`);

  return {
    settings: { rounds: roundCount, seconds, connections: CONNECTIONS, requestBytes: REQUEST.length, replyBytes: 64, warmupSeconds: WARMUP_SECONDS, modbusSeconds: MODBUS_SECONDS },
    rounds, medians, ratios, modbus,
  };
}

export const script = { name: 'script', client: 'reqrep', run };
