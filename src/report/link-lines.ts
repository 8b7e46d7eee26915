import { hostPort } from '../core/endpoint.js';
import type { NetEvent } from '../core/events.js';
import type { ClientSummary } from '../core/message/exchange.js';
import type { ReconnectSummary } from '../core/run/reconnect.js';
import type { DropSummary } from '../core/tcp/drops.js';
import { bytes, ms, plural, seconds } from './format.js';

// The lines of a link kept up for a long time: keepalive, heartbeats, losses and reconnects.

/** Whole seconds as a person sets them (`60 s`), fractions kept when there are any. */
export function secondsShort(milliseconds: number): string {
  const value = milliseconds / 1000;
  return `${Number.isInteger(value) ? value : Number(value.toFixed(2))} s`;
}

/** What the kernel was told, and when a dead peer is noticed. */
export function keepaliveLine(e: Extract<NetEvent, { event: 'keepalive' }>): { text: string; extra: string } {
  const who = e.role === 'server' ? 'keepalive on every client' : 'keepalive on';
  return {
    text: `${who}: a probe after ${secondsShort(e.idleMs)} idle, then one every ${secondsShort(e.intervalMs)}; ${plural(e.probes, 'unanswered probe')} end the connection`,
    extra: `SO_KEEPALIVE, TCP_KEEPIDLE ${e.idleMs / 1000}, TCP_KEEPINTVL ${e.intervalMs / 1000}, TCP_KEEPCNT ${e.probes}`,
  };
}

type Lost = Extract<NetEvent, { event: 'lost' }>;

/** Below this, a connection was busy when it ended; above it, the quiet gap is the likely culprit. */
const QUIET_MS = 1000;

/** The likely cause of a loss, in words a person can act on. */
function causeWords(e: Lost): string {
  const quiet = e.idleMs >= QUIET_MS;
  switch (e.cause) {
    case 'reset': return 'reset by peer (RST): the peer reset it, or a NAT or firewall on the path no longer knew the connection';
    case 'fin': return quiet ? "closed by peer (FIN) after a quiet gap: most likely the server's idle timeout" : 'closed by peer (FIN)';
    case 'keepalive': return 'keepalive timeout (ETIMEDOUT): the probes went unanswered: the peer or the path is gone';
    case 'retransmission': return 'timed out (ETIMEDOUT): what was sent was never acknowledged: the peer or the path is gone';
    case 'heartbeat': return `no answer to heartbeat ${e.heartbeat ?? '?'} within ${seconds(e.waitedMs ?? 0)}: the peer or the path is gone`;
    case 'reply-timeout':
      return `no reply to message ${e.seq ?? '?'} within ${seconds(e.waitedMs ?? 0)}${quiet ? ': after a quiet gap, most likely a NAT or firewall on the path that forgot the connection (an idle timeout)' : ''}`;
    case 'idle-timeout': return 'idle timeout of this server (--idle-timeout)';
    case 'dropped': return 'dropped by this server (--drop-after / --drop-every)';
  }
}

/** `connection lost after 9.00 s idle: reset by peer (RST): …`, and how long it had lasted. */
export function lostLine(e: Lost): { text: string; extra: string } {
  const verb = e.cause === 'idle-timeout' || e.cause === 'dropped' ? 'closed' : 'lost';
  return { text: `connection ${verb} after ${seconds(e.idleMs)} idle: ${causeWords(e)}`, extra: `connected ${seconds(e.connectedMs)}` };
}

export function reconnectingLine(e: Extract<NetEvent, { event: 'reconnecting' }>): string {
  return `reconnecting in ${seconds(e.waitMs)} (attempt ${e.attempt}${e.previous ? `; the last one: ${e.previous}` : ''})`;
}

export function reconnectedLine(e: Extract<NetEvent, { event: 'reconnected' }>): string {
  const resumed = e.resumed === undefined ? '' : e.resumed ? '; TLS session resumed' : '; TLS full handshake';
  return `reconnected after ${plural(e.attempts, 'attempt')}: ${seconds(e.downMs)} without a connection, ${seconds(e.reconnectMs)} to reconnect; ${plural(e.lost, 'message')} lost in the gap${resumed}`;
}

export function waitingLine(e: Extract<NetEvent, { event: 'waiting' }>): string {
  return `waiting up to ${seconds(e.forMs)} for ${hostPort(e.host, e.port)} to answer (${e.reason})`;
}

export function waitedLine(e: Extract<NetEvent, { event: 'waited' }>): string {
  return `${hostPort(e.host, e.port)} answered after ${seconds(e.ms)} (attempt ${e.attempts})`;
}

/** The summary's lines of a long-lived link: heartbeats, keepalive probes, reconnects. */
export function linkSummaryLines(s: ClientSummary): string[] {
  const lines: string[] = [];
  const h = s.heartbeats;
  if (h) lines.push(`heartbeats: ${h.sent} sent (${bytes(h.bytesOut)}), ${h.answered} answered (${bytes(h.bytesIn)}), ${h.unanswered} unanswered`);
  const k = s.keepalive;
  if (k) lines.push(`keepalive: a probe after ${secondsShort(k.idleMs)} idle; about ${plural(k.probesSent, 'probe')} in the quiet gaps (estimated, counted on the wire)`);
  if (s.reconnects) lines.push(reconnectsLine(s.reconnects, s.tls !== null));
  return lines;
}

/** --reconnect in a summary: how often, how long without a connection, how long to come back. */
export function reconnectsLine(r: ReconnectSummary, tls: boolean): string {
  const times = r.reconnectMs ? `; time to reconnect p50 ${seconds(r.reconnectMs.p50)}, max ${seconds(r.reconnectMs.max)}` : '';
  const resumed = tls && r.reconnects > 0 ? `; TLS resumed ${r.tlsResumed} of ${r.reconnects}` : '';
  return `reconnects: ${r.reconnects} (${plural(r.attempts, 'attempt')}); without a connection ${seconds(r.totalDownMs)} in all, longest ${seconds(r.longestDownMs)}${times}; ${plural(r.lostMessages, 'message')} lost in the gaps${resumed}`;
}

export function droppedLine(e: Extract<NetEvent, { event: 'dropped' }>): string {
  const how = { fin: 'closing it (FIN)', reset: 'resetting it (RST)', silence: 'no more answers (silence)' }[e.mode];
  return `dropping the client after ${seconds(e.afterMs)} connected: ${how}`;
}

/** A server's drops, and per client address how often and how soon it came back. */
export function dropSummaryLines(d: DropSummary): string[] {
  const when = d.afterMs !== null ? `each client after ${secondsShort(d.afterMs)}` : `every ${secondsShort(d.everyMs ?? 0)}`;
  const lines = [`drops (${d.mode}, ${when}): ${d.drops}${d.olderAddresses > 0 ? ` (${d.olderAddresses} earlier addresses not listed)` : ''}`];
  for (const a of d.perAddress) {
    const back = a.backMs ? `, after ${seconds(a.backMs.min)} to ${seconds(a.backMs.max)} (median ${seconds(a.backMs.p50)})` : '';
    lines.push(`[client addr: ${a.address}] dropped ${plural(a.drops, 'time')}, came back ${plural(a.returned, 'time')}${back}`);
  }
  return lines;
}

/** `0:10:00`: how long a run has gone, as a soak's log reads best. */
export function clock(milliseconds: number): string {
  const total = Math.floor(milliseconds / 1000);
  const [h, m, s] = [Math.floor(total / 3600), Math.floor(total / 60) % 60, total % 60];
  return `${h}:${String(m).padStart(2, '0')}:${String(s).padStart(2, '0')}`;
}

/** --report-every: the run so far, one line. */
export function interimLine(e: Extract<NetEvent, { event: 'interim' }>): string {
  const parts: string[] = [];
  if (e.sent && e.received) {
    parts.push(`sent ${e.sent.messages} (${bytes(e.sent.bytes)}), received ${e.received.messages} (${bytes(e.received.bytes)})`);
    if (e.rttMs) parts.push(`rtt p50 ${ms(e.rttMs.p50)}, p99 ${ms(e.rttMs.p99)}`);
    if (e.reconnects !== undefined) parts.push(plural(e.reconnects, 'reconnect'));
    if (e.heartbeats) parts.push(`${plural(e.heartbeats.sent, 'heartbeat')} (${e.heartbeats.answered} answered)`);
  } else if (e.datagrams) {
    parts.push(`${plural(e.datagrams.in, 'datagram')} in (${bytes(e.bytesIn ?? 0)}), ${e.datagrams.out} out (${bytes(e.bytesOut ?? 0)})`, plural(e.peers ?? 0, 'peer'));
  } else if (e.clients) {
    parts.push(`${plural(e.clients.served, 'client')} served, ${e.clients.active} connected; in ${bytes(e.bytesIn ?? 0)}, out ${bytes(e.bytesOut ?? 0)}`);
  }
  return `so far (${clock(e.elapsedMs)}): ${parts.join('; ')}`;
}
