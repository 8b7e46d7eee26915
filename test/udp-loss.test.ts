// Loss measured for real: a "device" namespace and a "server" namespace joined by a veth pair, an
// nft rule in the server's namespace that drops about one request in ten, and netnote's udp-client
// counting what never came back — checked against the kernel's own count of what it dropped.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createNamespace, createVethPair, nft, vethUnavailable, type Namespace, type VethPair } from './support/netns.js';
import { runCli, startCli, type Finished, type Running } from './support/cli.js';
import { needs } from './support/needs.js';

// Documentation addresses only (RFC 5737 TEST-NET-1): nothing real can be reached or shadowed.
const DEVICE = '192.0.2.1';
const SERVER = '192.0.2.2';
const PROBES = 2000;
/**
 * 1 ms between probes: about 3 s of traffic. Back to back (-i 0 --no-wait) overruns the echo
 * server's receive buffer here (hundreds of UdpRcvbufErrors on top of the nft drops), which
 * would make the loss the test's own doing; the first test asserts that no buffer overflowed.
 */
const INTERVAL = '1ms';

/** Whether the kernel runs nft's `numgen` and `counter` (modules nft_numgen, nft_counter). */
function numgenUnavailable(): string | null {
  let ns: Namespace | undefined;
  try {
    ns = createNamespace();
    nft(ns, 'table inet probe {\n chain input {\n  type filter hook input priority 0; policy accept;\n  udp dport 9 numgen random mod 10 0 counter drop\n }\n}\n');
    return null;
  } catch (err) {
    return `nft numgen/counter rule refused: ${String((err as { stderr?: unknown }).stderr || (err as Error).message).trim()}`;
  } finally {
    ns?.remove();
  }
}

const unavailable = vethUnavailable() ?? numgenUnavailable();

interface Summary {
  sent: { messages: number; bytes: number };
  received: { messages: number; bytes: number };
  ended: string;
  datagrams: { lost: number; late: number; duplicated: number; reordered: number; foreign: number; lossPercent: number; jitterMs: number | null };
}

interface Event {
  event: string;
  seq?: number;
  summary?: Summary;
  exitCode?: number;
  error?: { code: string; message: string } | null;
}

function events(stdout: string): Event[] {
  return stdout.split('\n').filter((line) => line !== '').map((line) => JSON.parse(line) as Event);
}

/** The kernel's UDP counters (/proc/net/snmp) as the namespace sees them. */
function udpCounters(ns: Namespace): Record<string, number> {
  const lines = ns.run('cat', ['/proc/net/snmp']).split('\n').filter((line) => line.startsWith('Udp: '));
  const names = lines[0]!.split(/\s+/).slice(1);
  const values = lines[1]!.split(/\s+/).slice(1).map(Number);
  return Object.fromEntries(names.map((name, i) => [name, values[i]!]));
}

function delta(before: Record<string, number>, after: Record<string, number>, ...names: string[]): Record<string, number> {
  return Object.fromEntries(names.map((name) => [name, after[name]! - before[name]!]));
}

// Where a --probe datagram's fields sit, as nft's raw offsets in bits from the start of the UDP
// header (8 bytes), then the probe header (see src/core/measure/probe.ts): magic, sequence number, time.
const SEQ_FIELD = '@th,96,32';
const FIRST_PAYLOAD_BYTE = '@th,192,8';

describe('udp-client loss through a veth pair with nft dropping ~10 % of requests (namespaces)', needs(unavailable), () => {
  let device: Namespace;
  let server: Namespace;
  let veth: VethPair;
  const namespaces: Namespace[] = [];
  const servers: Running[] = [];

  beforeAll(() => {
    device = createNamespace();
    namespaces.push(device);
    server = createNamespace();
    namespaces.push(server);
    veth = createVethPair(device, server, `${DEVICE}/24`, `${SERVER}/24`);
  });

  afterEach(async () => {
    for (const running of servers.splice(0)) await running.stop('SIGKILL');
  });

  afterAll(() => {
    // Deleting a namespace deletes its end of the veth pair, and the pair with it.
    for (const ns of namespaces.splice(0)) ns.remove();
  });

  /**
   * An echo server in the server namespace, and the nft rule that drops ~10 % of what it is sent.
   * With `corrupt`, one more rule changes the first payload byte of the echo of that probe (and
   * the drop rule spares its request, so the corruption always happens).
   */
  async function lossyServer(corrupt?: number): Promise<{ echo: Running; port: number; dropped: () => number }> {
    const echo = startCli(['udp-server', SERVER, '0', '--quiet'], { prefix: server.prefix, timeoutMs: 50_000 });
    servers.push(echo);
    const port = Number((await echo.waitFor(/\[server\] bind address: 192\.0\.2\.2, (\d+)\n/))[1]);
    // Only requests: they come in on the veth, to the server's address and port, through the input
    // hook. The echoes leave through output (and their destination port is the client's), so
    // nothing the server sends can match; the device namespace has no rules at all.
    const request = [`iifname "${veth.b}" ip daddr ${SERVER} udp dport ${port}`, ...(corrupt === undefined ? [] : [`${SEQ_FIELD} != ${corrupt}`])].join(' ');
    nft(server, [
      'flush ruleset',
      'table inet netnote {',
      ' chain input {',
      '  type filter hook input priority 0; policy accept;',
      `  ${request} numgen random mod 10 0 counter drop`,
      ' }',
      ...(corrupt === undefined ? [] : [
        ' chain output {',
        '  type filter hook output priority 0; policy accept;',
        `  oifname "${veth.b}" ip saddr ${SERVER} udp sport ${port} ${SEQ_FIELD} ${corrupt} ${FIRST_PAYLOAD_BYTE} set 0x58`,
        ' }',
      ]),
      '}',
      '',
    ].join('\n'));
    const dropped = () => {
      const listing = JSON.parse(server.run('nft', ['-j', 'list', 'ruleset'])) as { nftables: Array<{ rule?: { chain: string; expr: Array<{ counter?: { packets: number } }> } }> };
      const counters = listing.nftables.filter((item) => item.rule?.chain === 'input')
        .flatMap((item) => item.rule!.expr).flatMap((expr) => (expr.counter ? [expr.counter.packets] : []));
      expect(counters).toHaveLength(1);
      return counters[0]!;
    };
    expect(dropped()).toBe(0);
    return { echo, port, dropped };
  }

  function probe(port: number, maxLoss: string): Promise<Finished> {
    return runCli(
      // Not --quiet: the per-datagram no-reply events are part of what is checked.
      // -w 1s: an answer a loaded machine is slow to deliver still comes in time, and is not taken for a loss.
      ['--json', 'udp-client', SERVER, String(port), '--probe', '--verify-echo', '-c', String(PROBES), '-i', INTERVAL, '-w', '1s', '--no-wait', '--max-loss', maxLoss],
      { prefix: device.prefix, timeoutMs: 40_000 },
    );
  }

  it(`${PROBES} probes at ${INTERVAL}: loss between 5 % and 15 %, exactly the datagrams nft dropped, every answer intact`, async () => {
    const { echo, port, dropped } = await lossyServer();
    const deviceBefore = udpCounters(device);
    const serverBefore = udpCounters(server);

    const run = await probe(port, '50');
    const all = events(run.stdout);
    const last = all.at(-1)!;
    expect(last.event, run.stdout + run.stderr).toBe('summary');
    const summary = last.summary!;
    const kernelDropped = dropped();
    const buffers = { device: delta(deviceBefore, udpCounters(device), 'RcvbufErrors', 'SndbufErrors', 'InErrors', 'InCsumErrors'), server: delta(serverBefore, udpCounters(server), 'RcvbufErrors', 'SndbufErrors', 'InErrors', 'InCsumErrors') };
    const context = JSON.stringify({ summary, kernelDropped, buffers, stderr: run.stderr });

    expect(run.stderr, context).toBe('');
    expect(run.code, context).toBe(0);
    expect(last.exitCode).toBe(0);
    expect(last.error).toBeNull();
    expect(summary.ended).toBe('completed');
    expect(summary.sent.messages).toBe(PROBES);
    expect(summary.datagrams.lossPercent, context).toBeGreaterThanOrEqual(5);
    expect(summary.datagrams.lossPercent, context).toBeLessThanOrEqual(15);
    expect(summary.datagrams.lossPercent).toBeCloseTo((summary.datagrams.lost / PROBES) * 100, 3);
    // Late answers count as received, so every probe is either answered or lost.
    expect(summary.received.messages + summary.datagrams.lost).toBe(PROBES);
    expect(summary.datagrams.duplicated).toBe(0);
    expect(summary.datagrams.foreign).toBe(0);
    // --verify-echo with --probe compares each answer's payload byte for byte; one bad byte would
    // have ended the run with exit 1 and a mismatch event.
    expect(all.filter((e) => e.event === 'mismatch')).toEqual([]);
    // One no-reply event per datagram that timed out, each a different one.
    const noReply = all.filter((e) => e.event === 'no-reply').map((e) => e.seq);
    expect(new Set(noReply).size).toBe(noReply.length);
    expect(noReply.length).toBe(summary.datagrams.lost + summary.datagrams.late);

    // Nothing overflowed on either side: the only loss is the one nft made...
    expect(buffers, context).toEqual({
      device: { RcvbufErrors: 0, SndbufErrors: 0, InErrors: 0, InCsumErrors: 0 },
      server: { RcvbufErrors: 0, SndbufErrors: 0, InErrors: 0, InCsumErrors: 0 },
    });
    // ...and the client's count of it is the kernel's, to the datagram.
    expect(summary.datagrams.lost, context).toBe(kernelDropped);

    // The echo server saw exactly the rest, and answered every one.
    const stopped = await echo.stop('SIGTERM');
    expect(stopped.code, stopped.stdout + stopped.stderr).toBe(143);
    const tally = stopped.stdout.match(/\[server\] (\d+) datagrams in \([^)]*\), (\d+) out \([^)]*\), largest \d+ B, (\d+) truncated, (\d+) send errors/);
    expect(tally, stopped.stdout).not.toBeNull();
    expect(tally!.slice(1).map(Number)).toEqual([PROBES - kernelDropped, PROBES - kernelDropped, 0, 0]);
  }, 60_000);

  it('the same run with --max-loss 1 exits 1: loss …% is over --max-loss 1%', async () => {
    const { port, dropped } = await lossyServer();
    const run = await probe(port, '1');
    const last = events(run.stdout).at(-1)!;
    expect(last.event, run.stdout + run.stderr).toBe('summary');
    const summary = last.summary!;
    const context = JSON.stringify({ summary, stderr: run.stderr });

    expect(run.code, context).toBe(1);
    const said = run.stderr.match(/loss (\d+\.\d)% is over --max-loss 1%/);
    expect(said, context).not.toBeNull();
    expect(said![1]).toBe(((summary.datagrams.lost / PROBES) * 100).toFixed(1));
    expect(summary.datagrams.lossPercent, context).toBeGreaterThanOrEqual(5);
    expect(summary.datagrams.lossPercent, context).toBeLessThanOrEqual(15);
    expect(summary.datagrams.lost).toBe(dropped());
    expect(summary.sent.messages).toBe(PROBES);
    expect(summary.received.messages + summary.datagrams.lost).toBe(PROBES);
    expect(summary.ended).toBe('mismatch');
    expect(last.exitCode).toBe(1);
    expect(last.error).toMatchObject({ code: 'assertion', message: `loss ${said![1]}% is over --max-loss 1%` });
  }, 60_000);

  it('a reply changed on the way back (one byte of datagram 1000\'s echo, by nft) ends the run: exit 1, mismatch', async () => {
    const { port } = await lossyServer(1000);
    const run = await probe(port, '50');
    const all = events(run.stdout);
    const last = all.at(-1)!;
    expect(last.event, run.stdout + run.stderr).toBe('summary');
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr).toContain('reply to datagram 1000 is not the echo of what was sent');
    expect(all.filter((e) => e.event === 'mismatch')).toMatchObject([
      { seq: 1000, check: 'echo', expected: { text: "b'1234567890'" }, got: { text: "b'X234567890'" } },
    ]);
    expect(last.summary!.ended).toBe('mismatch');
    expect(last.summary!.sent.messages).toBeLessThan(PROBES);
    expect(last.error).toMatchObject({ code: 'assertion' });
  }, 60_000);
});
