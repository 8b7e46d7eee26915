// Paced traffic, measured where it arrives: udp-client --rate and --bitrate against the count and
// the arrival times of a udp-server --sink (its one-way report), tcp-client --stream --bitrate
// against tcp-server --sink's byte count, and --stream --bidir against an echo and against socat.
// Short runs (1.5 s) here; the 10-second accuracy figures are bench/sections/udp-pacing.mjs's.
import { spawn, type ChildProcess } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { runCli, startCli, startServer, type Finished } from './support/cli.js';
import { trackResources } from './support/cleanup.js';
import { findPeers, freePort, untilListening } from './support/peers.js';
import { needs } from './support/needs.js';

const tracked = trackResources();
const { SOCAT, missing } = findPeers();

interface OneWay {
  direction: string; sent: number | null; received: number; bytes: number; lost: number; duplicated: number; reordered: number;
  highestSeq: number; spanMs: number; perSecond: number[]; bitsPerSecond: number; jitterMs: number | null;
}

function summary(run: Finished): Record<string, any> {
  const last = JSON.parse(run.stdout.trim().split('\n').at(-1)!) as { event: string; summary: Record<string, any> };
  expect(last.event, run.stdout + run.stderr).toBe('summary');
  return last.summary;
}

const DURATION_S = 1.5;
/**
 * The receiver times its arrivals in its event loop, so a stall of the sink (a loaded 2-core
 * machine runs other builds beside it: tens of ms at a load of 7) at its first or last arrival
 * moves the span it measures: 10 % of 1.5 s is 150 ms, more than such a stall. The count itself is
 * exact (the pacer sends rate × duration datagrams), and the 2 % figure over 10 s is the bench's
 * (bench/sections/udp-pacing.mjs), where stalls weigh a seventh as much.
 */
const RATE_TOLERANCE = 0.1;

/** A one-way run's report, with the rate the receiver saw: datagrams between the first and the last arrival. */
async function oneWay(port: number, pace: string[], size: number): Promise<{ report: OneWay; sent: number; receiverRate: number }> {
  const run = await runCli(['--json', '--quiet', 'udp-client', '127.0.0.1', String(port), '--one-way', ...pace, '--duration', `${DURATION_S}s`, '--size', String(size)], { timeoutMs: 30_000 });
  expect(run.code, run.stdout + run.stderr).toBe(0);
  const s = summary(run);
  const report = s.oneWay as OneWay;
  return { report, sent: s.sent.messages, receiverRate: ((report.highestSeq - 1) * 1000) / report.spanMs };
}

describe('udp-client --rate / --bitrate: what udp-server --sink received, when', () => {
  for (const rate of [200, 2000, 20000]) {
    it(`--rate ${rate} for ${DURATION_S} s: ${rate * DURATION_S} datagrams sent, at ${rate}/s ±${RATE_TOLERANCE * 100} % by their arrival times, two thirds of them in the first second`, async () => {
      const sink = await startServer('udp-server', ['--sink', '--quiet']);
      tracked.servers.add(sink);
      const { report, sent, receiverRate } = await oneWay(sink.port, ['--rate', String(rate)], 48);
      const context = JSON.stringify(report);
      expect(sent).toBe(rate * DURATION_S);
      expect(report.sent).toBe(sent);
      expect(report.received + report.lost).toBe(sent);
      // Pacing, not the receiver's capacity, is what is measured: at 20 000/s a sink on a loaded
      // 2-core machine drops some (its socket overflows), which the highest sequence number and
      // the share per second see through.
      expect(report.lost, context).toBeLessThanOrEqual(sent * (rate > 2000 ? 0.3 : 0.01));
      expect(Math.abs(receiverRate - rate) / rate, context).toBeLessThanOrEqual(RATE_TOLERANCE);
      // Not sent ahead of time: the first of 1.5 seconds holds two thirds of what arrived.
      expect(Math.abs(report.perSecond[0]! / report.received - 1 / DURATION_S) * DURATION_S, context).toBeLessThanOrEqual(RATE_TOLERANCE);
    }, 30_000);
  }

  for (const [bitrate, perSecond] of [['400k', 50], ['4M', 500], ['40M', 5000]] as const) {
    it(`--bitrate ${bitrate} with 1000-byte datagrams is ${perSecond} of them a second at the receiver (±${RATE_TOLERANCE * 100} %)`, async () => {
      const sink = await startServer('udp-server', ['--sink', '--quiet']);
      tracked.servers.add(sink);
      // 984 bytes of payload and the 16-byte probe header: 1000 bytes, 8000 bits a datagram.
      const { report, sent, receiverRate } = await oneWay(sink.port, ['--bitrate', bitrate], 984);
      const context = JSON.stringify(report);
      expect(sent).toBe(perSecond * DURATION_S);
      expect(report.lost, context).toBeLessThanOrEqual(sent * 0.1);
      expect(Math.abs(receiverRate - perSecond) / perSecond, context).toBeLessThanOrEqual(RATE_TOLERANCE);
      // Each datagram 1000 bytes: the bit rate is the datagram rate times 8000.
      expect(report.bytes / report.received).toBe(1000);
    }, 30_000);
  }

  it('--burst 10 --rate 1000: the same count and rate, in bursts (the receiver sees them 10 at a time: gaps of 10 ms)', async () => {
    const sink = await startServer('udp-server', ['--sink', '--quiet']);
    tracked.servers.add(sink);
    const { report, sent, receiverRate } = await oneWay(sink.port, ['--rate', '1000', '--burst', '10'], 48);
    expect(sent).toBe(1500);
    expect(report.lost).toBeLessThanOrEqual(150);
    // A run of bursts spans one burst less than it holds: (1500 - 10) datagrams over the span.
    expect(Math.abs(((report.highestSeq - 10) * 1000) / report.spanMs - 1000) / 1000, JSON.stringify(report)).toBeLessThanOrEqual(RATE_TOLERANCE);
    expect(receiverRate).toBeGreaterThan(1000);
  }, 30_000);

  it('--rate with the note\'s echo loop: datagrams go on schedule without waiting, echoes are matched and timed', async () => {
    const echo = await startServer('udp-server', ['--quiet']);
    tracked.servers.add(echo);
    const run = await runCli(['--json', '--quiet', 'udp-client', '127.0.0.1', String(echo.port), '--probe', '--rate', '500', '--duration', '1s', '--max-loss', '1'], { timeoutMs: 30_000 });
    expect(run.code, run.stderr).toBe(0);
    const s = summary(run);
    expect(s.sent.messages).toBe(500);
    expect(s.received.messages).toBeGreaterThanOrEqual(495);
    expect(s.rttMs.count).toBe(s.received.messages);
    expect(s.durationMs).toBeLessThan(3000);
    const stopped = await echo.stop('SIGTERM');
    expect(stopped.stdout).toMatch(/\[server\] (\d+) datagrams in/);
  }, 30_000);

  it('bad pacing options are usage errors naming the option: --rate 0, --bitrate 10Q, --burst without a rate, --rate with -i', async () => {
    const cases: Array<[string[], string]> = [
      [['--rate', '0'], "netnote: invalid --rate '0': use datagrams per second above 0, e.g. 100 or 0.5"],
      [['--bitrate', '10Q'], "netnote: invalid --bitrate '10Q': use bits per second as iperf3 -b does: 512k, 10M, 1G"],
      [['--burst', '5'], 'netnote: --burst needs --rate or --bitrate: without it, --burst does nothing'],
      [['--rate', '10', '-i', '1s'], "netnote: option '--rate <per-second>' cannot be used with option '-i, --interval <duration>'"],
    ];
    for (const [args, line] of cases) {
      const run = await runCli(['udp-client', '127.0.0.1', '9', ...args]);
      expect(run.code, args.join(' ')).toBe(2);
      expect(run.stderr.split('\n')[0], args.join(' ')).toBe(line);
    }
  });
});

describe('tcp-client --stream --bitrate and --bidir', () => {
  it('--bitrate 8M for 1.5 s: tcp-server --sink received 1.5 MB ±1 %', async () => {
    const sink = startCli(['--json', 'tcp-server', '127.0.0.1', '0', '--sink'], { timeoutMs: 30_000 });
    tracked.servers.add(sink);
    const port = (await sink.waitFor(/"event":"listening".*?"port":(\d+)/))[1]!;
    const run = await runCli(['--json', '--quiet', 'tcp-client', '127.0.0.1', port, '--stream', '--bitrate', '8M', '--duration', `${DURATION_S}s`], { timeoutMs: 30_000 });
    expect(run.code, run.stderr).toBe(0);
    const stopped = await sink.stop('SIGTERM');
    const received = summary(stopped).bytesIn as number;
    expect(Math.abs(received - 1_500_000) / 1_500_000, stopped.stdout).toBeLessThanOrEqual(0.01);
    expect(received).toBe(summary(run).bytes);
  }, 30_000);

  it('--bidir against the echo server: both ways counted apart, each close to the other (the echo sends back what it gets)', async () => {
    const echo = await startServer('tcp-server', ['--quiet']);
    tracked.servers.add(echo);
    const run = await runCli(['--json', 'tcp-client', '127.0.0.1', String(echo.port), '--stream', '--bidir', '--duration', '1s', '--bitrate', '40M'], { timeoutMs: 30_000 });
    expect(run.code, run.stderr).toBe(0);
    const s = summary(run);
    expect(s.direction).toBe('both');
    expect(s.received.bytes).toBeGreaterThan(0);
    expect(Math.abs(s.received.bytes - s.bytes) / s.bytes).toBeLessThan(0.05);
    const intervals = run.stdout.split('\n').filter((l) => l.includes('"interval"')).map((l) => JSON.parse(l) as { direction: string });
    expect(intervals.map((i) => i.direction)).toEqual(['send', 'receive']);
  }, 30_000);

  it('--bidir against socat sending its own stream while it reads ours: the way back is socat\'s, not an echo', needs(missing.socat), async () => {
    const port = await freePort();
    // socat hands each connection to a shell that writes 20 MB of zeros and reads everything we send
    // (fork: the connection that checks it listens gets its own).
    const child: ChildProcess = spawn(SOCAT!, [`TCP-LISTEN:${port},bind=127.0.0.1,reuseaddr,fork`, 'SYSTEM:head -c 20000000 /dev/zero & cat > /dev/null; wait'], { stdio: 'ignore', detached: true });
    tracked.peers.add(child);
    await untilListening(port, 'socat');
    const run = await runCli(['--json', '--quiet', 'tcp-client', '127.0.0.1', String(port), '--stream', '--bidir', '--duration', '1s', '--bitrate', '16M'], { timeoutMs: 30_000 });
    expect(run.code, run.stderr).toBe(0);
    const s = summary(run);
    expect(s.received.bytes).toBe(20_000_000);
    expect(Math.abs(s.bytes - 2_000_000) / 2_000_000).toBeLessThan(0.05);
  }, 30_000);
});
