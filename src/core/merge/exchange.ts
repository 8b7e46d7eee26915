import type { DatagramSecond } from '../measure/datagram-seconds.js';
import { RttRecorder } from '../measure/rtt.js';
import { sumWire, type WireEstimate, type WireProjection } from '../measure/wire.js';
import type { HeartbeatStats } from '../message/heartbeat.js';
import { reconnectSummary, type ReconnectSummary } from '../run/reconnect.js';
import { lossPercent, type ClientSummary, type Counter, type DatagramStats } from '../message/exchange.js';
import { mergedOutcome, mergedSecond, sameEndpoint, sameTls, sum, wallSpan, type RunPart } from './parts.js';
import { mergeOneWay, mergeResponders } from './udp.js';

/**
 * Exchanges (tcp-client, udp-client, --ping) added up: counters summed, round-trip times from the
 * runs' histograms together (exact percentiles, not an average of them), the wall-clock span.
 */
export async function mergeExchanges(parts: Array<RunPart<ClientSummary>>): Promise<ClientSummary> {
  const summaries = parts.map((p) => p.summary);
  const span = wallSpan(parts, (s) => s.durationMs);
  const rtts = summaries.flatMap((s) => (s.rttMs ? [s.rttMs] : []));
  const wires = summaries.flatMap((s) => (s.wire ? [s.wire] : []));
  const sent = addCounters(summaries.map((s) => s.sent));
  return {
    proto: summaries[0]!.proto,
    remote: sameEndpoint(summaries.map((s) => s.remote)),
    local: sameEndpoint(summaries.map((s) => s.local)),
    connected: summaries.some((s) => s.connected),
    rounds: summaries.every((s) => s.rounds !== null) ? sum(summaries.map((s) => s.rounds!)) : null,
    sent,
    received: addCounters(summaries.map((s) => s.received)),
    rttMs: rtts.length > 0 ? (await RttRecorder.merge(rtts)).summary() : null,
    durationMs: span.durationMs,
    ended: mergedOutcome(parts).ended,
    datagrams: summaries.some((s) => s.datagrams) ? mergeDatagrams(parts, span.start, sent.messages) : null,
    wire: wires.length > 0 ? withFleetProjection(sumWire(...wires), wires) : null,
    tls: sameTls(summaries.map((s) => s.tls)),
    ...(summaries.some((s) => s.cast) ? { cast: summaries[0]!.cast, responders: mergeResponders(parts) } : {}),
    ...(summaries.some((s) => s.oneWay !== undefined) ? { oneWay: mergeOneWay(parts, span.start, span.durationMs) } : {}),
    ...mergeLinks(summaries),
  };
}

/**
 * Each run's pattern kept up for a day, added: what the fleet of devices the runs stand for costs
 * a day (only when every run had one).
 */
function withFleetProjection(wire: WireEstimate, parts: WireEstimate[]): WireEstimate {
  const projections = parts.flatMap((w) => (w.projection ? [w.projection] : []));
  if (projections.length === 0 || projections.length !== parts.length) return wire;
  const add = (pick: (p: WireProjection) => { bytes: number; packets: number }) => ({
    bytes: sum(projections.map((p) => pick(p).bytes)), packets: sum(projections.map((p) => pick(p).packets)),
  });
  return { ...wire, projection: { cycleMs: round3(sum(projections.map((p) => p.cycleMs)) / projections.length), day: add((p) => p.day), days30: add((p) => p.days30) } };
}

/**
 * The long-lived link's counts: heartbeats summed, every run's gaps without a connection together
 * (so that times to reconnect are the median and longest of all of them), keepalive probes
 * summed when the runs asked for the same keepalive.
 */
function mergeLinks(summaries: ClientSummary[]): Pick<ClientSummary, 'heartbeats' | 'reconnects' | 'keepalive'> {
  const merged: Pick<ClientSummary, 'heartbeats' | 'reconnects' | 'keepalive'> = {};
  const beats = summaries.flatMap((s) => (s.heartbeats ? [s.heartbeats] : []));
  if (beats.length > 0) {
    const add = (key: keyof HeartbeatStats) => sum(beats.map((b) => b[key]));
    merged.heartbeats = { sent: add('sent'), answered: add('answered'), unanswered: add('unanswered'), bytesOut: add('bytesOut'), bytesIn: add('bytesIn') };
  }
  const reconnects = summaries.flatMap((s) => (s.reconnects ? [s.reconnects] : []));
  if (reconnects.length > 0) {
    merged.reconnects = reconnectSummary(reconnects.flatMap((r: ReconnectSummary) => r.gaps), sum(reconnects.map((r) => r.attempts)), sum(reconnects.map((r) => r.olderGaps)));
  }
  const keepalives = summaries.flatMap((s) => (s.keepalive ? [s.keepalive] : []));
  const [first] = keepalives;
  if (first && keepalives.length === summaries.length && keepalives.every((k) => k.idleMs === first.idleMs)) {
    merged.keepalive = { ...first, probesSent: sum(keepalives.map((k) => k.probesSent)) };
  }
  return merged;
}

function addCounters(counters: Counter[]): Counter {
  return { messages: sum(counters.map((c) => c.messages)), bytes: sum(counters.map((c) => c.bytes)) };
}

/**
 * Datagram counts summed and loss recomputed over all datagrams sent. Jitter is the one figure
 * that cannot add up (RFC 3550's is a running estimate over one sequence of replies): the merge
 * shows the runs' jitters averaged, weighted by the replies each received.
 */
function mergeDatagrams(parts: Array<RunPart<ClientSummary>>, start: number, sent: number): DatagramStats {
  const stats = parts.flatMap((p) => (p.summary.datagrams ? [{ d: p.summary.datagrams, received: p.summary.received.messages }] : []));
  const lost = sum(stats.map((s) => s.d.lost));
  const jitters = stats.filter((s) => s.d.jitterMs !== null);
  const weight = sum(jitters.map((s) => s.received));
  return {
    lost,
    late: sum(stats.map((s) => s.d.late)),
    duplicated: sum(stats.map((s) => s.d.duplicated)),
    reordered: sum(stats.map((s) => s.d.reordered)),
    foreign: sum(stats.map((s) => s.d.foreign)),
    // Runs saved before replies from another address were counted have none.
    otherSource: sum(stats.map((s) => s.d.otherSource ?? 0)),
    lossPercent: lossPercent(lost, sent),
    jitterMs: jitters.length === 0 ? null : round3(weight === 0
      ? sum(jitters.map((s) => s.d.jitterMs!)) / jitters.length
      : sum(jitters.map((s) => s.d.jitterMs! * s.received)) / weight),
    perSecond: mergeSeconds(parts, start),
  };
}

/** Each run's seconds placed on the merged run's clock and added; jitter averaged over the runs that had one. */
function mergeSeconds(parts: Array<RunPart<ClientSummary>>, start: number): DatagramSecond[] {
  const merged: DatagramSecond[] = [];
  const jitters: number[][] = [];
  for (const { summary, endedAt } of parts) {
    const runStart = endedAt - summary.durationMs;
    for (const s of summary.datagrams?.perSecond ?? []) {
      const second = mergedSecond(start, runStart + s.second * 1000, runStart + (s.second + 1) * 1000);
      const into = (merged[second] ??= { second, sent: 0, lost: 0, late: 0, duplicated: 0, reordered: 0, jitterMs: null });
      into.sent += s.sent;
      into.lost += s.lost;
      into.late += s.late;
      into.duplicated += s.duplicated;
      into.reordered += s.reordered;
      if (s.jitterMs !== null) (jitters[second] ??= []).push(s.jitterMs);
    }
  }
  return Array.from({ length: merged.length }, (_, second) => {
    const into = merged[second] ?? { second, sent: 0, lost: 0, late: 0, duplicated: 0, reordered: 0, jitterMs: null };
    const j = jitters[second];
    return j ? { ...into, jitterMs: round3(sum(j) / j.length) } : into;
  });
}

const round3 = (value: number): number => Math.round(value * 1000) / 1000;

