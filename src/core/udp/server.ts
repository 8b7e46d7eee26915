import type dgram from 'node:dgram';
import { elapsedMs } from '../clock.js';
import type { Endpoint } from '../endpoint.js';
import type { EventSink, OneWayStats } from '../events.js';
import { DelayedAnswers } from '../measure/delayed-answers.js';
import { decodeControl, decodeProbe } from '../measure/probe.js';
import { Responder, type Answer, type ServerPlan } from '../message/answer.js';
import { DatagramLog } from '../run/backpressure.js';
import type { GroupJoin } from '../socket/multicast.js';
import { UdpListeners, type Listener } from '../socket/udp-listen.js';
import { OneWayServer } from './one-way-server.js';

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
  /** --join: multicast groups to receive. */
  joins: GroupJoin[];
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
  /** The socket it last sent to: pushes go out from the address it talks to. */
  via: Listener;
}

export interface PeerRecord {
  remote: Endpoint;
  datagrams: number;
  bytesIn: number;
  bytesOut: number;
  /** The probes it sent (--probe, udp-client --one-way), as this server received them. */
  oneWay?: OneWayStats;
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
  private readonly oneWay: OneWayServer;
  /** A wildcard or --join: each received datagram says which address it was sent to. */
  private readonly manySockets: boolean;
  private listeners!: UdpListeners;
  /** With a plan: each peer's conversation, least recently heard first. */
  private readonly sessions = new Map<string, Session>();
  private pusher: NodeJS.Timeout | undefined;
  private reporter: NodeJS.Timeout | undefined;
  /** idle-timeout's downlink trials: answers held for the delay asked (measure/probe.ts), and how many were sent. */
  private readonly delayed = new DelayedAnswers();
  private delayedSent = 0;
  /** After close(): a reply still waiting on its delay is dropped (a closed socket throws on send). */
  private closing = false;

  private constructor(private readonly config: UdpServerConfig, private readonly sink: EventSink) {
    this.log = new DatagramLog(sink, 'server');
    this.oneWay = new OneWayServer(sink, (via, data, to, done) => this.sendTo(via, data, to, this.peers.get(`${to.address}|${to.port}`) ?? null, done));
    this.manySockets = config.joins.length > 0 || config.host === '0.0.0.0' || config.host === '::';
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
    const server = new UdpServer(config, sink);
    try {
      server.listeners = await UdpListeners.open({ host: config.host, port: config.port, reuseAddress: config.reuseAddress, joins: config.joins }, sink, server.onMessage);
    } catch (err) {
      clearInterval(server.pusher);
      clearInterval(server.reporter);
      throw err;
    }
    return server;
  }

  get local(): Endpoint {
    return this.listeners.local;
  }

  private readonly onMessage = (message: Buffer, rinfo: dgram.RemoteInfo, via: Listener): void => {
    const { maxSize, mode } = this.config;
    const now = performance.now();
    this.datagramsIn++;
    this.bytesIn += message.length;
    if (message.length > this.largest) this.largest = message.length;
    const peer = this.peer(rinfo);
    if (peer) {
      peer.datagrams++;
      peer.bytesIn += message.length;
    }
    const remote = peer?.remote ?? remoteOf(rinfo);
    const key = `${rinfo.address}|${rinfo.port}`;
    // One-way tests talk in band (measure/probe.ts): their control messages are answered, not echoed.
    const control = decodeControl(message);
    if (control) return this.oneWay.control(key, control, remote, via);
    const probe = decodeProbe(message);
    if (probe) this.oneWay.probe(key, probe, message.length, now);
    const data = maxSize !== null && message.length > maxSize ? message.subarray(0, maxSize) : message;
    if (data !== message) this.truncated++;
    if (this.sink.messages) {
      this.log.emit({
        event: 'recv', role: 'server', data, remote,
        ...(data === message ? {} : { truncatedFrom: message.length }),
        ...(this.manySockets ? { local: via.local, ...(via.cast === 'unicast' ? {} : { cast: via.cast }) } : {}),
      });
    }
    if (mode === 'sink') return;
    if (this.config.plan) return this.answer(this.config.plan, data, rinfo, via, peer);
    this.delayed.hold(data, (answer) => this.sendDelayed(answer, rinfo, via, peer));
    this.sendTo(via, data, rinfo, peer);
  };

  private sendTo(via: Listener, data: Buffer, to: { address: string; port: number }, peer: PeerRecord | null, done?: (err: Error | null) => void): void {
    if (this.closing) return done?.(new Error('closed'));
    via.socket.send(data, to.port, to.address, (err) => {
      if (err) {
        this.sendErrors++;
        this.sink.emit({ event: 'warning', role: 'server', message: `${this.config.plan ? 'send' : 'echo'} to ${to.address}, ${to.port} failed: ${(err as NodeJS.ErrnoException).code ?? err.message}` });
      } else {
        this.datagramsOut++;
        this.bytesOut += data.length;
        if (peer) peer.bytesOut += data.length;
      }
      done?.(err ?? null);
    });
  }

  /** The answer to a request held for its delay (netnote idle-timeout's downlink trial). */
  private sendDelayed(answer: Buffer, rinfo: dgram.RemoteInfo, via: Listener, peer: PeerRecord | null): void {
    if (this.closing) return;
    this.delayedSent++;
    if (this.sink.messages) this.sink.emit({ event: 'send', role: 'server', seq: this.delayedSent, data: answer, remote: peer?.remote ?? remoteOf(rinfo), answer: 'delayed' });
    this.sendTo(via, answer, rinfo, peer);
  }

  /** A datagram is a message: the peer's responder says what goes back. */
  private answer(plan: ServerPlan, data: Buffer, rinfo: dgram.RemoteInfo, via: Listener, peer: PeerRecord | null): void {
    const key = `${rinfo.address}|${rinfo.port}`;
    let session = this.sessions.get(key);
    if (session) {
      this.sessions.delete(key);
    } else {
      if (this.sessions.size >= TRACKED_PEERS) this.sessions.delete(this.sessions.keys().next().value!);
      session = { responder: new Responder(plan), remote: peer?.remote ?? remoteOf(rinfo), lastHeard: 0, sent: 0, via };
    }
    session.lastHeard = performance.now();
    session.via = via;
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
    this.sendTo(session.via, data, rinfo, peer);
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
    this.oneWay.close();
    return this.listeners.close();
  }

  summary(): UdpServerSummary {
    const listed = [...this.peers.values()].slice(-SUMMARY_PEERS);
    return {
      proto: 'udp', local: this.local,
      datagrams: { in: this.datagramsIn, out: this.datagramsOut, truncated: this.truncated, sendErrors: this.sendErrors },
      bytesIn: this.bytesIn, bytesOut: this.bytesOut, largest: this.largest, durationMs: elapsedMs(this.started),
      peers: this.peers.size,
      perPeer: listed.map((p) => {
        const oneWay = this.oneWay.stats(`${p.remote.address}|${p.remote.port}`);
        return { ...p, ...(oneWay ? { oneWay } : {}) };
      }),
      olderPeers: this.peers.size - listed.length,
    };
  }
}

function remoteOf(rinfo: dgram.RemoteInfo): Endpoint {
  return { address: rinfo.address, port: rinfo.port, family: rinfo.family === 'IPv6' ? 'IPv6' : 'IPv4' };
}
