import type net from 'node:net';
import { elapsedMs } from '../clock.js';
import type { Endpoint } from '../endpoint.js';
import { isTlsFailure } from '../errors.js';
import type { EndReason, EventSink } from '../events.js';
import { pauseForOutput } from '../run/backpressure.js';
import { listenTcp, localEndpoint, remoteEndpoint } from '../socket/tcp.js';
import type { TlsServer, TlsServerStats } from '../socket/tls-server.js';

export interface TcpServerConfig {
  host: string;
  port: number;
  /** The note's listen(10). */
  backlog: number;
  /** Beyond this many clients at once new ones are closed at once: the module's socket limit (FAQ 5). */
  maxClients: number | null;
  idleTimeoutMs: number | null;
  /** 'sink' reads and counts, echoing nothing. */
  mode: 'echo' | 'sink';
  /** --tls: each client is served over TLS; the echo and the counts are of plaintext. */
  tls: TlsServer | null;
}

export interface ClientRecord {
  client: number;
  remote: Endpoint;
  bytesIn: number;
  bytesOut: number;
  ms: number;
  reason: EndReason;
}

export interface ServerSummary {
  proto: 'tcp';
  local: Endpoint | null;
  clients: { served: number; rejected: number; active: number };
  bytesIn: number;
  bytesOut: number;
  durationMs: number;
  /** The most recent clients, newest last; `olderClients` counts the ones dropped from the list. */
  perClient: ClientRecord[];
  olderClients: number;
  /** --tls: handshakes done, failed (client certificates refused included) and resumed; null without TLS. */
  tls: TlsServerStats | null;
}

/** Per-client lines kept for the summary; older clients are only counted. */
const SUMMARY_CLIENTS = 100;

interface Client {
  id: number;
  socket: net.Socket;
  remote: Endpoint;
  started: number;
  reason: EndReason;
}

/**
 * The note's TCP echo server: every client is served concurrently and independently; nothing a
 * client sends or does to its connection can stop the server. Echo goes through pipe(), so a
 * client that sends and never reads stalls only itself (backpressure), never the server's memory.
 */
export class TcpServer {
  private readonly clients = new Map<number, Client>();
  private readonly records: ClientRecord[] = [];
  private olderClients = 0;
  private served = 0;
  private rejected = 0;
  private bytesIn = 0;
  private bytesOut = 0;
  private readonly started = performance.now();
  private server: net.Server | null = null;
  private idleWaiters: Array<() => void> = [];
  private ticker: NodeJS.Timeout | undefined;
  local: Endpoint | null = null;

  private constructor(private readonly config: TcpServerConfig, private readonly sink: EventSink) {}

  static async start(config: TcpServerConfig, sink: EventSink): Promise<TcpServer> {
    const server = new TcpServer(config, sink);
    const { listener, local } = await listenTcp(config, sink, (socket) => server.accept(socket));
    server.server = listener;
    server.local = local;
    if (config.mode === 'sink') server.reportEverySecond();
    listener.on('error', (err: NodeJS.ErrnoException) => {
      // accept() failures (EMFILE when out of file descriptors) must not end the server.
      sink.emit({ event: 'warning', role: 'server', message: `accept failed: ${err.code ?? err.message}` });
    });
    return server;
  }

  private accept(socket: net.Socket): void {
    if (socket.remoteAddress === undefined) {
      // Reset between the kernel's accept and ours: there is no peer left to name or serve.
      this.sink.emit({ event: 'warning', role: 'server', message: 'a client reset its connection before it could be accepted' });
      socket.destroy();
      return;
    }
    const remote = remoteEndpoint(socket);
    const { maxClients, idleTimeoutMs, mode } = this.config;
    if (maxClients !== null && this.clients.size >= maxClients) {
      this.rejected++;
      this.sink.emit({ event: 'rejected', role: 'server', remote, limit: maxClients });
      socket.destroy();
      return;
    }
    const client: Client = { id: ++this.served, socket, remote, started: performance.now(), reason: 'peer-closed' };
    this.clients.set(client.id, client);
    this.sink.emit({ event: 'accepted', role: 'server', client: client.id, remote, local: localEndpoint(socket), active: this.clients.size });

    socket.on('error', (err) => {
      if (client.reason !== 'peer-closed') return;
      client.reason = isTlsFailure(err) ? 'tls-failed' : 'reset';
    });
    if (idleTimeoutMs !== null) {
      socket.setTimeout(idleTimeoutMs, () => {
        client.reason = 'idle';
        socket.destroy();
      });
    }
    if (this.sink.messages) {
      // Registered before pipe() so a received line is reported before its echo is written.
      socket.on('data', (data: Buffer) => {
        this.sink.emit({ event: 'recv', role: 'server', client: client.id, remote, data });
        pauseForOutput(this.sink, socket);
      });
    }
    if (mode === 'echo') socket.pipe(socket);
    else socket.resume();
    socket.on('close', () => this.closed(client));
  }

  private closed(client: Client): void {
    const { socket } = client;
    this.clients.delete(client.id);
    this.bytesIn += socket.bytesRead;
    this.bytesOut += socket.bytesWritten;
    const ms = elapsedMs(client.started);
    this.sink.emit({
      event: 'closed', role: 'server', reason: client.reason, remote: client.remote, client: client.id,
      bytesIn: socket.bytesRead, bytesOut: socket.bytesWritten, ms,
    });
    this.records.push({ client: client.id, remote: client.remote, bytesIn: socket.bytesRead, bytesOut: socket.bytesWritten, ms, reason: client.reason });
    if (this.records.length > SUMMARY_CLIENTS) {
      this.records.shift();
      this.olderClients++;
    }
    if (this.clients.size === 0) {
      for (const wake of this.idleWaiters.splice(0)) wake();
    }
  }

  /** A sink says what it received each second there was traffic, like an iperf3 server. */
  private reportEverySecond(): void {
    let last = 0;
    let second = 0;
    this.ticker = setInterval(() => {
      const total = this.totalIn();
      if (total > last) this.sink.emit({ event: 'interval', role: 'server', fromS: second, toS: second + 1, bytes: total - last });
      last = total;
      second++;
    }, 1000);
    this.ticker.unref();
  }

  private totalIn(): number {
    let total = this.bytesIn;
    for (const { socket } of this.clients.values()) total += socket.bytesRead;
    return total;
  }

  /** Resolves once no client is connected. */
  whenIdle(): Promise<void> {
    if (this.clients.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Stops accepting and closes every client (their reason: interrupted). */
  async close(): Promise<void> {
    clearInterval(this.ticker);
    const stopped = new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    for (const client of this.clients.values()) {
      client.reason = 'interrupted';
      client.socket.destroy();
    }
    // server.close() reports before the sockets' own 'close' events, which log and count them.
    await Promise.all([stopped, this.whenIdle()]);
  }

  summary(): ServerSummary {
    let bytesOut = this.bytesOut;
    for (const { socket } of this.clients.values()) bytesOut += socket.bytesWritten;
    const bytesIn = this.totalIn();
    return {
      proto: 'tcp', local: this.local,
      clients: { served: this.served, rejected: this.rejected, active: this.clients.size },
      bytesIn, bytesOut, durationMs: elapsedMs(this.started),
      perClient: [...this.records], olderClients: this.olderClients,
      tls: this.config.tls?.stats() ?? null,
    };
  }
}
