import { thin, type CapacityPoint, type CapacitySummary } from '../measure/capacity.js';
import { sameEndpoint, sum, wallSpan, type RunPart } from './parts.js';

/** A capacity run lasts its opening, then its hold. */
const length = (s: CapacitySummary): number => s.openMs + s.holdMs;

/** Capacity tests added up: every attempt and outcome counted, connections over time on one clock. */
export function mergeCapacity(parts: Array<RunPart<CapacitySummary>>): CapacitySummary {
  const summaries = parts.map((p) => p.summary);
  const { start } = wallSpan(parts, length);
  const otherErrors: Record<string, number> = {};
  for (const s of summaries) for (const [message, count] of Object.entries(s.otherErrors)) otherErrors[message] = (otherErrors[message] ?? 0) + count;
  const field = (name: 'attempted' | 'established' | 'refused' | 'reset' | 'timedOut' | 'closedDuringHold' | 'alive') => sum(summaries.map((s) => s[name]));
  return {
    proto: 'tcp-capacity',
    target: summaries[0]!.target,
    remote: sameEndpoint(summaries.map((s) => s.remote)),
    attempted: field('attempted'),
    established: field('established'),
    refused: field('refused'),
    reset: field('reset'),
    timedOut: field('timedOut'),
    otherErrors,
    openMs: Math.round((Math.max(...parts.map((p) => p.endedAt - p.summary.holdMs)) - start) * 1000) / 1000,
    closedDuringHold: field('closedDuringHold'),
    alive: field('alive'),
    holdMs: Math.max(...summaries.map((s) => s.holdMs)),
    ended: summaries.some((s) => s.ended === 'interrupted') ? 'interrupted' : 'completed',
    timeline: mergeTimelines(parts, start),
  };
}

/** The runs' step curves on one clock: at every change of any run, the sum of each run's latest counts. */
function mergeTimelines(parts: Array<RunPart<CapacitySummary>>, start: number): CapacityPoint[] {
  const changes = parts.flatMap((p, run) => {
    const offset = p.endedAt - length(p.summary) - start;
    return p.summary.timeline.map((point) => ({ run, at: offset + point.ms, point }));
  }).sort((a, b) => a.at - b.at);
  const latest: Array<CapacityPoint | undefined> = parts.map(() => undefined);
  return thin(changes.map(({ run, at, point }) => {
    latest[run] = point;
    const now = latest.filter((p): p is CapacityPoint => p !== undefined);
    return {
      ms: Math.round(at * 1000) / 1000,
      established: sum(now.map((p) => p.established)),
      failed: sum(now.map((p) => p.failed)),
      open: sum(now.map((p) => p.open)),
    };
  }));
}
