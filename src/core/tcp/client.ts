import { elapsedMs } from '../clock.js';
import { hostPort } from '../endpoint.js';
import { NetnoteError, fromSystemError } from '../errors.js';
import type { EndReason, EventSink } from '../events.js';
import { RttRecorder } from '../measure/rtt.js';
import { mtuOf, tcpExchangeWire, withProjection } from '../measure/wire.js';
import { messageFor, projectRun, unconnectedSummary, type ClientResult, type Counter, type ExchangeConfig } from '../message/exchange.js';
import { FrameError, Framer, frameName, type Frame, type FrameSpec } from '../message/frame.js';
import { HeartbeatClock, type PendingHeartbeat } from '../message/heartbeat.js';
import { MAX_REGEX_REPLY, keepsReply, mismatch, regexComplete, replyLength, replyPasses } from '../message/reply.js';
import { pauseForOutput } from '../run/backpressure.js';
import { LoopTurns, RunControl } from '../run/control.js';
import { Reconnector, type ReconnectPolicy } from '../run/reconnect.js';
import type { Keepalive } from '../socket/keepalive.js';
import type { ConnectOptions } from '../socket/tcp.js';
import type { TlsClient } from '../socket/tls.js';
import { Link, connectLink, type LinkEnd } from './link.js';

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
  /** --reconnect: after a lost connection, connect again and carry on the loop; null: a loss ends the run. */
  reconnect: ReconnectPolicy | null;
  /** --wait-for: keep trying the first connect this long while the port does not answer. */
  waitForMs: number | null;
}

/** How long --no-wait lingers for outstanding replies after the last send when no --timeout is given. */
const NO_WAIT_LINGER_MS = 1000;
/**
 * With a check on the replies, bytes the peer sends with or just after its last reply fail it too:
 * the client listens this many round trips more (within these bounds) before it closes.
 */
const SURPLUS_ROUND_TRIPS = 2;
const SURPLUS_MIN_MS = 50;
const SURPLUS_MAX_MS = 1000;
/** A reply timeout after at least this much quiet is blamed on the path's idle timeout before the peer. */
const IDLE_GAP_MS = 1000;

/** A message (or a heartbeat) whose reply is still coming in. */
interface Outstanding {
  /** The message's number, or the heartbeat's. */
  seq: number;
  heartbeat: PendingHeartbeat | null;
  /** What was sent: an echo is checked against it. */
  sent: Buffer;
  sentAt: number;
  /** Bytes still to come; null when a regex (or, with --frame, the next message) decides. */
  need: number | null;
  parts: Buffer[] | null;
  size: number;
  /** How long the connection had been quiet when it was sent. */
  idleBeforeMs: number;
  /** A heartbeat's answer deadline. */
  timer?: NodeJS.Timeout;
}

/**
 * A reply (or a heartbeat's answer) that did not pass its check; `sent`: what it was checked
 * against; `surplus`: that many bytes came beyond what it should be.
 */
interface Failure {
  seq: number;
  sent: Buffer;
  reply: Buffer;
  heartbeat?: true;
  surplus?: number;
}

/** The note's TCP client loop: connect, then send, wait for the reply, sleep, again. */
export async function runTcpClient(config: TcpClientConfig, sink: EventSink, signal: AbortSignal): Promise<ClientResult> {
  const started = performance.now();
  const rtt = await RttRecorder.create(); // before connecting: a reply must find its handler ready
  let link: Link;
  try {
    link = await connectLink(connectOptions(config, signal), config.waitForMs, sink, started);
  } catch (err) {
    const error = fromSystemError(err, { host: config.host, port: config.port, doing: 'connect' });
    return { summary: unconnectedSummary('tcp', config.count, error, elapsedMs(started)), error };
  }
  return new TcpClientRun(config, sink, started, rtt).run(link, signal);
}

function connectOptions(config: TcpClientConfig, signal: AbortSignal): ConnectOptions {
  return { host: config.host, port: config.port, local: config.local, timeoutMs: config.timeoutMs, signal, tls: config.tls, keepalive: config.keepalive };
}

class TcpClientRun {
  private readonly sent: Counter = { messages: 0, bytes: 0 };
  private readonly received: Counter = { messages: 0, bytes: 0 };
  private pending: Outstanding[] = [];
  /** Data messages in `pending` (heartbeats are not waited for by the loop). */
  private awaiting = 0;
  private readonly keepReplies: boolean;
  /** With a check on: the last reply completed, for bytes that come after it (a surplus). */
  private lastReply: Failure | null = null;
  private lastRttMs: number | null = null;
  private readonly control = new RunControl();
  private blocked = false;
  private windowFull = false;
  private readonly turns = new LoopTurns();
  private framer: Framer | null = null;
  /** The connection in use; null between a loss and the next connection. */
  private link: Link | null = null;
  /** The last connection: the summary's addresses and TLS session. */
  private lastLink!: Link;
  /** How the current connection ended, when the peer or the path ended it. */
  private end: LinkEnd | null = null;
  private nextSeq = 1;
  /** The first message on the current connection: it goes at once, without the interval before it. */
  private firstSeqOnLink = 1;
  private connections = 0;
  private keepaliveProbes = 0;
  private readonly heartbeat: HeartbeatClock | null;
  private readonly reconnector: Reconnector | null;

  constructor(
    private readonly config: TcpClientConfig,
    private readonly sink: EventSink,
    private readonly started: number,
    private readonly rtt: RttRecorder,
  ) {
    this.keepReplies = keepsReply(config.reply);
    this.heartbeat = config.heartbeat ? new HeartbeatClock(config.heartbeat, config.reply.kind === 'echo', this.heartbeatDue) : null;
    this.reconnector = config.reconnect ? new Reconnector(config.reconnect, started, sink) : null;
  }

  async run(first: Link, signal: AbortSignal): Promise<ClientResult> {
    const stopListening = this.control.interruptOn(signal, () => new NetnoteError('interrupted', 'interrupted'));
    this.attach(first);
    const reporter = this.config.reportEveryMs ? setInterval(this.interim, this.config.reportEveryMs) : undefined;
    try {
      do await this.loop();
      while (await this.carryOn(signal));
      await this.listenForSurplus();
    } finally {
      stopListening();
      clearInterval(reporter);
    }
    const { reason, error } = this.verdict();
    const link = this.link;
    if (link) {
      // The FIN that ends the note's unbounded loop is its normal end; a reply timeout is said by its error.
      const end = this.end;
      const said = end && (end.cause !== 'fin' || error !== null) && end.cause !== 'reply-timeout' ? end : null;
      link.reportEnd(this.sink, said ?? { reason, error, cause: null }, reason);
      this.detach();
    }
    const { local } = this.lastLink;
    const heartbeats = this.heartbeat?.stats;
    const mtu = mtuOf(local.address);
    const rttMs = this.rtt.summary();
    const durationMs = elapsedMs(this.started);
    const reconnects = this.reconnector?.summary();
    const projection = projectRun(this.config, {
      proto: 'tcp', family: local.family, mtu, sent: this.sent, received: this.received, rttMs, durationMs,
      keepaliveIdleMs: this.config.keepalive?.idleMs ?? null, reconnects: reconnects?.reconnects ?? 0,
    });
    return {
      summary: {
        proto: 'tcp', remote: this.lastLink.remote, local, connected: true, rounds: this.config.count,
        sent: { ...this.sent }, received: { ...this.received }, rttMs,
        durationMs, ended: reason, datagrams: null, tls: this.lastLink.tls,
        wire: withProjection(tcpExchangeWire({
          family: local.family, mtu, messages: this.sent.messages, messageBytes: this.sent.bytes,
          replies: this.received.messages, replyBytes: this.received.bytes, intervalMs: this.config.intervalMs,
          connections: this.connections, keepaliveProbes: this.keepaliveProbes,
          ...(heartbeats ? { heartbeats: { messages: heartbeats.sent, bytes: heartbeats.bytesOut, answers: heartbeats.answered, answerBytes: heartbeats.bytesIn } } : {}),
        }), projection),
        ...(heartbeats ? { heartbeats: { ...heartbeats } } : {}),
        ...(reconnects ? { reconnects } : {}),
        ...(this.config.keepalive ? { keepalive: { ...this.config.keepalive, probesSent: this.keepaliveProbes } } : {}),
      },
      error,
    };
  }

  /** --report-every: the run so far. */
  private readonly interim = (): void => {
    const heartbeats = this.heartbeat?.stats;
    this.sink.emit({
      event: 'interim', role: 'client', elapsedMs: elapsedMs(this.started), sent: { ...this.sent }, received: { ...this.received }, rttMs: this.rtt.percentiles(),
      ...(this.reconnector ? { reconnects: this.reconnector.summary().reconnects } : {}),
      ...(heartbeats ? { heartbeats: { sent: heartbeats.sent, answered: heartbeats.answered } } : {}),
    });
  };

  /** Makes `link` the connection the loop uses. */
  private attach(link: Link): void {
    this.link = link;
    this.lastLink = link;
    this.connections++;
    this.end = null;
    this.framer = this.config.frame ? new Framer(this.config.frame) : null;
    const { socket } = link;
    socket.on('data', this.onData);
    socket.on('end', () => this.lose({ reason: 'peer-closed', error: null, cause: 'fin' }));
    socket.on('error', (err) => this.lose(link.errorEnd(err)));
    socket.on('close', () => this.lose({ reason: 'peer-closed', error: null, cause: 'fin' }));
    this.heartbeat?.start();
  }

  /** Lets the current connection go: no more events from it, its heartbeats forgotten. */
  private detach(): void {
    const link = this.link!;
    const { socket } = link;
    for (const name of ['data', 'end', 'error', 'close']) socket.removeAllListeners(name);
    socket.on('error', () => {}); // a late reset of a socket let go must not crash the run
    socket.end();
    socket.destroySoon();
    for (const p of this.pending) clearTimeout(p.timer);
    this.heartbeat?.stop();
    link.close();
    this.keepaliveProbes += link.probes;
    this.link = null;
  }

  /** The peer or the path ended the connection; the first end wins. */
  private lose(end: LinkEnd): void {
    if (this.control.ended) return;
    this.end = end;
    this.control.end(end.reason, end.error);
  }

  /**
   * --reconnect: after a loss, connect again (as --backoff says) and carry on the loop from the
   * next message; the messages in flight are lost. false: the run ends here.
   */
  private async carryOn(signal: AbortSignal): Promise<boolean> {
    const ended = this.control.ended;
    const end = this.end;
    const link = this.link;
    if (!this.reconnector || !ended || !end?.cause || !link) return false;
    const lost = this.awaiting;
    const noticedAt = performance.now();
    link.reportEnd(this.sink, end, ended.reason);
    this.detach();
    this.pending = [];
    this.awaiting = 0;
    this.blocked = false;
    this.control.resume();
    const outcome = await this.reconnector.again(
      { cause: end.cause, noticedAt, lastAliveAt: link.aliveUntil(end.cause, noticedAt), lost },
      async () => {
        const next = await connectLink(connectOptions(this.config, signal), null, this.sink);
        return { value: next, resumed: next.tls ? next.tls.resumed : null };
      },
      async (ms) => {
        await this.control.until(() => false, ms);
        return !this.control.ended;
      },
    );
    if ('value' in outcome) {
      this.attach(outcome.value);
      this.firstSeqOnLink = this.nextSeq;
      return true;
    }
    // Out of attempts (or interrupted): the run ends with the loss, or what the last attempt met.
    this.control.end(ended.reason, outcome.error ?? ended.error);
    return false;
  }

  private async loop(): Promise<void> {
    const { count, intervalMs, timeoutMs, wait } = this.config;
    while (count === null || this.nextSeq <= count) {
      const seq = this.nextSeq;
      if (seq > this.firstSeqOnLink && intervalMs > 0) await this.control.until(() => false, intervalMs);
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
          this.replyTimeout(seq, timeoutMs!);
        }
        return;
      }
      if (this.control.ended) return;
      if (this.sink.messages) this.sink.emit({ event: 'round', role: 'client', seq });
    }
    if (!wait) await this.replies(timeoutMs ?? NO_WAIT_LINGER_MS);
  }

  /** After the last reply of a checked run, a moment more: what comes then is beyond every reply. */
  private async listenForSurplus(): Promise<void> {
    if (this.control.ended || !this.keepReplies || this.lastRttMs === null) return;
    await this.control.until(() => false, Math.min(SURPLUS_MAX_MS, this.config.timeoutMs ?? SURPLUS_MAX_MS, Math.max(SURPLUS_MIN_MS, this.lastRttMs * SURPLUS_ROUND_TRIPS)));
  }

  /**
   * A reply that did not come. After a quiet gap, with earlier replies received, the likely cause
   * is on the path: a NAT or firewall that forgot the idle connection (the note's FAQ 8).
   */
  private replyTimeout(seq: number, timeoutMs: number): void {
    const head = this.pending.find((p) => p.heartbeat === null && p.seq === seq);
    const idle = head?.idleBeforeMs ?? 0;
    const { host, port } = this.config;
    const hint = this.received.messages > 0 && idle >= IDLE_GAP_MS
      ? `the connection had been idle ${(idle / 1000).toFixed(2)} s before message ${seq}, and earlier replies came: a NAT or firewall on the path may have forgotten it (an idle timeout); measure it with netnote idle-timeout ${host} ${port}, keep the connection busy under it with --keepalive or --heartbeat, or --reconnect`
      : 'the peer may not echo: use --expect to say what it answers, or --no-wait';
    this.lose({
      reason: 'timeout', cause: 'reply-timeout', seq, waitedMs: timeoutMs, idleMs: idle,
      error: new NetnoteError('timeout', `no reply to message ${seq} from ${this.where()} within ${timeoutMs} ms (reply timeout)`, hint),
    });
  }

  /**
   * Waits for every pending reply. Time the output was full does not count: the socket was paused
   * for it, as the note's recv() timeout does not run while its print() blocks.
   */
  private async replies(timeoutMs: number | null): Promise<boolean> {
    for (;;) {
      if (await this.control.until(() => this.awaiting === 0, timeoutMs)) return true;
      const room = this.sink.room();
      if (this.control.ended || !room) return false;
      await this.control.settle(room);
    }
  }

  /** Between --no-wait sends: turns of the event loop, and at most --max-in-flight messages awaiting a reply. */
  private async pace(): Promise<void> {
    const { maxInFlight, intervalMs, timeoutMs } = this.config;
    if (this.awaiting < maxInFlight) {
      if (intervalMs === 0) await this.turns.take();
      return;
    }
    if (!this.windowFull) {
      this.windowFull = true;
      this.sink.emit({ event: 'warning', role: 'client', message: `${maxInFlight} messages await their reply: each send now waits for one (--max-in-flight)` });
    }
    if (!(await this.control.until(() => this.awaiting < maxInFlight, timeoutMs)) && !this.control.ended) {
      this.control.end('timeout', new NetnoteError('timeout', `no reply from ${this.where()} within ${timeoutMs} ms while ${maxInFlight} messages awaited theirs`,
        'the peer may not answer: --stream only sends'));
    }
  }

  /** Turns how the loop stopped into the run's end reason and the error that sets the exit code. */
  private verdict(): { reason: EndReason; error: NetnoteError | null } {
    const { count, wait } = this.config;
    const lostInGaps = this.reconnector?.summary().lostMessages ?? 0;
    const missing = this.sent.messages - this.received.messages - lostInGaps;
    if (this.control.ended && this.control.ended.reason !== 'peer-closed') return this.control.ended;
    const allSent = count !== null && this.sent.messages >= count;
    if (this.control.ended) {
      // A peer closing is how an unbounded run ends (as in the note); with --count it is early.
      if (count === null || (allSent && (!wait || missing === 0))) return { reason: 'peer-closed', error: null };
      return {
        reason: 'peer-closed',
        error: this.control.ended.error ?? new NetnoteError('lost', `${this.where()} closed the connection after ${this.received.messages} of ${count} replies`),
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
      event: 'frame-error', role: 'client', frame: frameName(this.config.frame!), remote: this.lastLink.remote, buffered,
      message: `the message was still incomplete after ${buffered.length} bytes`,
    });
  }

  private async send(seq: number): Promise<void> {
    const link = this.link!;
    const payload = messageFor(this.config, seq);
    const need = this.framer ? null : replyLength(this.config.reply, payload);
    const now = performance.now();
    this.pending.push({ seq, heartbeat: null, sent: payload, sentAt: now, need, parts: this.keepReplies ? [] : null, size: 0, idleBeforeMs: link.idleMs(now) });
    this.awaiting++;
    const flushed = link.socket.write(payload);
    link.sent(payload.length, now);
    this.heartbeat?.sent();
    this.sent.messages++;
    this.sent.bytes += payload.length;
    this.nextSeq = seq + 1;
    if (this.sink.messages) this.sink.emit({ event: 'send', role: 'client', seq, data: payload });
    if (!flushed) {
      this.blocked = true;
      link.socket.once('drain', () => {
        this.blocked = false;
        this.control.wake();
      });
      await this.control.until(() => !this.blocked, null);
    }
  }

  /** Nothing was sent for --heartbeat: send one, and wait for its answer if one is expected. */
  private readonly heartbeatDue = (): void => {
    const link = this.link;
    if (!link || this.blocked || this.control.ended) return;
    const clock = this.heartbeat!;
    const h = clock.next();
    const now = performance.now();
    if (h.answer) {
      const entry: Outstanding = {
        seq: h.seq, heartbeat: h, sent: h.data, sentAt: now, need: this.framer ? null : h.answer.length, parts: [], size: 0, idleBeforeMs: link.idleMs(now),
      };
      entry.timer = setTimeout(() => this.heartbeatOverdue(entry), clock.spec.answerWithinMs);
      this.pending.push(entry);
    }
    link.socket.write(h.data);
    link.sent(h.data.length, now);
    clock.heartbeatSent(h);
    if (this.sink.messages) this.sink.emit({ event: 'send', role: 'client', seq: h.seq, data: h.data, heartbeat: true });
  };

  /** A heartbeat's answer did not come in time: a loss when one was required (--heartbeat-expect). */
  private heartbeatOverdue(entry: Outstanding): void {
    const index = this.pending.indexOf(entry);
    if (index < 0) return;
    const clock = this.heartbeat!;
    const { answerWithinMs, expect } = clock.spec;
    if (expect) {
      this.lose({
        reason: 'timeout', cause: 'heartbeat', heartbeat: entry.seq, waitedMs: answerWithinMs, idleMs: entry.idleBeforeMs,
        error: new NetnoteError('timeout', `no answer to heartbeat ${entry.seq} from ${this.where()} within ${answerWithinMs} ms`,
          'the peer or the path is gone; or the peer does not answer heartbeats (then drop --heartbeat-expect)'),
      });
      return;
    }
    this.pending.splice(index, 1);
    clock.stats.unanswered++;
  }

  /** A heartbeat's answer is complete: counted apart; an answer that is not --heartbeat-expect is returned. */
  private heartbeatAnswered(entry: Outstanding, answer: Buffer): Failure | undefined {
    clearTimeout(entry.timer);
    const clock = this.heartbeat!;
    clock.answered(answer.length);
    this.received.bytes -= answer.length;
    const { expect } = clock.spec;
    return expect && !answer.equals(expect) ? { seq: entry.seq, sent: expect, reply: answer, heartbeat: true } : undefined;
  }

  private readonly onData = (chunk: Buffer): void => {
    this.link?.received(chunk.length);
    this.received.bytes += chunk.length;
    if (this.framer) return this.onFramed(chunk, this.framer);
    let rttMs: number | undefined;
    let heartbeat: number | undefined;
    let failed: Failure | undefined;
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
      const reply = head.parts ? (head.parts.length === 1 ? head.parts[0]! : Buffer.concat(head.parts)) : null;
      if (head.heartbeat) {
        heartbeat = head.seq;
        failed ??= this.heartbeatAnswered(head, reply!);
        continue;
      }
      rttMs = this.replied(head);
      if (reply) {
        this.lastReply = { seq: head.seq, sent: head.sent, reply };
        if (!failed && !replyPasses(this.config.reply, reply, head.sent)) failed = this.lastReply;
      }
    }
    // Bytes no message awaits: more than the reply, or a reply to nothing. A check is on: fail.
    if (offset < chunk.length && this.keepReplies) failed ??= this.surplus(chunk.subarray(offset));
    this.reportChunk(chunk, rttMs, heartbeat, failed);
  };

  /** A message's reply is complete: counted, its round trip recorded; returns that in ms. */
  private replied(head: Outstanding): number {
    this.awaiting--;
    const now = performance.now();
    this.rtt.record((now - head.sentAt) * 1e6);
    this.lastRttMs = Math.round((now - head.sentAt) * 1000) / 1000;
    this.received.messages++;
    return this.lastRttMs;
  }

  /** Bytes beyond every reply, reported with the last reply they followed (or alone, before any). */
  private surplus(bytes: Buffer): Failure {
    const last = this.lastReply ?? { seq: this.sent.messages, sent: messageFor(this.config, Math.max(1, this.sent.messages)), reply: Buffer.alloc(0) };
    return { ...last, reply: Buffer.concat([last.reply, bytes]), surplus: bytes.length };
  }

  /** With --frame: each message the framer completes is the reply to the oldest message (or heartbeat) waiting. */
  private onFramed(chunk: Buffer, framer: Framer): void {
    let frames: Frame[];
    try {
      frames = framer.push(chunk);
    } catch (err) {
      if (!(err instanceof FrameError)) throw err;
      this.reportChunk(chunk, undefined, undefined, undefined);
      const frame = frameName(this.config.frame!);
      this.sink.emit({ event: 'frame-error', role: 'client', frame, remote: this.lastLink.remote, message: err.message, buffered: err.buffered });
      this.control.end('framing', new NetnoteError('assertion', `what ${this.where()} sent is not a ${frame} message: ${err.message}`));
      return;
    }
    let rttMs: number | undefined;
    let heartbeat: number | undefined;
    let failed: Failure | undefined;
    for (const frame of frames) {
      const head = this.pending.shift();
      if (!head) {
        // A message nobody asked for: counted in the bytes received, and a failure when replies are checked.
        if (this.keepReplies) failed ??= this.surplus(frame.data);
        continue;
      }
      if (head.heartbeat) {
        heartbeat = head.seq;
        failed ??= this.heartbeatAnswered(head, frame.data);
        continue;
      }
      rttMs = this.replied(head);
      if (failed || !this.keepReplies) continue;
      // A line's terminator is part of an echo; --expect may give the line with or without it.
      const passes = replyPasses(this.config.reply, frame.data, head.sent) ||
        (frame.body !== frame.data && replyPasses(this.config.reply, frame.body, head.sent));
      this.lastReply = { seq: head.seq, sent: head.sent, reply: frame.data };
      if (!passes) failed = this.lastReply;
    }
    // The start of a message no one awaits, held by the framer after the last reply.
    if (!failed && this.keepReplies && this.pending.length === 0 && framer.holding > 0) failed = this.surplus(framer.buffered);
    this.reportChunk(chunk, rttMs, heartbeat, failed);
  }

  /** Reports a chunk (its rtt when it completed a reply, the heartbeat it answered) and a reply that failed its check. */
  private reportChunk(chunk: Buffer, rttMs: number | undefined, heartbeat: number | undefined, failed: Failure | undefined): void {
    if (this.sink.messages) {
      this.sink.emit({ event: 'recv', role: 'client', data: chunk, ...(rttMs === undefined ? {} : { rttMs }), ...(heartbeat === undefined ? {} : { heartbeat }) });
      if (this.link) pauseForOutput(this.sink, this.link.socket);
    }
    if (failed?.heartbeat) {
      this.sink.emit({ event: 'mismatch', role: 'client', seq: failed.seq, check: 'heartbeat-expect', expected: failed.sent, got: failed.reply });
      this.control.end('mismatch', new NetnoteError('assertion', `the answer to heartbeat ${failed.seq} does not match --heartbeat-expect`));
    } else if (failed) {
      this.control.end('mismatch', mismatch(this.sink, this.config.reply, failed.sent, failed.seq, failed.reply, 'message', failed.surplus));
    }
    this.control.wake();
  }

  private where(): string {
    const { remote } = this.lastLink;
    return hostPort(remote.address, remote.port);
  }
}
