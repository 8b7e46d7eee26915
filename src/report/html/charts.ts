import type { Hdr } from '../../core/measure/rtt.js';
import type { JsHistogram } from 'hdr-histogram-js';
import type { RecordedSummary, RunRecord } from '../run/record.js';
import type { ChartSpec, SeriesSpec } from './spec.js';

// The charts a report shows, each only where some run has its data: round trips (distribution,
// percentiles, over time) for exchanges and --ping, throughput per second for --stream and a sink,
// loss and jitter per second for udp-client, connections over time for --connections, and the
// wire cost. Several runs are overlaid, one colour each.

/** One run as the charts draw it. */
export interface RunView {
  label: string;
  color: string;
  record: RunRecord;
}

/** Distinct on screen and on paper, for up to eight runs (then they repeat). */
export const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#17becf', '#8c564b', '#e377c2'];

/** More connections than this are drawn as their total only. */
const MAX_PARTS_DRAWN = 16;
const HISTOGRAM_BUCKETS = 40;

type Rtt = { count: number; min: number; max: number; histogram: string };

export function chartSpecs(runs: RunView[], hdr: Hdr): ChartSpec[] {
  const rtts = runs.flatMap((run) => clientSummaries(run).flatMap((s) => (isRtt(s.summary.rttMs) ? [{ run, rtt: s.summary.rttMs, histogram: hdr.decodeFromCompressedBase64(s.summary.rttMs.histogram) as JsHistogram }] : [])));
  return [
    rtts.length > 0 ? rttPercentiles(rtts) : null,
    rtts.length > 0 ? rttHistogram(rtts) : null,
    rttOverTime(runs),
    throughput(runs),
    ...udpSeconds(runs),
    oneWaySeconds(runs),
    connections(runs),
    ...reconnects(runs),
    idleTrials(runs),
    wireCost(runs),
  ].filter((chart): chart is ChartSpec => chart !== null && chart.series.length > 0);
}

const clientSummaries = (run: RunView): RecordedSummary[] => run.record.summaries.filter((s) => s.role === 'client');

function isRtt(value: unknown): value is Rtt {
  const r = value as Partial<Rtt> | null | undefined;
  return typeof r?.histogram === 'string' && typeof r.count === 'number' && typeof r.min === 'number' && typeof r.max === 'number';
}

const ms = (ns: number) => Math.round(ns / 1000) / 1000;
const nines = ['0%', '90%', '99%', '99.9%', '99.99%', '99.999%'];

/** HdrHistogram's own view: latency by percentile, the tail spread out (x = nines). */
function rttPercentiles(rtts: Array<{ run: RunView; rtt: Rtt; histogram: JsHistogram }>): ChartSpec {
  const spread = Math.max(...rtts.map((r) => r.rtt.max)) / Math.max(0.001, Math.min(...rtts.map((r) => r.rtt.min)));
  return {
    id: 'rtt-percentiles',
    title: 'Round-trip time by percentile',
    note: 'Each point: that share of round trips took at most this long (from the run\'s HDR histogram; the tail to the right).',
    x: { label: 'percentile', ticks: nines.map((label, i) => [i, label]) },
    y: { label: 'round-trip time (ms)', log: spread > 50 },
    series: rtts.map(({ run, rtt, histogram }) => {
      // Beyond 1 - 1/count every percentile is the maximum: stop one step after it.
      const last = Math.min(5, Math.log10(rtt.count) + 0.25);
      const xs: number[] = [];
      for (let x = 0; x <= last + 1e-9; x += 0.05) xs.push(Math.round(x * 100) / 100);
      const ys = xs.map((x) => Math.min(rtt.max, Math.max(rtt.min, ms(histogram.getValueAtPercentile((1 - 10 ** -x) * 100)))));
      return { label: run.label, color: run.color, style: 'line', xs, ys };
    }),
  };
}

/** How round trips were spread: the share in each of 40 log-spaced buckets common to every run. */
function rttHistogram(rtts: Array<{ run: RunView; rtt: Rtt; histogram: JsHistogram }>): ChartSpec {
  const lo = Math.max(0.001, Math.min(...rtts.map((r) => r.rtt.min)));
  const hi = Math.max(lo * 1.01, ...rtts.map((r) => r.rtt.max));
  const ratio = (hi / lo) ** (1 / HISTOGRAM_BUCKETS);
  const edges = Array.from({ length: HISTOGRAM_BUCKETS + 1 }, (_, i) => Math.round(lo * ratio ** i * 1e6) / 1e6);
  return {
    id: 'rtt-histogram',
    title: 'Round-trip time distribution',
    note: 'Share of the round trips in each band of times (log-spaced bands, the same for every run).',
    x: { label: 'round-trip time (ms)', log: true },
    y: { label: 'share of round trips (%)' },
    series: rtts.map(({ run, rtt, histogram }) => {
      const counts = new Array<number>(HISTOGRAM_BUCKETS).fill(0);
      const values = histogram.recordedValuesIterator;
      values.reset();
      while (values.hasNext()) {
        const v = values.next();
        const valueMs = Math.min(rtt.max, Math.max(rtt.min, ms(v.valueIteratedTo)));
        const bucket = Math.min(HISTOGRAM_BUCKETS - 1, Math.max(0, Math.floor(Math.log(valueMs / lo) / Math.log(ratio))));
        counts[bucket]! += v.countAtValueIteratedTo;
      }
      const total = counts.reduce((a, b) => a + b, 0) || 1;
      const ys = [...counts.map((c) => Math.round((c / total) * 1e5) / 1e3), 0];
      return { label: run.label, color: run.color, style: 'step', xs: edges, ys, fill: rtts.length === 1 };
    }),
  };
}

function rttOverTime(runs: RunView[]): ChartSpec | null {
  const timed = runs.filter((run) => run.record.rtt.ms.length > 0);
  if (timed.length === 0) return null;
  return {
    id: 'rtt-time',
    title: 'Round-trip time of each message',
    note: 'Every reply, at the time it arrived since the run\'s first event (the recv events\' rttMs).',
    x: { label: 'time since start (s)' },
    y: { label: 'round-trip time (ms)' },
    series: timed.map((run) => ({ label: run.label, color: run.color, style: 'line', xs: run.record.rtt.atS, ys: run.record.rtt.ms })),
  };
}

const mbits = (bytes: number, seconds: number) => Math.round((bytes * 8) / seconds / 1e3) / 1e3;

/** Throughput each second: each run's total, and each connection (stream) or client (sink) while there are few. */
function throughput(runs: RunView[]): ChartSpec | null {
  const series: SeriesSpec[] = [];
  for (const run of runs) {
    // --stream --bidir reports each way apart: a series each.
    const ways = [['client', undefined], ['client', 'send'], ['client', 'receive'], ['server', undefined]] as const;
    for (const [role, direction] of ways) {
      const intervals = run.record.intervals.filter((i) => i.role === role && i.direction === direction);
      if (intervals.length === 0) continue;
      const tag = `${runs.length > 1 ? `${run.label} ` : ''}${direction === 'send' ? 'sent, ' : direction === 'receive' ? 'received, ' : ''}`;
      const xs = intervals.map((i) => i.toS);
      const color = direction === 'receive' ? shade(run.color, 1, 2) : run.color;
      series.push({ label: `${tag}${role === 'server' ? 'received, total' : 'total'}`, color, style: 'line', xs, ys: intervals.map((i) => mbits(i.bytes, i.toS - i.fromS)) });
      const connections = Math.max(0, ...intervals.map((i) => i.perConnection?.length ?? 0));
      if (connections > 1 && connections <= MAX_PARTS_DRAWN) {
        for (let k = 0; k < connections; k++) {
          series.push({ label: `${tag}connection ${k + 1}`, color: shade(run.color, k, connections), style: 'line', dash: true, xs, ys: intervals.map((i) => mbits(i.perConnection?.[k] ?? 0, i.toS - i.fromS)) });
        }
      }
      const clients = [...new Set(intervals.flatMap((i) => (i.perClient ?? []).map((c) => c.client)))].sort((a, b) => a - b);
      if (clients.length > 1 && clients.length <= MAX_PARTS_DRAWN) {
        clients.forEach((client, k) => series.push({
          label: `${tag}client ${client}`, color: shade(run.color, k, clients.length), style: 'line', dash: true, xs,
          ys: intervals.map((i) => mbits(i.perClient?.find((c) => c.client === client)?.bytes ?? 0, i.toS - i.fromS)),
        }));
      }
    }
  }
  if (series.length === 0) return null;
  return {
    id: 'throughput',
    title: 'Throughput per second',
    note: `Each second's bytes as a bit rate (the interval events), at the end of the second; dashed: each connection or client (up to ${MAX_PARTS_DRAWN}).`,
    x: { label: 'time since start (s)' },
    y: { label: 'Mbit/s' },
    series,
  };
}

interface DatagramSecond { second: number; sent: number; lost: number; late: number; duplicated: number; reordered: number; jitterMs: number | null }

function perSecond(summary: RecordedSummary): DatagramSecond[] | null {
  const seconds = (summary.summary.datagrams as { perSecond?: unknown } | null | undefined)?.perSecond;
  return Array.isArray(seconds) && seconds.length > 0 ? seconds as DatagramSecond[] : null;
}

/** udp-client: what happened to the datagrams, second by second, and the jitter. */
function udpSeconds(runs: RunView[]): ChartSpec[] {
  const counted = runs.flatMap((run) => clientSummaries(run).flatMap((s) => {
    const seconds = perSecond(s);
    return seconds ? [{ run, seconds }] : [];
  }));
  if (counted.length === 0) return [];
  const kinds = [['lost', false], ['late', true], ['duplicated', true], ['reordered', true]] as const;
  const counts: SeriesSpec[] = counted.flatMap(({ run, seconds }) => kinds
    .filter(([kind, optional]) => !optional || seconds.some((s) => s[kind] > 0))
    .map(([kind], k) => ({
      label: `${counted.length > 1 ? `${run.label} ` : ''}${kind}`, color: shade(run.color, k, kinds.length), style: 'step' as const, dash: k > 0,
      xs: [...seconds.map((s) => s.second), seconds.length], ys: [...seconds.map((s) => s[kind]), null],
    })));
  const jitter: SeriesSpec[] = counted.filter(({ seconds }) => seconds.some((s) => s.jitterMs !== null)).map(({ run, seconds }) => ({
    label: run.label, color: run.color, style: 'line', xs: seconds.map((s) => s.second + 1), ys: seconds.map((s) => s.jitterMs),
  }));
  return [
    {
      id: 'udp-loss',
      title: 'Datagrams lost, late, duplicated and reordered per second',
      note: 'Lost and late count in the second the datagram was sent; duplicates and reordering in the second the reply arrived.',
      x: { label: 'time since start (s)' },
      y: { label: 'datagrams' },
      series: counts,
    },
    {
      id: 'udp-jitter',
      title: 'Jitter (RFC 3550, over round-trip times)',
      note: 'The running jitter at the end of each second (--probe).',
      x: { label: 'time since start (s)' },
      y: { label: 'jitter (ms)' },
      series: jitter,
    },
  ];
}

/** --one-way, --reverse: the receiver's count each second, the pace as it arrived. */
function oneWaySeconds(runs: RunView[]): ChartSpec | null {
  const counted = runs.flatMap((run) => clientSummaries(run).flatMap((s) => {
    const seconds = (s.summary.oneWay as { perSecond?: unknown } | null | undefined)?.perSecond;
    return Array.isArray(seconds) && seconds.length > 0 && seconds.every((n) => typeof n === 'number') ? [{ run, seconds: seconds as number[] }] : [];
  }));
  if (counted.length === 0) return null;
  return {
    id: 'one-way',
    title: 'Datagrams received per second, at the receiver (one-way)',
    note: 'The receiving end\'s count of distinct probes each second from its first arrival (udp-server\'s report for --one-way, the client for --reverse).',
    x: { label: 'time since the first arrival (s)' },
    y: { label: 'datagrams' },
    series: counted.map(({ run, seconds }) => ({
      label: run.label, color: run.color, style: 'step' as const, xs: [...seconds.map((_, i) => i), seconds.length], ys: [...seconds, null],
    })),
  };
}

interface CapacityPoint { ms: number; established: number; failed: number; open: number }

function connections(runs: RunView[]): ChartSpec | null {
  const timed = runs.flatMap((run) => clientSummaries(run).flatMap((s) => {
    const timeline = s.summary.timeline;
    return s.summary.proto === 'tcp-capacity' && Array.isArray(timeline) && timeline.length > 0 ? [{ run, timeline: timeline as CapacityPoint[] }] : [];
  }));
  if (timed.length === 0) return null;
  const kinds = ['open', 'established', 'failed'] as const;
  return {
    id: 'connections',
    title: 'Connections over time',
    note: 'Established so far, failed so far (refused, reset, timed out), and open now (established, not closed by the peer).',
    x: { label: 'time since the first attempt (ms)' },
    y: { label: 'connections' },
    series: timed.flatMap(({ run, timeline }) => kinds.map((kind, k) => ({
      label: `${timed.length > 1 ? `${run.label} ` : ''}${kind}`, color: shade(run.color, k, kinds.length), style: 'step' as const, dash: k > 0,
      xs: timeline.map((p) => p.ms), ys: timeline.map((p) => p[kind]),
    }))),
  };
}

interface Gap { atMs: number; downMs: number; reconnectMs: number | null; cause: string }

/** --reconnect: each run's connection up (1) or down (0) over time, and each gap's length. */
function reconnects(runs: RunView[]): ChartSpec[] {
  const timed = runs.flatMap((run) => clientSummaries(run).flatMap((s) => {
    const gaps = (s.summary.reconnects as { gaps?: Gap[] } | undefined)?.gaps;
    return Array.isArray(gaps) && gaps.length > 0 ? [{ run, gaps, durationMs: Number(s.summary.durationMs) || 0 }] : [];
  }));
  if (timed.length === 0) return [];
  const s3 = (ms: number) => Math.round(ms) / 1000;
  const timeline: SeriesSpec[] = timed.map(({ run, gaps, durationMs }) => {
    const xs = [0];
    const ys: number[] = [1];
    for (const gap of gaps) {
      // Down from when the lost connection last worked, up again at the next connection.
      xs.push(s3(gap.atMs - (gap.downMs - (gap.reconnectMs ?? 0))));
      ys.push(0);
      if (gap.reconnectMs !== null) {
        xs.push(s3(gap.atMs + gap.reconnectMs));
        ys.push(1);
      }
    }
    xs.push(Math.max(xs.at(-1)!, s3(durationMs)));
    ys.push(ys.at(-1)!);
    return { label: run.label, color: run.color, style: 'step', xs, ys, fill: timed.length === 1 };
  });
  const bars = timed.flatMap(({ run, gaps }) => gaps.map((gap, i) => ({ run, gap, label: `${timed.length > 1 ? `${run.label} ` : ''}#${i + 1} (${gap.cause})` })));
  const xs = bars.map((_, i) => i);
  return [
    {
      id: 'reconnects',
      title: 'Connection up and down (--reconnect)',
      note: 'Up (1) or down (0) since the run started: down from when the lost connection last worked (its reset or FIN, or for a silence its last byte received) to the next connection.',
      x: { label: 'time since start (s)' },
      y: { label: 'connected' },
      series: timeline,
    },
    {
      id: 'reconnect-gaps',
      title: 'Each time without a connection',
      note: 'Without a connection: from when the lost connection last worked to the next one; to reconnect: from the loss noticed (the back-off waits and the attempts).',
      x: { label: 'gap (cause)', ticks: bars.map((b, i) => [i, b.label]) },
      y: { label: 'seconds' },
      series: [
        { label: 'without a connection', color: '#d62728', style: 'bars-left', xs, ys: bars.map((b) => s3(b.gap.downMs)) },
        { label: 'to reconnect', color: '#1f77b4', style: 'bars-right', xs, ys: bars.map((b) => (b.gap.reconnectMs === null ? null : s3(b.gap.reconnectMs))) },
      ],
    },
  ];
}

interface IdleTrialView { direction: string; idleMs: number; survived: boolean; heartbeat?: number }

/** idle-timeout: each trial, survived (1) or not (0) by idle time: the cliff is the path's idle timeout. */
function idleTrials(runs: RunView[]): ChartSpec | null {
  const series: SeriesSpec[] = [];
  let spread = 1;
  for (const run of runs) {
    for (const s of clientSummaries(run)) {
      if (s.summary.proto !== 'idle-timeout' || !Array.isArray(s.summary.trials)) continue;
      const trials = s.summary.trials as IdleTrialView[];
      for (const [k, direction] of ['uplink', 'downlink'].entries()) {
        const mine = trials.filter((t) => t.direction === direction).sort((a, b) => a.idleMs - b.idleMs);
        if (mine.length === 0) continue;
        spread = Math.max(spread, mine.at(-1)!.idleMs / Math.max(1, mine[0]!.idleMs));
        series.push({
          label: `${runs.length > 1 ? `${run.label} ` : ''}${direction}`, color: shade(run.color, k, 2), style: 'line', dash: k > 0,
          xs: mine.map((t) => t.idleMs / 1000), ys: mine.map((t) => (t.survived ? 1 : 0)),
        });
      }
    }
  }
  if (series.length === 0) return null;
  return {
    id: 'idle-trials',
    title: 'Idle-timeout trials: survived (1) or not (0)',
    note: 'Each trial: a connection left idle that long, then tested (uplink: an echo; downlink: the server\'s answer). The step down is the path\'s idle timeout.',
    x: { label: 'idle time (s)', log: spread > 50 },
    y: { label: 'survived' },
    series,
  };
}

interface Wire { payloadBytes: number; wireBytes: number; packets: number }

/** The note's FAQ 7: payload next to what carrying it cost (headers, handshakes, ACKs), per run. */
function wireCost(runs: RunView[]): ChartSpec | null {
  const costed = runs.flatMap((run) => clientSummaries(run).flatMap((s) => {
    const wire = s.summary.wire as Wire | null | undefined;
    return wire && typeof wire.wireBytes === 'number' ? [{ run, wire }] : [];
  }));
  if (costed.length === 0) return null;
  const xs = costed.map((_, i) => i);
  const heights = costed.flatMap((c) => [c.wire.payloadBytes, c.wire.wireBytes - c.wire.payloadBytes]).filter((b) => b > 0);
  return {
    id: 'wire',
    title: 'Wire cost: payload and overhead',
    note: 'Estimated bytes on the link (docs/wire-cost.md): the payload, and the headers, handshake, ACKs and close that carried it.',
    x: { label: 'run', ticks: costed.map((c, i) => [i, c.run.label]) },
    // A stream's gigabytes next to a ping's kilobytes: a log scale keeps both readable.
    y: { label: 'bytes on the wire', log: heights.length > 0 && Math.max(...heights) / Math.min(...heights) > 100 },
    series: [
      { label: 'payload', color: '#2ca02c', style: 'bars-left', xs, ys: costed.map((c) => c.wire.payloadBytes) },
      { label: 'overhead', color: '#7f7f7f', style: 'bars-right', xs, ys: costed.map((c) => c.wire.wireBytes - c.wire.payloadBytes) },
    ],
  };
}

/** The k-th of n tones of a run's colour: darker to lighter, so parts stay with their run. */
function shade(color: string, k: number, n: number): string {
  if (n <= 1 || k === 0) return color;
  const mix = (k / n) * 0.6;
  const rgb = [1, 3, 5].map((i) => parseInt(color.slice(i, i + 2), 16));
  return `#${rgb.map((c) => Math.round(c + (255 - c) * mix).toString(16).padStart(2, '0')).join('')}`;
}
