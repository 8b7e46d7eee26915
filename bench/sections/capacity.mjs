// capacity: N connections (10 000 by default) opened at once by bench/hold.c and held by
// `tcp-server --backlog 4096`: how many, how fast, how much memory per connection (and a bare
// Node server for reference), plus what `tcp-client --connections` says about the same server.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import {
  capture, compiled, HOST, median, NETNOTE, NODE_AND_CORES, printTable, ROOT, round1, RUN_TIMEOUT_MS, sleep, spawnWithUlimit,
  startBareNode, startNetnote, track, waitFor, withServers, withTimeout,
} from '../harness.mjs';

const CAPACITY_BACKLOG = 4096;
const CAPACITY_HOLD_MS = 1000; // hold.c keeps them at least this long once opened
const CAPACITY_OPEN_TIMEOUT_MS = 10_000; // hold.c: a handshake not done by then timed out
const CAPACITY_WAIT_MS = 15_000; // how long the server gets to accept every connection
const CAPACITY_SETTLE_MS = 300; // pause before reading the server's RSS (start-up, then all accepted)
const CAPACITY_CLIENT_HOLD = '2s'; // netnote tcp-client --connections N --hold 2s
const CAPACITY_FD_MARGIN = 64; // file descriptors a process needs besides its connections
const CAPACITY_TARGET = { openMs: 3000, rssPerConnKiB: 15 };
const HOLD = compiled('hold');

const fdCount = (pid) => fs.readdirSync(`/proc/${pid}/fd`).length;
const rssKiB = (pid) => Number(/VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))[1]);

/**
 * What the machine allows: the open-files limit that spawnWithUlimit gets (and the error it met
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

/** A fresh server per run, so each RSS is measured from the same start; prints the table, returns the results. */
async function run({ capacity: requested, capacityRounds: roundCount }) {
  const limits = capacityLimits();
  const fit = Math.min(limits.openFiles - CAPACITY_FD_MARGIN, limits.ephemeralPorts - CAPACITY_FD_MARGIN);
  let n = requested;
  let limitedBy = null;
  if (limits.raiseError) console.log(`bench capacity: ulimit -n 65536: ${limits.raiseError}; using the hard limit, ${limits.openFiles}`);
  if (n > fit) {
    limitedBy = limits.openFiles - CAPACITY_FD_MARGIN < limits.ephemeralPorts - CAPACITY_FD_MARGIN
      ? `the open-files limit is ${limits.openFiles} (hard ${limits.openFilesHard}${limits.raiseError ? `; ulimit -n 65536: ${limits.raiseError}` : ''})`
      : `the ephemeral port range has ${limits.ephemeralPorts} ports (net.ipv4.ip_local_port_range)`;
    n = fit;
    console.log(`bench capacity: ${requested} connections do not fit: ${limitedBy}; measuring ${n}`);
  }
  console.log(`bench capacity: ${roundCount} rounds x ${CAPACITY_SERVERS.length} servers, ${n} connections opened at once by hold.c ` +
    `(+ netnote tcp-client --connections ${n} against netnote); open files ${limits.openFiles}, ${limits.ephemeralPorts} ephemeral ports, ` +
    `somaxconn ${limits.somaxconn}; ${NODE_AND_CORES}`);

  const rounds = [];
  for (let round = 1; round <= roundCount; round++) {
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
    { id: 'held', value: m.heldMin, target: n, pass: m.heldMin === n && n === requested },
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
    `\nthe lowest of the ${roundCount} rounds; open s = until all were both established and accepted (client s, server s: each side's own);` +
    `\nKiB/conn = (server VmRSS with all held - VmRSS before) / ${n}; medians of ${roundCount} rounds, a fresh server each.`);
  const c = medians['tcp-client/netnote'];
  console.log(`\nnetnote tcp-client ${HOST} PORT --connections ${n} --hold ${CAPACITY_CLIENT_HOLD} --json against the netnote server (its own summary):` +
    `\n  established ${c.establishedMin}/${n} and alive after the hold ${c.aliveMin}/${n} (lowest of the rounds), openMs median ${sec(c.openMs.median)} s ` +
    `(${span(c.openMs, sec)}), whole run ${sec(c.wallMs.median)} s (${span(c.wallMs, sec)}); the server held at most ${c.serverPeakMin} of them at once (lowest round)`);
  const missed = targets.filter((t) => !t.pass);
  if (missed.length) console.log(`Missed: ${missed.map((t) => `${t.id} (${t.value} vs ${t.target})`).join('; ')}`);

  return {
    settings: {
      rounds: roundCount, connections: n, requested, limitedBy, backlog: CAPACITY_BACKLOG, holdMs: CAPACITY_HOLD_MS,
      openTimeoutMs: CAPACITY_OPEN_TIMEOUT_MS, serverWaitMs: CAPACITY_WAIT_MS, clientHold: CAPACITY_CLIENT_HOLD, limits, host: HOST,
    },
    servers: CAPACITY_SERVERS.map(({ id, label }) => ({ id, label })),
    rounds,
    medians,
    targets,
  };
}

export const capacity = { name: 'capacity', client: 'hold', run };
