import type dgram from 'node:dgram';
import { elapsedMs } from '../clock.js';
import { hostPort, type Endpoint } from '../endpoint.js';
import { NetnoteError, fromSystemError } from '../errors.js';
import type { EndReason, EventSink } from '../events.js';
import { DatagramSeconds } from '../measure/datagram-seconds.js';
import { PROBE_HEADER, decodeProbe, encodeProbe } from '../measure/probe.js';
import { RttRecorder } from '../measure/rtt.js';
import { mtuOf, sumWire, udpWire, withProjection } from '../measure/wire.js';
import { lossPercent, messageFor, projectRun, unconnectedSummary, type ClientResult, type Counter, type ExchangeConfig } from '../message/exchange.js';
import { keepsReply, mismatch, replyPasses } from '../message/reply.js';
import { DatagramLog } from '../run/backpressure.js';
import { RunControl } from '../run/control.js';
import { MAX_DATAGRAM, connectUdp } from '../socket/udp.js';
import { UdpHeartbeats } from './heartbeat.js';

export interface UdpClientConfig extends ExchangeConfig {
  /** How long a datagram waits for its reply before it counts as lost (a later reply is late). */
  timeoutMs: number;
  /** Carry a sequence number and send time in each datagram (see measure/probe.ts). */
  probe: boolean;
  /** Exit 1 when more than this percentage of datagrams got no reply. */
  maxLossPercent: number | null;
}

/** The reply timeout when none is given: UDP loses datagrams, so the note's endless wait would hang. */
export const UDP_DEFAULT_TIMEOUT_MS = 1000;

/** The note's UDP client loop, with every reply matched to the datagram it answers. */
export async function runUdpClient(config: UdpClientConfig, sink: EventSink, signal: AbortSignal): Promise<ClientResult> {
  const started = performance.now();
  const rtt = await RttRecorder.create(); // before connecting: a reply must find its handler ready
  let connected: { socket: dgram.Socket; remote: Endpoint };
  try {
    connected = await connectUdp(config, sink);
  } catch (err) {
    const error = fromSystemError(err, { host: config.host, port: config.port, doing: 'connect' });
    return { summary: unconnectedSummary('udp', config.count, error, elapsedMs(started)), error };
  }
  const size = config.payload.length + (config.probe ? PROBE_HEADER : 0);
  const limit = MAX_DATAGRAM[connected.remote.family];
  if (size > limit) {
    connected.socket.close();
    const error = new NetnoteError('usage', `a ${size}-byte datagram is over the ${connected.remote.family} limit of ${limit} bytes`,
      config.probe ? `--probe adds ${PROBE_HEADER} bytes; send at most ${limit - PROBE_HEADER} bytes of payload` : `send at most ${limit} bytes`);
    return { summary: unconnectedSummary('udp', config.count, error, elapsedMs(started)), error };
  }
  return new UdpClientRun(config, sink, connected.socket, connected.remote, started, rtt).run(signal);
}

class UdpClientRun {
  private readonly control = new RunControl();
  private readonly sent: Counter = { messages: 0, bytes: 0 };
  private readonly received: Counter = { messages: 0, bytes: 0 };
  /** Datagrams waiting for their reply, oldest first: seq → send time. */
  private readonly outstanding = new Map<number, number>();
  /** Datagrams whose reply did not come in time, oldest first: seq → send time; a reply still may (late). */
  private readonly overdue = new Map<number, number>();
  /** With --probe: datagrams answered, to tell a duplicate from a first answer. */
  private readonly answered = new Set<number>();
  private highestAnswered = 0;
  private late = 0;
  private duplicated = 0;
  private reordered = 0;
  private foreign = 0;
  private lastRtt: number | null = null;
  private jitter = 0;
  private sweeper: NodeJS.Timeout | undefined;
  private readonly keepReplies: boolean;
  /** With --template and a check on replies: what each datagram still unanswered carried. */
  private readonly sentPayloads = new Map<number, Buffer>();
  private readonly log: DatagramLog;
  private readonly seconds: DatagramSeconds;
  private readonly heartbeats: UdpHeartbeats | null;

  constructor(
    private readonly config: UdpClientConfig,
    private readonly sink: EventSink,
    private readonly socket: dgram.Socket,
    private readonly remote: Endpoint,
    private readonly started: number,
    private readonly rtt: RttRecorder,
  ) {
    this.keepReplies = keepsReply(config.reply);
    this.log = new DatagramLog(sink, 'client');
    this.seconds = new DatagramSeconds(started);
    socket.on('message', this.onMessage);
    this.heartbeats = config.heartbeat
      ? new UdpHeartbeats(config.heartbeat, config.reply.kind === 'echo', socket, remote, sink, (error) => this.control.end('timeout', error))
      : null;
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ECONNREFUSED') {
        this.control.end('failed', new NetnoteError('unreachable', `nothing listening on ${this.where()} (ICMP port unreachable)`,
          'check the port, or start a server there: netnote udp-server HOST PORT'));
      } else {
        this.control.end('failed', fromSystemError(err, { host: remote.address, port: remote.port, doing: 'io' }));
      }
    });
  }

  async run(signal: AbortSignal): Promise<ClientResult> {
    const stopListening = this.control.interruptOn(signal, () => new NetnoteError('interrupted', 'interrupted'));
    const reporter = this.config.reportEveryMs ? setInterval(() => this.sink.emit({
      event: 'interim', role: 'client', elapsedMs: elapsedMs(this.started), sent: { ...this.sent }, received: { ...this.received }, rttMs: this.rtt.percentiles(),
      ...(this.heartbeats ? { heartbeats: { sent: this.heartbeats.stats.sent, answered: this.heartbeats.stats.answered } } : {}),
    }), this.config.reportEveryMs) : undefined;
    try {
      await this.loop();
    } finally {
      stopListening();
      clearTimeout(this.sweeper);
      clearInterval(reporter);
      this.heartbeats?.stop();
    }
    const { reason, error } = this.verdict();
    const local = this.socket.address();
    const mtu = mtuOf(local.address);
    this.socket.close();
    const lost = this.overdue.size + this.outstanding.size;
    const heartbeats = this.heartbeats?.stats;
    for (const sentAt of [...this.overdue.values(), ...this.outstanding.values()]) this.seconds.lost(sentAt);
    return {
      summary: {
        proto: 'udp', remote: this.remote, local: { address: local.address, port: local.port, family: this.remote.family },
        connected: true, rounds: this.config.count, sent: { ...this.sent }, received: { ...this.received },
        rttMs: this.rtt.summary(), durationMs: elapsedMs(this.started), ended: reason, tls: null,
        datagrams: {
          lost, late: this.late, duplicated: this.duplicated, reordered: this.reordered, foreign: this.foreign,
          lossPercent: lossPercent(lost, this.sent.messages),
          jitterMs: this.config.probe && this.lastRtt !== null ? Math.round(this.jitter * 1000) / 1000 : null,
          perSecond: this.seconds.list(),
        },
        wire: withProjection(sumWire(
          udpWire(this.sent.messages, this.sent.bytes, this.remote.family, mtu),
          udpWire(this.received.messages + this.duplicated + this.foreign, this.received.bytes, this.remote.family, mtu),
          ...(heartbeats ? [udpWire(heartbeats.sent, heartbeats.bytesOut, this.remote.family, mtu), udpWire(heartbeats.answered, heartbeats.bytesIn, this.remote.family, mtu)] : []),
        ), projectRun(this.config, {
          proto: 'udp', family: this.remote.family, mtu, sent: this.sent, received: this.received, rttMs: this.rtt.summary(),
          durationMs: elapsedMs(this.started), keepaliveIdleMs: null, reconnects: 0,
        })),
        ...(heartbeats ? { heartbeats } : {}),
      },
      error,
    };
  }

  private async loop(): Promise<void> {
    const { count, intervalMs, wait } = this.config;
    const { control } = this;
    for (let seq = 1; count === null || seq <= count; seq++) {
      if (seq > 1 && intervalMs > 0) await control.until(() => false, intervalMs);
      await control.settle(this.sink.room());
      if (control.ended) return;
      await this.send(seq);
      if (control.ended) return;
      if (wait) {
        // The sweeper takes the datagram off `outstanding` at its timeout, so this always returns.
        await control.until(() => !this.outstanding.has(seq), null);
        if (control.ended) return;
        if (this.answered.has(seq) || !this.config.probe && !this.overdue.has(seq)) {
          if (this.sink.messages) this.sink.emit({ event: 'round', role: 'client', seq });
        }
      } else if (intervalMs === 0) {
        await new Promise((resolve) => setImmediate(resolve)); // let replies in between sends
      }
    }
    await control.until(() => this.outstanding.size === 0, null);
  }

  private verdict(): { reason: EndReason; error: NetnoteError | null } {
    if (this.control.ended) return this.control.ended;
    const { sent, received } = this;
    const lost = this.overdue.size;
    const lossPercent = sent.messages === 0 ? 0 : (lost / sent.messages) * 100;
    if (this.config.wait && sent.messages > 0 && received.messages === 0) {
      return {
        reason: 'timeout',
        error: new NetnoteError('timeout', `no reply to any of ${sent.messages} datagrams from ${this.where()} within ${this.config.timeoutMs} ms each`,
          'nothing may listen there (and ICMP is filtered), or the peer does not answer'),
      };
    }
    if (this.config.maxLossPercent !== null) {
      if (lossPercent > this.config.maxLossPercent) {
        return { reason: 'mismatch', error: new NetnoteError('assertion', `loss ${lossPercent.toFixed(1)}% is over --max-loss ${this.config.maxLossPercent}%`) };
      }
    } else if (this.keepReplies && lost > 0) {
      return { reason: 'mismatch', error: new NetnoteError('assertion', `only ${received.messages} of ${sent.messages} replies arrived`) };
    }
    return { reason: 'completed', error: null };
  }

  private async send(seq: number): Promise<void> {
    const sentAt = performance.now();
    const payload = messageFor(this.config, seq);
    if (this.config.template && this.keepReplies) this.sentPayloads.set(seq, payload);
    const datagram = this.config.probe ? encodeProbe(seq, sentAt, payload) : payload;
    this.outstanding.set(seq, sentAt);
    this.heartbeats?.sent();
    if (this.outstanding.size === 1) this.sweep();
    const error = await new Promise<Error | null>((resolve) => this.socket.send(datagram, (err) => resolve(err ?? null)));
    if (error) {
      this.outstanding.delete(seq);
      const code = (error as NodeJS.ErrnoException).code;
      this.control.end('failed', code === 'EMSGSIZE'
        ? new NetnoteError('usage', `the ${datagram.length}-byte datagram is too long to send to ${this.where()} (EMSGSIZE)`, 'send a smaller payload')
        : fromSystemError(error, { host: this.remote.address, port: this.remote.port, doing: 'io' }));
      return;
    }
    this.sent.messages++;
    this.sent.bytes += datagram.length;
    this.seconds.sent(sentAt);
    if (this.sink.messages) this.sink.emit({ event: 'send', role: 'client', seq, data: datagram });
  }

  /** Moves datagrams past their timeout from outstanding to overdue; one timer for the oldest. */
  private readonly sweep = (): void => {
    clearTimeout(this.sweeper);
    const now = performance.now();
    for (const [seq, sentAt] of this.outstanding) {
      const due = sentAt + this.config.timeoutMs - now;
      if (due > 0) {
        this.sweeper = setTimeout(this.sweep, due);
        return;
      }
      this.outstanding.delete(seq);
      this.overdue.set(seq, sentAt);
      if (this.sink.messages) this.sink.emit({ event: 'no-reply', role: 'client', seq, waitedMs: this.config.timeoutMs });
    }
    this.control.wake();
  };

  private readonly onMessage = (datagram: Buffer): void => {
    if (this.heartbeats?.claim(datagram)) return;
    this.received.bytes += datagram.length;
    const now = performance.now();
    const probe = this.config.probe ? decodeProbe(datagram) : null;
    const seq = this.config.probe ? probe?.seq ?? null : this.fifoSeq();
    let kind: 'late' | 'duplicate' | 'reordered' | 'foreign' | undefined;
    let rttMs: number | undefined;
    if (seq === null) {
      kind = this.config.probe ? 'foreign' : 'duplicate';
    } else if (this.answered.has(seq)) {
      kind = 'duplicate';
    } else if (this.outstanding.has(seq) || this.overdue.has(seq)) {
      const sentAt = probe?.sentAtMs ?? this.outstanding.get(seq) ?? this.overdue.get(seq)!;
      if (this.overdue.delete(seq)) {
        kind = 'late';
        this.late++;
        this.seconds.late(sentAt);
      } else {
        this.outstanding.delete(seq);
        if (seq < this.highestAnswered) kind = 'reordered';
      }
      if (this.config.probe) this.answered.add(seq);
      this.highestAnswered = Math.max(this.highestAnswered, seq);
      this.received.messages++;
      rttMs = Math.round((now - sentAt) * 1000) / 1000;
      this.rtt.record((now - sentAt) * 1e6);
      this.trackJitter(now - sentAt);
      if (this.config.probe) this.seconds.jitter(now, this.jitter);
    } else {
      kind = 'foreign';
    }
    if (kind === 'duplicate') {
      this.duplicated++;
      this.seconds.duplicated(now);
    } else if (kind === 'reordered') {
      this.reordered++;
      this.seconds.reordered(now);
    } else if (kind === 'foreign') {
      this.foreign++;
    }
    if (this.sink.messages) {
      this.log.emit({
        event: 'recv', role: 'client', data: datagram, remote: this.remote,
        ...(seq === null ? {} : { seq }), ...(kind ? { kind } : {}), ...(rttMs === undefined ? {} : { rttMs }),
      });
    }
    if (rttMs !== undefined) {
      const reply = probe ? probe.payload : datagram;
      const sent = this.sentPayloads.get(seq!) ?? this.config.payload;
      this.sentPayloads.delete(seq!);
      if (!replyPasses(this.config.reply, reply, sent)) this.mismatch(seq!, sent, reply);
    }
    this.control.wake();
  };

  /** Without --probe a reply carries no number: it answers the oldest datagram still waiting. */
  private fifoSeq(): number | null {
    for (const seq of this.outstanding.keys()) return seq;
    for (const seq of this.overdue.keys()) return seq;
    return null;
  }

  /** RFC 3550 §6.4.1 interarrival jitter, over round-trip times: J += (|D| - J) / 16. */
  private trackJitter(rtt: number): void {
    if (this.lastRtt !== null) this.jitter += (Math.abs(rtt - this.lastRtt) - this.jitter) / 16;
    this.lastRtt = rtt;
  }

  private mismatch(seq: number, sent: Buffer, got: Buffer): void {
    this.control.end('mismatch', mismatch(this.sink, this.config.reply, sent, seq, got, 'datagram'));
  }

  private where(): string {
    return hostPort(this.remote.address, this.remote.port);
  }
}
