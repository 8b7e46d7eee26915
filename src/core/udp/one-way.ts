import { elapsedMs } from '../clock.js';
import { hostPort, type Endpoint } from '../endpoint.js';
import { NetnoteError, fromSystemError } from '../errors.js';
import type { EndReason, EventSink, OneWayStats } from '../events.js';
import { ProbeReceiver, isOneWayCounts, oneWayStats } from '../measure/one-way.js';
import { Pacer, pause, type Pace } from '../measure/pacer.js';
import { PROBE_HEADER, controlBody, decodeControl, decodeProbe, encodeControl, encodeProbe } from '../measure/probe.js';
import { mtuOf, sumWire, udpWire } from '../measure/wire.js';
import { messageFor, type ClientResult, type Counter } from '../message/exchange.js';
import { DatagramLog } from '../run/backpressure.js';
import { RunControl } from '../run/control.js';
import { SendQueue } from '../run/send-queue.js';
import type { UdpClientSocket } from '../socket/udp.js';
import { datagramPace, openUdpRun, type UdpClientConfig } from './client-config.js';

/** iperf3's -t default: a one-way run given neither --count nor --duration lasts this long. */
export const ONE_WAY_DEFAULT_MS = 10_000;
/** After the last probe, before asking for the report: the last probes' time to arrive. */
const SETTLE_MS = 100;
/** A control message (report request, reverse start) goes again this often until answered. */
const RETRY_MS = 250;
/** -i 0: no schedule at all (the send queue is what holds the sender back). */
const MAX_PER_SECOND = 1e7;

export type OneWayDirection = OneWayStats['direction'];

/**
 * A one-way test against a netnote udp-server (measure/probe.ts has the messages). `send`
 * (--one-way): probes to the server on the pace, then a report request; the summary is what the
 * server received. `receive` (--reverse): the server sends the probes on the pace the client asks
 * for, to the address and port the request came from (through a NAT, the way down to a device
 * behind it); the client counts them itself.
 */
export async function runOneWay(config: UdpClientConfig, direction: OneWayDirection, sink: EventSink, signal: AbortSignal): Promise<ClientResult> {
  const started = performance.now();
  const size = config.payload.length + PROBE_HEADER;
  const opened = await openUdpRun(config, size, true, sink, started);
  if (!('socket' in opened)) return opened;
  if (opened.socket.cast !== 'unicast') {
    opened.socket.close();
    const error = new NetnoteError('usage', `${direction === 'send' ? '--one-way' : '--reverse'} talks to one netnote udp-server, not to a ${opened.socket.cast} address`);
    return { summary: { ...emptySummary(config, opened.socket.remote, started), connected: false, ended: 'failed' }, error };
  }
  // The pace: --rate/--bitrate, else one probe per --interval; -i 0 is as fast as the socket takes
  // them (iperf3 -b 0), so that run ends by the clock, not by a count.
  const unpaced = !config.pace && config.intervalMs === 0;
  const pace: Pace = config.pace ? datagramPace(config.pace, size) : { perSecond: unpaced ? MAX_PER_SECOND : 1000 / config.intervalMs, burst: 1 };
  const durationMs = config.durationMs ?? (config.count === null ? ONE_WAY_DEFAULT_MS : null);
  const byDuration = !unpaced && durationMs !== null && durationMs > 0 ? Math.max(1, Math.round((pace.perSecond * durationMs) / 1000)) : null;
  const count = config.count === null ? byDuration : byDuration === null ? config.count : Math.min(config.count, byDuration);
  const deadline = unpaced && durationMs !== null && durationMs > 0 ? started + durationMs : null;
  const run = new OneWayRun(config, sink, opened.socket, started, pace, count, deadline);
  return direction === 'send' ? run.sendProbes(signal) : run.receiveProbes(signal, size);
}

function emptySummary(config: UdpClientConfig, remote: Endpoint, started: number): ClientResult['summary'] {
  return {
    proto: 'udp', remote, local: null, connected: true, rounds: config.count, sent: { messages: 0, bytes: 0 }, received: { messages: 0, bytes: 0 },
    rttMs: null, durationMs: elapsedMs(started), ended: 'completed', datagrams: null, wire: null, tls: null, oneWay: null,
  };
}

class OneWayRun {
  private readonly control = new RunControl();
  private readonly sent: Counter = { messages: 0, bytes: 0 };
  private readonly received: Counter = { messages: 0, bytes: 0 };
  private readonly remote: Endpoint;
  private readonly log: DatagramLog;
  /** What came back that is not the report: a server's echoes of our probes, anything else. */
  private onDatagram: (data: Buffer, from: Endpoint) => void = () => {};
  /** Control messages sent (report requests, reverse starts and stops): datagrams too, on the wire. */
  private readonly asked: Counter = { messages: 0, bytes: 0 };

  constructor(
    private readonly config: UdpClientConfig,
    private readonly sink: EventSink,
    private readonly socket: UdpClientSocket,
    private readonly started: number,
    private readonly pace: Pace,
    /** Probes in the run; null: until Ctrl-C (or the deadline). */
    private readonly count: number | null,
    /** -i 0 with a duration: sending stops at this time (performance.now()). */
    private readonly deadline: number | null,
  ) {
    this.remote = socket.remote;
    this.log = new DatagramLog(sink, 'client');
    socket.onMessage((data, from) => {
      this.received.messages++;
      this.received.bytes += data.length;
      this.onDatagram(data, from);
    });
    socket.onError((err) => this.control.end('failed', err.code === 'ECONNREFUSED'
      ? new NetnoteError('unreachable', `nothing listening on ${this.where()} (ICMP port unreachable)`, 'start a netnote udp-server there: one-way tests need one')
      : fromSystemError(err, { host: this.remote.address, port: this.remote.port, doing: 'io' })));
  }

  /** --one-way: the probes on the pace, then the server's report of what it received. */
  async sendProbes(signal: AbortSignal): Promise<ClientResult> {
    let report: OneWayStats | null = null;
    let arrived: (() => void) | null = null;
    this.onDatagram = (data) => {
      const message = decodeControl(data);
      const body = message?.kind === 'report' && message.seq === this.sent.messages ? controlBody(message) : null;
      if (isOneWayCounts(body)) {
        const { received, bytes, duplicated, reordered, highestSeq, jitterMs, spanMs, perSecond } = body;
        report = oneWayStats('send', { received, bytes, duplicated, reordered, highestSeq, jitterMs, spanMs, perSecond }, this.sent.messages);
        arrived?.();
      }
    };
    await this.control.whileInterruptible(signal, () => this.stream());
    // Even after Ctrl-C (so not on the run's control, which has ended): what the server received
    // is the point of the run.
    const asked = performance.now();
    await pause(SETTLE_MS);
    while (!report && performance.now() - asked < this.config.timeoutMs + SETTLE_MS && !this.failed()) {
      this.ask(encodeControl('report-request', this.sent.messages));
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, RETRY_MS);
        arrived = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    const got = report as OneWayStats | null;
    let ended = this.control.ended ?? { reason: 'completed' as EndReason, error: null };
    if (!got && !this.failed()) {
      ended = {
        reason: ended.reason === 'interrupted' ? 'interrupted' : 'timeout',
        error: ended.error ?? new NetnoteError('timeout', `no one-way report from ${this.where()} within ${this.config.timeoutMs} ms of the last probe`,
          'the receiver must be a netnote udp-server (any mode; --sink answers nothing else), and its reports must get back'),
      };
    } else if (got && !ended.error) {
      ended = this.lossVerdict(got);
    }
    return this.result(got, ended);
  }

  /** --reverse: ask the server for the stream, count what arrives, until its end message. */
  async receiveProbes(signal: AbortSignal, size: number): Promise<ClientResult> {
    const receiver = new ProbeReceiver();
    let cookie: string | null = null;
    let started = false;
    let end: { sent: number; error: string | null } | null = null;
    let lastHeard = performance.now();
    this.onDatagram = (data, from) => {
      lastHeard = performance.now();
      const probe = decodeProbe(data);
      if (probe) {
        started = true;
        const kind = receiver.receive(probe, data.length, lastHeard);
        if (this.sink.messages) this.log.emit({ event: 'recv', role: 'client', data, remote: from, seq: probe.seq, ...(kind === 'new' ? {} : { kind: kind === 'duplicate' ? 'duplicate' : 'reordered' }) });
        return;
      }
      const message = decodeControl(data);
      if (message?.kind === 'cookie') cookie = message.body.toString('hex');
      if (message?.kind === 'reverse-end') {
        const error = controlBody(message)?.error;
        end = { sent: message.seq, error: typeof error === 'string' ? error : null };
        this.control.wake();
      }
    };
    // -i 0 (no schedule): the server sends as fast as it can for the run's length.
    const request = {
      perSecond: this.pace.perSecond, burst: this.pace.burst, size, count: this.count ?? 0xffffffff,
      ...(this.deadline === null ? {} : { durationMs: Math.round(this.deadline - this.started) }),
    };
    await this.control.whileInterruptible(signal, async () => {
      // The start goes again until probes come: lost on the way, or answered with a cookie first
      // (which it then carries back at once).
      const asked = performance.now();
      while (!started && !end && !this.control.ended && performance.now() - asked < this.config.timeoutMs) {
        const hadCookie = cookie !== null;
        this.ask(encodeControl('reverse-start', 0, { ...request, ...(cookie ? { cookie } : {}) }));
        await this.control.until(() => started || end !== null || (!hadCookie && cookie !== null), RETRY_MS);
      }
      // Then until the end message, or until the stream stays quiet for --timeout past its pace.
      const quietMs = this.config.timeoutMs + (this.pace.burst * 1000) / this.pace.perSecond;
      while (started && !end && !this.control.ended) {
        const quiet = performance.now() - lastHeard;
        if (quiet >= quietMs) break;
        await this.control.until(() => end !== null, quietMs - quiet);
      }
    });
    const finished = end as { sent: number; error: string | null } | null;
    if (this.control.ended?.reason === 'interrupted') {
      for (let i = 0; i < 3; i++) this.ask(encodeControl('reverse-stop', 0));
    }
    let ended = this.control.ended ?? { reason: 'completed' as EndReason, error: null };
    const counts = receiver.counts();
    const stats = started ? oneWayStats('receive', counts, finished?.sent ?? null) : null;
    if (finished?.error) {
      ended = { reason: 'failed', error: new NetnoteError('unreachable', `${this.where()} refused the reverse stream: ${finished.error}`) };
    } else if (!started && !ended.error) {
      ended = {
        reason: 'timeout',
        error: new NetnoteError('timeout', `no reverse stream from ${this.where()} within ${this.config.timeoutMs} ms`,
          'the sender must be a netnote udp-server, and what it sends must get back (a firewall, a NAT that drops it)'),
      };
    } else if (stats && !ended.error) {
      ended = this.lossVerdict(stats);
    }
    return this.result(stats, ended);
  }

  /** The probes on the pace (the send queue keeps libuv's queue bounded). */
  private async stream(): Promise<void> {
    const pacer = new Pacer(this.pace);
    const queue = new SendQueue((data, done) => this.socket.send(data, done));
    for (let seq = 1; this.count === null || seq <= this.count; seq++) {
      const wait = pacer.waitMs(seq - 1);
      if (wait >= 1) await this.control.until(() => false, wait);
      else if (wait > 0) await pause(wait);
      await this.control.settle(this.sink.room());
      if (this.control.ended || (this.deadline !== null && performance.now() >= this.deadline)) break;
      const data = encodeProbe(seq, performance.now(), messageFor(this.config, seq));
      await queue.push(data, (err) => {
        if (err) {
          this.control.end('failed', fromSystemError(err, { host: this.remote.address, port: this.remote.port, doing: 'io' }));
          return;
        }
        this.sent.messages++;
        this.sent.bytes += data.length;
        if (this.sink.messages) this.sink.emit({ event: 'send', role: 'client', seq, data });
      });
    }
    await queue.drained();
  }

  private ask(message: Buffer): void {
    this.asked.messages++;
    this.asked.bytes += message.length;
    this.socket.send(message, () => {});
  }

  private failed(): boolean {
    return this.control.ended?.reason === 'failed';
  }

  private lossVerdict(stats: OneWayStats): { reason: EndReason; error: NetnoteError | null } {
    const max = this.config.maxLossPercent;
    if (max !== null && stats.lossPercent > max) {
      return { reason: 'mismatch', error: new NetnoteError('assertion', `loss ${stats.lossPercent.toFixed(1)}% is over --max-loss ${max}%`) };
    }
    return this.control.ended ?? { reason: 'completed', error: null };
  }

  private result(oneWay: OneWayStats | null, ended: { reason: EndReason; error: NetnoteError | null }): ClientResult {
    const local = this.socket.local();
    const mtu = mtuOf(local.address);
    this.socket.close();
    return {
      summary: {
        ...emptySummary(this.config, this.remote, this.started), local: { ...local, family: this.remote.family },
        sent: { ...this.sent }, received: { ...this.received }, ended: ended.reason, oneWay,
        wire: sumWire(
          udpWire(this.sent.messages + this.asked.messages, this.sent.bytes + this.asked.bytes, this.remote.family, mtu),
          udpWire(this.received.messages, this.received.bytes, this.remote.family, mtu),
        ),
      },
      error: ended.error,
    };
  }

  private where(): string {
    return hostPort(this.remote.address, this.remote.port);
  }
}
