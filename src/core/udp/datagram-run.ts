import type { Endpoint } from '../endpoint.js';
import type { EventSink } from '../events.js';
import { DatagramSeconds } from '../measure/datagram-seconds.js';
import type { RttRecorder } from '../measure/rtt.js';
import type { Counter } from '../message/exchange.js';
import { mismatch, replyPasses } from '../message/reply.js';
import { DatagramLog } from '../run/backpressure.js';
import { RunControl } from '../run/control.js';
import type { UdpClientSocket } from '../socket/udp.js';
import type { UdpClientConfig } from './client-config.js';

/**
 * What a UDP client run that times replies holds (the note's loop, a broadcast's collection): its
 * socket and destination, how it waits and stops, its counters, its log and its seconds. Each
 * datagram that arrives goes to the run's onMessage, whatever address it comes from.
 */
export abstract class DatagramRun {
  protected readonly control = new RunControl();
  protected readonly sent: Counter = { messages: 0, bytes: 0 };
  protected readonly received: Counter = { messages: 0, bytes: 0 };
  protected readonly log: DatagramLog;
  protected readonly seconds: DatagramSeconds;
  protected readonly remote: Endpoint;

  constructor(
    protected readonly config: UdpClientConfig,
    protected readonly sink: EventSink,
    protected readonly socket: UdpClientSocket,
    protected readonly started: number,
    protected readonly rtt: RttRecorder,
  ) {
    this.remote = socket.remote;
    this.log = new DatagramLog(sink, 'client');
    this.seconds = new DatagramSeconds(started);
    socket.onMessage((data, from) => this.onMessage(data, from));
  }

  protected abstract onMessage(data: Buffer, from: Endpoint): void;

  /** The note's `recv data:` line of a datagram, with what it answers (its datagram, how, how fast). */
  protected logReply(data: Buffer, from: Endpoint, seq: number | null, kind: 'late' | 'duplicate' | 'reordered' | 'foreign' | undefined, rttMs: number | undefined): void {
    if (!this.sink.messages) return;
    this.log.emit({
      event: 'recv', role: 'client', data, remote: from,
      ...(seq === null ? {} : { seq }), ...(kind ? { kind } : {}), ...(rttMs === undefined ? {} : { rttMs }),
    });
  }

  /** A reply to datagram `seq` that fails its check (--expect…, --verify-echo) ends the run. */
  protected checkReply(seq: number, reply: Buffer, sent: Buffer): void {
    if (!replyPasses(this.config.reply, reply, sent)) this.control.end('mismatch', mismatch(this.sink, this.config.reply, sent, seq, reply, 'datagram'));
  }
}
