import type dgram from 'node:dgram';
import { elapsedMs } from '../clock.js';
import type { Endpoint } from '../endpoint.js';
import type { EventSink } from '../events.js';
import { Responder, type Answer, type ServerPlan } from '../message/answer.js';
import { DelayedAnswers } from '../measure/delayed-answers.js';
import { DatagramLog } from '../run/backpressure.js';
import { bindUdp } from '../socket/udp.js';

export interface UdpServerConfig {
  host: string;
  port: number;
  reuseAddress: boolean;
  /** The note's recvfrom(1024): longer datagrams are cut to this size (and counted). */
  maxSize: number | null;
  mode: 'echo' | 'sink';
  /** --reply, --push, --script: how the server answers; null echoes. */
  plan: ServerPlan | null;
  /** --push goes to peers heard from within this long. */
  peerTtlMs: number;
  /** --report-every: an `interim` event this often; null: none. */
  reportEveryMs: number | null;
}

/** A peer's side of a scripted conversation. */
interface Session {
  responder: Responder;
  remote: Endpoint;
  lastHeard: number;
  /** Datagrams sent to it (the `seq` of its send events). */
  sent: number;
}

export interface PeerRecord {
  remote: Endpoint;
  datagrams: number;
  bytesIn: number;
  bytesOut: number;
}

export interface UdpServerSummary {
  proto: 'udp';
  local: Endpoint | null;
  datagrams: { in: number; out: number; truncated: number; sendErrors: number };
  bytesIn: number;
  bytesOut: number;
  /** The largest datagram received, in bytes. */
  largest: number;
  durationMs: number;
  peers: number;
  /** The most recently active peers, most recent last; `olderPeers` counts the ones left out. */
  perPeer: PeerRecord[];
  olderPeers: number;
}

/** Peers listed in the summary; more are only counted. */
export const SUMMARY_PEERS = 100;
/** Peers tracked at all (and counted in the summary): a flood from spoofed sources must not grow memory without bound. */
const TRACKED_PEERS = 10_000;

/**
 * The note's UDP echo server: each datagram is sent back to where it came from. Connectionless,
 * so nothing a peer sends (empty, maximal, garbage) or does can end it.
 */
export class UdpServer {
  private readonly peers = new Map<string, PeerRecord>();
  private datagramsIn = 0;
  private datagramsOut = 0;
  private truncated = 0;
  private sendErrors = 0;
  private bytesIn = 0;
  private bytesOut = 0;
  private largest = 0;
  private readonly started = performance.now();
  private readonly log: DatagramLog;
  /** With a plan: each peer's conversation, least recently heard first. */
  private readonly sessions = new Map<string, Session>();
  private pusher: NodeJS.Timeout | undefined;
  private reporter: NodeJS.Timeout | undefined;
  /** idle-timeout's downlink trials: answers held for the delay asked (measure/probe.ts), and how many were sent. */
  private readonly delayed = new DelayedAnswers();
  private delayedSent = 0;
  /** After close(): a reply still waiting on its delay is dropped (a closed socket throws on send). */
  private closing = false;

  private constructor(
    private readonly config: UdpServerConfig,
    private readonly sink: EventSink,
    private readonly socket: dgram.Socket,
    readonly local: Endpoint,
  ) {
    this.log = new DatagramLog(sink, 'server');
    socket.on('message', this.onMessage);
    socket.on('error', (err: NodeJS.ErrnoException) => {
      // An unconnected socket reports little, but whatever it is must not end the server.
      this.sink.emit({ event: 'warning', role: 'server', message: `socket error: ${err.code ?? err.message}` });
    });
    const push = config.plan?.push;
    if (push) this.pusher = setInterval(this.pushToPeers, push.intervalMs);
    if (config.reportEveryMs) {
      this.reporter = setInterval(() => sink.emit({
        event: 'interim', role: 'server', elapsedMs: elapsedMs(this.started), peers: this.peers.size,
        datagrams: { in: this.datagramsIn, out: this.datagramsOut }, bytesIn: this.bytesIn, bytesOut: this.bytesOut,
      }), config.reportEveryMs);
    }
  }

  static async start(config: UdpServerConfig, sink: EventSink): Promise<UdpServer> {
    const { socket, local } = await bindUdp(config, sink);
    return new UdpServer(config, sink, socket, local);
  }

  private readonly onMessage = (message: Buffer, rinfo: dgram.RemoteInfo): void => {
    const { maxSize, mode } = this.config;
    this.datagramsIn++;
    this.bytesIn += message.length;
    if (message.length > this.largest) this.largest = message.length;
    const data = maxSize !== null && message.length > maxSize ? message.subarray(0, maxSize) : message;
    if (data !== message) this.truncated++;
    const peer = this.peer(rinfo);
    if (peer) {
      peer.datagrams++;
      peer.bytesIn += message.length;
    }
    if (this.sink.messages) {
      this.log.emit({
        event: 'recv', role: 'server', data, remote: peer?.remote ?? remoteOf(rinfo),
        ...(data === message ? {} : { truncatedFrom: message.length }),
      });
    }
    if (mode === 'sink') return;
    if (this.config.plan) return this.answer(this.config.plan, data, rinfo, peer);
    this.delayed.hold(data, (answer) => this.sendDelayed(answer, rinfo, peer));
    this.sendTo(data, rinfo, peer);
  };

  private sendTo(data: Buffer, rinfo: { address: string; port: number }, peer: PeerRecord | null): void {
    if (this.closing) return;
    this.socket.send(data, rinfo.port, rinfo.address, (err) => {
      if (err) {
        this.sendErrors++;
        this.sink.emit({ event: 'warning', role: 'server', message: `${this.config.plan ? 'send' : 'echo'} to ${rinfo.address}, ${rinfo.port} failed: ${(err as NodeJS.ErrnoException).code ?? err.message}` });
        return;
      }
      this.datagramsOut++;
      this.bytesOut += data.length;
      if (peer) peer.bytesOut += data.length;
    });
  }

  /** The answer to a request held for its delay (netnote idle-timeout's downlink trial). */
  private sendDelayed(answer: Buffer, rinfo: dgram.RemoteInfo, peer: PeerRecord | null): void {
    if (this.closing) return;
    this.delayedSent++;
    if (this.sink.messages) this.sink.emit({ event: 'send', role: 'server', seq: this.delayedSent, data: answer, remote: peer?.remote ?? remoteOf(rinfo), answer: 'delayed' });
    this.sendTo(answer, rinfo, peer);
  }

  /** A datagram is a message: the peer's responder says what goes back. */
  private answer(plan: ServerPlan, data: Buffer, rinfo: dgram.RemoteInfo, peer: PeerRecord | null): void {
    const key = `${rinfo.address}|${rinfo.port}`;
    let session = this.sessions.get(key);
    if (session) {
      this.sessions.delete(key);
    } else {
      if (this.sessions.size >= TRACKED_PEERS) this.sessions.delete(this.sessions.keys().next().value!);
      session = { responder: new Responder(plan), remote: peer?.remote ?? remoteOf(rinfo), lastHeard: 0, sent: 0 };
    }
    session.lastHeard = performance.now();
    this.sessions.set(key, session);
    const answer = session.responder.answer({ data, body: data });
    if (!answer) return;
    const deliver = () => this.deliver(key, session, answer, rinfo, peer);
    if (answer.delayMs > 0) setTimeout(deliver, answer.delayMs).unref();
    else deliver();
  }

  private deliver(key: string, session: Session, answer: Answer, rinfo: dgram.RemoteInfo, peer: PeerRecord | null): void {
    for (const data of answer.replies) this.sendToPeer(session, data, answer.kind, answer.rule, rinfo, peer);
    // UDP has no connection to close or reset: the peer is forgotten (its counters, captures, pushes).
    if (answer.action === 'close' || answer.action === 'reset') this.sessions.delete(key);
  }

  private sendToPeer(session: Session, data: Buffer, answer: 'reply' | 'echo' | 'push', rule: number | null, rinfo: { address: string; port: number }, peer: PeerRecord | null): void {
    session.sent++;
    if (this.sink.messages) {
      this.sink.emit({ event: 'send', role: 'server', seq: session.sent, data, remote: session.remote, answer, ...(rule === null ? {} : { rule }) });
    }
    this.sendTo(data, rinfo, peer);
  }

  /** --push: to every peer heard from within --peer-ttl. */
  private readonly pushToPeers = (): void => {
    const since = performance.now() - this.config.peerTtlMs;
    for (const [key, session] of this.sessions) {
      if (session.lastHeard < since) continue;
      const peer = this.peers.get(key) ?? null;
      for (const data of session.responder.push()) this.sendToPeer(session, data, 'push', null, session.remote, peer);
    }
  };

  /** The peer's record, most recently active last; null once too many peers were seen. */
  private peer(rinfo: dgram.RemoteInfo): PeerRecord | null {
    const key = `${rinfo.address}|${rinfo.port}`;
    let record = this.peers.get(key);
    if (record) {
      this.peers.delete(key);
    } else if (this.peers.size >= TRACKED_PEERS) {
      return null;
    } else {
      record = { remote: remoteOf(rinfo), datagrams: 0, bytesIn: 0, bytesOut: 0 };
    }
    this.peers.set(key, record);
    return record;
  }

  close(): Promise<void> {
    this.closing = true;
    clearInterval(this.pusher);
    clearInterval(this.reporter);
    this.delayed.cancel();
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }

  summary(): UdpServerSummary {
    const listed = [...this.peers.values()].slice(-SUMMARY_PEERS);
    return {
      proto: 'udp', local: this.local,
      datagrams: { in: this.datagramsIn, out: this.datagramsOut, truncated: this.truncated, sendErrors: this.sendErrors },
      bytesIn: this.bytesIn, bytesOut: this.bytesOut, largest: this.largest, durationMs: elapsedMs(this.started),
      peers: this.peers.size,
      perPeer: listed.map((p) => ({ ...p })),
      olderPeers: this.peers.size - listed.length,
    };
  }
}

function remoteOf(rinfo: dgram.RemoteInfo): Endpoint {
  return { address: rinfo.address, port: rinfo.port, family: rinfo.family === 'IPv6' ? 'IPv6' : 'IPv4' };
}
