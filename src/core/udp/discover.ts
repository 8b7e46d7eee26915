import { elapsedMs } from '../clock.js';
import { hostPort, type Endpoint } from '../endpoint.js';
import { NetnoteError, fromSystemError } from '../errors.js';
import type { EndReason, EventSink } from '../events.js';
import { decodeProbe, encodeProbe } from '../measure/probe.js';
import type { RttRecorder } from '../measure/rtt.js';
import { mtuOf, sumWire, udpWire } from '../measure/wire.js';
import { lossPercent, messageFor, type ClientResult, type ResponderStats } from '../message/exchange.js';
import { keepsReply } from '../message/reply.js';
import type { UdpClientSocket } from '../socket/udp.js';
import type { UdpClientConfig } from './client-config.js';
import { DatagramRun } from './datagram-run.js';

/** Devices listed in one run (a flood of sources must not grow memory without bound): more are only counted as replies. */
const TRACKED_RESPONDERS = 1000;

interface Tracked {
  stats: ResponderStats;
  rttSum: number;
  timed: number;
  /** The datagrams it answered, to tell its duplicates from its first answers. */
  seqs: Set<number>;
}

/** Datagrams to a broadcast or a group when --count is not given: one question, every answer. */
const DISCOVERY_COUNT = 1;

/** A broadcast or a group: every device's answers, collected per device. */
export function runDiscovery(config: UdpClientConfig, sink: EventSink, socket: UdpClientSocket, started: number, rtt: RttRecorder, signal: AbortSignal): Promise<ClientResult> {
  return new Discovery(config, sink, socket, started, rtt).run(signal);
}

/**
 * Device discovery as a LAN does it: a datagram to a broadcast address or a multicast group, and
 * every answer from every device collected for --timeout after it, whoever sends it. A reply
 * answers the datagram its probe header names (--probe), else the last one sent.
 */
class Discovery extends DatagramRun {
  /** seq → send time and payload of each datagram sent. */
  private readonly datagrams = new Map<number, { sentAt: number; payload: Buffer }>();
  /** Datagrams at least one device answered. */
  private readonly answered = new Set<number>();
  private readonly responders = new Map<string, Tracked>();
  private current = 0;
  private duplicated = 0;
  private foreign = 0;

  constructor(config: UdpClientConfig, sink: EventSink, socket: UdpClientSocket, started: number, rtt: RttRecorder) {
    super(config, sink, socket, started, rtt);
    socket.onError((err) => this.control.end('failed', fromSystemError(err, { host: this.remote.address, port: this.remote.port, doing: 'io' })));
  }

  async run(signal: AbortSignal): Promise<ClientResult> {
    await this.control.whileInterruptible(signal, () => this.loop());
    const { reason, error } = this.verdict();
    const local = this.socket.local();
    const mtu = mtuOf(local.address);
    this.socket.close();
    const unanswered = [...this.datagrams].filter(([seq]) => !this.answered.has(seq));
    for (const [, { sentAt }] of unanswered) this.seconds.lost(sentAt);
    return {
      summary: {
        proto: 'udp', remote: this.remote, local, connected: true, rounds: this.config.count ?? DISCOVERY_COUNT,
        sent: { ...this.sent }, received: { ...this.received }, rttMs: this.rtt.summary(), durationMs: elapsedMs(this.started), ended: reason, tls: null,
        datagrams: {
          lost: unanswered.length, late: 0, duplicated: this.duplicated, reordered: 0, foreign: this.foreign, otherSource: 0,
          lossPercent: lossPercent(unanswered.length, this.sent.messages), jitterMs: null, perSecond: this.seconds.list(),
        },
        wire: sumWire(udpWire(this.sent.messages, this.sent.bytes, this.remote.family, mtu), udpWire(this.received.messages, this.received.bytes, this.remote.family, mtu)),
        cast: this.socket.cast === 'broadcast' ? 'broadcast' : 'multicast',
        responders: [...this.responders.values()].map((r) => ({ ...r.stats, rttMs: r.timed === 0 ? null : { ...r.stats.rttMs!, mean: round3(r.rttSum / r.timed) } })),
      },
      error,
    };
  }

  /** Each datagram, then its answers for --timeout, then the interval before the next. */
  private async loop(): Promise<void> {
    const { intervalMs, timeoutMs } = this.config;
    const count = this.config.count ?? DISCOVERY_COUNT;
    const { control } = this;
    for (let seq = 1; count === null || seq <= count; seq++) {
      if (seq > 1 && intervalMs > 0) await control.until(() => false, intervalMs);
      await control.settle(this.sink.room());
      if (control.ended) return;
      await this.send(seq);
      if (control.ended) return;
      await control.until(() => false, timeoutMs);
      if (control.ended) return;
      if (this.sink.messages) this.sink.emit({ event: 'round', role: 'client', seq });
    }
  }

  private async send(seq: number): Promise<void> {
    const sentAt = performance.now();
    const payload = messageFor(this.config, seq);
    const data = this.config.probe ? encodeProbe(seq, sentAt, payload) : payload;
    const error = await new Promise<Error | null>((resolve) => this.socket.send(data, resolve));
    if (error) {
      this.control.end('failed', fromSystemError(error, { host: this.remote.address, port: this.remote.port, doing: 'io' }));
      return;
    }
    this.datagrams.set(seq, { sentAt, payload });
    this.current = seq;
    this.sent.messages++;
    this.sent.bytes += data.length;
    this.seconds.sent(sentAt);
    if (this.sink.messages) this.sink.emit({ event: 'send', role: 'client', seq, data });
  }

  private verdict(): { reason: EndReason; error: NetnoteError | null } {
    if (this.control.ended) return this.control.ended;
    const sent = this.sent.messages;
    const lost = sent - this.answered.size;
    if (sent > 0 && this.responders.size === 0) {
      const hint = this.socket.cast === 'broadcast'
        ? 'nothing on that subnet answers on that port, or a firewall drops broadcasts; --bind picks the NIC it leaves by'
        : 'no member of the group answers on that port: check --ttl and the NIC it leaves by (--multicast-interface)';
      return {
        reason: 'timeout',
        error: new NetnoteError('timeout', `no device answered any of ${sent} datagrams sent to ${hostPort(this.remote.address, this.remote.port)} within ${this.config.timeoutMs} ms each`, hint),
      };
    }
    if (this.config.maxLossPercent !== null) {
      const percent = sent === 0 ? 0 : (lost / sent) * 100;
      if (percent > this.config.maxLossPercent) {
        return { reason: 'mismatch', error: new NetnoteError('assertion', `loss ${percent.toFixed(1)}% is over --max-loss ${this.config.maxLossPercent}%`) };
      }
    } else if (keepsReply(this.config.reply) && lost > 0) {
      return { reason: 'mismatch', error: new NetnoteError('assertion', `only ${this.answered.size} of ${sent} datagrams were answered`) };
    }
    return { reason: 'completed', error: null };
  }

  protected onMessage(datagram: Buffer, from: Endpoint): void {
    const now = performance.now();
    this.received.messages++;
    this.received.bytes += datagram.length;
    const probe = this.config.probe ? decodeProbe(datagram) : null;
    const seq = this.config.probe ? probe?.seq ?? null : this.current || null;
    const sent = seq === null ? undefined : this.datagrams.get(seq);
    const device = this.device(from);
    if (device) {
      device.stats.replies++;
      device.stats.bytes += datagram.length;
    }
    let kind: 'duplicate' | 'foreign' | undefined;
    let rttMs: number | undefined;
    if (!sent) {
      kind = 'foreign';
      this.foreign++;
    } else if (device?.seqs.has(seq!)) {
      kind = 'duplicate';
      this.duplicated++;
      this.seconds.duplicated(now);
    } else {
      const took = now - (probe?.sentAtMs ?? sent.sentAt);
      rttMs = round3(took);
      this.rtt.record(took * 1e6);
      this.answered.add(seq!);
      if (device) {
        device.seqs.add(seq!);
        device.stats.answered++;
        device.timed++;
        device.rttSum += took;
        const r = device.stats.rttMs;
        device.stats.rttMs = r ? { min: Math.min(r.min, rttMs), mean: 0, max: Math.max(r.max, rttMs) } : { min: rttMs, mean: 0, max: rttMs };
      }
    }
    this.logReply(datagram, from, seq, kind, rttMs);
    if (rttMs !== undefined) this.checkReply(seq!, probe ? probe.payload : datagram, sent!.payload);
  };

  /** The device at `from`, first seen now or before; null once too many were seen. */
  private device(from: Endpoint): Tracked | null {
    const key = `${from.address}|${from.port}`;
    let device = this.responders.get(key);
    if (!device) {
      if (this.responders.size >= TRACKED_RESPONDERS) return null;
      device = { stats: { remote: from, replies: 0, bytes: 0, answered: 0, rttMs: null }, rttSum: 0, timed: 0, seqs: new Set() };
      this.responders.set(key, device);
    }
    return device;
  }
}

const round3 = (value: number): number => Math.round(value * 1000) / 1000;
