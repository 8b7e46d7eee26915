import type { NetEvent } from '../core/events.js';
import { plural } from './format.js';

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
