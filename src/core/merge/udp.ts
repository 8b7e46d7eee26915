import type { OneWayStats } from '../events.js';
import { oneWayStats } from '../measure/one-way.js';
import type { ClientSummary, ResponderStats } from '../message/exchange.js';
import { mergedSecond, sum, type RunPart } from './parts.js';

// What only UDP client runs have, added up: the receiver's view of one-way runs, and the devices
// that answered a broadcast or a group.

/**
 * One-way runs together: every count summed and loss recomputed over every probe sent; the
 * receivers' seconds placed on the merged run's clock (each run's first arrival taken as its
 * start), the rate over the wall-clock span. Jitter, a running estimate, is averaged weighted by
 * the probes each receiver got, as for round trips.
 */
export function mergeOneWay(parts: Array<RunPart<ClientSummary>>, start: number, spanMs: number): OneWayStats | null {
  const views = parts.flatMap((p) => (p.summary.oneWay ? [{ view: p.summary.oneWay, runStart: p.endedAt - p.summary.durationMs }] : []));
  if (views.length === 0) return null;
  const perSecond: number[] = [];
  for (const { view, runStart } of views) {
    view.perSecond.forEach((count, i) => {
      const second = mergedSecond(start, runStart + i * 1000, runStart + (i + 1) * 1000);
      perSecond[second] = (perSecond[second] ?? 0) + count;
    });
  }
  const jitters = views.filter((v) => v.view.jitterMs !== null);
  const weight = sum(jitters.map((v) => v.view.received));
  const received = sum(views.map((v) => v.view.received));
  const bytes = sum(views.map((v) => v.view.bytes));
  const counts = {
    received, bytes,
    duplicated: sum(views.map((v) => v.view.duplicated)),
    reordered: sum(views.map((v) => v.view.reordered)),
    highestSeq: sum(views.map((v) => v.view.highestSeq)),
    jitterMs: jitters.length === 0 || weight === 0 ? null : round3(sum(jitters.map((v) => v.view.jitterMs! * v.view.received)) / weight),
    spanMs,
    perSecond: Array.from({ length: perSecond.length }, (_, i) => perSecond[i] ?? 0),
  };
  const sent = views.every((v) => v.view.sent !== null) ? sum(views.map((v) => v.view.sent!)) : null;
  return oneWayStats(views[0]!.view.direction, counts, sent);
}

/** The devices that answered any of the runs, each once: its counts summed, its round trips' extremes and mean over all. */
export function mergeResponders(parts: Array<RunPart<ClientSummary>>): ResponderStats[] {
  const devices = new Map<string, ResponderStats>();
  for (const r of parts.flatMap((p) => p.summary.responders ?? [])) {
    const key = `${r.remote.address}|${r.remote.port}`;
    const seen = devices.get(key);
    if (!seen) {
      devices.set(key, { ...r, rttMs: r.rttMs && { ...r.rttMs } });
      continue;
    }
    const timed = seen.answered + r.answered;
    seen.rttMs = !seen.rttMs || !r.rttMs ? seen.rttMs ?? r.rttMs : {
      min: Math.min(seen.rttMs.min, r.rttMs.min),
      mean: round3((seen.rttMs.mean * seen.answered + r.rttMs.mean * r.answered) / Math.max(1, timed)),
      max: Math.max(seen.rttMs.max, r.rttMs.max),
    };
    seen.replies += r.replies;
    seen.bytes += r.bytes;
    seen.answered = timed;
  }
  return [...devices.values()];
}

const round3 = (value: number): number => Math.round(value * 1000) / 1000;
