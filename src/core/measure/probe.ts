/**
 * --probe datagrams: a 16-byte header inside the payload, so any echo peer (socat, ncat, a device)
 * hands back what we need to measure it: which datagram this is, and when it left.
 *
 *   0..3   magic "NNP1"
 *   4..7   sequence number, uint32 big-endian, from 1
 *   8..15  send time, microseconds on this process's monotonic clock, uint64 big-endian
 *   16..   the user's payload
 *
 * One-way tests (udp-client --one-way, --reverse) talk to a netnote udp-server in band, with
 * control messages of the same shape: magic "NNP" and a type letter in byte 3 instead of "1",
 * the sequence field as given below, the send time, then a body (JSON unless said otherwise):
 *
 *   NNPq  report request, client -> server: seq = probes the client sent in the run (no body).
 *         The server answers with NNPr; the client asks again until one arrives.
 *   NNPr  report, server -> client: seq = the request's seq; body = what the server received
 *         from that client: {"received","bytes","duplicated","reordered","highestSeq",
 *         "jitterMs","spanMs","perSecond"} (see OneWayCounts in measure/one-way.ts).
 *   NNPs  reverse start, client -> server: seq 0; body {"perSecond","burst","size","count",
 *         "durationMs","cookie"}: send `count` probes of `size` bytes at `perSecond`, `burst` at a
 *         time, for at most `durationMs` (optional; at most an hour in any case). The
 *         first start has no cookie; the server answers it with NNPc, and streams only when the
 *         start carries the cookie back, so a spoofed source cannot make it flood someone else.
 *   NNPc  cookie, server -> client: seq 0; body = 8 bytes to send back in the start's "cookie"
 *         (hex).
 *   NNPe  reverse end, server -> client: seq = probes the server sent; no body. Sent three
 *         times, 20 ms apart.
 *   NNPx  reverse stop, client -> server: seq 0; the client gave up (Ctrl-C): stop sending.
 *
 * Every udp-server answers them (echo, --sink, --reply); other peers echo them like any datagram,
 * which the client ignores. A datagram the client sends in its payload is never mistaken for one:
 * the server looks only at the first four bytes, and a probe is type "1".
 */
const MAGIC = 0x4e4e5031; // "NNP1"
/** "NNP": the first three bytes of every probe and control message. */
const MAGIC_PREFIX = 0x4e4e50;
export const PROBE_HEADER = 16;

/**
 * A request of the same 16 bytes (netnote idle-timeout's downlink trials), told apart by its magic,
 * so that other in-band requests can take magics of their own:
 *
 *   0..3   magic "NNA1": answer after a delay
 *   4..7   the request's number, uint32 big-endian
 *   8..15  the delay in milliseconds, uint64 big-endian
 *
 * A netnote server that echoes (tcp-server, a request alone in its read; udp-server, a request
 * alone in its datagram) echoes it at once as it echoes everything, and after the delay sends the
 * same 16 bytes again with the magic "NNa1". A peer that only echoes sends "NNA1" back at once, and
 * nothing after: the client then knows the server cannot push after a delay.
 */
const ANSWER_AFTER = 0x4e4e4131; // "NNA1"
const ANSWERED = 0x4e4e6131; // "NNa1"

export interface AnswerAfter {
  seq: number;
  delayMs: number;
  /** true: the server's delayed answer; false: the request itself (or its plain echo). */
  answered: boolean;
}

export function encodeAnswerAfter(seq: number, delayMs: number): Buffer {
  const request = Buffer.alloc(PROBE_HEADER);
  request.writeUInt32BE(ANSWER_AFTER, 0);
  request.writeUInt32BE(seq >>> 0, 4);
  request.writeBigUInt64BE(BigInt(Math.round(delayMs)), 8);
  return request;
}

/** The request or the answer in these 16 bytes, or null. */
export function decodeAnswerAfter(data: Buffer): AnswerAfter | null {
  if (data.length !== PROBE_HEADER) return null;
  const magic = data.readUInt32BE(0);
  if (magic !== ANSWER_AFTER && magic !== ANSWERED) return null;
  return { seq: data.readUInt32BE(4), delayMs: Number(data.readBigUInt64BE(8)), answered: magic === ANSWERED };
}

/** The server's answer to a request: the same bytes, the magic marked answered. */
export function answerTo(request: Buffer): Buffer {
  const answer = Buffer.from(request);
  answer.writeUInt32BE(ANSWERED, 0);
  return answer;
}

export function encodeProbe(seq: number, sentAtMs: number, payload: Buffer): Buffer {
  const datagram = Buffer.allocUnsafe(PROBE_HEADER + payload.length);
  datagram.writeUInt32BE(MAGIC, 0);
  datagram.writeUInt32BE(seq >>> 0, 4);
  datagram.writeBigUInt64BE(BigInt(Math.round(sentAtMs * 1000)), 8);
  payload.copy(datagram, PROBE_HEADER);
  return datagram;
}

export interface Probe {
  seq: number;
  sentAtMs: number;
  payload: Buffer;
}

/** The probe inside a reply, or null when the reply is not one of ours. */
export function decodeProbe(datagram: Buffer): Probe | null {
  if (datagram.length < PROBE_HEADER || datagram.readUInt32BE(0) !== MAGIC) return null;
  return {
    seq: datagram.readUInt32BE(4),
    sentAtMs: Number(datagram.readBigUInt64BE(8)) / 1000,
    payload: datagram.subarray(PROBE_HEADER),
  };
}

/** The control messages of a one-way test, by their type letter. */
const CONTROL_TYPES = {
  'report-request': 'q',
  report: 'r',
  'reverse-start': 's',
  cookie: 'c',
  'reverse-end': 'e',
  'reverse-stop': 'x',
} as const;

export type ControlKind = keyof typeof CONTROL_TYPES;

const KIND_OF_TYPE = new Map<number, ControlKind>(Object.entries(CONTROL_TYPES).map(([kind, letter]) => [letter.charCodeAt(0), kind as ControlKind]));

export interface ControlMessage {
  kind: ControlKind;
  seq: number;
  body: Buffer;
}

export function encodeControl(kind: ControlKind, seq: number, body: Buffer | object | null = null): Buffer {
  const content = body === null ? Buffer.alloc(0) : Buffer.isBuffer(body) ? body : Buffer.from(JSON.stringify(body));
  const datagram = Buffer.allocUnsafe(PROBE_HEADER + content.length);
  datagram.writeUIntBE(MAGIC_PREFIX, 0, 3);
  datagram.write(CONTROL_TYPES[kind], 3, 'latin1');
  datagram.writeUInt32BE(seq >>> 0, 4);
  datagram.writeBigUInt64BE(BigInt(Math.round(performance.now() * 1000)), 8);
  content.copy(datagram, PROBE_HEADER);
  return datagram;
}

/** The control message in a datagram, or null when it is none (a probe, or anything else). */
export function decodeControl(datagram: Buffer): ControlMessage | null {
  if (datagram.length < PROBE_HEADER || datagram.readUIntBE(0, 3) !== MAGIC_PREFIX) return null;
  const kind = KIND_OF_TYPE.get(datagram[3]!);
  return kind ? { kind, seq: datagram.readUInt32BE(4), body: datagram.subarray(PROBE_HEADER) } : null;
}

/** A control message's JSON body, or null when it does not parse to an object. */
export function controlBody(message: ControlMessage): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(message.body.toString('utf8'));
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? value as Record<string, unknown> : null;
  } catch {
    return null;
  }
}
