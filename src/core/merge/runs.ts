import type { ErrorInfo } from '../errors.js';
import type { Role } from '../events.js';
import type { CapacitySummary } from '../measure/capacity.js';
import type { StreamSummary } from '../measure/stream.js';
import type { ClientSummary } from '../message/exchange.js';
import type { ServerSummary } from '../tcp/server.js';
import type { UdpServerSummary } from '../udp/server.js';
import { mergeCapacity } from './capacity.js';
import { mergeExchanges } from './exchange.js';
import { mergeTcpServers, mergeUdpServers } from './servers.js';
import { mergeIntervals, mergeStreams, type MergedInterval } from './stream.js';
import { mergedOutcome, wallSpan, type IntervalPart, type RunPart } from './parts.js';

/** The kinds of run that add up, named as a person would run them. */
export type MergeKind = 'tcp-client' | 'udp-client' | 'tcp-client --stream' | 'tcp-client --stream --reverse' | 'tcp-client --stream --bidir' | 'tcp-client --connections' | 'tcp-server' | 'udp-server';

const STREAM_KINDS: Record<string, MergeKind> = { send: 'tcp-client --stream', receive: 'tcp-client --stream --reverse', both: 'tcp-client --stream --bidir' };

/** What kind of run a summary comes from, or null for one that does not add up (http-get, resolve, …). */
export function mergeKind(role: Role, summary: { proto: string; direction?: unknown }): MergeKind | null {
  if (role === 'server') return summary.proto === 'tcp' ? 'tcp-server' : summary.proto === 'udp' ? 'udp-server' : null;
  switch (summary.proto) {
    case 'tcp': return 'tcp-client';
    case 'udp': return 'udp-client';
    case 'tcp-stream': return STREAM_KINDS[String(summary.direction)] ?? 'tcp-client --stream';
    case 'tcp-capacity': return 'tcp-client --connections';
    default: return null;
  }
}

/** One summary of a run file, its kind already known. */
export interface SummaryPart extends RunPart<unknown> {
  role: Role;
  kind: MergeKind;
}

export interface RunInput {
  /** The run's summaries in order (demo has two). */
  summaries: SummaryPart[];
  intervals: Array<IntervalPart & { role: Role }>;
}

export interface MergedRun {
  summaries: Array<{ role: Role; summary: ClientSummary | StreamSummary | CapacitySummary | ServerSummary | UdpServerSummary; exitCode: number; error: ErrorInfo | null }>;
  intervals: Array<MergedInterval & { role: Role }>;
}

/**
 * Runs of one test made apart, added up into the summaries one run of all that traffic would
 * have given. Every run holds the same kinds of summary in the same order (the caller checks).
 */
export async function mergeRuns(runs: RunInput[]): Promise<MergedRun> {
  const merged: MergedRun = { summaries: [], intervals: [] };
  for (let i = 0; i < runs[0]!.summaries.length; i++) {
    const parts = runs.map((run) => run.summaries[i]!);
    const { kind, role } = parts[0]!;
    const outcome = mergedOutcome(parts as Array<RunPart<{ ended: 'completed' }>>);
    const summary = await mergeKindOf(kind, parts);
    merged.summaries.push({ role, summary, exitCode: outcome.exitCode, error: outcome.error });
    if (kind.startsWith('tcp-client --stream') || kind === 'tcp-server') {
      const start = wallSpan(parts as Array<RunPart<{ durationMs: number }>>, (s) => s.durationMs).start;
      // --bidir: each way is its own series, as the run reported them.
      for (const direction of kind === 'tcp-client --stream --bidir' ? ['send', 'receive'] as const : [undefined]) {
        let clientsBefore = 0;
        const series = runs.map((run, r) => {
          const s = parts[r]!.summary as StreamSummary | ServerSummary;
          const entry = { intervals: run.intervals.filter((e) => e.role === role && e.direction === direction), connections: 'connections' in s ? s.connections.length : 0, clientsBefore };
          clientsBefore += 'clients' in s ? s.clients.served : 0;
          return entry;
        });
        merged.intervals.push(...mergeIntervals(series, start).map((interval) => ({ role, ...interval, ...(direction ? { direction } : {}) })));
      }
    }
  }
  return merged;
}

function mergeKindOf(kind: MergeKind, parts: SummaryPart[]): Promise<MergedRun['summaries'][number]['summary']> | MergedRun['summaries'][number]['summary'] {
  switch (kind) {
    case 'tcp-client':
    case 'udp-client': return mergeExchanges(parts as Array<RunPart<ClientSummary>>);
    case 'tcp-client --stream':
    case 'tcp-client --stream --reverse':
    case 'tcp-client --stream --bidir': return mergeStreams(parts as Array<RunPart<StreamSummary>>);
    case 'tcp-client --connections': return mergeCapacity(parts as Array<RunPart<CapacitySummary>>);
    case 'tcp-server': return mergeTcpServers(parts as Array<RunPart<ServerSummary>>);
    case 'udp-server': return mergeUdpServers(parts as Array<RunPart<UdpServerSummary>>);
  }
}
