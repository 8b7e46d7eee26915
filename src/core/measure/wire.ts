import { readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import type { Family } from '../endpoint.js';
import { keepaliveProbes } from '../socket/keepalive.js';

/**
 * The note's FAQ 7 ("why does a packet of less than 50 B consume much more data?"): an estimate of
 * the bytes a capture on the link sees for a run, next to the payload. Model, per frame: Ethernet
 * header 14, IPv4 20 / IPv6 40, TCP 20 + 12 of timestamp options (handshake segments carry 20 of
 * options), UDP 8. TCP: 3-way handshake, the data cut into segments of MTU − headers, one pure ACK
 * for every two segments of a multi-segment message (or for a lone reply the next message does
 * not carry back within the delayed-ACK time), 3-segment close. See docs/wire-cost.md.
 */
export interface WireEstimate {
  payloadBytes: number;
  wireBytes: number;
  packets: number;
  /** payload / wire, 0–1. */
  efficiency: number;
  mtu: number;
  /** A client sending at an interval of a second or more: the same pattern kept up for a day and for 30 days. */
  projection?: WireProjection;
}

/** What a run's pattern costs kept up: one cycle (a message, its reply and what goes between) repeated. */
export interface WireProjection {
  /** From one message to the next. */
  cycleMs: number;
  day: { bytes: number; packets: number };
  days30: { bytes: number; packets: number };
}

/** The pattern of an exchange, per message: what projectDay() repeats. */
export interface ExchangePattern {
  proto: 'tcp' | 'udp';
  family: Family;
  mtu: number;
  /** From one message to the next (the interval, plus the round trip when the client waits for it). */
  cycleMs: number;
  /** Average bytes of a message and of its reply (0: none). */
  messageBytes: number;
  replyBytes: number;
  /** --heartbeat: its interval, bytes, and its answer's bytes (0: none). */
  heartbeat: { intervalMs: number; bytes: number; answerBytes: number } | null;
  /** --keepalive: the idle time before a probe. */
  keepaliveIdleMs: number | null;
  /** Connections made again per day, at the run's rate (--reconnect). */
  reconnectsPerDay: number;
}

const DAY_MS = 86_400_000;

/**
 * The note's FAQ 7 for a device that keeps it up: the bytes of a day and of 30 days at the
 * run's interval, heartbeats, keepalive probes and reconnect handshakes included.
 */
export function projectDay(p: ExchangePattern): WireProjection {
  const ack = ETHERNET + IP[p.family] + TCP;
  const one = (bytes: number): Frames => {
    if (bytes <= 0) return { packets: 0, bytes: 0 };
    return p.proto === 'tcp' ? tcpMessage(bytes, p.family, p.mtu) : udpFrames(bytes, p.family, p.mtu);
  };
  // A lone segment is acknowledged by a pure ACK of its own (nothing goes back within the delayed-ACK time).
  const lone = (bytes: number): Frames => (p.proto === 'tcp' && bytes > 0 ? add(one(bytes), { packets: 1, bytes: ack }) : one(bytes));
  let cycle = add(one(p.messageBytes), p.replyBytes > 0 && p.cycleMs >= DELAYED_ACK_MS ? lone(p.replyBytes) : one(p.replyBytes));
  // What is sent in a cycle: the message at 0, then a heartbeat each time nothing was sent for its interval.
  const beats = p.heartbeat ? Math.max(0, Math.ceil(p.cycleMs / p.heartbeat.intervalMs) - 1) : 0;
  if (p.heartbeat) {
    const beat = p.heartbeat.answerBytes > 0 ? add(one(p.heartbeat.bytes), lone(p.heartbeat.answerBytes)) : lone(p.heartbeat.bytes);
    cycle = add(cycle, { packets: beat.packets * beats, bytes: beat.bytes * beats });
  }
  if (p.proto === 'tcp' && p.keepaliveIdleMs) {
    // The kernel probes once per idle time of quiet: in each gap between what is sent.
    const gap = p.heartbeat?.intervalMs ?? 0;
    const last = p.cycleMs - beats * gap;
    const probes = beats * keepaliveProbes(gap, p.keepaliveIdleMs) + keepaliveProbes(last, p.keepaliveIdleMs);
    cycle = add(cycle, { packets: 2 * probes, bytes: 2 * probes * ack });
  }
  const cycles = DAY_MS / p.cycleMs;
  const connections = p.proto === 'tcp' ? 1 + p.reconnectsPerDay : 0;
  const open = tcpOpenClose(p.family);
  const day = { packets: cycle.packets * cycles + open.packets * connections, bytes: cycle.bytes * cycles + open.bytes * connections };
  return {
    cycleMs: Math.round(p.cycleMs * 1000) / 1000,
    day: { bytes: Math.round(day.bytes), packets: Math.round(day.packets) },
    days30: { bytes: Math.round(day.bytes * 30), packets: Math.round(day.packets * 30) },
  };
}

const ETHERNET = 14;
const IP: Record<Family, number> = { IPv4: 20, IPv6: 40 };
const TCP = 32; // 20 + 12 bytes of timestamp option, on every Linux segment after the handshake
const TCP_SYN = 40; // 20 + MSS, SACK-permitted, timestamps, window scale
const UDP = 8;
const IPV6_FRAGMENT = 8;
/** Linux delays an ACK up to 40 ms hoping to carry it on data. */
const DELAYED_ACK_MS = 40;

interface Frames {
  packets: number;
  bytes: number;
}

const add = (a: Frames, b: Frames): Frames => ({ packets: a.packets + b.packets, bytes: a.bytes + b.bytes });

/** Frames of one TCP message of `size` payload bytes, and the pure ACKs its receiver sends for it. */
function tcpMessage(size: number, family: Family, mtu: number): Frames {
  if (size === 0) return { packets: 0, bytes: 0 };
  const segment = mtu - IP[family] - TCP;
  const segments = Math.ceil(size / segment);
  const acks = segments > 1 ? Math.ceil(segments / 2) : 0;
  const header = ETHERNET + IP[family] + TCP;
  return { packets: segments + acks, bytes: size + segments * header + acks * header };
}

function tcpOpenClose(family: Family): Frames {
  const syn = ETHERNET + IP[family] + TCP_SYN;
  const plain = ETHERNET + IP[family] + TCP;
  return { packets: 6, bytes: 2 * syn + plain + 3 * plain };
}

export interface TcpExchange {
  family: Family;
  mtu: number;
  /** Messages sent and the bytes of each; replies received and their sizes (one per message here). */
  messages: number;
  messageBytes: number;
  replies: number;
  replyBytes: number;
  /** Pause between a reply and the next message: past the delayed-ACK time the reply gets its own ACK. */
  intervalMs: number;
  /** Connections opened and closed (--reconnect makes more than one); default 1. */
  connections?: number;
  /** --keepalive: probes the kernel sent, each answered by an ACK. */
  keepaliveProbes?: number;
  /** --heartbeat: heartbeats sent and their answers, each alone on the link. */
  heartbeats?: { messages: number; bytes: number; answers: number; answerBytes: number };
}

/** A connection carrying request/reply exchanges (tcp-client, http-get), with its heartbeats and keepalive probes. */
export function tcpExchangeWire(x: TcpExchange): WireEstimate {
  const open = tcpOpenClose(x.family);
  const connections = x.connections ?? 1;
  let frames: Frames = { packets: open.packets * connections, bytes: open.bytes * connections };
  const ack = ETHERNET + IP[x.family] + TCP;
  // A keepalive probe is a bare segment, its answer a bare ACK.
  const probes = x.keepaliveProbes ?? 0;
  frames = add(frames, { packets: 2 * probes, bytes: 2 * probes * ack });
  const h = x.heartbeats;
  if (h && h.messages > 0) {
    const beat = tcpMessage(h.bytes / h.messages, x.family, x.mtu);
    const answer = h.answers > 0 ? tcpMessage(h.answerBytes / h.answers, x.family, x.mtu) : { packets: 0, bytes: 0 };
    // A heartbeat is alone on the link: its answer ACKs it, and our delayed ACK answers the answer;
    // one left unanswered gets the peer's delayed ACK.
    frames = add(frames, { packets: beat.packets * h.messages + (answer.packets + 1) * h.answers + (h.messages - h.answers), bytes: beat.bytes * h.messages + (answer.bytes + ack) * h.answers + (h.messages - h.answers) * ack });
  }
  const perMessage = x.messages > 0 ? x.messageBytes / x.messages : 0;
  const perReply = x.replies > 0 ? x.replyBytes / x.replies : 0;
  const message = tcpMessage(perMessage, x.family, x.mtu);
  const reply = tcpMessage(perReply, x.family, x.mtu);
  frames = add(frames, { packets: message.packets * x.messages, bytes: message.bytes * x.messages });
  frames = add(frames, { packets: reply.packets * x.replies, bytes: reply.bytes * x.replies });
  // A single-segment reply is acknowledged by the next message, unless that comes too late.
  if (x.intervalMs >= DELAYED_ACK_MS && reply.packets === 1) {
    frames = add(frames, { packets: x.replies, bytes: x.replies * (ETHERNET + IP[x.family] + TCP) });
  }
  return estimate(x.messageBytes + x.replyBytes, frames, x.mtu);
}

/** A one-way stream of `bytes` (tcp-client --stream). */
export function tcpStreamWire(bytes: number, family: Family, mtu: number): WireEstimate {
  return estimate(bytes, add(tcpOpenClose(family), tcpMessage(bytes, family, mtu)), mtu);
}

/** `datagrams` UDP datagrams of `bytes` in total, fragmented when over the MTU. */
export function udpWire(datagrams: number, bytes: number, family: Family, mtu: number): WireEstimate {
  if (datagrams === 0) return estimate(0, { packets: 0, bytes: 0 }, mtu);
  const frames = udpFrames(bytes / datagrams, family, mtu);
  return estimate(bytes, { packets: datagrams * frames.packets, bytes: datagrams * frames.bytes }, mtu);
}

/** One datagram of `payload` bytes: its IP fragments (one when it fits the MTU). */
function udpFrames(payload: number, family: Family, mtu: number): Frames {
  const size = payload + UDP;
  // An IPv6 fragment carries an 8-byte Fragment header after the IPv6 header.
  const unfragmented = size <= mtu - IP[family];
  const header = IP[family] + (family === 'IPv6' && !unfragmented ? IPV6_FRAGMENT : 0);
  const perFragment = Math.floor((mtu - header) / 8) * 8;
  const fragments = unfragmented ? 1 : Math.ceil(size / perFragment);
  return { packets: fragments, bytes: size + fragments * (ETHERNET + header) };
}

/** An estimate with the run's pattern kept up for a day, when there is one. */
export function withProjection(wire: WireEstimate, projection: WireProjection | null): WireEstimate {
  return projection ? { ...wire, projection } : wire;
}

/** Two estimates of the same link added up (both directions of UDP, parallel streams). */
export function sumWire(...parts: WireEstimate[]): WireEstimate {
  const frames = parts.reduce((t, p) => ({ packets: t.packets + p.packets, bytes: t.bytes + p.wireBytes }), { packets: 0, bytes: 0 });
  return estimate(parts.reduce((t, p) => t + p.payloadBytes, 0), frames, parts[0]?.mtu ?? 1500);
}

function estimate(payloadBytes: number, frames: Frames, mtu: number): WireEstimate {
  const wireBytes = Math.round(frames.bytes);
  return {
    payloadBytes,
    wireBytes,
    packets: Math.round(frames.packets),
    efficiency: wireBytes === 0 ? 0 : Math.round((payloadBytes / wireBytes) * 1000) / 1000,
    mtu,
  };
}

/** The MTU of the NIC that holds `localAddress` (loopback: 65536); 1500 when unknown. */
export function mtuOf(localAddress: string): number {
  const owner = Object.entries(networkInterfaces()).find(([, addresses]) => addresses?.some((a) => a.address === localAddress));
  if (!owner) return 1500;
  try {
    return Number(readFileSync(`/sys/class/net/${owner[0]}/mtu`, 'utf8').trim()) || 1500;
  } catch {
    return 1500;
  }
}
