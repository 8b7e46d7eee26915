import type { Endpoint } from '../endpoint.js';
import type { NetnoteError } from '../errors.js';
import type { EndReason, OneWayStats, Proto, TlsInfo } from '../events.js';
import type { DatagramSecond } from '../measure/datagram-seconds.js';
import type { ReconnectSummary } from '../run/reconnect.js';
import type { Keepalive } from '../socket/keepalive.js';
import type { HeartbeatSpec, HeartbeatStats } from './heartbeat.js';
import type { RttSummary } from '../measure/rtt.js';
import { projectDay, type WireEstimate, type WireProjection } from '../measure/wire.js';
import type { Family } from '../endpoint.js';
import type { LocalSpec } from '../socket/local.js';
import type { ReplyRule } from './reply.js';
import type { Template } from './template.js';

// The note's exchange, shared by the TCP and the UDP client: what each is told (send a message,
// wait for its reply, sleep, again) and what it reports.

export interface ExchangeConfig {
  host: string;
  port: number;
  local: LocalSpec | null;
  payload: Buffer;
  /** --template: each message is made from this (its `{seq}` is the message number); null sends `payload` as is. */
  template: Template | null;
  /** Messages to send; null sends until the peer closes (TCP) or the run is interrupted. */
  count: number | null;
  /** The note's sleep: pause after a reply (or after a send with wait off) before the next send. */
  intervalMs: number;
  /** false (--no-wait): send on schedule without waiting for each reply. */
  wait: boolean;
  reply: ReplyRule;
  /** --heartbeat: a message of its own when nothing was sent for its interval; null: none. */
  heartbeat: HeartbeatSpec | null;
  /** --report-every: an `interim` event this often; null: none. */
  reportEveryMs: number | null;
}

/** The bytes of message `seq`. */
export function messageFor(config: ExchangeConfig, seq: number): Buffer {
  return config.template ? config.template.expand({ seq, captures: NO_CAPTURES }) : config.payload;
}

const NO_CAPTURES: readonly Buffer[] = [];

export interface Counter {
  messages: number;
  bytes: number;
}

export interface ClientSummary {
  proto: Proto;
  remote: Endpoint | null;
  local: Endpoint | null;
  connected: boolean;
  /** Rounds asked for with --count; null when the run had no bound. */
  rounds: number | null;
  sent: Counter;
  received: Counter;
  rttMs: RttSummary | null;
  durationMs: number;
  ended: EndReason;
  /** UDP only: what happened to the datagrams that did not simply come back. */
  datagrams: DatagramStats | null;
  /** What the run cost on the link, next to its payload (null when it never connected). */
  wire: WireEstimate | null;
  /** The TLS session (tcp-client --tls), as its `tls` line showed it; null without TLS. */
  tls: TlsInfo | null;
  /** --script runs only: how far the script got. */
  script?: ScriptStats;
  /** udp-client to a broadcast address or a multicast group: what it reached, and every device that answered. */
  cast?: 'broadcast' | 'multicast';
  responders?: ResponderStats[];
  /** udp-client --one-way, --reverse: the receiver's view (null: the server never reported). */
  oneWay?: OneWayStats | null;
  /** --heartbeat runs only: heartbeats sent and answered, counted apart from the messages. */
  heartbeats?: HeartbeatStats;
  /** --reconnect runs only: the connections lost and made again. */
  reconnects?: ReconnectSummary;
  /** --keepalive runs only: what the kernel was told, and the probes it sent in the quiet gaps (estimated). */
  keepalive?: Keepalive & { probesSent: number };
}

/** One device that answered a broadcast or a group. */
export interface ResponderStats {
  remote: Endpoint;
  /** Every datagram it sent back, and their bytes. */
  replies: number;
  bytes: number;
  /** Datagrams it answered (again to the same one counts as duplicated). */
  answered: number;
  /** Its round trips; null when none of its replies answered a datagram (foreign). */
  rttMs: { min: number; mean: number; max: number } | null;
}

/** How far a client's --script got. */
export interface ScriptStats {
  /** Steps started, each pass of a repeat counting its steps again. */
  steps: number;
  /** The step the run stopped at when it failed, else null. */
  failedStep: string | null;
}

export interface DatagramStats {
  /** Never answered. */
  lost: number;
  /** Answered after their timeout: counted here, not as lost. */
  late: number;
  /** Answers to a datagram already answered. */
  duplicated: number;
  /** Answers that came after an answer to a later datagram (--probe only). */
  reordered: number;
  /** Datagrams that answer nothing we sent. */
  foreign: number;
  /** Replies from an address other than the destination's (a NAT, a multi-homed server): matched unless --strict-source. */
  otherSource: number;
  lossPercent: number;
  /** RFC 3550 interarrival jitter of the round-trip times, in ms (--probe only). */
  jitterMs: number | null;
  /** The same, second by second of the run. */
  perSecond: DatagramSecond[];
}

export interface ClientResult {
  summary: ClientSummary;
  error: NetnoteError | null;
}

/** Below this interval a run is a measurement, not a device's pattern: no projection. */
const PROJECTED_INTERVAL_MS = 1000;

/**
 * A client that sends at an interval of a second or more (as a device does): its pattern kept up
 * for a day and for 30 days (the wire line's projection), heartbeats, keepalive probes and
 * reconnects included; null for any other run.
 */
export function projectRun(config: ExchangeConfig, run: {
  proto: Proto; family: Family; mtu: number; sent: Counter; received: Counter; rttMs: RttSummary | null; durationMs: number;
  keepaliveIdleMs: number | null; reconnects: number;
}): WireProjection | null {
  if (config.intervalMs < PROJECTED_INTERVAL_MS || run.sent.messages === 0 || (config.count !== null && config.count < 2)) return null;
  const h = config.heartbeat;
  const beat = h?.payload.expand({ seq: 1, captures: NO_CAPTURES }).length ?? 0;
  return projectDay({
    proto: run.proto, family: run.family, mtu: run.mtu,
    cycleMs: config.intervalMs + (config.wait ? run.rttMs?.mean ?? 0 : 0),
    messageBytes: run.sent.bytes / run.sent.messages,
    replyBytes: run.received.messages > 0 ? run.received.bytes / run.received.messages : 0,
    heartbeat: h ? { intervalMs: h.intervalMs, bytes: beat, answerBytes: h.expect?.length ?? (config.reply.kind === 'echo' ? beat : 0) } : null,
    keepaliveIdleMs: run.keepaliveIdleMs,
    reconnectsPerDay: run.durationMs > 0 ? (run.reconnects / run.durationMs) * 86_400_000 : 0,
  });
}

/** Datagrams unanswered, as a percentage of those sent, to 0.001 %. */
export function lossPercent(lost: number, sent: number): number {
  return sent === 0 ? 0 : Math.round((lost / sent) * 1e5) / 1e3;
}

/** The summary of a client run that never got to send: resolution, connect or setup failed. */
export function unconnectedSummary(proto: Proto, rounds: number | null, error: NetnoteError, durationMs: number): ClientSummary {
  const ended: EndReason = error.code === 'interrupted' ? 'interrupted' : error.code === 'timeout' ? 'timeout' : error.code === 'tls' ? 'tls-failed' : 'failed';
  return {
    proto, remote: null, local: null, connected: false, rounds,
    sent: { messages: 0, bytes: 0 }, received: { messages: 0, bytes: 0 }, rttMs: null, durationMs, ended, datagrams: null, wire: null, tls: null,
  };
}
