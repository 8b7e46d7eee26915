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
