import type net from 'node:net';
import { hostPort, type Endpoint } from '../endpoint.js';
import { NetnoteError, fromSystemError } from '../errors.js';
import type { Direction, EventSink, TrialSeen } from '../events.js';
import type { LocalSpec } from '../socket/local.js';
import { connectTcp } from '../socket/tcp.js';
import { UdpClientSocket } from '../socket/udp.js';
import { PROBE_HEADER, decodeAnswerAfter, encodeAnswerAfter, encodeProbe } from './probe.js';

// One trial of `netnote idle-timeout`: a connection (TCP) or a mapping (UDP) left idle for a given
// time, then tested in one direction. Uplink: the client sends and the peer must echo (any echo
// peer). Downlink: before going quiet the client asks a netnote server to answer after that time
// (measure/probe.ts); the answer must arrive. A NAT that forgot a UDP mapping makes a new one for
// an uplink datagram, so only the downlink shows that it forgot.

export interface TrialResult {
  direction: Direction;
  idleMs: number;
  survived: boolean;
  seen: TrialSeen;
  /** Downlink, answered: how long after the idle time the answer came. */
  lateMs?: number;
  /** A FIN or a reset during the idle time: after how long. */
  endedAfterMs?: number;
}

export interface TrialTarget {
  proto: 'tcp' | 'udp';
  remote: Endpoint;
  local: LocalSpec | null;
  /** How long an echo or an answer may take beyond the idle time (-w). */
  graceMs: number;
}

const MUTED: EventSink = { messages: false, emit() {}, room: () => null };
/** A trial's connect: a server's accept queue (the note's listen(10)) may drop a SYN or two of a round. */
const CONNECT_TIMEOUT_MS = 15_000;
/** After a request's echo, how long its answer (asked with no delay) may take besides two round trips. */
const ANSWER_MARGIN_MS = 200;
const round = (ms: number): number => Math.round(ms * 1000) / 1000;

/**
 * A way to talk over one connection or socket: send, the next 16 bytes received (null when the
 * time ran out or the peer ended it), and how it ended if it did.
 */
export interface Channel {
  send(data: Buffer): void;
  next(untilMs: number, cancel: AbortSignal): Promise<Buffer | null>;
  /** Set when the peer closed (FIN) or reset it, with when. */
  ended: { how: 'reset' | 'closed'; at: number } | null;
  close(): void;
}

/** Opens the trial's connection or socket; a failure here is the run's error, not the trial's. */
export async function openChannel(target: TrialTarget, signal: AbortSignal): Promise<Channel> {
  const { remote } = target;
  if (target.proto === 'tcp') {
    const socket = await connectTcp({ host: remote.address, port: remote.port, local: target.local, timeoutMs: Math.max(target.graceMs, CONNECT_TIMEOUT_MS), signal }, MUTED);
    return tcpChannel(socket);
  }
  return udpChannel(await UdpClientSocket.open({ host: remote.address, port: remote.port, local: target.local }, MUTED));
}

/**
 * What a channel received, handed out one message at a time (`take`: 16 bytes of the TCP stream,
 * or one datagram), waiting for it until a time, the peer's end, or the trial's cancel.
 */
class Inbox {
  private wake: (() => void) | null = null;

  constructor(private readonly take: () => Buffer | null, private readonly channel: () => Channel) {}

  arrived(): void {
    this.wake?.();
  }

  async next(untilMs: number, cancel: AbortSignal): Promise<Buffer | null> {
    for (;;) {
      const message = this.take();
      if (message) return message;
      const left = untilMs - performance.now();
      if (this.channel().ended || left <= 0 || cancel.aborted) return null;
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          cancel.removeEventListener('abort', done);
          this.wake = null;
          resolve();
        };
        const timer = setTimeout(done, left);
        this.wake = done;
        cancel.addEventListener('abort', done, { once: true });
      });
    }
  }
}

function tcpChannel(socket: net.Socket): Channel {
  let buffered: Buffer = Buffer.alloc(0);
  const inbox = new Inbox(() => {
    if (buffered.length < PROBE_HEADER) return null;
    const message = buffered.subarray(0, PROBE_HEADER);
    buffered = buffered.subarray(PROBE_HEADER);
    return message;
  }, () => channel);
  const channel: Channel = {
    ended: null,
    send: (data) => void socket.write(data),
    next: (untilMs, cancel) => inbox.next(untilMs, cancel),
    close: () => socket.destroy(),
  };
  socket.on('data', (chunk: Buffer) => {
    buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
    inbox.arrived();
  });
  const end = (how: 'reset' | 'closed') => {
    channel.ended ??= { how, at: performance.now() };
    inbox.arrived();
  };
  socket.on('error', () => end('reset'));
  socket.on('end', () => end('closed'));
  socket.on('close', () => end('closed'));
  return channel;
}

function udpChannel(socket: UdpClientSocket): Channel {
  const datagrams: Buffer[] = [];
  const inbox = new Inbox(() => datagrams.shift() ?? null, () => channel);
  const channel: Channel = {
    ended: null,
    send: (data) => socket.send(data, () => {}),
    next: (untilMs, cancel) => inbox.next(untilMs, cancel),
    close: () => socket.close(),
  };
  socket.onMessage((datagram) => {
    datagrams.push(datagram);
    inbox.arrived();
  });
  // A connected UDP socket hears of an ICMP port unreachable: nothing listens there any more.
  socket.onError(() => {
    channel.ended ??= { how: 'reset', at: performance.now() };
    inbox.arrived();
  });
  return channel;
}

/** Waits `ms` unless the trial is cancelled or the peer ends it first. */
function quiet(ms: number, channel: Channel, cancel: AbortSignal): Promise<void> {
  return channel.next(performance.now() + ms, cancel).then(() => undefined);
}

/**
 * One trial. `cancel` aborts it (a shorter trial already died, or Ctrl-C): the promise then
 * resolves with null. `seq` numbers its messages; `connected` is called once its connection is up.
 */
export async function runTrial(target: TrialTarget, direction: Direction, idleMs: number, seq: number, cancel: AbortSignal, connected: () => void = () => {}): Promise<TrialResult | null> {
  let channel: Channel;
  try {
    channel = await openChannel(target, cancel);
  } catch (err) {
    if (cancel.aborted) return null;
    throw fromSystemError(err, { host: target.remote.address, port: target.remote.port, doing: 'connect' });
  }
  connected();
  try {
    return direction === 'uplink' ? await uplink(channel, target, idleMs, seq, cancel) : await downlink(channel, target, idleMs, seq, cancel);
  } finally {
    channel.close();
  }
}

async function uplink(channel: Channel, target: TrialTarget, idleMs: number, seq: number, cancel: AbortSignal): Promise<TrialResult | null> {
  const result = (seen: TrialSeen, extra: Partial<TrialResult> = {}): TrialResult => ({ direction: 'uplink', idleMs, survived: seen === 'echoed', seen, ...extra });
  let started = performance.now();
  if (target.proto === 'udp') {
    // A datagram and its echo first: the mapping exists, and the peer echoes.
    const first = encodeProbe(seq, started, Buffer.alloc(0));
    channel.send(first);
    const echo = await channel.next(started + target.graceMs, cancel);
    if (cancel.aborted) return null;
    if (!echo?.equals(first)) return result('no-echo', { idleMs: 0 });
    started = performance.now();
  }
  await quiet(idleMs, channel, cancel);
  if (cancel.aborted) return null;
  if (channel.ended) return result(channel.ended.how, { endedAfterMs: round(channel.ended.at - started) });
  const sentAt = performance.now();
  const probe = encodeProbe(seq, sentAt, Buffer.alloc(0));
  channel.send(probe);
  const echo = await channel.next(sentAt + target.graceMs, cancel);
  if (cancel.aborted) return null;
  if (echo?.equals(probe)) return result('echoed');
  // (channel.ended may have been set while the echo was awaited.)
  return result((channel.ended as Channel['ended'])?.how ?? 'no-echo');
}

async function downlink(channel: Channel, target: TrialTarget, idleMs: number, seq: number, cancel: AbortSignal): Promise<TrialResult | null> {
  const sentAt = performance.now();
  channel.send(encodeAnswerAfter(seq, idleMs));
  const result = (seen: TrialSeen, extra: Partial<TrialResult> = {}): TrialResult => ({ direction: 'downlink', idleMs, survived: seen === 'answered', seen, ...extra });
  for (;;) {
    const message = await channel.next(sentAt + idleMs + target.graceMs, cancel);
    if (cancel.aborted) return null;
    if (!message) {
      if (channel.ended) return result(channel.ended.how, { endedAfterMs: round(channel.ended.at - sentAt) });
      return result('no-answer');
    }
    const answer = decodeAnswerAfter(message);
    if (answer?.answered && answer.seq === seq) return result('answered', { lateMs: round(performance.now() - sentAt - idleMs) });
    // Anything else (an echo of the request): not the answer; keep waiting.
  }
}

/**
 * Before the trials: does the peer answer, and can it answer after a delay? One request with no
 * delay: a netnote server answers it ("downlink" works), an echo peer sends it back (uplink only).
 */
export async function preflight(target: TrialTarget, signal: AbortSignal): Promise<{ downlink: boolean; rttMs: number }> {
  const where = hostPort(target.remote.address, target.remote.port);
  let channel: Channel;
  try {
    channel = await openChannel(target, signal);
  } catch (err) {
    throw fromSystemError(err, { host: target.remote.address, port: target.remote.port, doing: 'connect' });
  }
  try {
    const sentAt = performance.now();
    channel.send(encodeAnswerAfter(0, 0));
    const reply = await channel.next(sentAt + target.graceMs, signal);
    if (signal.aborted) throw new NetnoteError('interrupted', 'interrupted');
    const rttMs = round(performance.now() - sentAt);
    const answer = reply ? decodeAnswerAfter(reply) : null;
    if (answer?.answered) return { downlink: true, rttMs };
    if (answer) {
      // The echo: a netnote server's answer (no delay) follows at once; any other echo peer sends nothing more.
      const more = await channel.next(performance.now() + Math.min(target.graceMs, 2 * rttMs + ANSWER_MARGIN_MS), signal);
      return { downlink: more !== null && decodeAnswerAfter(more)?.answered === true, rttMs };
    }
    if (channel.ended?.how === 'reset' && target.proto === 'udp') {
      throw new NetnoteError('unreachable', `nothing listening on ${where} (ICMP port unreachable)`, 'start a server there: netnote udp-server HOST PORT');
    }
    throw new NetnoteError('timeout', `${where} did not answer ${reply ? 'with an echo' : `within ${target.graceMs} ms`}: idle-timeout needs a peer that echoes`,
      `start one there: netnote ${target.proto}-server HOST PORT (it also answers the downlink trials)`);
  } finally {
    channel.close();
  }
}
