// The --probe header, byte by byte, against the layout written out here: magic "NNP1", the
// sequence number (uint32 big-endian) and the send time in microseconds (uint64 big-endian).
import { describe, expect, it } from 'vitest';
import { PROBE_HEADER, decodeProbe, encodeProbe } from '../../../src/core/measure/probe.js';

/** `value` as `bytes` big-endian bytes, by repeated division: no Buffer write helpers. */
function bigEndian(value: bigint, bytes: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < bytes; i++) {
    out.unshift(Number(value % 256n));
    value /= 256n;
  }
  return out;
}

describe('encodeProbe', () => {
  it('writes magic, sequence number and send time in microseconds, then the payload', () => {
    const datagram = encodeProbe(258, 1234.5678, Buffer.from('1234567890'));
    expect([...datagram]).toEqual([
      0x4e, 0x4e, 0x50, 0x31, // "NNP1"
      ...bigEndian(258n, 4),
      ...bigEndian(1_234_568n, 8), // 1234.5678 ms → 1 234 567.8 µs, rounded
      ...Buffer.from('1234567890'),
    ]);
    expect(PROBE_HEADER).toBe(16);
  });

  it('carries hours of monotonic clock without loss, and an empty payload', () => {
    const tenHoursMs = 10 * 3600 * 1000 + 0.001;
    expect([...encodeProbe(1, tenHoursMs, Buffer.alloc(0))]).toEqual([0x4e, 0x4e, 0x50, 0x31, 0, 0, 0, 1, ...bigEndian(36_000_000_001n, 8)]);
  });

  it('wraps the sequence number at 2^32, as a uint32 field must', () => {
    expect([...encodeProbe(2 ** 32 + 5, 0, Buffer.alloc(0)).subarray(4, 8)]).toEqual([0, 0, 0, 5]);
    expect([...encodeProbe(2 ** 32 - 1, 0, Buffer.alloc(0)).subarray(4, 8)]).toEqual([0xff, 0xff, 0xff, 0xff]);
  });
});

describe('decodeProbe', () => {
  it('reads back what encodeProbe wrote: sequence number, send time (to the microsecond) and payload', () => {
    const probe = decodeProbe(encodeProbe(77, 98_765.4321, Buffer.from([0, 0xff, 0x27])));
    expect(probe).not.toBeNull();
    expect(probe!.seq).toBe(77);
    expect(probe!.sentAtMs).toBe(98_765.432);
    expect([...probe!.payload]).toEqual([0, 0xff, 0x27]);
  });

  it('reads a header written by hand (another implementation of the same layout)', () => {
    const datagram = Buffer.from([0x4e, 0x4e, 0x50, 0x31, ...bigEndian(4_000_000_000n, 4), ...bigEndian(86_400_000_000n, 8), 0x41]);
    expect(decodeProbe(datagram)).toEqual({ seq: 4_000_000_000, sentAtMs: 86_400_000, payload: Buffer.from('A') });
  });

  it('a bare 16-byte header is a probe with an empty payload', () => {
    const probe = decodeProbe(encodeProbe(3, 5, Buffer.alloc(0)));
    expect(probe).toEqual({ seq: 3, sentAtMs: 5, payload: Buffer.alloc(0) });
  });

  it('is null for what is not one of ours: too short, or another magic', () => {
    const probe = encodeProbe(9, 1000, Buffer.from('payload'));
    expect(decodeProbe(probe.subarray(0, 15))).toBeNull();
    expect(decodeProbe(Buffer.from('NNP'))).toBeNull();
    expect(decodeProbe(Buffer.alloc(0))).toBeNull();
    expect(decodeProbe(Buffer.concat([Buffer.from('NNP2'), probe.subarray(4)]))).toBeNull();
    expect(decodeProbe(Buffer.from('1234567890abcdefgh'))).toBeNull();
  });
});
