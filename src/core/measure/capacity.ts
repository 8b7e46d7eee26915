import type net from 'node:net';
import { setMaxListeners } from 'node:events';
import { elapsedMs, pause } from '../clock.js';
import { hostPort, type Endpoint } from '../endpoint.js';
import { NetnoteError } from '../errors.js';
import type { EventSink } from '../events.js';
import type { LocalSpec } from '../socket/local.js';
import { connectTcp } from '../socket/tcp.js';
import type { TlsClient } from '../socket/tls.js';

export interface CapacityConfig {
  host: string;
  port: number;
  local: LocalSpec | null;
  /** --tls: a connection counts as established once its handshake is done. */
  tls: TlsClient | null;
  connections: number;
  /** Connections opened per second; null opens them all at once. */
  ratePerSecond: number | null;
  /** How long to keep them open before counting the ones still alive. */
  holdMs: number;
  timeoutMs: number;
}

export interface CapacitySummary {
  proto: 'tcp-capacity';
  /** HOST:PORT as asked. */
  target: string;
  remote: Endpoint | null;
  attempted: number;
  established: number;
  /** Connect outcomes that were not a connection, by reason. */
  refused: number;
  reset: number;
  timedOut: number;
  otherErrors: Record<string, number>;
  /** From the first attempt until every attempt had its outcome. */
  openMs: number;
  /** Established, then closed or reset by the peer during the hold. */
  closedDuringHold: number;
  alive: number;
  holdMs: number;
  ended: 'completed' | 'interrupted';
  /** Connections over time: the counts after each change, at most TIMELINE_POINTS of them (the last of each slice of time). */
  timeline: CapacityPoint[];
}

export interface CapacityPoint {
  /** Since the first attempt. */
  ms: number;
  established: number;
  /** Attempts that did not become a connection (refused, reset, timed out, other). */
  failed: number;
  /** Established and not closed by the peer. */
  open: number;
}

/** Enough points to draw the curve; ten thousand connections must not make ten thousand. */
const TIMELINE_POINTS = 200;

// Per-connection lines would bury the answer under thousands: only the counts are reported.
const MUTED: EventSink = { messages: false, emit() {}, room: () => null };

/**
 * The note's FAQ 5 as a measurement: open N connections (a module holds 15, 20 or 64) and count how
 * many the peer lets you hold, and what happened to the others.
 */
export async function runCapacity(config: CapacityConfig, sink: EventSink, signal: AbortSignal): Promise<{ summary: CapacitySummary; error: NetnoteError | null }> {
  const summary: CapacitySummary = {
    proto: 'tcp-capacity', target: hostPort(config.host, config.port), remote: null, attempted: config.connections, established: 0, refused: 0, reset: 0, timedOut: 0,
    otherErrors: {}, openMs: 0, closedDuringHold: 0, alive: 0, holdMs: config.holdMs, ended: 'completed', timeline: [],
  };
  sink.emit({ event: 'created', role: 'client', proto: 'tcp' });
  setMaxListeners(config.connections + 10, signal); // each attempt listens for Ctrl-C
  const open = new Set<net.Socket>();
  const started = performance.now();
  const changes: CapacityPoint[] = [];
  let failed = 0;
  const changed = () => changes.push({ ms: elapsedMs(started), established: summary.established, failed, open: open.size });
  const attempts: Array<Promise<void>> = [];
  for (let i = 0; i < config.connections && !signal.aborted; i++) {
    if (config.ratePerSecond !== null && i > 0) await pause(1000 / config.ratePerSecond, signal);
    attempts.push(connectTcp({ host: config.host, port: config.port, local: config.local, timeoutMs: config.timeoutMs, signal, tls: config.tls }, MUTED).then((socket) => {
      summary.established++;
      summary.remote ??= { address: socket.remoteAddress!, port: socket.remotePort!, family: socket.remoteFamily === 'IPv6' ? 'IPv6' : 'IPv4' };
      open.add(socket);
      changed();
      socket.on('error', () => {});
      socket.resume();
      socket.once('close', () => {
        if (!open.delete(socket)) return;
        summary.closedDuringHold++;
        changed();
      });
    }, (err: NetnoteError) => {
      failed++;
      changed();
      if (err.code === 'unreachable') summary.refused++;
      else if (err.code === 'lost') summary.reset++;
      else if (err.code === 'timeout') summary.timedOut++;
      else summary.otherErrors[err.message] = (summary.otherErrors[err.message] ?? 0) + 1;
    }));
  }
  await Promise.all(attempts);
  summary.openMs = elapsedMs(started);
  await pause(config.holdMs, signal);
  summary.alive = open.size;
  changed();
  summary.timeline = thin(changes);
  const interrupted = signal.aborted;
  for (const socket of open) {
    open.delete(socket);
    socket.destroy();
  }
  summary.ended = interrupted ? 'interrupted' : 'completed';
  const fatal = summary.established === 0 && !interrupted
    ? new NetnoteError(summary.refused > 0 ? 'unreachable' : summary.timedOut > 0 ? 'timeout' : 'lost', `none of ${config.connections} connections to ${summary.target} was established`)
    : null;
  return { summary, error: interrupted ? new NetnoteError('interrupted', 'interrupted') : fatal };
}

/** The first point and the last of each of TIMELINE_POINTS equal slices of the run: a step curve keeps its shape. */
export function thin(points: CapacityPoint[]): CapacityPoint[] {
  const end = points.at(-1)?.ms ?? 0;
  if (points.length <= TIMELINE_POINTS || end === 0) return points;
  const slice = (p: CapacityPoint) => Math.min(TIMELINE_POINTS - 1, Math.floor((p.ms / end) * TIMELINE_POINTS));
  return points.filter((p, i) => i === 0 || i === points.length - 1 || slice(p) !== slice(points[i + 1]!));
}

