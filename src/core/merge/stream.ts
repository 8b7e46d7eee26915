import { rate, type StreamDirection, type StreamSummary } from '../measure/stream.js';
import { sumWire } from '../measure/wire.js';
import { mergedOutcome, mergedSecond, sameEndpoint, sameTls, sum, wallSpan, type IntervalPart, type RunPart } from './parts.js';

/** Streams added up: every connection of every run, the bytes over the wall-clock span they took together. */
export function mergeStreams(parts: Array<RunPart<StreamSummary>>): StreamSummary {
  const summaries = parts.map((p) => p.summary);
  const span = wallSpan(parts, (s) => s.durationMs);
  const bytes = sum(summaries.map((s) => s.bytes));
  const wires = summaries.flatMap((s) => (s.wire ? [s.wire] : []));
  return {
    proto: 'tcp-stream',
    target: summaries[0]!.target,
    remote: sameEndpoint(summaries.map((s) => s.remote)),
    direction: summaries[0]!.direction,
    durationMs: span.durationMs,
    bytes,
    bitsPerSecond: rate(bytes, span.durationMs),
    connections: summaries.flatMap((s) => s.connections),
    wire: wires.length > 0 ? sumWire(...wires) : null,
    tls: sameTls(summaries.map((s) => s.tls)),
    ended: mergedOutcome(parts).ended,
    ...(summaries[0]!.direction === 'both' ? { received: mergeReceived(summaries, span.durationMs) } : {}),
  };
}

/** --bidir: the other way, added up over the same span. */
function mergeReceived(summaries: StreamSummary[], durationMs: number): StreamDirection {
  const connections = summaries.flatMap((s) => s.received?.connections ?? []);
  const bytes = sum(connections.map((c) => c.bytes));
  return { bytes, bitsPerSecond: rate(bytes, durationMs), connections };
}

/** One second of the merged run (an `interval` event's fields). */
export type MergedInterval = Omit<IntervalPart, 'endedAt'>;

/**
 * Per-second series of several runs on one clock: each run's second goes to the merged second
 * that holds its middle. A stream's connections keep their order, run after run (a run silent
 * that second counts 0 for each of its own); a sink's clients are numbered on from the previous
 * run's (`clientsBefore`).
 */
export function mergeIntervals(runs: Array<{ intervals: IntervalPart[]; connections: number; clientsBefore: number }>, start: number): MergedInterval[] {
  const totalConnections = sum(runs.map((r) => r.connections));
  const merged: MergedInterval[] = [];
  let connectionOffset = 0;
  for (const run of runs) {
    for (const i of run.intervals) {
      const second = mergedSecond(start, i.endedAt - (i.toS - i.fromS) * 1000, i.endedAt);
      const into = (merged[second] ??= { fromS: second, toS: second + 1, bytes: 0 });
      into.bytes += i.bytes;
      if (i.perConnection) {
        into.perConnection ??= new Array<number>(totalConnections).fill(0);
        i.perConnection.forEach((b, k) => (into.perConnection![connectionOffset + k]! += b));
      }
      if (i.perClient) (into.perClient ??= []).push(...i.perClient.map((c) => ({ client: c.client + run.clientsBefore, bytes: c.bytes })));
    }
    connectionOffset += run.connections;
  }
  return merged.filter((m) => m !== undefined);
}
