import type { NetEvent, OneWayStats } from '../core/events.js';
import type { ResponderStats } from '../core/message/exchange.js';
import { bitRate, plural, seconds, tuple } from './format.js';

// The lines of UDP on a LAN: a server's sockets (one per address, broadcast, group), the devices
// that answered a broadcast, and one-way tests as either end saw them.

/** What follows `bind address: …` for a server's socket after its first; null for the plain line. */
export function boundDetail(e: Extract<NetEvent, { event: 'bound' }>): string | null {
  const parts: string[] = [];
  if (e.cast === 'multicast') {
    const as = e.joined && e.joined !== e.local.address.replace(/%.*$/, '') ? ` as ${e.joined}` : '';
    parts.push(`group joined${as}${e.interface ? ` on ${e.interface}` : ''}`);
  }
  else if (e.cast === 'broadcast') parts.push(`broadcast${e.interface ? `, ${e.interface}` : ''}`);
  else if (e.interface) parts.push(e.interface);
  if (e.added) parts.push('address added');
  return parts.length > 0 ? parts.join(', ') : null;
}

/** `to 192.0.2.1`, `to broadcast 192.0.2.255`, `to group 239.1.2.3`: where a server's datagram was sent. */
export function destination(e: Extract<NetEvent, { event: 'recv' }>): string | null {
  if (!e.local) return null;
  return `to ${e.cast === 'broadcast' ? 'broadcast ' : e.cast === 'multicast' ? 'group ' : ''}${e.local.address}`;
}

/** `received 9990 of 10000 (10 lost, 0.1%), 0 duplicated, 3 reordered; jitter 0.012 ms; 1.02 Mbit/s over 9.99 s`. */
export function oneWayText(s: OneWayStats): string {
  // Without the sender's count, loss is what is missing up to the highest sequence number seen.
  const of = s.sent === null ? ` (up to datagram ${s.highestSeq}: ` : ` of ${s.sent} (`;
  const jitter = s.jitterMs === null ? '' : `; jitter ${s.jitterMs.toFixed(3)} ms`;
  return `received ${s.received}${of}${s.lost} lost, ${s.lossPercent.toFixed(1)}%), ${s.duplicated} duplicated, ${s.reordered} reordered${jitter}; ` +
    `${bitRate(s.bitsPerSecond)} over ${seconds(s.spanMs)}`;
}

/** A one-way event as a server's line, after the client's label. */
export function oneWayEventText(e: Extract<NetEvent, { event: 'one-way' }>): string {
  switch (e.action) {
    case 'report': return `one-way report: ${oneWayText(e.stats)}`;
    case 'reverse-start': return `reverse stream: ${plural(e.count, 'datagram')} of ${e.size} B, ${+e.perSecond.toFixed(3)} a second${e.burst > 1 ? ` in bursts of ${e.burst}` : ''}`;
    case 'reverse-end': return `reverse stream ${e.stopped ? 'stopped by the client' : 'done'}: ${plural(e.sent, 'datagram')} sent in ${seconds(e.ms)}`;
  }
}

/** The devices that answered a broadcast or a group, one line each after the count. */
export function responderLines(responders: ResponderStats[]): string[] {
  if (responders.length === 0) return ['no device answered'];
  return [
    `${plural(responders.length, 'device')} answered:`,
    ...responders.map((r) => {
      const rtt = r.rttMs === null ? 'no reply to a datagram sent'
        : r.answered === 1 ? `rtt ${r.rttMs.min.toFixed(3)} ms` : `rtt min/mean/max = ${[r.rttMs.min, r.rttMs.mean, r.rttMs.max].map((v) => v.toFixed(3)).join('/')} ms`;
      return `[server addr: ${tuple(r.remote)}] ${r.replies} ${r.replies === 1 ? 'reply' : 'replies'} to ${plural(r.answered, 'datagram')}, ${rtt}`;
    }),
  ];
}
