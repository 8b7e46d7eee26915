// Links that live for days, on loopback: keepalive as the kernel shows it (ss), heartbeats,
// what a lost connection is blamed on, reconnects with back-off, --wait-for, a server that drops
// its clients, timestamps, the --log file and interim reports. The same through a NAT that
// forgets idle connections is test/nat.test.ts.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, startCli, startServer } from './support/cli.js';
import { trackResources } from './support/cleanup.js';
import { commandMissing, freePort } from './support/peers.js';
import { needs } from './support/needs.js';

const tracked = trackResources();

/** The established TCP sockets on this port (either end), as `ss -tno` shows them. */
function ssLines(port: number): string[] {
  return execFileSync('ss', ['-tnoH', 'state', 'established', `( sport = :${port} or dport = :${port} )`], { encoding: 'utf8' })
    .split('\n').filter(Boolean);
}

/**
 * A timer as ss prints it (iproute2's print_ms_timer): `1min30sec`, `12sec`, `2.608ms` (2 s and
 * 608 ms), `516ms`.
 */
function ssTimerMs(text: string): number {
  const match = /^(?:(\d+)min)?(?:(\d+)(?:sec|\.))?(?:(\d+)ms)?$/.exec(text);
  if (!match) throw new Error(`not an ss timer: ${text}`);
  const [, minutes = '0', secs = '0', ms = '0'] = match;
  return (Number(minutes) * 60 + Number(secs)) * 1000 + Number(ms);
}

describe('--keepalive', needs(commandMissing('ss', 'iproute2')), () => {
  it('turns SO_KEEPALIVE on for the client and for every client of the server: ss -o shows the keepalive timer, the log what was set', async () => {
    const server = await startServer('tcp-server', ['--keepalive', '5s']);
    tracked.servers.add(server);
    expect(server.stdout()).toContain('[server] keepalive on every client: a probe after 5 s idle, then one every 1 s; 10 unanswered probes end the connection  (SO_KEEPALIVE, TCP_KEEPIDLE 5, TCP_KEEPINTVL 1, TCP_KEEPCNT 10)\n');
    const client = startCli(['tcp-client', '127.0.0.1', String(server.port), '--keepalive', '3s', '-c', '2', '-i', '2s'], { timeoutMs: 20_000 });
    tracked.servers.add(client);
    await client.waitFor(/\[client\] -------------------------\n/);
    const sockets = ssLines(server.port);
    expect(sockets).toHaveLength(2);
    // ss prints the time left before the next probe: under the idle time set on each end.
    const timers = sockets.map((line) => {
      const timer = /timer:\(keepalive,([^,]+),0\)/.exec(line);
      expect(timer, line).not.toBeNull();
      // The client's socket is the one whose peer is the server's port.
      return { client: new RegExp(`:${server.port}\\s+timer`).test(line), leftMs: ssTimerMs(timer![1]!) };
    });
    const clientTimer = timers.find((t) => t.client)!;
    const serverTimer = timers.find((t) => !t.client)!;
    expect(clientTimer.leftMs).toBeLessThanOrEqual(3000);
    expect(serverTimer.leftMs).toBeLessThanOrEqual(5000);
    expect(serverTimer.leftMs).toBeGreaterThan(clientTimer.leftMs);
    const done = await client.finished;
    expect(done.code).toBe(0);
    expect(done.stdout).toContain('[client] keepalive on: a probe after 3 s idle, then one every 1 s; 10 unanswered probes end the connection  (SO_KEEPALIVE, TCP_KEEPIDLE 3, TCP_KEEPINTVL 1, TCP_KEEPCNT 10)\n');
    // The note's connected line stays as it was, the keepalive line after it.
    expect(done.stdout).toMatch(/\[client\] connected\.  \(local 127\.0\.0\.1, \d+, [\d.]+ ms\)\n\[client\] keepalive on:/);
  }, 30_000);

  it('takes whole seconds only, as the kernel does: 1500ms and 0 are usage errors', async () => {
    for (const value of ['1500ms', '0', '40000s']) {
      const run = await runCli(['tcp-client', '127.0.0.1', '9', '--keepalive', value]);
      expect(run.code).toBe(2);
      expect(run.stderr).toBe(`netnote: invalid --keepalive '${value}': the kernel takes whole seconds from 1s to 32767s (TCP_KEEPIDLE)\nnetnote: hint: try 'netnote tcp-client --help'\n`);
    }
  });
});

interface Event {
  event: string;
  time: string;
  role: string;
  [field: string]: unknown;
}

function events(stdout: string): Event[] {
  return stdout.split('\n').filter(Boolean).map((line) => JSON.parse(line) as Event);
}

interface ExchangeSummary {
  sent: { messages: number; bytes: number };
  received: { messages: number; bytes: number };
  heartbeats?: { sent: number; answered: number; unanswered: number; bytesOut: number; bytesIn: number };
  reconnects?: {
    reconnects: number; attempts: number; longestDownMs: number; totalDownMs: number; lostMessages: number; tlsResumed: number;
    reconnectMs: { p50: number; max: number } | null;
    gaps: Array<{ atMs: number; cause: string; downMs: number; reconnectMs: number | null; attempts: number; lost: number }>;
  };
  ended: string;
}

interface ServerSummary {
  bytesIn: number;
  bytesOut: number;
  clients: { served: number };
  drops?: { mode: string; drops: number; perAddress: Array<{ address: string; drops: number; returned: number; backMs: { min: number; p50: number; max: number } | null }> };
}

const summaryOf = <S>(list: Event[]): S => (list.find((e) => e.event === 'summary') as unknown as { summary: S }).summary;

/** A netnote server in --json, on a free port (or `port`), its summary read at the end. */
async function jsonServer(extra: string[], port = 0) {
  const server = startCli(['--json', 'tcp-server', '127.0.0.1', String(port), ...extra], { timeoutMs: 60_000 });
  tracked.servers.add(server);
  const bound = Number((await server.waitFor(/"event":"bound".*?"port":(\d+)/))[1]);
  return Object.assign(server, { port: bound });
}

describe('--heartbeat', () => {
  it('goes only when nothing was sent for its interval, is echoed by the note\'s server, and is counted apart from the messages', async () => {
    const server = await jsonServer([]);
    const client = await runCli(['--json', 'tcp-client', '127.0.0.1', String(server.port), '-c', '2', '-i', '2500ms', '--heartbeat', '1s',
      '--heartbeat-data', 'PING {seq}', '--template', '--heartbeat-expect-hex', '50 4f 4e 47 20 31'], { timeoutMs: 20_000 });
    // The server echoes PING 1, not PONG 1: each answer is checked against --heartbeat-expect.
    expect(client.code).toBe(1);
    expect(events(client.stdout).find((e) => e.event === 'mismatch')).toMatchObject({ check: 'heartbeat-expect', seq: 1 });

    const run = await runCli(['--json', 'tcp-client', '127.0.0.1', String(server.port), '-c', '2', '-i', '2500ms', '--heartbeat', '1s',
      '--heartbeat-data', 'PING'], { timeoutMs: 20_000 });
    expect(run.code, run.stderr).toBe(0);
    const list = events(run.stdout);
    const summary = summaryOf<ExchangeSummary>(list);
    // Two messages 2.5 s apart: heartbeats at 1 s and 2 s after the first, each echoed.
    expect(summary.sent).toEqual({ messages: 2, bytes: 20 });
    expect(summary.received).toEqual({ messages: 2, bytes: 20 });
    expect(summary.heartbeats).toEqual({ sent: 2, answered: 2, unanswered: 0, bytesOut: 8, bytesIn: 8 });
    const sends = list.filter((e) => e.event === 'send');
    expect(sends.map((e) => [e.seq, e.heartbeat ?? false])).toEqual([[1, false], [1, true], [2, true], [2, false]]);
    // Each heartbeat left after a full interval of nothing sent.
    const at = sends.map((e) => Date.parse(e.time));
    expect(at[1]! - at[0]!).toBeGreaterThanOrEqual(990);
    expect(at[2]! - at[1]!).toBeGreaterThanOrEqual(990);
    expect(list.filter((e) => e.event === 'recv' && e.heartbeat !== undefined).map((e) => e.heartbeat)).toEqual([1, 2]);

    // Messages every 400 ms: the link is never quiet for 1 s, no heartbeat goes.
    const busy = await runCli(['--json', 'tcp-client', '127.0.0.1', String(server.port), '-c', '4', '-i', '400ms', '--heartbeat', '1s', '--heartbeat-hex', '00'], { timeoutMs: 20_000 });
    expect(summaryOf<ExchangeSummary>(events(busy.stdout)).heartbeats).toMatchObject({ sent: 0 });

    const stopped = await server.stop('SIGTERM');
    // The server saw every byte of both: 2 × 10 of data and 2 × 4 of heartbeats (and the first run's).
    expect(summaryOf<ServerSummary>(events(stopped.stdout)).bytesIn).toBe(10 + 6 + 20 + 8 + 40);
  }, 40_000);

  it('a heartbeat with no answer ends the connection (exit 5), blamed on the heartbeat; udp-client sends them too', async () => {
    // The server stops answering 1.5 s in (--drop-mode silence): the heartbeat at 2 s gets nothing back.
    const server = await startServer('tcp-server', ['--drop-after', '1500ms', '--drop-mode', 'silence']);
    tracked.servers.add(server);
    const run = await runCli(['tcp-client', '127.0.0.1', String(server.port), '-c', '2', '-i', '5s', '--heartbeat', '1s', '--heartbeat-data', 'PING',
      '--heartbeat-expect', 'PING', '-w', '800ms'], { timeoutMs: 20_000 });
    expect(run.code).toBe(5);
    expect(run.stdout).toMatch(/\[client\] recv data: b'PING'  \(heartbeat 1\)\n/);
    // Heartbeat 2 went after a second of quiet (heartbeat 1 was the last thing sent).
    expect(run.stdout).toMatch(/\[client\] connection lost after (0\.9\d|1\.\d\d) s idle: no answer to heartbeat 2 within 0\.80 s: the peer or the path is gone  \(connected 2\.\d\d s\)\n/);
    expect(run.stdout).toContain('[client] heartbeats: 2 sent (8 B), 1 answered (4 B), 0 unanswered\n');
    expect(run.stderr).toMatch(/^netnote: no answer to heartbeat 2 from 127\.0\.0\.1:\d+ within 800 ms\n/);

    const udp = startCli(['udp-server', '127.0.0.1', '0'], { timeoutMs: 20_000 });
    tracked.servers.add(udp);
    const udpPort = (await udp.waitFor(/bind address: 127\.0\.0\.1, (\d+)/))[1]!;
    const datagrams = await runCli(['--json', 'udp-client', '127.0.0.1', udpPort, '-c', '2', '-i', '1250ms', '--heartbeat', '500ms',
      '--heartbeat-data', 'HB', '--heartbeat-expect', 'HB'], { timeoutMs: 20_000 });
    expect(datagrams.code, datagrams.stderr).toBe(0);
    const summary = summaryOf<ExchangeSummary & { datagrams: { lost: number; foreign: number } }>(events(datagrams.stdout));
    expect(summary.heartbeats).toEqual({ sent: 2, answered: 2, unanswered: 0, bytesOut: 4, bytesIn: 4 });
    // The heartbeats' echoes are theirs: not replies, not foreign datagrams.
    expect(summary.received).toEqual({ messages: 2, bytes: 20 });
    expect(summary.datagrams).toMatchObject({ lost: 0, foreign: 0 });
  }, 40_000);
});

describe('what a lost connection is blamed on', () => {
  it('a reset, a FIN before --count, the server\'s own idle timeout, and a reply timeout after a quiet gap', async () => {
    const resetting = await startServer('tcp-server', ['--drop-after', '700ms', '--drop-mode', 'reset']);
    tracked.servers.add(resetting);
    const reset = await runCli(['tcp-client', '127.0.0.1', String(resetting.port), '-c', '5', '-i', '300ms'], { timeoutMs: 20_000 });
    expect(reset.code).toBe(6);
    expect(reset.stdout).toMatch(/\[client\] connection lost after 0\.\d\d s idle: reset by peer \(RST\): the peer reset it, or a NAT or firewall on the path no longer knew the connection  \(connected 0\.\d\d s\)\n\[client\] disconnected\.  \(reset by peer;/);
    expect(resetting.stdout()).toMatch(/\[server\] \[client addr: 127\.0\.0\.1, \d+\] dropping the client after 0\.\d\d s connected: resetting it \(RST\)\n/);

    const idle = await startServer('tcp-server', ['--idle-timeout', '1s']);
    tracked.servers.add(idle);
    const fin = await runCli(['tcp-client', '127.0.0.1', String(idle.port), '-c', '2', '-i', '3s'], { timeoutMs: 20_000 });
    expect(fin.code).toBe(6);
    expect(fin.stdout).toMatch(/\[client\] connection lost after 1\.\d\d s idle: closed by peer \(FIN\) after a quiet gap: most likely the server's idle timeout  \(connected 1\.\d\d s\)\n/);
    expect(fin.stderr).toMatch(/closed the connection after 1 of 2 replies\n/);
    await idle.waitFor(/disconnected/);
    expect(idle.stdout()).toMatch(/\[server\] \[client addr: 127\.0\.0\.1, \d+\] connection closed after 1\.\d\d s idle: idle timeout of this server \(--idle-timeout\)  \(connected 1\.\d\d s\)\n\[server\] \[client addr: 127\.0\.0\.1, \d+\] disconnected  \(idle timeout;/);

    // Answers until 1.5 s, then none (what a NAT that forgot the connection looks like to the application).
    const silent = await startServer('tcp-server', ['--drop-after', '1500ms', '--drop-mode', 'silence']);
    tracked.servers.add(silent);
    const quiet = await runCli(['tcp-client', '127.0.0.1', String(silent.port), '-c', '3', '-i', '1200ms', '-w', '500ms'], { timeoutMs: 20_000 });
    expect(quiet.code).toBe(5);
    expect(quiet.stderr).toMatch(/^netnote: no reply to message 3 from 127\.0\.0\.1:\d+ within 500 ms \(reply timeout\)\nnetnote: hint: the connection had been idle 1\.\d\d s before message 3, and earlier replies came: a NAT or firewall on the path may have forgotten it \(an idle timeout\); measure it with netnote idle-timeout 127\.0\.0\.1 \d+, keep the connection busy under it with --keepalive or --heartbeat, or --reconnect\n$/);
    // A peer that never answered: the old hint.
    const never = await runCli(['tcp-client', '127.0.0.1', String(silent.port), '-c', '1', '-w', '300ms', '--data', 'x', '--expect', 'OK'], { timeoutMs: 20_000 });
    expect(never.stderr).toContain('hint: ');
  }, 40_000);
});

/** The waits --backoff MIN,MAX allows before attempt k: doubling from MIN, up to a quarter more, never over MAX. */
function backoffBounds(minMs: number, maxMs: number, attempt: number): [number, number] {
  const base = Math.min(maxMs, minMs * 2 ** (attempt - 1));
  return [base, Math.min(maxMs, base * 1.25)];
}

describe('--reconnect', () => {
  it('a server stopped and started again: the client reconnects with back-off in bounds, carries on, and its counts add up with both servers\'', async () => {
    const first = await jsonServer([]);
    const { port } = first;
    const client = startCli(['--json', 'tcp-client', '127.0.0.1', String(port), '-c', '12', '-i', '250ms', '--reconnect', '--backoff', '200ms,800ms'], { timeoutMs: 40_000 });
    tracked.servers.add(client);
    await client.waitFor(/"event":"round","role":"client","seq":3\}/);
    const firstRun = await first.stop('SIGTERM');
    // Down long enough for a few attempts to be refused.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const second = await jsonServer([], port);
    const done = await client.finished;
    expect(done.code, done.stderr).toBe(0);
    const secondRun = await second.stop('SIGTERM');
    const list = events(done.stdout);
    const summary = summaryOf<ExchangeSummary>(list);
    expect(summary.sent.messages).toBe(12);
    const r = summary.reconnects!;
    expect(r.reconnects).toBe(1);
    expect(r.attempts).toBeGreaterThanOrEqual(3);
    expect(r.gaps).toHaveLength(1);
    expect(r.gaps[0]).toMatchObject({ cause: 'fin', attempts: r.attempts });
    expect(r.reconnectMs!.p50).toBe(r.gaps[0]!.reconnectMs);
    expect(r.totalDownMs).toBe(r.gaps[0]!.downMs);
    expect(r.gaps[0]!.downMs).toBeGreaterThanOrEqual(r.gaps[0]!.reconnectMs!);
    expect(list.filter((e) => e.event === 'lost')).toMatchObject([{ cause: 'fin' }]);
    // Each attempt waited as --backoff says, and no less than it said.
    const waits = list.filter((e) => e.event === 'reconnecting');
    expect(waits.map((e) => e.attempt)).toEqual(Array.from({ length: r.attempts }, (_, i) => i + 1));
    for (const wait of waits) {
      const [low, high] = backoffBounds(200, 800, wait.attempt as number);
      expect(wait.waitMs).toBeGreaterThanOrEqual(low);
      expect(wait.waitMs).toBeLessThanOrEqual(high);
      const next = list.slice(list.indexOf(wait)).find((e) => e.event === 'connecting')!;
      expect(Date.parse(next.time) - Date.parse(wait.time)).toBeGreaterThanOrEqual((wait.waitMs as number) - 2);
    }
    expect(waits.slice(1).every((e) => /nothing listening/.test(e.previous as string))).toBe(true);
    // The messages go on where they stopped: every seq once, in order.
    expect(list.filter((e) => e.event === 'send').map((e) => e.seq)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    // What the client received is what the two servers echoed; what it sent reached them, but the messages lost in the gap.
    const a = summaryOf<ServerSummary>(events(firstRun.stdout));
    const b = summaryOf<ServerSummary>(events(secondRun.stdout));
    expect(summary.received.bytes).toBe(a.bytesOut + b.bytesOut);
    expect(a.bytesIn + b.bytesIn).toBeLessThanOrEqual(summary.sent.bytes);
    expect(a.bytesIn + b.bytesIn).toBeGreaterThanOrEqual(summary.sent.bytes - 10 * r.lostMessages);
    expect(summary.received.messages + r.lostMessages).toBe(12);
  }, 60_000);

  for (const [mode, cause] of [['fin', 'fin'], ['reset', 'reset'], ['silence', 'reply-timeout']] as const) {
    it(`a server that drops its client (--drop-mode ${mode}): the client reconnects each time, the server counts when it came back`, async () => {
      const server = await jsonServer(['--drop-after', '900ms', '--drop-mode', mode]);
      const run = await runCli(['--json', 'tcp-client', '127.0.0.1', String(server.port), '-c', '10', '-i', '250ms', '-w', '600ms', '--reconnect', '--backoff', '150ms,1s'], { timeoutMs: 40_000 });
      expect(run.code, run.stderr).toBe(0);
      const stopped = await server.stop('SIGTERM');
      const list = events(run.stdout);
      const summary = summaryOf<ExchangeSummary>(list);
      const r = summary.reconnects!;
      expect(r.reconnects).toBeGreaterThanOrEqual(1);
      expect(new Set(list.filter((e) => e.event === 'lost').map((e) => e.cause))).toEqual(new Set([cause]));
      const drops = summaryOf<ServerSummary>(events(stopped.stdout)).drops!;
      expect(drops.mode).toBe(mode);
      const [address] = drops.perAddress;
      expect(address).toMatchObject({ address: '127.0.0.1', returned: r.reconnects });
      // The server's "came back after" is the client's time to reconnect, give or take the drop's own detection.
      const accepted = events(stopped.stdout).filter((e) => e.event === 'accepted' && e.backAfterMs !== undefined);
      expect(accepted).toHaveLength(r.reconnects);
      expect(summary.sent.messages).toBe(10);
      expect(summary.received.messages + r.lostMessages).toBe(10);
      if (mode === 'silence') {
        // Silence reads everything: the server got every byte sent.
        expect(summaryOf<ServerSummary>(events(stopped.stdout)).bytesIn).toBe(summary.sent.bytes);
      }
    }, 40_000);
  }
});

describe('--wait-for', () => {
  it('tries until the port answers (a server started late), or gives up with exit 5', async () => {
    const port = await freePort();
    const waiting = startCli(['tcp-client', '127.0.0.1', String(port), '-c', '1', '--wait-for', '10s'], { timeoutMs: 20_000 });
    tracked.servers.add(waiting);
    await waiting.waitFor(/waiting up to 10\.00 s/);
    await new Promise((resolve) => setTimeout(resolve, 700));
    const late = startCli(['tcp-server', '127.0.0.1', String(port)], { timeoutMs: 20_000 });
    tracked.servers.add(late);
    const done = await waiting.finished;
    expect(done.code, done.stderr).toBe(0);
    expect(done.stdout).toMatch(new RegExp(`^\\[client\\] waiting up to 10\\.00 s for 127\\.0\\.0\\.1:${port} to answer \\(nothing listening on 127\\.0\\.0\\.1:${port} \\(connection refused\\)\\)\\n\\[client\\] 127\\.0\\.0\\.1:${port} answered after \\d+\\.\\d\\d s \\(attempt \\d+\\)\\n\\[client\\] socket object created\\.\\n\\[client\\] connecting: 127\\.0\\.0\\.1, ${port}\\n\\[client\\] connected\\.`));
    // Only the attempt that connected shows the note's lines.
    expect(done.stdout.match(/socket object created/g)).toHaveLength(1);

    const gaveUp = await runCli(['tcp-client', '127.0.0.1', String(await freePort()), '-c', '1', '--wait-for', '600ms'], { timeoutMs: 10_000 });
    expect(gaveUp.code).toBe(5);
    expect(gaveUp.stderr).toMatch(/^netnote: 127\.0\.0\.1:\d+ did not answer within --wait-for 600 ms \(\d attempts; the last: nothing listening on 127\.0\.0\.1:\d+ \(connection refused\)\)\nnetnote: hint: start the server first, or wait longer\n$/);
    const http = await runCli(['http-get', '127.0.0.1', String(await freePort()), '--wait-for', '600ms'], { timeoutMs: 10_000 });
    expect(http.code).toBe(5);
  }, 40_000);
});

describe('--reconnect with --script', () => {
  it('carries the script on from the step the loss stopped: an expect goes back to its send; every pass runs once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'netnote-reconnect-'));
    tracked.cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const script = join(dir, 'login-poll.yaml');
    writeFileSync(script, [
      'frame: line',
      'timeout: 2s',
      'steps:',
      '  - send: "LOGIN 7\\n"',
      '  - expect: "LOGIN 7\\n"',
      '  - repeat: 6',
      '    steps:',
      '      - send: "POLL {seq}\\n"',
      '      - expect: { regex: "^POLL \\\\d+$" }',
      '      - sleep: 250ms',
      '',
    ].join('\n'));
    const server = await jsonServer(['--drop-after', '1s', '--drop-mode', 'reset']);
    const run = await runCli(['--json', 'tcp-client', '127.0.0.1', String(server.port), '--script', script, '--reconnect', '--backoff', '100ms,500ms'], { timeoutMs: 30_000 });
    expect(run.code, run.stderr).toBe(0);
    const list = events(run.stdout);
    const summary = summaryOf<ExchangeSummary & { script: { steps: number; failedStep: string | null } }>(list);
    const r = summary.reconnects!;
    expect(r.reconnects).toBeGreaterThanOrEqual(1);
    expect(list.filter((e) => e.event === 'lost').every((e) => e.cause === 'reset')).toBe(true);
    // Every pass's expect was met once, whatever connection it ran on: 1 login + 6 polls.
    expect(summary.received.messages).toBe(7);
    const passes = list.filter((e) => e.event === 'step' && e.name === 'expect' && !e.timedOut && e.step === '3.2').map((e) => e.pass);
    expect(passes).toEqual([1, 2, 3, 4, 5, 6]);
    // A poll whose answer was lost was sent again on the next connection: at most one send more per gap.
    const polls = list.filter((e) => e.event === 'send').length - 1;
    expect(polls).toBeGreaterThanOrEqual(6);
    expect(polls).toBeLessThanOrEqual(6 + r.reconnects);
    await server.stop('SIGTERM');
  }, 40_000);
});

describe('soak logs: --timestamps, --log, --report-every', () => {
  it('--timestamps puts the time before each line and leaves the note\'s line intact after it (iso, elapsed; stdout and stderr)', async () => {
    const plain = await runCli(['demo', '-c', '2', '-i', '0']);
    const iso = await runCli(['--timestamps', 'demo', '-c', '2', '-i', '0']);
    const elapsed = await runCli(['demo', '-c', '2', '-i', '0', '--timestamps', 'elapsed']);
    expect(iso.code).toBe(0);
    const strip = (text: string, stamp: RegExp) => text.split('\n').filter(Boolean).map((line) => {
      const match = stamp.exec(line);
      expect(match, line).not.toBeNull();
      return line.slice(match![0].length);
    });
    const isoStamp = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z /;
    const elapsedStamp = /^\+\d+\.\d{3}s /;
    // Ports, times and RTTs differ from run to run; the lines' words do not.
    const shape = (lines: string[]) => lines.map((line) => line.replace(/\d+(\.\d+)?/g, 'N'));
    expect(shape(strip(iso.stdout, isoStamp))).toEqual(shape(plain.stdout.split('\n').filter(Boolean)));
    expect(shape(strip(elapsed.stdout, elapsedStamp))).toEqual(shape(plain.stdout.split('\n').filter(Boolean)));
    expect(iso.stdout).toMatch(/^\d{4}-\S+Z \[server\] socket object created\.\n/);
    const stamps = iso.stdout.split('\n').filter(Boolean).map((line) => Date.parse(line.slice(0, 24)));
    expect([...stamps].sort((a, b) => a - b)).toEqual(stamps);
    expect(Math.abs(stamps[0]! - Date.now())).toBeLessThan(60_000);
    // The final error lines too.
    const refused = await runCli(['--timestamps', 'tcp-client', '127.0.0.1', String(await freePort()), '-c', '1']);
    expect(refused.stderr).toMatch(/^\d{4}-\S+Z netnote: nothing listening on 127\.0\.0\.1:\d+ \(connection refused\)\n\d{4}-\S+Z netnote: hint: /);
    // A word after the flag that is not a format is the command, not the flag's value.
    expect((await runCli(['--timestamps', 'resolve', 'localhost'])).stdout).toMatch(isoStamp);
  }, 30_000);

  it('--log keeps every human line, timestamped, whatever stdout shows (--json), and everything up to a SIGTERM', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'netnote-log-'));
    tracked.cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const log = join(dir, 'soak.log');
    writeFileSync(log, 'an earlier line\n');
    const server = await startServer('tcp-server', ['--quiet']);
    tracked.servers.add(server);
    const client = startCli(['--json', '--log', log, 'tcp-client', '127.0.0.1', String(server.port), '-i', '200ms', '--report-every', '500ms'], { timeoutMs: 20_000 });
    tracked.servers.add(client);
    await client.waitFor(/"event":"interim".*"event":"interim"/s);
    const done = await client.stop('SIGTERM');
    // SIGTERM on a client: the summary printed, exit 143; stdout stays NDJSON only.
    expect(done.code).toBe(143);
    expect(done.stdout.split('\n').filter(Boolean).every((line) => line.startsWith('{"v":1'))).toBe(true);
    const lines = readFileSync(log, 'utf8').split('\n').filter(Boolean);
    expect(lines[0]).toBe('an earlier line');
    const stamped = lines.slice(1);
    expect(stamped.every((line) => /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z (\[client\] |netnote: )/.test(line)), stamped.join('\n')).toBe(true);
    const text = stamped.map((line) => line.slice(25)).join('\n');
    expect(text).toMatch(/^\[client\] socket object created\.\n\[client\] connecting: 127\.0\.0\.1, \d+\n\[client\] connected\./);
    expect(text).toContain("[client] send data: b'1234567890'");
    expect(text).toMatch(/\[client\] so far \(0:00:00\): sent \d+ \(\d+ B\), received \d+ \(\d+ B\); rtt p50 [\d.]+ ms, p99 [\d.]+ ms\n/);
    expect(text).toMatch(/\[client\] ended: interrupted after \d+\.\d\d s\nnetnote: terminated \(SIGTERM\)$/);
    // The log has what the JSON has, message for message.
    const sent = events(done.stdout).filter((e) => e.event === 'send').length;
    expect(text.match(/send data/g)).toHaveLength(sent);

    const unwritable = await runCli(['--log', join(dir, 'no/such/dir.log'), 'demo', '-c', '1']);
    expect(unwritable.code).toBe(8);
    expect(unwritable.stderr).toBe(`netnote: cannot write --log ${join(dir, 'no/such/dir.log')}: no such directory (ENOENT)\n`);
    expect(unwritable.stdout).toBe('');
  }, 30_000);

  it('--report-every: an interim line and event on the client and the server, the figures so far', async () => {
    const server = await jsonServer(['--report-every', '400ms']);
    const run = await runCli(['--json', 'tcp-client', '127.0.0.1', String(server.port), '-c', '6', '-i', '250ms', '--report-every', '400ms',
      '--heartbeat', '100ms', '--heartbeat-data', 'h', '--reconnect'], { timeoutMs: 20_000 });
    expect(run.code).toBe(0);
    const interims = events(run.stdout).filter((e) => e.event === 'interim');
    expect(interims.length).toBeGreaterThanOrEqual(2);
    for (const e of interims) expect(Object.keys(e).sort()).toEqual(['elapsedMs', 'event', 'heartbeats', 'received', 'reconnects', 'role', 'rttMs', 'sent', 'time', 'v']);
    // So far means cumulative: the counts only grow, and the last is at most the summary's.
    const sent = interims.map((e) => (e.sent as { messages: number }).messages);
    expect([...sent].sort((a, b) => a - b)).toEqual(sent);
    expect(sent.at(-1)).toBeLessThanOrEqual(6);
    const stopped = await server.stop('SIGTERM');
    const serverInterims = events(stopped.stdout).filter((e) => e.event === 'interim');
    expect(serverInterims[0]).toMatchObject({ role: 'server', clients: { served: 1, active: 1 } });
  }, 30_000);
});

describe('http-get --reconnect', () => {
  it('a server that drops the first two connections before answering: the request goes again on a new connection; the body comes once', async () => {
    let connections = 0;
    const server = http.createServer((_req, res) => res.end('netnote\n'));
    server.on('connection', (socket) => {
      // The first two connections are closed as soon as they open: empty replies.
      if (++connections <= 2) socket.destroy();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    tracked.cleanups.push(() => server.close());
    const { port } = server.address() as AddressInfo;
    const run = await runCli(['--json', 'http-get', '127.0.0.1', String(port), '--reconnect', '5', '--backoff', '100ms'], { timeoutMs: 20_000 });
    expect(run.code, run.stderr).toBe(0);
    const list = events(run.stdout);
    expect(list.filter((e) => e.event === 'reconnecting').map((e) => e.attempt)).toEqual([1, 1]);
    expect(list.filter((e) => e.event === 'lost').map((e) => e.cause)).toEqual(['fin', 'fin']);
    const summary = summaryOf<{ status: { code: number }; bodyBytes: number; reconnects: { reconnects: number; attempts: number } }>(list);
    expect(summary.status.code).toBe(200);
    expect(summary.bodyBytes).toBe(8);
    expect(summary.reconnects).toMatchObject({ reconnects: 2, attempts: 2 });
    expect(connections).toBe(3);
    // Without --reconnect the first empty reply is the end: exit 6.
    connections = 0;
    const once = await runCli(['http-get', '127.0.0.1', String(port)], { timeoutMs: 20_000 });
    expect(once.code).toBe(6);
    expect(once.stderr).toMatch(/^netnote: empty reply from server/);
  }, 30_000);
});

describe('--reconnect over TLS', () => {
  it('offers the last session again on each new connection: the reconnections resume it (no full handshake)', async () => {
    const server = await startServer('tcp-server', ['--tls', '--self-signed', '--drop-after', '800ms', '--drop-mode', 'reset', '--quiet']);
    tracked.servers.add(server);
    const run = await runCli(['--json', 'tcp-client', '127.0.0.1', String(server.port), '--tls', '-k', '-c', '8', '-i', '250ms', '--reconnect', '--backoff', '100ms'], { timeoutMs: 30_000 });
    expect(run.code, run.stderr).toBe(0);
    const list = events(run.stdout);
    const reconnected = list.filter((e) => e.event === 'reconnected');
    expect(reconnected.length).toBeGreaterThanOrEqual(1);
    expect(reconnected.every((e) => e.resumed === true)).toBe(true);
    // The tls line of each new connection says so too.
    expect(list.filter((e) => e.event === 'tls').map((e) => e.resumed)).toEqual([false, ...reconnected.map(() => true)]);
    expect(summaryOf<ExchangeSummary>(list).reconnects!.tlsResumed).toBe(reconnected.length);
  }, 30_000);
});
