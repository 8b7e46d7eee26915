import http from 'node:http';
import type net from 'node:net';
import { elapsedMs } from '../clock.js';
import { hostPort, type Endpoint } from '../endpoint.js';
import { NetnoteError, fromSystemError, isTransient, outputError } from '../errors.js';
import type { EndReason, EventSink, NetEvent, TlsInfo } from '../events.js';
import { pauseForOutput } from '../run/backpressure.js';
import { Reconnector, type ReconnectPolicy, type ReconnectSummary } from '../run/reconnect.js';
import type { LocalSpec } from '../socket/local.js';
import { connectTcp } from '../socket/tcp.js';
import { connectWaiting, pause } from '../socket/wait-for.js';
import { tlsSession, type TlsClient } from '../socket/tls.js';

export interface HttpGetConfig {
  host: string;
  port: number;
  local: LocalSpec | null;
  /** https: the connection is secured before the request is sent. */
  tls: TlsClient | null;
  method: 'GET' | 'HEAD';
  path: string;
  /** Extra request headers, in order, after Host (and before Connection). */
  headers: Array<[string, string]>;
  /** false: the note's `Connection: close`, the server ends the response by closing. */
  keepAlive: boolean;
  /** The note's recv(1024): received bytes are reported in pieces of at most this size. */
  chunkSize: number;
  /** Bound on the whole exchange; null waits as long as the server keeps the connection. */
  maxTimeMs: number | null;
  /** Where the decoded body goes (chunked encoding undone), at the pace it drains; `name` for errors. */
  body: { to: NodeJS.WritableStream; name: string } | null;
  /** --wait-for: keep trying to connect this long while the port does not answer. */
  waitForMs: number | null;
  /** --reconnect: the request sent again on a new connection when one is lost before any of the response came. */
  reconnect: ReconnectPolicy | null;
}

export interface HttpSummary {
  proto: 'http' | 'https';
  url: string;
  remote: Endpoint | null;
  local: Endpoint | null;
  status: { version: string; code: number; message: string } | null;
  headers: Array<[string, string]>;
  /** Body bytes after transfer decoding (chunked undone). */
  bodyBytes: number;
  /** Everything received and sent on the connection, headers included. */
  bytesIn: number;
  bytesOut: number;
  tls: TlsInfo | null;
  /** curl -w style: each step's own time; firstByte counts from the request sent. null = not reached. */
  timingsMs: { dns: number | null; connect: number | null; tls: number | null; firstByte: number | null; total: number };
  ended: EndReason;
  /** --reconnect runs only: the connections lost before a response, and made again. */
  reconnects?: ReconnectSummary;
}

export interface HttpResult {
  summary: HttpSummary;
  error: NetnoteError | null;
}

/**
 * The note's raw HTTP GET: the request built by hand exactly as the note builds it, sent on a
 * socket the core opened; the bytes that come back are reported as received. Framing (chunked,
 * Content-Length, HEAD, 1xx, close-delimited) is left to node:http's parser, running on that socket.
 */
export async function runHttpGet(config: HttpGetConfig, sink: EventSink, signal: AbortSignal): Promise<HttpResult> {
  const started = performance.now();
  const timings = { dns: null as number | null, connect: null as number | null, tls: null as number | null, firstByte: null as number | null };
  const tap: EventSink = {
    messages: sink.messages,
    emit(event: NetEvent) {
      if (event.event === 'resolved') timings.dns = event.ms;
      if (event.event === 'connected') {
        timings.connect = event.ms;
        summary.remote = event.remote;
        summary.local = event.local;
      }
      if (event.event === 'tls') {
        timings.tls = event.ms;
        const { event: _, role: __, ...info } = event;
        summary.tls = info;
      }
      sink.emit(event);
    },
    room: () => sink.room(),
  };
  const summary: HttpSummary = {
    proto: config.tls ? 'https' : 'http', url: urlOf(config), remote: null, local: null,
    status: null, headers: [], bodyBytes: 0, bytesIn: 0, bytesOut: 0, tls: null,
    timingsMs: { dns: null, connect: null, tls: null, firstByte: null, total: 0 }, ended: 'failed',
  };
  const deadline = new AbortController();
  const timer = config.maxTimeMs === null ? undefined : setTimeout(() => deadline.abort(), config.maxTimeMs);
  const stop = AbortSignal.any([signal, deadline.signal]);
  const finish = (error: NetnoteError | null, reconnector: Reconnector | null = null): HttpResult => {
    clearTimeout(timer);
    if (reconnector) summary.reconnects = reconnector.summary();
    summary.timingsMs = { ...timings, total: elapsedMs(started) };
    summary.ended = error === null ? (config.keepAlive ? 'completed' : 'peer-closed')
      : error.code === 'interrupted' ? 'interrupted' : error.code === 'timeout' ? 'timeout' : error.code === 'tls' ? 'tls-failed' : 'failed';
    return { summary, error };
  };
  const stopped = (): NetnoteError => signal.aborted
    ? new NetnoteError('interrupted', 'interrupted')
    : new NetnoteError('timeout', `no complete response from ${hostPort(config.host, config.port)} within --max-time ${config.maxTimeMs} ms`);

  const options = { host: config.host, port: config.port, local: config.local, timeoutMs: config.maxTimeMs, signal: stop, tls: config.tls };
  let socket: net.Socket;
  try {
    socket = config.waitForMs === null ? await connectTcp(options, tap) : await connectWaiting(options, tap, config.waitForMs);
  } catch (err) {
    const error = fromSystemError(err, { host: config.host, port: config.port, doing: 'connect' });
    return finish(error.code === 'interrupted' ? stopped() : error);
  }
  const reconnector = config.reconnect ? new Reconnector(config.reconnect, started, sink) : null;
  for (;;) {
    let failed: NetnoteError;
    try {
      await exchange(socket, config, summary, timings, tap, stop);
      return finish(null, reconnector);
    } catch (err) {
      failed = stop.aborted ? stopped() : fromSystemError(err, { host: config.host, port: config.port, doing: 'io' });
    } finally {
      socket.destroy();
    }
    // --reconnect: only while nothing of the response came (a reset, an empty reply): the request
    // is sent again on a new connection; once bytes came, a second copy of them is not ours to make.
    if (!reconnector || summary.bytesIn > 0 || !isTransient(failed) || stop.aborted) return finish(failed, reconnector);
    const noticedAt = performance.now();
    const cause = failed.code === 'timeout' ? 'reply-timeout' : /reset|broken pipe/.test(failed.message) ? 'reset' : 'fin';
    tap.emit({ event: 'lost', role: 'client', cause, idleMs: 0, connectedMs: 0, ...(summary.remote ? { remote: summary.remote } : {}) });
    const outcome = await reconnector.again(
      { cause, noticedAt, lastAliveAt: noticedAt, lost: 1 },
      async () => {
        const next = await connectTcp(options, tap);
        return { value: next, resumed: tlsSession(next)?.resumed ?? null };
      },
      (ms) => pause(ms, stop),
    );
    if (!('value' in outcome)) return finish(stop.aborted ? stopped() : outcome.error ?? failed, reconnector);
    socket = outcome.value;
    summary.bytesOut = 0;
  }
}

function exchange(
  stream: net.Socket,
  config: HttpGetConfig,
  summary: HttpSummary,
  timings: { firstByte: number | null },
  sink: EventSink,
  stop: AbortSignal,
): Promise<void> {
  const request = requestBytes(config);
  return new Promise<void>((resolve, reject) => {
    let sentAt = 0;
    let responseDone = false;
    let response: http.IncomingMessage | null = null;
    let closed = false;
    // Raw bytes as they come, before the parser: what the note prints, even when it is malformed.
    stream.on('data', (chunk: Buffer) => {
      if (timings.firstByte === null) timings.firstByte = elapsedMs(sentAt);
      summary.bytesIn += chunk.length;
      if (!sink.messages) return;
      for (let offset = 0; offset < chunk.length; offset += config.chunkSize) {
        sink.emit({ event: 'recv', role: 'client', data: chunk.subarray(offset, offset + config.chunkSize) });
      }
      pauseForOutput(sink, stream);
    });
    const settle = () => {
      // The note's flow ends when the server closes; with --keep-alive, when the response is whole.
      if (responseDone && (closed || config.keepAlive)) {
        stop.removeEventListener('abort', onAbort);
        resolve();
      }
    };
    stream.once('close', () => {
      closed = true;
      sink.emit({ event: 'closed', role: 'client', reason: 'peer-closed', ...(summary.remote ? { remote: summary.remote } : {}), bytesIn: summary.bytesIn, bytesOut: summary.bytesOut, ms: elapsedMs(sentAt) });
      if (responseDone) return settle();
      if (!response) return reject(incomplete(summary));
      // The parser may still hold body the destination has not taken: the response's own end decides.
      response.once('close', () => (responseDone ? settle() : reject(incomplete(summary))));
    });
    const onAbort = () => {
      stream.destroy();
      reject(new NetnoteError('interrupted', 'interrupted'));
    };
    if (stop.aborted) return onAbort();
    stop.addEventListener('abort', onAbort, { once: true });
    const { body } = config;
    body?.to.on('error', (err: NodeJS.ErrnoException) => {
      if (stream.destroyed) return;
      stream.destroy();
      stop.removeEventListener('abort', onAbort);
      // `| head`: the reader took what it wanted; stop quietly, as for the log (report/writer).
      if (err.code === 'EPIPE') resolve();
      else reject(outputError(body.name, err));
    });

    const req = http.request({
      createConnection: () => stream,
      method: config.method,
      path: config.path,
      setHost: false,
      headers: requestHeaders(config).flat(), // raw [name, value, …]: sent as given, in order
    }, (res) => {
      response = res;
      summary.status = { version: `HTTP/${res.httpVersion}`, code: res.statusCode ?? 0, message: res.statusMessage ?? '' };
      summary.headers = pairs(res.rawHeaders);
      sink.emit({ event: 'response', role: 'client', ...summary.status, headers: summary.headers });
      res.on('data', (chunk: Buffer) => {
        summary.bodyBytes += chunk.length;
        // A slow reader of the body slows the download (node:http stops reading the socket).
        if (body && !body.to.write(chunk)) {
          res.pause();
          body.to.once('drain', () => res.resume());
        }
      });
      res.on('end', () => {
        responseDone = true;
        settle();
      });
      res.on('error', (err) => reject(malformedOr(err, summary)));
    });
    req.on('error', (err) => reject(malformedOr(err, summary)));
    sentAt = performance.now();
    req.end();
    summary.bytesOut = request.length;
    if (sink.messages) sink.emit({ event: 'send', role: 'client', seq: 1, data: request });
  });
}

/** The note's request: `GET / HTTP/1.1`, `Host: H:P`, `Connection: close`, blank line. */
function requestBytes(config: HttpGetConfig): Buffer {
  const lines = [`${config.method} ${config.path} HTTP/1.1`, ...requestHeaders(config).map(([k, v]) => `${k}: ${v}`)];
  return Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
}

function requestHeaders(config: HttpGetConfig): Array<[string, string]> {
  const headers: Array<[string, string]> = [['Host', hostPort(config.host, config.port)], ...config.headers];
  // Said either way: without it, node:http would add its own Connection header to what is sent.
  headers.push(['Connection', config.keepAlive ? 'keep-alive' : 'close']);
  return headers;
}

function malformedOr(err: Error, summary: HttpSummary): NetnoteError {
  const code = (err as NodeJS.ErrnoException).code ?? '';
  if (code.startsWith('HPE_')) {
    return new NetnoteError('lost', `malformed HTTP response (${code}: ${err.message.replace(/^Parse Error: /, '')})`, 'the raw bytes are shown above as received');
  }
  // 'aborted': node:http's word for a connection that closed before the response was whole.
  if (code === 'ECONNRESET' && (summary.bytesIn === 0 || err.message === 'aborted')) return incomplete(summary);
  return err instanceof NetnoteError ? err : fromSystemError(err, { host: summary.remote?.address ?? '', port: summary.remote?.port ?? 0, doing: 'io' });
}

function incomplete(summary: HttpSummary): NetnoteError {
  if (summary.bytesIn === 0) return new NetnoteError('lost', 'empty reply from server: it closed the connection before sending anything');
  return new NetnoteError('lost', `the server closed the connection before the response was complete (${summary.bytesIn} bytes received)`);
}

function pairs(raw: string[]): Array<[string, string]> {
  const result: Array<[string, string]> = [];
  for (let i = 0; i + 1 < raw.length; i += 2) result.push([raw[i]!, raw[i + 1]!]);
  return result;
}

function urlOf(config: HttpGetConfig): string {
  const scheme = config.tls ? 'https' : 'http';
  const defaultPort = config.tls ? 443 : 80;
  const authority = hostPort(config.host, config.port);
  return `${scheme}://${config.port === defaultPort ? authority.slice(0, authority.lastIndexOf(':')) : authority}${config.path}`;
}
