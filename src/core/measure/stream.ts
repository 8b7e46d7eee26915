import { setMaxListeners } from 'node:events';
import type net from 'node:net';
import { pause } from '../clock.js';
import { hostPort, type Endpoint } from '../endpoint.js';
import { NetnoteError, fromSystemError } from '../errors.js';
import type { EndReason, EventSink, TlsInfo } from '../events.js';
import { LoopTurns } from '../run/control.js';
import { Pacer, type Pace } from './pacer.js';
import type { LocalSpec } from '../socket/local.js';
import { connectTcp, localEndpoint, remoteEndpoint } from '../socket/tcp.js';
import { tlsSession, type TlsClient } from '../socket/tls.js';
import { mtuOf, sumWire, tcpStreamWire, type WireEstimate } from './wire.js';

export interface StreamConfig {
  host: string;
  port: number;
  local: LocalSpec | null;
  /** --tls: every connection secured; the bytes counted are the payload's. */
  tls: TlsClient | null;
  /** Connect timeout per connection. */
  timeoutMs: number | null;
  durationMs: number;
  /** Bytes per write. */
  blockSize: number;
  parallel: number;
  /** Receive what the peer sends instead of sending. */
  reverse: boolean;
  /** --bidir: send, and count what the peer sends, at once on each connection. */
  bidir: boolean;
  /** --bitrate (per connection, as iperf3 -b) with --burst: blocks a second, `burst` at a time. */
  pace: Pace | null;
}

/** One direction of a stream: its bytes over the run, per connection. */
export interface StreamDirection {
  bytes: number;
  bitsPerSecond: number;
  connections: Array<{ bytes: number; bitsPerSecond: number }>;
}

export interface StreamSummary {
  proto: 'tcp-stream';
  /** HOST:PORT as asked. */
  target: string;
  remote: Endpoint | null;
  /** `both`: --bidir; bytes, bitsPerSecond and connections are then what was sent, `received` the other way. */
  direction: 'send' | 'receive' | 'both';
  /** From the first byte to the last one delivered (sending: until the peer closed after our FIN). */
  durationMs: number;
  bytes: number;
  bitsPerSecond: number;
  connections: Array<{ bytes: number; bitsPerSecond: number }>;
  wire: WireEstimate | null;
  /** The first connection's TLS session; null without TLS. */
  tls: TlsInfo | null;
  ended: EndReason;
  /** --bidir: what the peer sent, counted apart. */
  received?: StreamDirection;
}

/** How long a sender waits, after its FIN, for the peer to take the last bytes and close. */
const DRAIN_MS = 10_000;

/**
 * iperf3's measurement against any TCP peer: K connections, each written to (or read from) as
 * fast as TCP's flow control allows, for a duration; bytes counted per second and in total.
 */
export async function runStream(config: StreamConfig, sink: EventSink, signal: AbortSignal): Promise<{ summary: StreamSummary; error: NetnoteError | null }> {
  const summary: StreamSummary = {
    proto: 'tcp-stream', target: hostPort(config.host, config.port), remote: null, direction: config.bidir ? 'both' : config.reverse ? 'receive' : 'send',
    durationMs: 0, bytes: 0, bitsPerSecond: 0, connections: [], wire: null, tls: null, ended: 'failed',
  };
  setMaxListeners(config.parallel + 10, signal); // each connect listens for Ctrl-C
  const connects = await Promise.allSettled(Array.from({ length: config.parallel }, () =>
    connectTcp({ host: config.host, port: config.port, local: config.local, timeoutMs: config.timeoutMs, signal, tls: config.tls }, sink)));
  const failed = connects.find((c) => c.status === 'rejected');
  if (failed) {
    // All or nothing, as iperf3 -P: the connections that did open are closed again.
    for (const c of connects) if (c.status === 'fulfilled') c.value.destroy();
    return { summary, error: fromSystemError(failed.reason, { host: config.host, port: config.port, doing: 'connect' }) };
  }
  const sockets = connects.map((c) => (c as PromiseFulfilledResult<net.Socket>).value);
  summary.remote = remoteEndpoint(sockets[0]!);
  summary.tls = tlsSession(sockets[0]!);
  const local = localEndpoint(sockets[0]!); // a closed socket no longer knows its address

  const started = performance.now();
  const counted = sockets.map(() => 0);
  const failures: NetnoteError[] = [];
  const stop = new AbortController();
  const onAbort = () => stop.abort();
  signal.addEventListener('abort', onAbort, { once: true });
  // Bytes handed to the kernel (sending) or taken from it (receiving), per connection.
  const sentSoFar = (i: number) => sockets[i]!.bytesWritten - sockets[i]!.writableLength;
  const progress = (i: number) => (config.reverse ? counted[i]! : sentSoFar(i));
  // --bidir: what each connection received, counted while it sends.
  const back = sockets.map(() => 0);
  let lastBack = started;
  if (config.bidir) {
    sockets.forEach((socket, i) => socket.on('data', (chunk: Buffer) => {
      back[i]! += chunk.length;
      lastBack = performance.now();
    }));
  }
  let reported = sockets.map(() => 0);
  let reportedBack = sockets.map(() => 0);
  let second = 0;
  const tick = () => {
    const now = sockets.map((_, i) => progress(i));
    const perConnection = now.map((value, i) => value - reported[i]!);
    reported = now;
    const direction = config.bidir ? { direction: 'send' as const } : {};
    sink.emit({ event: 'interval', role: 'client', fromS: second, toS: second + 1, bytes: perConnection.reduce((a, b) => a + b, 0), perConnection, ...direction });
    if (config.bidir) {
      const perBack = back.map((value, i) => value - reportedBack[i]!);
      reportedBack = [...back];
      sink.emit({ event: 'interval', role: 'client', fromS: second, toS: second + 1, bytes: perBack.reduce((a, b) => a + b, 0), perConnection: perBack, direction: 'receive' });
    }
    second++;
  };
  const ticker = setInterval(tick, 1000);
  // 0 runs until Ctrl-C or the peer ends it, as iperf3 -t 0 does.
  let timeUp = false;
  const timer = config.durationMs > 0 ? setTimeout(() => {
    timeUp = true;
    // The run's last whole second is reported even when this timer fires before the ticker's.
    if (second < Math.floor(config.durationMs / 1000)) tick();
    clearInterval(ticker);
    stop.abort();
  }, config.durationMs) : undefined;

  const ends = await Promise.all(sockets.map((socket, i) => (config.reverse
    ? receive(socket, stop.signal, (n) => (counted[i]! += n))
    : send(socket, config.blockSize, stop.signal, config.pace)).catch((err: unknown) => {
    failures.push(fromSystemError(err, { host: config.host, port: config.port, doing: 'io' }));
    stop.abort();
    return performance.now();
  })));
  clearTimeout(timer);
  clearInterval(ticker);
  signal.removeEventListener('abort', onAbort);

  summary.durationMs = Math.round((Math.max(...ends) - started) * 1000) / 1000;
  summary.connections = sockets.map((socket, i) => {
    const bytes = config.reverse ? counted[i]! : socket.bytesWritten;
    return { bytes, bitsPerSecond: rate(bytes, summary.durationMs) };
  });
  if (config.bidir) {
    const backMs = Math.round((lastBack - started) * 1000) / 1000;
    const total = back.reduce((a, b) => a + b, 0);
    summary.received = { bytes: total, bitsPerSecond: rate(total, backMs), connections: back.map((bytes) => ({ bytes, bitsPerSecond: rate(bytes, backMs) })) };
  }
  summary.bytes = summary.connections.reduce((total, c) => total + c.bytes, 0);
  summary.bitsPerSecond = rate(summary.bytes, summary.durationMs);
  summary.wire = sumWire(...[...summary.connections, ...summary.received?.connections ?? []].map((c) => tcpStreamWire(c.bytes, local.family, mtuOf(local.address))));
  const empty = !signal.aborted && failures.length === 0 && summary.bytes === 0;
  const error = signal.aborted ? new NetnoteError('interrupted', 'interrupted') : failures[0] ?? (empty ? nothingCame(config, timeUp) : null);
  summary.ended = error === null ? 'completed' : empty ? (timeUp ? 'timeout' : 'peer-closed')
    : error.code === 'interrupted' ? 'interrupted' : error.code === 'lost' ? 'reset' : error.code === 'tls' ? 'tls-failed' : 'failed';
  return { summary, error };
}

/** A measurement of nothing is no measurement: --reverse from a peer that sent nothing fails. */
function nothingCame(config: StreamConfig, timeUp: boolean): NetnoteError {
  const where = hostPort(config.host, config.port);
  const hint = 'the peer must send on its own: a source such as socat -u OPEN:/dev/zero TCP-LISTEN:PORT, not an echo server';
  return timeUp
    ? new NetnoteError('timeout', `${where} sent nothing in ${config.durationMs} ms (--stream --reverse)`, hint)
    : new NetnoteError('lost', `${where} closed the connection without sending anything (--stream --reverse)`, hint);
}

/** Bits per second of `bytes` moved in `ms`. */
export function rate(bytes: number, ms: number): number {
  return ms > 0 ? Math.round((bytes * 8 * 1000) / ms) : 0;
}

/**
 * Writes `blockSize` blocks until told to stop, then closes and waits for the peer to take it all.
 * Returns when the transfer ended: the peer's close, or (for a peer that keeps its side open) the
 * moment the last byte went to the kernel.
 */
async function send(socket: net.Socket, blockSize: number, stop: AbortSignal, pace: Pace | null): Promise<number> {
  const block = Buffer.alloc(blockSize, 'netnote ');
  const failed = socketFailure(socket);
  socket.on('data', () => {}); // a peer that answers must not stall us on a full receive buffer
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  const turns = new LoopTurns();
  const pacer = pace ? new Pacer(pace) : null;
  for (let blocks = 0; !stop.aborted && !socket.destroyed; blocks++) {
    const wait = pacer?.waitMs(blocks) ?? 0;
    if (wait > 0) {
      await Promise.race([failed, pause(wait, stop)]);
      if (stop.aborted) break;
    }
    if (!socket.write(block)) await Promise.race([failed, drainOrStop(socket, stop)]);
    else await turns.take();
  }
  let flushed = performance.now();
  socket.end(() => (flushed = performance.now()));
  // The last byte counts once the peer has it: it closes after our FIN (a sink, nc > /dev/null).
  const drained = await Promise.race([failed, closed.then(() => true), sleep(DRAIN_MS).then(() => false)]);
  if (drained) return performance.now();
  socket.destroy();
  return flushed;
}

async function receive(socket: net.Socket, stop: AbortSignal, count: (bytes: number) => void): Promise<number> {
  const failed = socketFailure(socket);
  const ended = new Promise<void>((resolve) => socket.once('end', () => resolve()));
  socket.on('data', (chunk: Buffer) => count(chunk.length));
  await Promise.race([failed, ended, new Promise((resolve) => (stop.aborted ? resolve(undefined) : stop.addEventListener('abort', resolve, { once: true })))]);
  socket.destroy();
  return performance.now();
}

function drainOrStop(socket: net.Socket, stop: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      socket.off('drain', done);
      stop.removeEventListener('abort', done);
      resolve();
    };
    socket.once('drain', done);
    stop.addEventListener('abort', done, { once: true });
  });
}

/** Rejects on the socket's first error; handled even when no one races it any more. */
function socketFailure(socket: net.Socket): Promise<never> {
  const failed = new Promise<never>((_, reject) => socket.once('error', reject));
  failed.catch(() => {});
  return failed;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
