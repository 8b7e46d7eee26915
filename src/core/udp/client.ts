import { elapsedMs } from '../clock.js';
import { hostPort, type Endpoint } from '../endpoint.js';
import { NetnoteError, fromSystemError } from '../errors.js';
import type { EndReason, EventSink } from '../events.js';
import { Pacer, pause, type Pace } from '../measure/pacer.js';
import { PROBE_HEADER, decodeProbe, encodeProbe } from '../measure/probe.js';
import { RttRecorder } from '../measure/rtt.js';
import { mtuOf, sumWire, udpWire, withProjection } from '../measure/wire.js';
import { lossPercent, messageFor, projectRun, type ClientResult } from '../message/exchange.js';
import { keepsReply } from '../message/reply.js';
import { SendQueue } from '../run/send-queue.js';
import { sameEndpoint, type UdpClientSocket } from '../socket/udp.js';
import { datagramPace, openUdpRun, type UdpClientConfig } from './client-config.js';
import { runDiscovery } from './discover.js';
import { DatagramRun } from './datagram-run.js';
import { UdpHeartbeats } from './heartbeat.js';

/** The note's UDP client loop, with every reply matched to the datagram it answers. */
export async function runUdpClient(config: UdpClientConfig, sink: EventSink, signal: AbortSignal): Promise<ClientResult> {
  const started = performance.now();
  const rtt = await RttRecorder.create(); // before opening: a reply must find its handler ready
  const size = config.payload.length + (config.probe ? PROBE_HEADER : 0);
  const opened = await openUdpRun(config, size, config.probe, sink, started);
  if (!('socket' in opened)) return opened;
  if (opened.socket.cast !== 'unicast') return runDiscovery(config, sink, opened.socket, started, rtt, signal);
  return new UdpClientRun(config, sink, opened.socket, started, rtt, config.pace ? datagramPace(config.pace, size) : null).run(signal);
}

class UdpClientRun extends DatagramRun {
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
  /** Replies from an address other than the destination's (matched unless --strict-source). */
  private otherSource = 0;
  private lastRtt: number | null = null;
  private jitter = 0;
  private sweeper: NodeJS.Timeout | undefined;
  private readonly keepReplies: boolean;
  /** With --template and a check on replies: what each datagram still unanswered carried. */
  private readonly sentPayloads = new Map<number, Buffer>();
  private readonly heartbeats: UdpHeartbeats | null;

  constructor(config: UdpClientConfig, sink: EventSink, socket: UdpClientSocket, started: number, rtt: RttRecorder, private readonly pace: Pace | null) {
    super(config, sink, socket, started, rtt);
    this.keepReplies = keepsReply(config.reply);
    this.heartbeats = config.heartbeat
      ? new UdpHeartbeats(config.heartbeat, config.reply.kind === 'echo', socket, this.remote, sink, (error) => this.control.end('timeout', error))
      : null;
    socket.onError((err) => {
      if (err.code === 'ECONNREFUSED') {
        this.control.end('failed', new NetnoteError('unreachable', `nothing listening on ${this.where()} (ICMP port unreachable)`,
          'check the port, or start a server there: netnote udp-server HOST PORT'));
      } else {
        this.control.end('failed', fromSystemError(err, { host: this.remote.address, port: this.remote.port, doing: 'io' }));
      }
    });
  }

  async run(signal: AbortSignal): Promise<ClientResult> {
    const reporter = this.config.reportEveryMs ? setInterval(() => this.sink.emit({
      event: 'interim', role: 'client', elapsedMs: elapsedMs(this.started), sent: { ...this.sent }, received: { ...this.received }, rttMs: this.rtt.percentiles(),
      ...(this.heartbeats ? { heartbeats: { sent: this.heartbeats.stats.sent, answered: this.heartbeats.stats.answered } } : {}),
    }), this.config.reportEveryMs) : undefined;
    try {
      await this.control.whileInterruptible(signal, async () => {
        await (this.pace ? this.pacedLoop(this.pace) : this.loop());
        await this.control.until(() => this.outstanding.size === 0, null);
      });
    } finally {
      clearTimeout(this.sweeper);
      clearInterval(reporter);
      this.heartbeats?.stop();
    }
    const { reason, error } = this.verdict();
    const local = this.socket.local();
    const mtu = mtuOf(local.address);
    this.socket.close();
    const lost = this.overdue.size + this.outstanding.size;
    const heartbeats = this.heartbeats?.stats;
    for (const sentAt of [...this.overdue.values(), ...this.outstanding.values()]) this.seconds.lost(sentAt);
    return {
      summary: {
        proto: 'udp', remote: this.remote, local: { ...local, family: this.remote.family },
        connected: true, rounds: this.config.count, sent: { ...this.sent }, received: { ...this.received },
        rttMs: this.rtt.summary(), durationMs: elapsedMs(this.started), ended: reason, tls: null,
        datagrams: {
          lost, late: this.late, duplicated: this.duplicated, reordered: this.reordered, foreign: this.foreign, otherSource: this.otherSource,
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

  /** The note's loop: send, wait for the reply (or not, --no-wait), sleep the interval, again. */
  private async loop(): Promise<void> {
    const { count, intervalMs, wait, durationMs } = this.config;
    const { control } = this;
    for (let seq = 1; count === null || seq <= count; seq++) {
      if (seq > 1 && intervalMs > 0) await control.until(() => false, intervalMs);
      await control.settle(this.sink.room());
      if (control.ended || (durationMs !== null && durationMs > 0 && performance.now() - this.started >= durationMs)) return;
      const datagram = this.prepare(seq);
      const error = await new Promise<Error | null>((resolve) => this.socket.send(datagram.data, resolve));
      this.confirm(seq, datagram, error);
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
  }

  /**
   * --rate / --bitrate: datagrams on the pacer's schedule, handed to the socket without waiting
   * for each one (the send queue bounds how many wait in libuv); replies counted as they come.
   */
  private async pacedLoop(pace: Pace): Promise<void> {
    const { control } = this;
    const pacer = new Pacer(pace);
    const queue = new SendQueue((data, done) => this.socket.send(data, done));
    const { durationMs } = this.config;
    const byDuration = durationMs !== null && durationMs > 0 ? Math.max(1, Math.round((pace.perSecond * durationMs) / 1000)) : null;
    const count = this.config.count === null ? byDuration : byDuration === null ? this.config.count : Math.min(this.config.count, byDuration);
    for (let seq = 1; count === null || seq <= count; seq++) {
      const wait = pacer.waitMs(seq - 1);
      if (wait >= 1) await control.until(() => false, wait);
      else if (wait > 0) await pause(wait);
      await control.settle(this.sink.room());
      if (control.ended) break;
      const datagram = this.prepare(seq);
      await queue.push(datagram.data, (error) => this.confirm(seq, datagram, error));
    }
    await queue.drained();
  }

  private verdict(): { reason: EndReason; error: NetnoteError | null } {
    if (this.control.ended) return this.control.ended;
    const { sent, received } = this;
    const lost = this.overdue.size;
    const lossPercent = sent.messages === 0 ? 0 : (lost / sent.messages) * 100;
    if (this.config.wait && !this.pace && sent.messages > 0 && received.messages === 0) {
      const elsewhere = this.config.strictSource && this.otherSource > 0
        ? `${this.otherSource === 1 ? '1 reply' : `${this.otherSource} replies`} came from another address: without --strict-source ${this.otherSource === 1 ? 'it counts' : 'they count'}`
        : 'nothing may listen there (and ICMP is filtered), or the peer does not answer';
      return {
        reason: 'timeout',
        error: new NetnoteError('timeout', `no reply to any of ${sent.messages} datagrams from ${this.where()} within ${this.config.timeoutMs} ms each`, elsewhere),
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

  /** Datagram `seq`, made and waiting for its reply from now on. */
  private prepare(seq: number): { data: Buffer; sentAt: number } {
    const sentAt = performance.now();
    const payload = messageFor(this.config, seq);
    if (this.config.template && this.keepReplies) this.sentPayloads.set(seq, payload);
    const data = this.config.probe ? encodeProbe(seq, sentAt, payload) : payload;
    this.outstanding.set(seq, sentAt);
    this.heartbeats?.sent();
    if (this.outstanding.size === 1) this.sweep();
    return { data, sentAt };
  }

  /** The socket is through with datagram `seq`: counted as sent, or the run ends on the error. */
  private confirm(seq: number, datagram: { data: Buffer; sentAt: number }, error: Error | null): void {
    if (error) {
      this.outstanding.delete(seq);
      const code = (error as NodeJS.ErrnoException).code;
      this.control.end('failed', code === 'EMSGSIZE'
        ? new NetnoteError('usage', `the ${datagram.data.length}-byte datagram is too long to send to ${this.where()} (EMSGSIZE)`, 'send a smaller payload')
        : code === 'ECONNREFUSED'
          ? new NetnoteError('unreachable', `nothing listening on ${this.where()} (ICMP port unreachable)`, 'check the port, or start a server there: netnote udp-server HOST PORT')
          : fromSystemError(error, { host: this.remote.address, port: this.remote.port, doing: 'io' }));
      return;
    }
    this.sent.messages++;
    this.sent.bytes += datagram.data.length;
    this.seconds.sent(datagram.sentAt);
    if (this.sink.messages) this.sink.emit({ event: 'send', role: 'client', seq, data: datagram.data });
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

  protected onMessage(datagram: Buffer, from: Endpoint): void {
    if (this.heartbeats?.claim(datagram)) return;
    this.received.bytes += datagram.length;
    const now = performance.now();
    const elsewhere = !sameEndpoint(from, this.remote);
    if (elsewhere && this.otherSource++ === 0) this.warnOtherSource(from);
    const strange = elsewhere && this.config.strictSource;
    const probe = this.config.probe && !strange ? decodeProbe(datagram) : null;
    const seq = strange ? null : this.config.probe ? probe?.seq ?? null : this.fifoSeq();
    let kind: 'late' | 'duplicate' | 'reordered' | 'foreign' | undefined;
    let rttMs: number | undefined;
    if (seq === null) {
      kind = this.config.probe || strange ? 'foreign' : 'duplicate';
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
    this.logReply(datagram, from, seq, kind, rttMs);
    if (rttMs !== undefined) {
      const sent = this.sentPayloads.get(seq!) ?? this.config.payload;
      this.sentPayloads.delete(seq!);
      this.checkReply(seq!, probe ? probe.payload : datagram, sent);
    }
    this.control.wake();
  };

  /** Once a run: replies come from another address than the one the datagrams go to. */
  private warnOtherSource(from: Endpoint): void {
    const counted = this.config.strictSource
      ? 'counted as foreign (--strict-source)'
      : 'matched and counted as replies (--strict-source counts them as foreign)';
    this.sink.emit({
      event: 'warning', role: 'client',
      message: `replies come from ${from.address}, ${from.port}, not from ${this.remote.address}, ${this.remote.port} where the datagrams go: ` +
        `a NAT on the way, or a multi-homed server bound to a wildcard address answering from another of its addresses; ${counted}`,
    });
  }

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

  private where(): string {
    return hostPort(this.remote.address, this.remote.port);
  }
}
