import type net from 'node:net';
import { elapsedMs } from '../clock.js';
import type { Endpoint } from '../endpoint.js';
import { isTlsFailure } from '../errors.js';
import type { EndReason, EventSink, LossCause } from '../events.js';
import { Responder, echoOf, type Answer, type ServerPlan } from '../message/answer.js';
import { FrameError, Framer, frameName, type FrameSpec } from '../message/frame.js';
import { pauseForOutput } from '../run/backpressure.js';
import { descriptorBudget, type DescriptorBudget } from '../socket/descriptors.js';
import { DelayedAnswers } from '../measure/delayed-answers.js';
import type { Keepalive } from '../socket/keepalive.js';
import { DropLedger, type DropPlan, type DropSummary } from './drops.js';
import { listenTcp, localEndpoint, remoteEndpoint } from '../socket/tcp.js';
import { resetConnection, type TlsServer, type TlsServerStats } from '../socket/tls-server.js';

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
  /** --frame: cut each client's stream into messages; null (and no plan) pipes the echo through. */
  frame: FrameSpec | null;
  /** --reply, --greeting, --push, --script: how the server answers; null echoes. */
  plan: ServerPlan | null;
  /** A message begun must be complete within this (--timeout), or the client is closed; null waits. */
  frameTimeoutMs: number | null;
  /** --tls: each client is served over TLS; the echo and the counts are of plaintext. */
  tls: TlsServer | null;
  /** --keepalive on every client; null leaves it off. */
  keepalive: Keepalive | null;
  /** --drop-after / --drop-every: drop clients on purpose; null never does. */
  drop: DropPlan | null;
  /** --report-every: an `interim` event this often; null: none. */
  reportEveryMs: number | null;
}

const RAW: FrameSpec = { kind: 'raw' };

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
  /** `shed`: closed at once, or lost by accept(), because the process was out of file descriptors (ulimit -n). */
  clients: { served: number; rejected: number; active: number; shed: number };
  bytesIn: number;
  bytesOut: number;
  durationMs: number;
  /** The most recent clients, newest last; `olderClients` counts the ones dropped from the list. */
  perClient: ClientRecord[];
  olderClients: number;
  /** --tls: handshakes done, failed (client certificates refused included) and resumed; null without TLS. */
  tls: TlsServerStats | null;
  /** --drop-* runs only: the drops, and per client address how soon it came back. */
  drops?: DropSummary;
}

/** Clients shed for want of file descriptors are said at most this often (a flood would bury the log). */
const SHED_WARNING_MS = 1000;

/** Per-client lines kept for the summary; older clients are only counted. */
export const SUMMARY_CLIENTS = 100;

interface Client {
  id: number;
  socket: net.Socket;
  remote: Endpoint;
  started: number;
  reason: EndReason;
  /** With a plan: this client's side of the conversation. */
  responder: Responder | null;
  /** Answers waiting on a delay: later ones go after them, in order. */
  queue: Promise<void> | null;
  /** Messages sent to this client (the `seq` of its send events). */
  sent: number;
  frameTimer: NodeJS.Timeout | undefined;
  /** The last byte in or out: the idle time a loss reports. */
  lastActive: number;
  /** What ended it when the client or the path did (or our --idle-timeout, --drop-*). */
  cause: LossCause | null;
  /** --drop-mode silence: read and dropped, nothing answered. */
  silenced: boolean;
  dropTimer: NodeJS.Timeout | undefined;
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
  private shed = 0;
  /** Shed since the last warning, and when that warning was. */
  private shedUnsaid = 0;
  private shedCode: 'EMFILE' | 'ENFILE' = 'EMFILE';
  private lastShedWarning = -Infinity;
  private shedWarning: NodeJS.Timeout | undefined;
  /** Set once listening: the clients this process can hold at once. */
  private descriptors: DescriptorBudget | null = null;
  private bytesIn = 0;
  private bytesOut = 0;
  private readonly started = performance.now();
  private server: net.Server | null = null;
  private idleWaiters: Array<() => void> = [];
  private ticker: NodeJS.Timeout | undefined;
  /** A sink's per-client counts: bytes read at the last tick, and clients gone since then with their final count. */
  private readonly reportedIn = new Map<number, number>();
  private readonly closedUnreported = new Map<number, number>();
  private pusher: NodeJS.Timeout | undefined;
  private dropper: NodeJS.Timeout | undefined;
  private reporter: NodeJS.Timeout | undefined;
  private readonly drops: DropLedger | null;
  /** idle-timeout's downlink trials: answers held for the delay asked (measure/probe.ts). */
  private readonly delayed = new DelayedAnswers();
  local: Endpoint | null = null;

  private constructor(private readonly config: TcpServerConfig, private readonly sink: EventSink) {
    this.drops = config.drop ? new DropLedger(config.drop) : null;
  }

  static async start(config: TcpServerConfig, sink: EventSink): Promise<TcpServer> {
    const server = new TcpServer(config, sink);
    const { listener, local } = await listenTcp(config, sink, (socket) => server.accept(socket));
    server.server = listener;
    server.local = local;
    server.descriptors = descriptorBudget();
    if (config.mode === 'sink') server.reportEverySecond();
    if (config.plan?.push) server.pushEvery(config.plan.push.intervalMs);
    if (config.reportEveryMs) {
      server.reporter = setInterval(() => {
        const s = server.summary();
        sink.emit({ event: 'interim', role: 'server', elapsedMs: s.durationMs, clients: { served: s.clients.served, active: s.clients.active }, bytesIn: s.bytesIn, bytesOut: s.bytesOut });
      }, config.reportEveryMs);
    }
    const everyMs = config.drop?.everyMs;
    if (everyMs) {
      server.dropper = setInterval(() => {
        for (const client of server.clients.values()) if (!client.silenced) server.drop(client);
      }, everyMs);
    }
    listener.on('error', (err: NodeJS.ErrnoException) => {
      // accept() failures must not end the server. Out of descriptors anyway (another part of the
      // process took them, or ENFILE: the whole system), at least one client was lost.
      if (err.code === 'EMFILE' || err.code === 'ENFILE') return server.shedClient(null, err.code);
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
    if (this.descriptors && this.clients.size >= this.descriptors.sockets) return this.shedClient(socket, 'EMFILE');
    const remote = remoteEndpoint(socket);
    const { maxClients, idleTimeoutMs, mode } = this.config;
    if (maxClients !== null && this.clients.size >= maxClients) {
      this.rejected++;
      this.sink.emit({ event: 'rejected', role: 'server', remote, limit: maxClients });
      socket.destroy();
      return;
    }
    const now = performance.now();
    const client: Client = {
      id: ++this.served, socket, remote, started: now, reason: 'peer-closed',
      responder: null, queue: null, sent: 0, frameTimer: undefined, lastActive: now, cause: null, silenced: false, dropTimer: undefined,
    };
    this.clients.set(client.id, client);
    const back = this.drops?.accepted(remote.address, now) ?? null;
    this.sink.emit({ event: 'accepted', role: 'server', client: client.id, remote, local: localEndpoint(socket), active: this.clients.size, ...(back === null ? {} : { backAfterMs: back }) });

    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (client.reason !== 'peer-closed') return;
      if (err.code === 'ETIMEDOUT') {
        client.reason = 'timeout';
        client.cause = this.config.keepalive ? 'keepalive' : 'retransmission';
      } else if (isTlsFailure(err)) {
        client.reason = 'tls-failed';
      } else {
        client.reason = 'reset';
        client.cause = 'reset';
      }
    });
    if (idleTimeoutMs !== null) {
      socket.setTimeout(idleTimeoutMs, () => {
        client.reason = 'idle';
        client.cause = 'idle-timeout';
        socket.destroy();
      });
    }
    const afterMs = this.config.drop?.afterMs;
    if (afterMs) client.dropTimer = setTimeout(() => this.drop(client), afterMs);
    // The idle time a loss reports, and idle-timeout's requests (echoed, and answered again after
    // the delay they ask for: measure/probe.ts): a cheap listener next to the echo's pipe.
    const answers = mode === 'echo' && !this.config.frame && !this.config.plan;
    socket.on('data', (chunk: Buffer) => {
      client.lastActive = performance.now();
      if (answers && !client.silenced) this.delayed.hold(chunk, (answer) => this.send(client, answer, 'delayed'));
    });
    socket.on('close', () => this.closed(client));
    // Messages and answers cost a handler per read: only a server told to frame or answer pays it.
    if (this.config.frame || this.config.plan) return this.serveMessages(client);
    if (this.sink.messages) {
      // Registered before pipe() so a received line is reported before its echo is written.
      socket.on('data', (data: Buffer) => {
        if (client.silenced) return;
        this.sink.emit({ event: 'recv', role: 'server', client: client.id, remote, data });
        pauseForOutput(this.sink, socket);
      });
    }
    if (mode === 'echo') socket.pipe(socket);
    else socket.resume();
  }

  /**
   * A client the process has no descriptor left for: closed at once (`socket` null: accept()
   * itself failed), counted, and said in a warning at most once a second.
   */
  private shedClient(socket: net.Socket | null, code: 'EMFILE' | 'ENFILE'): void {
    socket?.destroy();
    this.shed++;
    this.shedUnsaid++;
    this.shedCode = code;
    const wait = this.lastShedWarning + SHED_WARNING_MS - performance.now();
    if (wait <= 0) this.sayShed();
    else this.shedWarning ??= setTimeout(() => this.sayShed(), wait);
  }

  private sayShed(): void {
    clearTimeout(this.shedWarning);
    this.shedWarning = undefined;
    if (this.shedUnsaid === 0) return;
    const why = this.shedCode === 'ENFILE'
      ? 'the system is out of file descriptors (ENFILE)'
      : `out of file descriptors (EMFILE): ulimit -n ${this.descriptors ? `${this.descriptors.limit} holds about ${this.descriptors.sockets} clients at once` : 'is reached'}`;
    const count = this.shedUnsaid === 1 ? '1 client' : `${this.shedUnsaid} clients`;
    this.sink.emit({ event: 'warning', role: 'server', message: `${count} closed at once, ${why}` });
    this.shedUnsaid = 0;
    this.lastShedWarning = performance.now();
  }

  /**
   * --drop-after / --drop-every: the server ends the client as --drop-mode says: a FIN, a reset,
   * or silence (what it sends is read and dropped, nothing answered: a dead path, as the
   * application sees one; the kernel still acknowledges, so the client's keepalive does not notice).
   */
  private drop(client: Client): void {
    const { socket } = client;
    const plan = this.config.drop!;
    if (socket.destroyed || client.silenced) return;
    clearTimeout(client.dropTimer);
    this.drops!.dropped(client.remote.address);
    this.sink.emit({ event: 'dropped', role: 'server', client: client.id, remote: client.remote, mode: plan.mode, afterMs: elapsedMs(client.started) });
    client.reason = 'dropped';
    client.cause = 'dropped';
    switch (plan.mode) {
      case 'fin':
        socket.end();
        socket.destroySoon();
        return;
      case 'reset':
        resetConnection(socket);
        return;
      case 'silence':
        client.silenced = true;
        socket.unpipe(socket);
        socket.resume();
    }
  }

  /** Framed messages, each answered by the plan (or echoed whole): --frame, --reply, --script. */
  private serveMessages(client: Client): void {
    const { socket, remote } = client;
    const { plan, mode } = this.config;
    const framer = new Framer(this.config.frame ?? RAW);
    const responder = plan ? new Responder(plan) : null;
    client.responder = responder;
    if (responder) for (const data of responder.greeting()) this.send(client, data, 'greeting');
    socket.on('data', (chunk: Buffer) => {
      let frames;
      try {
        frames = framer.push(chunk);
      } catch (err) {
        if (!(err instanceof FrameError)) throw err;
        return this.framingError(client, err.message, err.buffered);
      }
      this.watchIncomplete(client, framer);
      if (client.silenced) return;
      for (const frame of frames) {
        if (this.sink.messages) this.sink.emit({ event: 'recv', role: 'server', client: client.id, remote, data: frame.data });
        if (mode === 'sink') continue;
        const answer = responder ? responder.answer(frame) : echoOf(frame);
        if (answer) this.respond(client, answer);
      }
      if (this.sink.messages) pauseForOutput(this.sink, socket);
    });
  }

  /** --timeout: a message begun must be complete in time; the clock starts with its first byte. */
  private watchIncomplete(client: Client, framer: Framer): void {
    const { frameTimeoutMs } = this.config;
    if (frameTimeoutMs === null) return;
    if (framer.holding === 0) {
      clearTimeout(client.frameTimer);
      client.frameTimer = undefined;
    } else {
      client.frameTimer ??= setTimeout(() => {
        this.framingError(client, `the message was still incomplete after ${frameTimeoutMs} ms (--timeout)`, framer.buffered);
      }, frameTimeoutMs);
    }
  }

  /** A client whose stream cannot be cut into messages is closed; the others are served on. */
  private framingError(client: Client, message: string, buffered: Buffer): void {
    this.sink.emit({
      event: 'frame-error', role: 'server', frame: frameName(this.config.frame ?? RAW), message, buffered,
      client: client.id, remote: client.remote,
    });
    client.reason = 'framing';
    client.socket.destroy();
  }

  /** Answers in order: one that waits on a delay holds the ones after it. */
  private respond(client: Client, answer: Answer): void {
    if (answer.delayMs === 0 && !client.queue) return this.deliver(client, answer);
    const run = async () => {
      if (answer.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, answer.delayMs));
      this.deliver(client, answer);
    };
    const queue = client.queue ? client.queue.then(run) : run();
    client.queue = queue;
    void queue.then(() => {
      if (client.queue === queue) client.queue = null;
    });
  }

  private deliver(client: Client, answer: Answer): void {
    const { socket } = client;
    if (socket.destroyed || client.silenced) return;
    for (const data of answer.replies) this.send(client, data, answer.kind, answer.rule);
    if (answer.action === 'close') {
      client.reason = 'script-close';
      socket.end();
    } else if (answer.action === 'reset') {
      // resetAndDestroy(): libuv sets SO_LINGER to 0 and closes, so the kernel sends RST.
      client.reason = 'script-reset';
      resetConnection(socket);
    }
  }

  private send(client: Client, data: Buffer, answer: 'reply' | 'echo' | 'greeting' | 'push' | 'delayed', rule: number | null = null): void {
    const { socket } = client;
    if (socket.destroyed || !socket.writable) return;
    const flushed = socket.write(data);
    client.sent++;
    client.lastActive = performance.now();
    if (this.sink.messages) {
      this.sink.emit({ event: 'send', role: 'server', seq: client.sent, data, client: client.id, remote: client.remote, answer, ...(rule === null ? {} : { rule }) });
    }
    // A client that sends and never reads stalls only itself: stop reading it until it drains.
    if (!flushed && !socket.isPaused()) {
      socket.pause();
      socket.once('drain', () => socket.resume());
    }
  }

  /** --push: every client not silenced gets the push, each with its own `{seq}`. */
  private pushEvery(intervalMs: number): void {
    this.pusher = setInterval(() => {
      for (const client of this.clients.values()) {
        if (client.silenced) continue;
        for (const data of client.responder?.push() ?? []) this.send(client, data, 'push');
      }
    }, intervalMs);
  }

  private closed(client: Client): void {
    const { socket } = client;
    clearTimeout(client.frameTimer);
    clearTimeout(client.dropTimer);
    this.clients.delete(client.id);
    if (this.ticker) this.closedUnreported.set(client.id, socket.bytesRead);
    this.bytesIn += socket.bytesRead;
    this.bytesOut += socket.bytesWritten;
    const ms = elapsedMs(client.started);
    if (client.cause) {
      const now = performance.now();
      this.sink.emit({
        event: 'lost', role: 'server', cause: client.cause, idleMs: Math.round((now - client.lastActive) * 1000) / 1000, connectedMs: ms,
        remote: client.remote, client: client.id,
      });
    }
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

  /** A sink says what it received each second there was traffic, like an iperf3 server, and from which client. */
  private reportEverySecond(): void {
    let last = 0;
    let second = 0;
    this.ticker = setInterval(() => {
      const total = this.totalIn();
      const perClient: Array<{ client: number; bytes: number }> = [];
      for (const { id, socket } of this.clients.values()) this.countSince(perClient, id, socket.bytesRead);
      for (const [id, bytesRead] of this.closedUnreported) this.countSince(perClient, id, bytesRead);
      this.closedUnreported.clear();
      perClient.sort((a, b) => a.client - b.client);
      if (total > last) this.sink.emit({ event: 'interval', role: 'server', fromS: second, toS: second + 1, bytes: total - last, perClient });
      last = total;
      second++;
    }, 1000);
    this.ticker.unref();
  }

  /** Adds what a client sent since the last tick; a client that sent nothing is left out. */
  private countSince(perClient: Array<{ client: number; bytes: number }>, id: number, bytesRead: number): void {
    const bytes = bytesRead - (this.reportedIn.get(id) ?? 0);
    if (this.clients.has(id)) this.reportedIn.set(id, bytesRead);
    else this.reportedIn.delete(id);
    if (bytes > 0) perClient.push({ client: id, bytes });
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
    this.sayShed(); // the last ones, not said yet
    clearInterval(this.ticker);
    clearInterval(this.pusher);
    clearInterval(this.dropper);
    clearInterval(this.reporter);
    this.delayed.cancel();
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
      clients: { served: this.served, rejected: this.rejected, active: this.clients.size, shed: this.shed },
      bytesIn, bytesOut, durationMs: elapsedMs(this.started),
      perClient: [...this.records], olderClients: this.olderClients,
      tls: this.config.tls?.stats() ?? null,
      ...(this.drops ? { drops: this.drops.summary() } : {}),
    };
  }
}
