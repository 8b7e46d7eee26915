import type net from 'node:net';
import { elapsedMs } from '../clock.js';
import { hostPort, type Endpoint } from '../endpoint.js';
import { NetnoteError, fromSystemError } from '../errors.js';
import type { EndReason, EventSink, LossCause } from '../events.js';
import { keepaliveProbes, type Keepalive } from '../socket/keepalive.js';
import { connectTcp, localEndpoint, remoteEndpoint, type ConnectOptions } from '../socket/tcp.js';
import { tlsSession } from '../socket/tls.js';
import { connectWaiting } from '../socket/wait-for.js';

// One connection of a TCP client run (the note's loop, a script): its socket, when it last sent
// and received (the idle time a loss reports), and what ended it, in the words of LossCause.

/** How a connection ended: the run's end reason and error, and the likely cause when the peer or the path ended it. */
export interface LinkEnd {
  reason: EndReason;
  error: NetnoteError | null;
  /** null: not a loss (a refused certificate, a framing error, Ctrl-C…). */
  cause: LossCause | null;
  /** The message or heartbeat left unanswered, and how long it waited. */
  seq?: number;
  heartbeat?: number;
  waitedMs?: number;
  /** For a message left unanswered: how long the connection had been idle when it was sent. */
  idleMs?: number;
}

/** Connects (for `waitForMs`, trying again while the port does not answer) and wraps the socket. */
export async function connectLink(options: ConnectOptions, waitForMs: number | null, sink: EventSink, startedAt = performance.now()): Promise<Link> {
  const socket = waitForMs === null ? await connectTcp(options, sink) : await connectWaiting(options, sink, waitForMs);
  return new Link(socket, startedAt, options.keepalive ?? null, options.host);
}

export class Link {
  readonly local: Endpoint;
  readonly remote: Endpoint;
  readonly connectedAt = performance.now();
  private lastSent = this.connectedAt;
  private lastReceived = this.connectedAt;
  bytesIn = 0;
  bytesOut = 0;
  /** Keepalive probes the kernel sent in the quiet gaps (estimated from the gaps: the wire cost). */
  probes = 0;

  /**
   * `startedAt`: when connecting began (the `closed` line counts from there); `host`: as the user
   * gave it, for errors (a TLS error names the host the certificate was checked against).
   */
  constructor(readonly socket: net.Socket, readonly startedAt: number, private readonly keepalive: Keepalive | null, private readonly host: string) {
    // Read now: a socket the peer closed no longer knows its addresses.
    this.local = localEndpoint(socket);
    this.remote = remoteEndpoint(socket);
  }

  get where(): string {
    return hostPort(this.remote.address, this.remote.port);
  }

  /** Nothing was sent or received for this long. */
  idleMs(now = performance.now()): number {
    return Math.round((now - Math.max(this.lastSent, this.lastReceived)) * 1000) / 1000;
  }

  /**
   * Until when the connection worked, for the time without one: a reset or a FIN comes from a
   * live peer (it worked until then); a silence (no reply, no keepalive answer) since the last byte
   * received, or the connect.
   */
  aliveUntil(cause: LossCause, noticedAt: number): number {
    return cause === 'reset' || cause === 'fin' ? noticedAt : this.lastReceived;
  }

  sent(bytes: number, now = performance.now()): void {
    this.quiet(now);
    this.lastSent = now;
    this.bytesOut += bytes;
  }

  received(bytes: number, now = performance.now()): void {
    this.quiet(now);
    this.lastReceived = now;
    this.bytesIn += bytes;
  }

  /** The gap until now is over: with keepalive, the kernel probed in it (see keepaliveProbes). */
  private quiet(now: number): void {
    if (this.keepalive) this.probes += keepaliveProbes(now - Math.max(this.lastSent, this.lastReceived), this.keepalive.idleMs);
  }

  /** Counts the last gap (to the end of the connection). */
  close(): void {
    this.quiet(performance.now());
    this.lastSent = performance.now();
  }

  get tls() {
    return tlsSession(this.socket);
  }

  /** What a socket error means: reset, keepalive timeout, data never acknowledged, or not a loss. */
  errorEnd(err: unknown): LinkEnd {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ETIMEDOUT') {
      const k = this.keepalive;
      return k
        ? {
          reason: 'timeout', cause: 'keepalive',
          error: new NetnoteError('timeout', `connection to ${this.where} lost: ${k.probes} keepalive probes ${k.intervalMs / 1000} s apart went unanswered (ETIMEDOUT)`,
            'the peer or the path is gone (a cable, a radio link, a NAT that dropped the connection): --reconnect connects again'),
        }
        : {
          reason: 'timeout', cause: 'retransmission',
          error: new NetnoteError('timeout', `connection to ${this.where} lost: what was sent was never acknowledged (ETIMEDOUT)`,
            'the peer or the path is gone: --reconnect connects again'),
        };
    }
    const error = fromSystemError(err, { host: this.host, port: this.remote.port, doing: 'io' });
    if (error.code === 'lost') return { reason: 'reset', error, cause: 'reset' };
    return { reason: error.code === 'tls' ? 'tls-failed' : 'failed', error, cause: null };
  }

  /** The `lost` line, then the connection's `closed` line (its own bytes and time); before close(). */
  reportEnd(sink: EventSink, end: LinkEnd, closedAs: EndReason): void {
    const now = performance.now();
    if (end.cause) {
      sink.emit({
        event: 'lost', role: 'client', cause: end.cause, idleMs: end.idleMs ?? this.idleMs(now), connectedMs: Math.round((now - this.connectedAt) * 1000) / 1000,
        remote: this.remote,
        ...(end.seq === undefined ? {} : { seq: end.seq }), ...(end.heartbeat === undefined ? {} : { heartbeat: end.heartbeat }),
        ...(end.waitedMs === undefined ? {} : { waitedMs: end.waitedMs }),
      });
    }
    sink.emit({ event: 'closed', role: 'client', reason: closedAs, remote: this.remote, bytesIn: this.bytesIn, bytesOut: this.bytesOut, ms: elapsedMs(this.startedAt) });
  }
}
