// One-way UDP as iperf3 measures it, against a netnote udp-server: --one-way (the server counts
// the probes and reports), --reverse (the server sends, the client counts: the way down through
// a NAT). Loss is checked against nft's own counter of what it dropped, in namespaces.
import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startCli, startServer, type Finished } from './support/cli.js';
import { trackResources } from './support/cleanup.js';
import { createNamespace, createVethPair, nft, vethUnavailable, type Namespace } from './support/netns.js';
import { findPeers, freePort } from './support/peers.js';
import { ProbeReceiver } from '../src/core/measure/one-way.js';
import { needs } from './support/needs.js';

const tracked = trackResources();
const { SOCAT, missing } = findPeers();

function last(run: Finished): { event: string; summary: Record<string, any>; exitCode: number } {
  const event = JSON.parse(run.stdout.trim().split('\n').at(-1)!) as { event: string; summary: Record<string, any>; exitCode: number };
  expect(event.event, run.stdout + run.stderr).toBe('summary');
  return event;
}

describe('what a receiver makes of a probe stream (measure/one-way.ts)', () => {
  it('duplicates are told apart within 65 536 numbers of the highest, older ones count as reordered, and a jump reuses the same 8 KiB', () => {
    const receiver = new ProbeReceiver();
    const seen = (seq: number) => receiver.receive({ seq, sentAtMs: 0, payload: Buffer.alloc(0) }, 20, seq);
    expect([1, 2, 2, 4, 3, 3, 70_000, 4, 70_000 + 65_536, 70_000, 70_000 + 65_536].map(seen))
      .toEqual(['new', 'new', 'duplicate', 'new', 'reordered', 'duplicate', 'new', 'reordered', 'new', 'reordered', 'duplicate']);
    expect(receiver.counts()).toMatchObject({ received: 8, duplicated: 3, reordered: 3, highestSeq: 70_000 + 65_536, bytes: 160 });
  });
});

describe('--one-way and --reverse against udp-server on loopback', () => {
  it('--one-way -c 200 -i 0 against udp-server --sink: the client prints what the server received, the server logs its report and keeps it per peer', async () => {
    const sink = await startServer('udp-server', ['--sink']);
    tracked.servers.add(sink);
    const run = await runCli(['--quiet', 'udp-client', '127.0.0.1', String(sink.port), '--one-way', '-c', '200', '-i', '0'], { timeoutMs: 30_000 });
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toContain('[client] sent 200 (5.08 KiB) in ');
    expect(run.stdout).toMatch(/\[client\] one-way, as the server received it: received 200 of 200 \(0 lost, 0\.0%\), 0 duplicated, 0 reordered; jitter \d+\.\d{3} ms; [\d.]+ \S+ over \d+\.\d\d s\n/);
    await sink.waitFor(/\[server\] \[client addr: \('127\.0\.0\.1', \d+\)\] one-way report: received 200 of 200 \(0 lost, 0\.0%\)/);
    const stopped = await sink.stop('SIGTERM');
    expect(stopped.stdout).toMatch(/\[server\] \[client addr: \('127\.0\.0\.1', \d+\)\] probes received 200 of 200 \(0 lost, 0\.0%\)/);
  });

  it('--one-way against the echo udp-server: the report comes all the same; the echoes are counted, not measured', async () => {
    const echo = await startServer('udp-server', ['--quiet']);
    tracked.servers.add(echo);
    const run = await runCli(['--json', '--quiet', 'udp-client', '127.0.0.1', String(echo.port), '--one-way', '-c', '50', '-i', '1ms'], { timeoutMs: 30_000 });
    expect(run.code, run.stderr).toBe(0);
    const { summary } = last(run);
    expect(summary.oneWay).toMatchObject({ direction: 'send', sent: 50, received: 50, lost: 0, lossPercent: 0, duplicated: 0 });
    // 50 echoes and the report.
    expect(summary.received.messages).toBe(51);
  });

  it('--reverse --rate 1000 -c 500: the server streams to the client, which counts every probe; the server logs the start and the end', async () => {
    const server = await startServer('udp-server', ['--sink']);
    tracked.servers.add(server);
    const run = await runCli(['--json', '--quiet', 'udp-client', '127.0.0.1', String(server.port), '--reverse', '--rate', '1000', '-c', '500', '--size', '100'], { timeoutMs: 30_000 });
    expect(run.code, run.stderr).toBe(0);
    expect(last(run).summary.oneWay).toMatchObject({ direction: 'receive', sent: 500, received: 500, lost: 0, duplicated: 0, bytes: 500 * 116 });
    await server.waitFor(/\[server\] \[client addr: \('127\.0\.0\.1', \d+\)\] reverse stream: 500 datagrams of 116 B, 1000 a second\n/);
    await server.waitFor(/\[server\] \[client addr: \('127\.0\.0\.1', \d+\)\] reverse stream done: 500 datagrams sent in 0\.\d\d s\n/);
  });

  it('--one-way and --reverse against a peer that is not a netnote server (socat echo): exit 5, saying a netnote udp-server is needed', needs(missing.socat), async () => {
    const port = await freePort();
    const child: ChildProcess = spawn(SOCAT!, [`UDP4-RECVFROM:${port},bind=127.0.0.1,fork`, 'EXEC:cat'], { stdio: 'ignore', detached: true });
    tracked.peers.add(child);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const oneWay = await runCli(['udp-client', '127.0.0.1', String(port), '--one-way', '-c', '5', '-i', '10ms', '-w', '500ms', '--quiet'], { timeoutMs: 30_000 });
    expect(oneWay.code, oneWay.stderr).toBe(5);
    expect(oneWay.stdout).toContain('[client] one-way: no report from the server\n');
    expect(oneWay.stderr).toContain(`netnote: no one-way report from 127.0.0.1:${port} within 500 ms of the last probe\nnetnote: hint: the receiver must be a netnote udp-server`);
    const reverse = await runCli(['udp-client', '127.0.0.1', String(port), '--reverse', '-c', '5', '-w', '500ms', '--quiet'], { timeoutMs: 30_000 });
    expect(reverse.code, reverse.stderr).toBe(5);
    expect(reverse.stderr).toContain(`netnote: no reverse stream from 127.0.0.1:${port} within 500 ms`);
  }, 30_000);

  it('Ctrl-C during --one-way --duration 0 (until interrupted): the report is still asked for and printed; exit 130', async () => {
    const sink = await startServer('udp-server', ['--sink', '--quiet']);
    tracked.servers.add(sink);
    const client = startCli(['udp-client', '127.0.0.1', String(sink.port), '--one-way', '--rate', '100', '--duration', '0', '--quiet'], { timeoutMs: 30_000 });
    tracked.servers.add(client);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const done = await client.stop('SIGINT');
    expect(done.code, done.stderr).toBe(130);
    expect(done.stdout).toMatch(/\[client\] one-way, as the server received it: received (\d+) of \1 \(0 lost, 0\.0%\)/);
  }, 30_000);
});

// A device and a server joined by a veth pair; nft in the server's namespace drops about one
// probe in ten on the way in (--one-way), or, through a NAT router, on the way down (--reverse).
const unavailable = vethUnavailable();

/** The packets the one counter in `chain` of table inet netnote has seen. */
function counted(ns: Namespace, chain: string): number {
  const listing = JSON.parse(ns.run('nft', ['-j', 'list', 'chain', 'inet', 'netnote', chain])) as { nftables: Array<{ rule?: { expr: Array<{ counter?: { packets: number } }> } }> };
  const counters = listing.nftables.flatMap((item) => item.rule?.expr.flatMap((e) => (e.counter ? [e.counter.packets] : [])) ?? []);
  expect(counters).toHaveLength(1);
  return counters[0]!;
}

describe('one-way loss through nft numgen drops, and --reverse through a NAT (namespaces)', needs(unavailable), () => {
  const namespaces: Namespace[] = [];
  let device: Namespace;
  let server: Namespace;
  let router: Namespace;
  let natted: Namespace;

  beforeAll(() => {
    device = createNamespace();
    server = createNamespace();
    namespaces.push(device, server);
    createVethPair(device, server, '192.0.2.1/24', '192.0.2.2/24');
    // The NAT: a device at 192.0.2.10 behind a router that masquerades it as 198.51.100.1 towards
    // the server at 198.51.100.2, which has no route back to 192.0.2.0/24.
    router = createNamespace();
    natted = createNamespace();
    namespaces.push(router, natted);
    const inside = createVethPair(natted, router, '192.0.2.10/24', '192.0.2.254/24');
    createVethPair(router, server, '198.51.100.1/24', '198.51.100.2/24');
    natted.run('ip', ['route', 'add', 'default', 'via', '192.0.2.254']);
    // /proc/sys/net is the namespace's own (procps' sysctl is not on every CI image).
    router.run('sh', ['-c', 'echo 1 > /proc/sys/net/ipv4/ip_forward']);
    nft(router, [
      'table ip nat {',
      ' chain postrouting {',
      '  type nat hook postrouting priority srcnat; policy accept;',
      `  iifname "${inside.b}" masquerade`,
      ' }',
      '}', '',
    ].join('\n'));
  });

  afterAll(() => {
    for (const ns of namespaces.splice(0)) ns.remove();
  });

  it('--one-way --rate 1000 for 2 s: the loss the server reports is exactly what nft dropped on its way in', async () => {
    const sink = startCli(['udp-server', '192.0.2.2', '0', '--sink', '--quiet'], { prefix: server.prefix, timeoutMs: 30_000 });
    tracked.servers.add(sink);
    const port = Number((await sink.waitFor(/bind address: 192\.0\.2\.2, (\d+)\n/))[1]);
    // Only the probes (type "1" in byte 3 of the probe header, bits 88-95 after the UDP header):
    // the report request must get through, or the client could not learn the loss.
    nft(server, [
      'table inet netnote {',
      ' chain input {',
      '  type filter hook input priority 0; policy accept;',
      `  udp dport ${port} @th,88,8 0x31 numgen random mod 10 0 counter drop`,
      ' }',
      '}', '',
    ].join('\n'));
    try {
      const run = await runCli(['--json', '--quiet', 'udp-client', '192.0.2.2', String(port), '--one-way', '--rate', '1000', '--duration', '2s'], { prefix: device.prefix, timeoutMs: 30_000 });
      expect(run.code, run.stderr).toBe(0);
      const oneWay = last(run).summary.oneWay;
      const dropped = counted(server, 'input');
      const context = JSON.stringify({ oneWay, dropped });
      expect(oneWay.sent).toBe(2000);
      expect(dropped, context).toBeGreaterThan(100);
      expect(dropped, context).toBeLessThan(300);
      expect(oneWay.lost, context).toBe(dropped);
      expect(oneWay.received + oneWay.lost).toBe(2000);
      expect(oneWay.lossPercent).toBeCloseTo((dropped / 2000) * 100, 3);
    } finally {
      server.run('nft', ['delete', 'table', 'inet', 'netnote']);
    }
  }, 30_000);

  it('--reverse through a NAT: the server sees only the router\'s address, streams back through it, and the device counts the loss nft made on the way down', async () => {
    const stream = startCli(['udp-server', '0.0.0.0', '0', '--sink'], { prefix: server.prefix, timeoutMs: 30_000 });
    tracked.servers.add(stream);
    const port = Number((await stream.waitFor(/bind address: 0\.0\.0\.0, (\d+)\n/))[1]);
    nft(router, [
      'table inet netnote {',
      ' chain forward {',
      '  type filter hook forward priority 0; policy accept;',
      `  ip saddr 198.51.100.2 udp sport ${port} @th,88,8 0x31 numgen random mod 10 0 counter drop`,
      ' }',
      '}', '',
    ].join('\n'));
    try {
      const run = await runCli(['--json', '--quiet', 'udp-client', '198.51.100.2', String(port), '--reverse', '--rate', '1000', '--duration', '2s'], { prefix: natted.prefix, timeoutMs: 30_000 });
      expect(run.code, run.stderr).toBe(0);
      const oneWay = last(run).summary.oneWay;
      const dropped = counted(router, 'forward');
      const context = JSON.stringify({ oneWay, dropped });
      expect(oneWay).toMatchObject({ direction: 'receive', sent: 2000 });
      expect(dropped, context).toBeGreaterThan(100);
      expect(oneWay.lost, context).toBe(dropped);
      // The server never saw the device's own address: only the NAT's.
      await stream.waitFor(/\[server\] \[client addr: \('198\.51\.100\.1', \d+\)\] reverse stream: 2000 datagrams of 26 B, 1000 a second\n/);
      expect(stream.stdout()).not.toContain('192.0.2.10');
    } finally {
      router.run('nft', ['delete', 'table', 'inet', 'netnote']);
    }
  }, 30_000);
});
