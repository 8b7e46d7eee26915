import { hostPort } from '../core/endpoint.js';
import type { CapacitySummary } from '../core/measure/capacity.js';
import type { NetEvent } from '../core/events.js';
import type { StreamSummary } from '../core/measure/stream.js';
import type { WireEstimate, WireProjection } from '../core/measure/wire.js';
import { bitRate, bytes, ms, plural, seconds } from './format.js';
import type { Symbols } from './symbols.js';

/** One second of a stream or a sink, iperf3 style. */
export function intervalLine(e: Extract<NetEvent, { event: 'interval' }>): string {
  const span = `${e.fromS.toFixed(2)}-${e.toS.toFixed(2)} s`;
  const parts = e.perConnection && e.perConnection.length > 1 ? `  (${e.perConnection.map((b) => bitRate(b * 8)).join(' + ')})` : '';
  const way = e.direction === 'send' ? 'sent ' : e.role === 'server' || e.direction === 'receive' ? 'received ' : '';
  return `${span}  ${way}${bytes(e.bytes)}  ${bitRate(e.bytes * 8 / (e.toS - e.fromS))}${parts}`;
}

export function streamLines(s: StreamSummary, symbols: Symbols): string[] {
  const where = s.remote ? hostPort(s.remote.address, s.remote.port) : s.target;
  const lines = [
    `--- tcp stream ${s.direction === 'send' ? 'to' : s.direction === 'receive' ? 'from' : 'to and from'} ${where} summary ---`,
    `${s.direction === 'receive' ? 'received' : 'sent'} ${bytes(s.bytes)} in ${seconds(s.durationMs)}: ${bitRate(s.bitsPerSecond)} (${(s.bitsPerSecond / 8e6).toFixed(1)} MB/s) over ${plural(s.connections.length, 'connection')}`,
  ];
  if (s.connections.length > 1) s.connections.forEach((c, i) => lines.push(`connection ${i + 1}: ${bytes(c.bytes)}, ${bitRate(c.bitsPerSecond)}`));
  if (s.received) {
    lines.push(`received ${bytes(s.received.bytes)} at the same time: ${bitRate(s.received.bitsPerSecond)} (${(s.received.bitsPerSecond / 8e6).toFixed(1)} MB/s)`);
    if (s.received.connections.length > 1) s.received.connections.forEach((c, i) => lines.push(`connection ${i + 1}, received: ${bytes(c.bytes)}, ${bitRate(c.bitsPerSecond)}`));
  }
  if (s.wire) lines.push(wireLine(s.wire, symbols));
  return lines;
}

export function capacityLines(s: CapacitySummary, symbols: Symbols): string[] {
  const where = s.remote ? hostPort(s.remote.address, s.remote.port) : s.target;
  const others = Object.entries(s.otherErrors).map(([message, count]) => `, ${count} ${symbols.times} ${message}`).join('');
  return [
    `--- tcp connections to ${where} summary ---`,
    `${s.attempted} attempted: ${s.established} established in ${ms(s.openMs)}, ${s.refused} refused, ${s.reset} reset, ${s.timedOut} timed out${others}`,
    `after holding ${seconds(s.holdMs)}: ${s.alive} alive, ${s.closedDuringHold} closed by the peer`,
  ];
}

/** The note's FAQ 7: what the payload cost on the link. */
export function wireLine(w: WireEstimate, symbols: Symbols): string {
  return `on the wire ${symbols.approx} ${bytes(w.wireBytes)} in ${plural(w.packets, 'packet')} for ${bytes(w.payloadBytes)} of payload: ${(w.efficiency * 100).toFixed(1)}% efficient (MTU ${w.mtu}; netnote help wire-cost)`;
}

/** The run's pattern kept up: what a device pays a day and a month for it (FAQ 7). */
export function projectionLine(p: WireProjection, symbols: Symbols): string {
  return `kept up at this pattern: ${symbols.approx} ${bytes(p.day.bytes)} a day (${plural(p.day.packets, 'packet')}), ${bytes(p.days30.bytes)} in 30 days (a message every ${seconds(p.cycleMs)}; netnote help wire-cost)`;
}
