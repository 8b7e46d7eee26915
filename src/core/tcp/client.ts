import type net from 'node:net';
import { elapsedMs } from '../clock.js';
import { hostPort, type Endpoint } from '../endpoint.js';
import { NetnoteError, fromSystemError } from '../errors.js';
import type { EndReason, EventSink } from '../events.js';
import { RttRecorder } from '../measure/rtt.js';
import { mtuOf, tcpExchangeWire } from '../measure/wire.js';
import { messageFor, unconnectedSummary, type ClientResult, type Counter, type ExchangeConfig } from '../message/exchange.js';
import { FrameError, Framer, frameName, type Frame, type FrameSpec } from '../message/frame.js';
import { MAX_REGEX_REPLY, keepsReply, mismatch, regexComplete, replyLength, replyPasses } from '../message/reply.js';
import { pauseForOutput } from '../run/backpressure.js';
import { LoopTurns, RunControl } from '../run/control.js';
import type { Keepalive } from '../socket/keepalive.js';
import { connectTcp, localEndpoint, remoteEndpoint } from '../socket/tcp.js';
import { tlsSession, type TlsClient } from '../socket/tls.js';

export interface TcpClientConfig extends ExchangeConfig {
  /** --tls: the exchange runs over TLS (the loop never knows). */
  tls: TlsClient | null;
  /** Connect timeout, and the per-reply timeout; null waits forever, as the note does. */
  timeoutMs: number | null;
  /** With wait off: at most this many messages awaiting their reply; then sending waits. */
  maxInFlight: number;
  /** --frame: a reply is the next message the framer cuts; null frames by length, as without it. */
  frame: FrameSpec | null;
  /** --keepalive; null leaves SO_KEEPALIVE off, as the note's socket has it. */
  keepalive: Keepalive | null;
}

/** How long --no-wait lingers for outstanding replies after the last send when no --timeout is given. */
const NO_WAIT_LINGER_MS = 1000;

/** A message whose reply is still coming in. */
interface Outstanding {
  seq: number;
  /** What was sent: an echo is checked against it. */
  sent: Buffer;
  sentAt: number;
  /** Bytes still to come; null when a regex decides. */
  need: number | null;
  parts: Buffer[] | null;
  size: number;
}

/** The note's TCP client loop: connect, then send, wait for the reply, sleep, again. */
export async function runTcpClient(config: TcpClientConfig, sink: EventSink, signal: AbortSignal): Promise<ClientResult> {
  const started = performance.now();
  const rtt = await RttRecorder.create(); // before connecting: a reply must find its handler ready
  let socket: net.Socket;
  try {
    socket = await connectTcp({ host: config.host, port: config.port, local: config.local, timeoutMs: config.timeoutMs, signal, tls: config.tls, keepalive: config.keepalive }, sink);
  } catch (err) {
    const error = fromSystemError(err, { host: config.host, port: config.port, doing: 'connect' });
    return { summary: unconnectedSummary('tcp', config.count, error, elapsedMs(started)), error };
  }
  return new TcpClientRun(config, sink, socket, started, rtt).run(signal);
}

class TcpClientRun {
  private readonly sent: Counter = { messages: 0, bytes: 0 };
  private readonly received: Counter = { messages: 0, bytes: 0 };
  private readonly pending: Outstanding[] = [];
  private readonly keepReplies: boolean;
  private readonly control = new RunControl();
  private blocked = false;
  private windowFull = false;
  private readonly turns = new LoopTurns();
  private readonly framer: Framer | null;
  // Read now: a socket the peer closed no longer knows its addresses.
  private readonly local: Endpoint;
  private readonly remote: Endpoint;

  constructor(
    private readonly config: TcpClientConfig,
    private readonly sink: EventSink,
    private readonly socket: net.Socket,
    private readonly started: number,
    private readonly rtt: RttRecorder,
  ) {
    this.keepReplies = keepsReply(config.reply);
    this.framer = config.frame ? new Framer(config.frame) : null;
    this.local = localEndpoint(socket);
    this.remote = remoteEndpoint(socket);
    socket.on('data', this.onData);
    socket.on('end', () => this.control.end('peer-closed', null));
    socket.on('error', (err) => {
      const error = fromSystemError(err, { host: config.host, port: config.port, doing: 'io' });
      this.control.end(error.code === 'lost' ? 'reset' : error.code === 'tls' ? 'tls-failed' : 'failed', error);
    });
    socket.on('close', () => this.control.end('peer-closed', null));
  }

  async run(signal: AbortSignal): Promise<ClientResult> {
    const stopListening = this.control.interruptOn(signal, () => new NetnoteError('interrupted', 'interrupted'));
    try {
      await this.loop();
    } finally {
      stopListening();
    }
    const { reason, error } = this.verdict();
    const { remote, local } = this;
    this.socket.off('data', this.onData);
    this.socket.end();
    this.socket.destroySoon();
    const durationMs = elapsedMs(this.started);
    this.sink.emit({ event: 'closed', role: 'client', reason, remote, bytesIn: this.received.bytes, bytesOut: this.sent.bytes, ms: durationMs });
    return {
      summary: {
        proto: 'tcp', remote, local, connected: true, rounds: this.config.count,
        sent: { ...this.sent }, received: { ...this.received }, rttMs: this.rtt.summary(),
        durationMs, ended: reason, datagrams: null, tls: tlsSession(this.socket),
        wire: tcpExchangeWire({
          family: local.family, mtu: mtuOf(local.address), messages: this.sent.messages, messageBytes: this.sent.bytes,
          replies: this.received.messages, replyBytes: this.received.bytes, intervalMs: this.config.intervalMs,
        }),
      },
      error,
    };
  }

  private async loop(): Promise<void> {
    const { count, intervalMs, timeoutMs, wait } = this.config;
    for (let seq = 1; count === null || seq <= count; seq++) {
      if (seq > 1 && intervalMs > 0) await this.control.until(() => false, intervalMs);
      await this.control.settle(this.sink.room());
      if (this.control.ended) return;
      await this.send(seq);
      if (this.control.ended) return;
      if (!wait) {
        await this.pace();
        continue;
      }
      if (!(await this.replies(timeoutMs))) {
        if (!this.control.ended) {
          this.incomplete();
          this.control.end('timeout', new NetnoteError('timeout', `no reply to message ${seq} from ${this.where()} within ${timeoutMs} ms (reply timeout)`,
            'the peer may not echo: use --expect to say what it answers, or --no-wait'));
        }
        return;
      }
      if (this.control.ended) return;
      if (this.sink.messages) this.sink.emit({ event: 'round', role: 'client', seq });
    }
    if (!wait) await this.replies(timeoutMs ?? NO_WAIT_LINGER_MS);
  }

  /**
   * Waits for every pending reply. Time the output was full does not count: the socket was paused
   * for it, as the note's recv() timeout does not run while its print() blocks.
   */
  private async replies(timeoutMs: number | null): Promise<boolean> {
    for (;;) {
      if (await this.control.until(() => this.pending.length === 0, timeoutMs)) return true;
      const room = this.sink.room();
      if (this.control.ended || !room) return false;
      await this.control.settle(room);
    }
  }

  /** Between --no-wait sends: turns of the event loop, and at most --max-in-flight messages awaiting a reply. */
  private async pace(): Promise<void> {
    const { maxInFlight, intervalMs, timeoutMs } = this.config;
    if (this.pending.length < maxInFlight) {
      if (intervalMs === 0) await this.turns.take();
      return;
    }
    if (!this.windowFull) {
      this.windowFull = true;
      this.sink.emit({ event: 'warning', role: 'client', message: `${maxInFlight} messages await their reply: each send now waits for one (--max-in-flight)` });
    }
    if (!(await this.control.until(() => this.pending.length < maxInFlight, timeoutMs)) && !this.control.ended) {
      this.control.end('timeout', new NetnoteError('timeout', `no reply from ${this.where()} within ${timeoutMs} ms while ${maxInFlight} messages awaited theirs`,
        'the peer may not answer: --stream only sends'));
    }
  }

  /** Turns how the loop stopped into the run's end reason and the error that sets the exit code. */
  private verdict(): { reason: EndReason; error: NetnoteError | null } {
    const { count, wait } = this.config;
    const missing = this.sent.messages - this.received.messages;
    if (this.control.ended && this.control.ended.reason !== 'peer-closed') return this.control.ended;
    const allSent = count !== null && this.sent.messages >= count;
    if (this.control.ended) {
      // A peer closing is how an unbounded run ends (as in the note); with --count it is early.
      if (count === null || (allSent && (!wait || missing === 0))) return { reason: 'peer-closed', error: null };
      return {
        reason: 'peer-closed',
        error: new NetnoteError('lost', `${this.where()} closed the connection after ${this.received.messages} of ${count} replies`),
      };
    }
    if (this.keepReplies && missing > 0) {
      return {
        reason: 'mismatch',
        error: new NetnoteError('assertion', `only ${this.received.messages} of ${this.sent.messages} replies arrived`),
      };
    }
    return { reason: 'completed', error: null };
  }

  /** A reply timeout with part of a message buffered says what that part was. */
  private incomplete(): void {
    const buffered = this.framer?.buffered;
    if (!buffered?.length) return;
    this.sink.emit({
      event: 'frame-error', role: 'client', frame: frameName(this.config.frame!), remote: this.remote, buffered,
      message: `the message was still incomplete after ${buffered.length} bytes`,
    });
  }

  private async send(seq: number): Promise<void> {
    const payload = messageFor(this.config, seq);
    const need = this.framer ? null : replyLength(this.config.reply, payload);
    this.pending.push({ seq, sent: payload, sentAt: performance.now(), need, parts: this.keepReplies ? [] : null, size: 0 });
    const flushed = this.socket.write(payload);
    this.sent.messages++;
    this.sent.bytes += payload.length;
    if (this.sink.messages) this.sink.emit({ event: 'send', role: 'client', seq, data: payload });
    if (!flushed) {
      this.blocked = true;
      this.socket.once('drain', () => {
        this.blocked = false;
        this.control.wake();
      });
      await this.control.until(() => !this.blocked, null);
    }
  }

  private readonly onData = (chunk: Buffer): void => {
    this.received.bytes += chunk.length;
    if (this.framer) return this.onFramed(chunk, this.framer);
    let rttMs: number | undefined;
    let failed: { seq: number; sent: Buffer; reply: Buffer } | undefined;
    let offset = 0;
    while (offset < chunk.length && this.pending.length > 0) {
      const head = this.pending[0]!;
      let complete: boolean;
      if (head.need === null) {
        head.parts!.push(offset === 0 ? chunk : chunk.subarray(offset));
        head.size += chunk.length - offset;
        offset = chunk.length;
        const reply = Buffer.concat(head.parts!);
        head.parts = [reply];
        complete = regexComplete(this.config.reply, reply) || head.size > MAX_REGEX_REPLY;
      } else {
        const take = Math.min(head.need, chunk.length - offset);
        head.parts?.push(chunk.subarray(offset, offset + take));
        head.need -= take;
        offset += take;
        complete = head.need === 0;
      }
      if (!complete) break;
      this.pending.shift();
      const now = performance.now();
      this.rtt.record((now - head.sentAt) * 1e6);
      rttMs = Math.round((now - head.sentAt) * 1000) / 1000;
      this.received.messages++;
      if (head.parts) {
        const reply = head.parts.length === 1 ? head.parts[0]! : Buffer.concat(head.parts);
        if (!failed && !replyPasses(this.config.reply, reply, head.sent)) failed = { seq: head.seq, sent: head.sent, reply };
      }
    }
    this.reportChunk(chunk, rttMs, failed);
  };

  /** With --frame: each message the framer completes is the reply to the oldest message waiting. */
  private onFramed(chunk: Buffer, framer: Framer): void {
    let frames: Frame[];
    try {
      frames = framer.push(chunk);
    } catch (err) {
      if (!(err instanceof FrameError)) throw err;
      this.reportChunk(chunk, undefined, undefined);
      const frame = frameName(this.config.frame!);
      this.sink.emit({ event: 'frame-error', role: 'client', frame, remote: this.remote, message: err.message, buffered: err.buffered });
      this.control.end('framing', new NetnoteError('assertion', `what ${this.where()} sent is not a ${frame} message: ${err.message}`));
      return;
    }
    let rttMs: number | undefined;
    let failed: { seq: number; sent: Buffer; reply: Buffer } | undefined;
    for (const frame of frames) {
      const head = this.pending.shift();
      if (!head) continue; // a message nobody asked for: counted in the bytes received
      const now = performance.now();
      this.rtt.record((now - head.sentAt) * 1e6);
      rttMs = Math.round((now - head.sentAt) * 1000) / 1000;
      this.received.messages++;
      if (failed || !this.keepReplies) continue;
      // A line's terminator is part of an echo; --expect may give the line with or without it.
      const passes = replyPasses(this.config.reply, frame.data, head.sent) ||
        (frame.body !== frame.data && replyPasses(this.config.reply, frame.body, head.sent));
      if (!passes) failed = { seq: head.seq, sent: head.sent, reply: frame.data };
    }
    this.reportChunk(chunk, rttMs, failed);
  }

  /** Reports a chunk (its rtt when it completed a reply) and a reply that failed its check. */
  private reportChunk(chunk: Buffer, rttMs: number | undefined, failed: { seq: number; sent: Buffer; reply: Buffer } | undefined): void {
    if (this.sink.messages) {
      this.sink.emit({ event: 'recv', role: 'client', data: chunk, ...(rttMs === undefined ? {} : { rttMs }) });
      pauseForOutput(this.sink, this.socket);
    }
    if (failed) this.control.end('mismatch', mismatch(this.sink, this.config.reply, failed.sent, failed.seq, failed.reply, 'message'));
    this.control.wake();
  }

  private where(): string {
    return hostPort(this.remote.address, this.remote.port);
  }
}
