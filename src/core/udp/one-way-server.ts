import { elapsedMs } from '../clock.js';
import type { Endpoint } from '../endpoint.js';
import type { EventSink, OneWayStats } from '../events.js';
import { ProbeReceiver, oneWayStats } from '../measure/one-way.js';
import { Pacer, pause } from '../measure/pacer.js';
import { PROBE_HEADER, controlBody, encodeControl, encodeProbe, type ControlMessage, type Probe } from '../measure/probe.js';
import { SendQueue } from '../run/send-queue.js';
import type { Listener } from '../socket/udp-listen.js';

/** How a one-way service sends: through the server, so its counters see every datagram. */
export type ServerSend = (via: Listener, data: Buffer, to: Endpoint, done: (err: Error | null) => void) => void;

/**
 * Peers whose probes are counted at once (8 KiB each, measure/one-way.ts); more are not, so a
 * flood from spoofed sources stays bounded. Also the reverse-start cookies kept.
 */
const TRACKED_RECEIVERS = 1000;
/** Reverse streams at once: each is a paced sender in this process. */
const MAX_STREAMS = 16;
/** A reverse stream may not ask for more than this long (perSecond × it bounds the count). */
const MAX_STREAM_MS = 3_600_000;
const END_REPEATS = 3;
const END_SPACING_MS = 20;

interface Received {
  receiver: ProbeReceiver;
  /** What the client said it sent, in its last report request. */
  sent: number | null;
  /** A report went back: the next probe starts a new run from this peer. */
  reported: boolean;
}

interface StreamRequest {
  perSecond: number;
  burst: number;
  size: number;
  count: number;
  /** Stop after this long even if `count` is not reached (a client's -i 0: as fast as it goes). */
  durationMs?: number;
}

/**
 * The server's side of one-way tests (measure/probe.ts has the messages): it counts each peer's
 * probes as a receiver, answers report requests with those counts, and runs reverse streams
 * (paced probes to a client that asked, from the socket it asked on: through a NAT, the only way
 * to test the way down to a device behind one).
 */
export class OneWayServer {
  private readonly received = new Map<string, Received>();
  private readonly streams = new Map<string, { stop: () => void }>();
  /** Reverse-start cookies given out, by peer: a start must carry its peer's back. */
  private readonly cookies = new Map<string, string>();

  constructor(private readonly sink: EventSink, private readonly send: ServerSend) {}

  /** A probe from `key`: counted as that peer's stream. */
  probe(key: string, probe: Probe, length: number, now: number): void {
    let entry = this.received.get(key);
    if (entry?.reported) {
      this.received.delete(key);
      entry = undefined;
    }
    if (!entry) {
      if (this.received.size >= TRACKED_RECEIVERS) return;
      entry = { receiver: new ProbeReceiver(), sent: null, reported: false };
      this.received.set(key, entry);
    }
    entry.receiver.receive(probe, length, now);
  }

  control(key: string, message: ControlMessage, remote: Endpoint, via: Listener): void {
    switch (message.kind) {
      case 'report-request': return this.report(key, message.seq, remote, via);
      case 'reverse-start': return this.startStream(key, message, remote, via);
      case 'reverse-stop': return this.streams.get(key)?.stop();
      default: return; // the client's own messages (report, cookie, end) sent here are not for a server
    }
  }

  /** What `key` sent, as this server received it (null: no probes from it). */
  stats(key: string): OneWayStats | null {
    const entry = this.received.get(key);
    return entry ? oneWayStats('send', entry.receiver.counts(), entry.sent) : null;
  }

  close(): void {
    for (const stream of this.streams.values()) stream.stop();
  }

  private report(key: string, sent: number, remote: Endpoint, via: Listener): void {
    let entry = this.received.get(key);
    if (!entry) {
      entry = { receiver: new ProbeReceiver(), sent: null, reported: false };
      if (this.received.size < TRACKED_RECEIVERS) this.received.set(key, entry);
    }
    const counts = entry.receiver.counts();
    // The client asks again until a report arrives: log the first answer of a run only.
    if (!entry.reported) this.sink.emit({ event: 'one-way', role: 'server', remote, action: 'report', stats: oneWayStats('send', counts, sent) });
    entry.sent = sent;
    entry.reported = true;
    this.send(via, encodeControl('report', sent, counts), remote, () => {});
  }

  private startStream(key: string, message: ControlMessage, remote: Endpoint, via: Listener): void {
    if (this.streams.has(key)) return; // a start repeated while its stream runs
    const body = controlBody(message);
    const cookie = this.cookies.get(key);
    if (!cookie || body?.cookie !== cookie) {
      const fresh = cookie ?? newCookie();
      if (!cookie) {
        if (this.cookies.size >= TRACKED_RECEIVERS) this.cookies.delete(this.cookies.keys().next().value!);
        this.cookies.set(key, fresh);
      }
      this.send(via, encodeControl('cookie', 0, Buffer.from(fresh, 'hex')), remote, () => {});
      return;
    }
    this.cookies.delete(key);
    const request = streamRequest(body);
    if (typeof request === 'string' || this.streams.size >= MAX_STREAMS) {
      const error = typeof request === 'string' ? request : `this server already sends ${MAX_STREAMS} reverse streams`;
      this.sink.emit({ event: 'warning', role: 'server', message: `reverse stream to ${remote.address}, ${remote.port} refused: ${error}` });
      this.send(via, encodeControl('reverse-end', 0, { error }), remote, () => {});
      return;
    }
    this.sink.emit({ event: 'one-way', role: 'server', remote, action: 'reverse-start', perSecond: request.perSecond, burst: request.burst, size: request.size, count: request.count });
    let stopped = false;
    this.streams.set(key, { stop: () => (stopped = true) });
    void this.stream(request, remote, via, () => stopped).then(async (sent) => {
      this.sink.emit({ event: 'one-way', role: 'server', remote, action: 'reverse-end', sent: sent.count, ms: sent.ms, stopped });
      for (let i = 0; i < END_REPEATS && !stopped; i++) {
        if (i > 0) await pause(END_SPACING_MS);
        this.send(via, encodeControl('reverse-end', sent.count), remote, () => {});
      }
      this.streams.delete(key);
    });
  }

  /** The paced probes of a reverse stream; resolves with what went out. */
  private async stream(request: StreamRequest, remote: Endpoint, via: Listener, stopped: () => boolean): Promise<{ count: number; ms: number }> {
    const started = performance.now();
    const pacer = new Pacer(request);
    const filler = Buffer.alloc(request.size - PROBE_HEADER, 'netnote ');
    let sent = 0;
    const queue = new SendQueue((data, done) => this.send(via, data, remote, done));
    const until = started + Math.min(request.durationMs ?? MAX_STREAM_MS, MAX_STREAM_MS);
    for (let i = 0; i < request.count && !stopped() && performance.now() < until; i++) {
      const wait = pacer.waitMs(i);
      if (wait > 0) await pause(wait);
      await queue.push(encodeProbe(i + 1, performance.now(), filler), (err) => {
        if (!err) sent++;
      });
    }
    await queue.drained();
    return { count: sent, ms: elapsedMs(started) };
  }
}

/** A start's body as a request, or why it cannot be served. */
function streamRequest(body: Record<string, unknown> | null): StreamRequest | string {
  const { perSecond, burst, size, count, durationMs } = body ?? {};
  const whole = (value: unknown, low: number, high: number) => typeof value === 'number' && Number.isInteger(value) && value >= low && value <= high;
  if (typeof perSecond !== 'number' || !(perSecond > 0) || perSecond > 1e7) return 'perSecond must be above 0 and at most 10 000 000';
  if (!whole(burst, 1, 100_000)) return 'burst must be 1 to 100 000';
  if (!whole(size, PROBE_HEADER, 65507)) return `size must be ${PROBE_HEADER} to 65 507 bytes`;
  if (!whole(count, 1, Math.min(0xffffffff, Math.ceil((perSecond * MAX_STREAM_MS) / 1000)))) return 'count must be 1 or more, and last at most an hour';
  if (durationMs !== undefined && !whole(durationMs, 1, MAX_STREAM_MS)) return 'durationMs must be 1 to 3 600 000';
  return { perSecond, burst: burst as number, size: size as number, count: count as number, ...(durationMs === undefined ? {} : { durationMs: durationMs as number }) };
}

/** 8 random bytes as hex: unguessable, so only the source address that asked can give it back. */
function newCookie(): string {
  return Buffer.from(globalThis.crypto.getRandomValues(new Uint8Array(8))).toString('hex');
}
