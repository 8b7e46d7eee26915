import { elapsedMs } from '../clock.js';
import { NetnoteError, fromSystemError } from '../errors.js';
import type { EventSink } from '../events.js';
import type { Pace } from '../measure/pacer.js';
import { PROBE_HEADER } from '../measure/probe.js';
import { unconnectedSummary, type ClientResult, type ExchangeConfig } from '../message/exchange.js';
import { MAX_DATAGRAM, UdpClientSocket, type UdpCastOptions } from '../socket/udp.js';

// What a UDP client run is told (the note's loop, discovery, one-way), and how it opens its socket.

export interface UdpClientConfig extends ExchangeConfig {
  /** How long a datagram waits for its reply before it counts as lost (a later reply is late). */
  timeoutMs: number;
  /** Carry a sequence number and send time in each datagram (see measure/probe.ts). */
  probe: boolean;
  /** Exit 1 when more than this percentage of datagrams got no reply. */
  maxLossPercent: number | null;
  /** --strict-source: a reply from any address but the destination's is foreign, not an answer. */
  strictSource: boolean;
  /** --broadcast, --ttl and the multicast options. */
  cast: UdpCastOptions;
  /** --rate / --bitrate with --burst: datagrams go on this schedule, without waiting for replies. */
  pace: UdpPace | null;
  /** --duration: stop sending after this long (with a pace: after that many datagrams' worth). */
  durationMs: number | null;
}

/** A pace as asked: datagrams a second, or bits a second (iperf3's -b) of the datagrams sent. */
export interface UdpPace {
  perSecond: number | null;
  bitsPerSecond: number | null;
  burst: number;
}

/** The reply timeout when none is given: UDP loses datagrams, so the note's endless wait would hang. */
export const UDP_DEFAULT_TIMEOUT_MS = 1000;

/** What the run opened with: its socket, or the summary and error of a run that never sent. */
export type UdpOpening = { socket: UdpClientSocket; size: number } | ClientResult;

/**
 * Opens the client's socket for a run whose datagrams are `size` bytes: refused when they are
 * over the destination family's limit, before anything is sent.
 */
export async function openUdpRun(config: Pick<UdpClientConfig, 'host' | 'port' | 'local' | 'cast' | 'count'>, size: number, probe: boolean, sink: EventSink, started: number): Promise<UdpOpening> {
  let socket: UdpClientSocket;
  try {
    socket = await UdpClientSocket.open({ host: config.host, port: config.port, local: config.local, ...config.cast }, sink);
  } catch (err) {
    const error = fromSystemError(err, { host: config.host, port: config.port, doing: 'connect' });
    return { summary: unconnectedSummary('udp', config.count, error, elapsedMs(started)), error };
  }
  const limit = MAX_DATAGRAM[socket.remote.family];
  if (size > limit) {
    socket.close();
    const error = new NetnoteError('usage', `a ${size}-byte datagram is over the ${socket.remote.family} limit of ${limit} bytes`,
      probe ? `--probe adds ${PROBE_HEADER} bytes; send at most ${limit - PROBE_HEADER} bytes of payload` : `send at most ${limit} bytes`);
    return { summary: unconnectedSummary('udp', config.count, error, elapsedMs(started)), error };
  }
  return { socket, size };
}

/** Datagrams a second for a pace, given the size of each datagram (iperf3 counts the UDP payload). */
export function datagramPace(pace: UdpPace, size: number): Pace {
  const perSecond = pace.perSecond ?? (pace.bitsPerSecond ?? 0) / (Math.max(1, size) * 8);
  return { perSecond, burst: pace.burst };
}
