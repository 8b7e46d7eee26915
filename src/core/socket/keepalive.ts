import type net from 'node:net';
import { InvalidValueError } from '../errors.js';

/**
 * --keepalive: SO_KEEPALIVE, with the idle time before the first probe (TCP_KEEPIDLE). Node's only
 * way in is socket.setKeepAlive(true, ms), which libuv turns into whole seconds of TCP_KEEPIDLE
 * and, on Linux, also sets TCP_KEEPINTVL to 1 s and TCP_KEEPCNT to 10, whatever the system's
 * net.ipv4.tcp_keepalive_intvl and tcp_keepalive_probes say (libuv 1.46 in Node 20 and 1.52 in
 * Node 24 alike, checked with `ss -o`: docs/long-lived.md). Node offers no way to change those two.
 */
export interface Keepalive {
  /** TCP_KEEPIDLE: idle time before the first probe, whole seconds. */
  idleMs: number;
  /** TCP_KEEPINTVL: between unanswered probes. */
  intervalMs: number;
  /** TCP_KEEPCNT: unanswered probes that end the connection (ETIMEDOUT). */
  probes: number;
}

/** What libuv sets besides the idle time (see above). */
const LIBUV_INTERVAL_MS = 1000;
const LIBUV_PROBES = 10;
/** Linux's MAX_TCP_KEEPIDLE. */
const MAX_IDLE_S = 32767;

/** --keepalive DUR as the kernel takes it: whole seconds, 1 to 32767. */
export function parseKeepalive(input: string, idleMs: number): Keepalive {
  if (idleMs < 1000 || idleMs % 1000 !== 0 || idleMs / 1000 > MAX_IDLE_S) {
    throw new InvalidValueError('duration', input, `the kernel takes whole seconds from 1s to ${MAX_IDLE_S}s (TCP_KEEPIDLE)`);
  }
  return { idleMs, intervalMs: LIBUV_INTERVAL_MS, probes: LIBUV_PROBES };
}

/** Turns keepalive on for a connected (not yet secured) socket. */
export function applyKeepalive(socket: net.Socket, keepalive: Keepalive): void {
  socket.setKeepAlive(true, keepalive.idleMs);
}

/**
 * How late each probe goes after the idle time is up (the kernel's timer, the ACK's round trip):
 * a few milliseconds, enough that a gap of exactly N idle times holds N - 1 probes, not N.
 */
const PROBE_SLIP_MS = 10;

/**
 * Probes the kernel sends in a quiet gap of `gapMs` when the peer answers them: one each time the
 * connection has been idle `idleMs` since what it last received (the previous probe's ACK), until
 * the gap ends; one that would fall on its end is beaten by the traffic that ends it. Checked
 * against tcpdump: docs/long-lived.md.
 */
export function keepaliveProbes(gapMs: number, idleMs: number): number {
  return Math.max(0, Math.ceil(gapMs / (idleMs + PROBE_SLIP_MS)) - 1);
}
