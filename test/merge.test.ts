// netnote merge: runs of one test made apart add up to what one run of all that traffic gives.
// The exactness is proven on the histograms themselves (fast-check: one sample set split into k
// parts); the end-to-end tests run real clients against one real netnote server and compare the
// merge with the server's own counts.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import * as hdr from 'hdr-histogram-js';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { RttRecorder, type RttSummary } from '../src/core/measure/rtt.js';
import { runCli, saveRun, startCli, startServer } from './support/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'netnote-merge-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const clean of cleanups.splice(0).reverse()) await clean();
});

type Json = Record<string, any>;
const lines = (stdout: string): Json[] => stdout.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Json);
const summaries = (stdout: string): Json[] => lines(stdout).filter((e) => e.event === 'summary');

async function record(samples: number[]): Promise<RttSummary | null> {
  const recorder = await RttRecorder.create();
  for (const ns of samples) recorder.record(ns);
  return recorder.summary();
}

/** Every percentile from 0 to 100 in steps of 0.5, read from a summary's own histogram. */
function percentiles(summary: RttSummary): number[] {
  const histogram = hdr.decodeFromCompressedBase64(summary.histogram);
  return Array.from({ length: 201 }, (_, i) => histogram.getValueAtPercentile(i / 2));
}

describe('merging round-trip histograms', () => {
  it('k parts of one sample set merge into exactly the one-histogram result (percentiles, count, min, max, mean, stddev, buckets)', async () => {
    const ns = fc.oneof(fc.integer({ min: 1, max: 2_000_000 }), fc.integer({ min: 1, max: 120e9 }));
    await fc.assert(fc.asyncProperty(fc.array(ns, { minLength: 1, maxLength: 2000 }), fc.integer({ min: 1, max: 12 }), fc.integer(), async (samples, k, seed) => {
      const parts: number[][] = Array.from({ length: k }, () => []);
      samples.forEach((value, i) => parts[Math.abs((i * 2654435761) ^ seed) % k]!.push(value));
      const single = (await record(samples))!;
      const recorded = (await Promise.all(parts.map(record))).filter((s): s is RttSummary => s !== null);
      const merged = (await RttRecorder.merge(recorded)).summary()!;
      expect(percentiles(merged)).toEqual(percentiles(single));
      const { histogram: _m, ...shownMerged } = merged;
      const { histogram: _s, ...shownSingle } = single;
      expect(shownMerged).toEqual(shownSingle);
    }), { numRuns: 60 });
  }, 60_000);
});

const runToFile = (name: string, args: string[]) => saveRun(join(dir, name), args);

describe('netnote merge', () => {
  it('runs with --reconnect and --heartbeat add up: every gap kept, times to reconnect over all of them; two servers\' drops per address', async () => {
    const [a, b] = await Promise.all([1, 2].map(() => startCli(['--json', 'tcp-server', '127.0.0.1', '0', '--drop-after', '500ms', '--drop-mode', 'fin'])));
    cleanups.push(() => a!.stop('SIGKILL'), () => b!.stop('SIGKILL'));
    const ports = await Promise.all([a!, b!].map(async (s) => (await s.waitFor(/"event":"bound".*?"port":(\d+)/))[1]!));
    const files = await Promise.all(ports.map((port, i) => runToFile(`reconnect-${i}.ndjson`, ['--quiet', 'tcp-client', '127.0.0.1', port, '-c', '6', '-i', '250ms',
      '--reconnect', '--backoff', '100ms', '--heartbeat', '150ms', '--heartbeat-data', 'h'])));
    const parts = files.map((file) => summaries(readFileSync(file, 'utf8'))[0]!.summary);
    const json = await runCli(['--json', 'merge', ...files]);
    expect(json.code, json.stderr).toBe(0);
    const merged = summaries(json.stdout)[0]!.summary;
    expect(merged.reconnects.reconnects).toBe(parts[0].reconnects.reconnects + parts[1].reconnects.reconnects);
    expect(merged.reconnects.gaps).toEqual([...parts[0].reconnects.gaps, ...parts[1].reconnects.gaps]);
    const times = merged.reconnects.gaps.map((g: Json) => g.reconnectMs).sort((x: number, y: number) => x - y);
    expect(merged.reconnects.reconnectMs).toEqual({ p50: times[Math.ceil(times.length / 2) - 1], max: times.at(-1) });
    expect(merged.heartbeats.sent).toBe(parts[0].heartbeats.sent + parts[1].heartbeats.sent);
    const servers = await Promise.all([a!, b!].map(async (s) => (await s.stop('SIGTERM')).stdout));
    const serverFiles = servers.map((out, i) => {
      const file = join(dir, `dropping-${i}.ndjson`);
      writeFileSync(file, out);
      return file;
    });
    const serverParts = serverFiles.map((file) => summaries(readFileSync(file, 'utf8'))[0]!.summary);
    const mergedServers = summaries((await runCli(['--json', 'merge', ...serverFiles])).stdout)[0]!.summary;
    expect(mergedServers.drops).toMatchObject({ mode: 'fin', drops: serverParts[0].drops.drops + serverParts[1].drops.drops });
    expect(mergedServers.drops.perAddress).toHaveLength(1);
    expect(mergedServers.drops.perAddress[0]).toMatchObject({
      address: '127.0.0.1', returned: serverParts[0].drops.perAddress[0].returned + serverParts[1].drops.perAddress[0].returned,
    });
    expect(mergedServers.drops.perAddress[0].backMs.max).toBe(Math.max(...serverParts.map((p) => p.drops.perAddress[0].backMs.max)));
  }, 30_000);

  it('three ping runs against one server add up to the server\'s own counts, and print one run\'s summary', async () => {
    const server = await startServer('tcp-server', ['--quiet']);
    cleanups.push(() => server.stop('SIGKILL'));
    const files = await Promise.all([1, 2, 3].map((i) => runToFile(`ping-${i}.ndjson`, ['--quiet', 'tcp-client', '127.0.0.1', String(server.port), '--ping', '-c', String(100 * i), '--size', '24'])));
    const { stdout: serverOut } = await server.stop('SIGTERM');
    const counted = /(\d+) clients served, 0 rejected, 0 still connected; in ([\d.]+ \w+), out ([\d.]+ \w+)/.exec(serverOut)!;
    expect(counted[1]).toBe('3');

    const json = await runCli(['--json', 'merge', ...files]);
    expect(json.code, json.stderr).toBe(0);
    const [merged] = summaries(json.stdout);
    const s = merged!.summary;
    expect(s.sent).toEqual({ messages: 600, bytes: 600 * 24 });
    expect(s.received).toEqual({ messages: 600, bytes: 600 * 24 });
    expect(s.rttMs.count).toBe(600);
    expect(s.rounds).toBe(600);
    expect(merged!.exitCode).toBe(0);

    const human = await runCli(['merge', ...files]);
    expect(human.code).toBe(0);
    expect(human.stderr).toBe('');
    // What the server received and sent is what the three clients sent and received together.
    expect(human.stdout).toContain(`sent 600 (${counted[2]}), received 600 (${counted[3]}), 0 without reply`);
    expect(human.stdout).toMatch(/^\[client\] rtt min\/p50\/p90\/p99\/max = [\d.]+\/[\d.]+\/[\d.]+\/[\d.]+\/[\d.]+ ms$/m);
    expect(human.stdout).toContain(`rtt p99.9 ${s.rttMs.p999.toFixed(3)} ms, mean ${s.rttMs.mean.toFixed(3)} ms, stddev ${s.rttMs.stddev.toFixed(3)} ms`);
  });

  it('two --stream runs at once merge on one clock: every connection, seconds aligned, bytes as the sink counted them', async () => {
    const sink = startCli(['--json', 'tcp-server', '127.0.0.1', '0', '--sink']);
    cleanups.push(() => sink.stop('SIGKILL'));
    const port = Number((await sink.waitFor(/"event":"listening".*?"port":(\d+)/))[1]);
    const files = await Promise.all(['a', 'b'].map((n) => runToFile(`stream-${n}.ndjson`, ['tcp-client', '127.0.0.1', String(port), '--stream', '--duration', '2s', '--parallel', '2', '--size', '16384'])));
    const { stdout: sinkOut } = await sink.stop('SIGTERM');
    const server = summaries(sinkOut)[0]!.summary;

    const { code, stdout, stderr } = await runCli(['--json', 'merge', ...files]);
    expect(code, stderr).toBe(0);
    const events = lines(stdout);
    const merged = events.at(-1)!.summary;
    expect(merged.connections).toHaveLength(4);
    expect(merged.bytes).toBe(server.bytesIn);
    const intervals = events.filter((e) => e.event === 'interval');
    const runIntervals = files.map((f) => lines(readFileSync(f, 'utf8')).filter((e) => e.event === 'interval'));
    // Every second of both runs lands in one merged second: nothing lost, nothing counted twice.
    const total = (list: Json[]) => list.reduce((t, i) => t + i.bytes, 0);
    expect(total(intervals)).toBe(total(runIntervals.flat()));
    expect(intervals.length).toBeLessThanOrEqual(runIntervals.flat().length);
    for (const i of intervals) {
      expect(i.perConnection).toHaveLength(4);
      expect(i.perConnection.reduce((a: number, b: number) => a + b, 0)).toBe(i.bytes);
    }
  });

  it('per-second series line up by wall clock: each run\'s second goes to the merged second holding its middle', async () => {
    // Three 2-connection streams of two seconds, started at 0, 0.3 s and 1.4 s (their interval
    // events are stamped at the end of each of their seconds, their summaries at their end).
    const t0 = Date.parse('2026-11-25T10:00:00.000Z');
    const at = (ms: number) => new Date(t0 + ms).toISOString();
    const stream = (name: string, startMs: number, perSecond: number[][]) => {
      const events = perSecond.map((perConnection, s) => ({ v: 1, time: at(startMs + (s + 1) * 1000), event: 'interval', role: 'client', fromS: s, toS: s + 1, bytes: perConnection[0]! + perConnection[1]!, perConnection }));
      const bytes = perSecond.flat().reduce((a, b) => a + b, 0);
      const summary = {
        proto: 'tcp-stream', target: '127.0.0.1:9', remote: null, direction: 'send', durationMs: perSecond.length * 1000, bytes, bitsPerSecond: 0,
        connections: [0, 1].map((k) => ({ bytes: perSecond.reduce((t, p) => t + p[k]!, 0), bitsPerSecond: 0 })), wire: null, ended: 'completed',
      };
      const path = join(dir, name);
      writeFileSync(path, [...events, { v: 1, time: at(startMs + perSecond.length * 1000), event: 'summary', role: 'client', summary, exitCode: 0, error: null }].map((e) => JSON.stringify(e)).join('\n') + '\n');
      return path;
    };
    const files = [
      stream('a.ndjson', 0, [[1, 2], [3, 4]]),
      stream('b.ndjson', 300, [[10, 20], [30, 40]]),
      stream('c.ndjson', 1400, [[100, 200], [300, 400]]),
    ];
    const { code, stdout } = await runCli(['--json', 'merge', ...files]);
    expect(code).toBe(0);
    const events = lines(stdout);
    expect(events.filter((e) => e.event === 'interval').map(({ fromS, toS, bytes, perConnection }) => ({ fromS, toS, bytes, perConnection }))).toEqual([
      { fromS: 0, toS: 1, bytes: 33, perConnection: [1, 2, 10, 20, 0, 0] },
      { fromS: 1, toS: 2, bytes: 377, perConnection: [3, 4, 30, 40, 100, 200] }, // c's first second, 1.4-2.4 s, is mostly in 1-2
      { fromS: 2, toS: 3, bytes: 700, perConnection: [0, 0, 0, 0, 300, 400] },
    ]);
    const merged = events.at(-1)!.summary;
    expect(merged.durationMs).toBe(3400); // from a's start to c's end
    expect(merged.bytes).toBe(1110);
    expect(merged.bitsPerSecond).toBe(Math.round((1110 * 8 * 1000) / 3400));
    expect(merged.connections.map((c: Json) => c.bytes)).toEqual([4, 6, 40, 60, 400, 600]);
  });

  it('udp-client --probe runs: loss summed and recomputed over every datagram, seconds added', async () => {
    const server = startCli(['udp-server', '127.0.0.1', '0', '--quiet']);
    cleanups.push(() => server.stop('SIGKILL'));
    const port = Number((await server.waitFor(/bind address: \S+, (\d+)\n/))[1]);
    const files = await Promise.all(['a', 'b'].map((n) => runToFile(`udp-${n}.ndjson`, ['--quiet', 'udp-client', '127.0.0.1', String(port), '--probe', '-c', '50', '-i', '0'])));
    const { code, stdout } = await runCli(['--json', 'merge', ...files]);
    expect(code).toBe(0);
    const merged = summaries(stdout)[0]!.summary;
    expect(merged.sent.messages).toBe(100);
    expect(merged.datagrams.lost + merged.received.messages - merged.datagrams.late).toBe(100);
    expect(merged.datagrams.perSecond.reduce((t: number, s: Json) => t + s.sent, 0)).toBe(100);
  });

  it('--one-way runs at once to one udp-server --sink: the receiver\'s counts summed, its seconds on one clock, as the server counted them', async () => {
    const sink = startCli(['--json', 'udp-server', '127.0.0.1', '0', '--sink']);
    cleanups.push(() => sink.stop('SIGKILL'));
    const port = Number((await sink.waitFor(/"event":"bound".*?"port":(\d+)/))[1]);
    const files = await Promise.all([300, 500].map((rate) => runToFile(`one-way-${rate}.ndjson`, ['--quiet', 'udp-client', '127.0.0.1', String(port), '--one-way', '--rate', String(rate), '--duration', '2s'])));
    const { code, stdout } = await runCli(['--json', 'merge', ...files]);
    expect(code).toBe(0);
    const merged = summaries(stdout)[0]!.summary;
    expect(merged.oneWay).toMatchObject({ direction: 'send', sent: 1600, duplicated: 0 });
    expect(merged.oneWay.received + merged.oneWay.lost).toBe(1600);
    expect(merged.oneWay.perSecond.reduce((t: number, n: number) => t + n, 0)).toBe(merged.oneWay.received);
    const server = summaries((await sink.stop('SIGTERM')).stdout)[0]!.summary;
    expect(merged.oneWay.received).toBe(server.perPeer.reduce((t: number, p: Json) => t + p.oneWay.received, 0));
  });

  it('two broadcasts answered by one device: the device listed once, with both runs\' replies', async () => {
    const wildcard = startCli(['udp-server', '0.0.0.0', '0', '--quiet']);
    cleanups.push(() => wildcard.stop('SIGKILL'));
    const port = (await wildcard.waitFor(/bind address: 0\.0\.0\.0, (\d+)\n/))[1]!;
    const files = await Promise.all(['a', 'b'].map((n) => runToFile(`broadcast-${n}.ndjson`, ['--quiet', 'udp-client', '127.255.255.255', port, '--broadcast', '-c', '2', '-i', '0', '-w', '300ms'])));
    const { code, stdout } = await runCli(['--json', 'merge', ...files]);
    expect(code).toBe(0);
    const merged = summaries(stdout)[0]!.summary;
    expect(merged.cast).toBe('broadcast');
    expect(merged.responders).toMatchObject([{ remote: { address: '127.0.0.1', port: Number(port) }, replies: 4, answered: 4 }]);
  });

  it('--stream --bidir runs: each way added up apart, its seconds apart', async () => {
    const echo = await startServer('tcp-server', ['--quiet']);
    cleanups.push(() => echo.stop('SIGKILL'));
    const files = await Promise.all(['a', 'b'].map((n) => runToFile(`bidir-${n}.ndjson`, ['tcp-client', '127.0.0.1', String(echo.port), '--stream', '--bidir', '--bitrate', '8M', '--duration', '1500ms'])));
    const runs = files.map((file) => summaries(readFileSync(file, 'utf8'))[0]!.summary);
    const { code, stdout } = await runCli(['--json', 'merge', ...files]);
    expect(code).toBe(0);
    const merged = summaries(stdout)[0]!.summary;
    expect(merged.direction).toBe('both');
    expect(merged.bytes).toBe(runs[0]!.bytes + runs[1]!.bytes);
    expect(merged.received.bytes).toBe(runs[0]!.received.bytes + runs[1]!.received.bytes);
    const intervals = lines(stdout).filter((e) => e.event === 'interval');
    expect(new Set(intervals.map((e) => e.direction))).toEqual(new Set(['send', 'receive']));
  });

  describe('bad input is a usage error (exit 2), never a crash', () => {
    const write = (name: string, text: string) => {
      const path = join(dir, name);
      writeFileSync(path, text);
      return path;
    };
    const summaryLine = (summary: Json, extra: Json = {}) => JSON.stringify({ v: 1, time: '2026-11-25T22:47:15.156Z', event: 'summary', role: 'client', summary, exitCode: 0, error: null, ...extra });

    it.each([
      ['a file that does not exist', () => [join(dir, 'missing.ndjson')], /cannot read .*missing\.ndjson: ENOENT/],
      ['a file that is not NDJSON', () => [write('text.ndjson', '[client] socket object created.\n')], /text\.ndjson line 1 is not JSON/],
      ['an empty file', () => [write('empty.ndjson', '')], /empty\.ndjson is empty/],
      ['JSON that is not a netnote event', () => [write('other.ndjson', '{"hello":"world"}\n')], /other\.ndjson line 1 is not a netnote event/],
      ['a run that never got to its summary', () => [write('killed.ndjson', '{"v":1,"time":"2026-11-25T22:47:15.143Z","event":"created","role":"client","proto":"tcp"}\n')], /killed\.ndjson has no summary: the run did not finish/],
      ['a run that ended with an error', () => [write('failed.ndjson', '{"v":1,"time":"2026-11-25T22:47:15.143Z","event":"error","role":"server","code":"bind","message":"127.0.0.1:80 is already in use","exitCode":7}\n')], /failed\.ndjson has no summary: the run ended with an error \(127\.0\.0\.1:80 is already in use\)/],
      ['a file cut short mid-line', () => [write('cut.ndjson', `${summaryLine({ proto: 'tcp' })}\n{"v":1,"time":"2026-11-25T22:47:15.156Z","event":"su`)], /cut\.ndjson is truncated: line 2 is cut off/],
      ['a summary of another schema version', () => [write('v9.ndjson', `${summaryLine({ proto: 'tcp' }, { v: 9 })}\n`)], /v9\.ndjson line 1 has event schema v9; this netnote reads v1/],
      ['an http-get run', () => [write('http.ndjson', `${summaryLine({ proto: 'http', url: 'http://127.0.0.1/' })}\n`)], /http\.ndjson holds a http client summary: merge adds up/],
      ['a summary without its histogram', () => [write('old.ndjson', `${summaryLine({ proto: 'tcp', sent: { messages: 1, bytes: 1 }, received: { messages: 1, bytes: 1 }, durationMs: 1, ended: 'completed', rounds: 1, rttMs: { count: 1, min: 1, max: 1 }, datagrams: null, wire: null })}\n`)], /old\.ndjson: its tcp-client summary lacks rttMs\.histogram/],
      ['a histogram that does not decode', () => [write('bad-hist.ndjson', `${summaryLine({ proto: 'tcp', sent: { messages: 1, bytes: 1 }, received: { messages: 1, bytes: 1 }, durationMs: 1, ended: 'completed', rounds: 1, rttMs: { count: 1, min: 1, max: 1, histogram: 'not base64!', sumNs: '1', sumSquaresNs: '1' }, datagrams: null, wire: null })}\n`)], /cannot merge these runs: an RTT histogram does not decode/],
      ['runs of different tests', () => {
        const stream = { proto: 'tcp-stream', target: '127.0.0.1:9', remote: null, direction: 'send', durationMs: 1, bytes: 1, bitsPerSecond: 8, connections: [], wire: null, ended: 'completed' };
        const capacity = { proto: 'tcp-capacity', target: '127.0.0.1:9', remote: null, attempted: 1, established: 1, refused: 0, reset: 0, timedOut: 0, otherErrors: {}, openMs: 1, holdMs: 1, closedDuringHold: 0, alive: 1, ended: 'completed', timeline: [] };
        return [write('stream.ndjson', `${summaryLine(stream)}\n`), write('capacity.ndjson', `${summaryLine(capacity)}\n`)];
      }, /stream\.ndjson holds a tcp-client --stream run, capacity\.ndjson a tcp-client --connections run: merge adds up runs of one test/],
    ])('%s', async (_name, files, message) => {
      const { code, stdout, stderr } = await runCli(['merge', ...files()]);
      expect(stderr).toMatch(message);
      expect(stderr).toMatch(/^netnote: [^\n]+\n(netnote: hint: [^\n]+\n)?$/);
      expect(code).toBe(2);
      expect(stdout).toBe('');
    });

    it('no file at all', async () => {
      const { code, stderr } = await runCli(['merge']);
      expect(stderr).toMatch(/missing required argument 'runs'/);
      expect(code).toBe(2);
    });
  });
});
