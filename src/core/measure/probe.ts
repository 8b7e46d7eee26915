/**
 * --probe datagrams: a 16-byte header inside the payload, so any echo peer (socat, ncat, a device)
 * hands back what we need to measure it: which datagram this is, and when it left.
 *
 *   0..3   magic "NNP1"
 *   4..7   sequence number, uint32 big-endian, from 1
 *   8..15  send time, microseconds on this process's monotonic clock, uint64 big-endian
 *   16..   the user's payload
 */
const MAGIC = 0x4e4e5031; // "NNP1"
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
