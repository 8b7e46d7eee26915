// The --probe header, byte by byte, against the layout written out in probe.ts: magic "NNP1", the
// sequence number (uint32 big-endian) and the send time in microseconds (uint64 big-endian); the
// same for idle-timeout's downlink request ("NNA1") and the one-way tests' control messages ("NNP" + a letter).
import { describe, expect, it } from 'vitest';
import {
  PROBE_HEADER, answerTo, controlBody, decodeAnswerAfter, decodeControl, decodeProbe, encodeAnswerAfter, encodeControl, encodeProbe, type ControlKind, type ControlMessage,
} from '../../../src/core/measure/probe.js';

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

// idle-timeout's downlink request, against the layout in probe.ts: "NNA1" (the server's delayed
// answer "NNa1"), the request's number (uint32 big-endian), the delay in ms (uint64 big-endian).
const NNA1 = [0x4e, 0x4e, 0x41, 0x31];
const NNa1 = [0x4e, 0x4e, 0x61, 0x31];

describe('encodeAnswerAfter', () => {
  it('writes magic "NNA1", the request number and the delay in milliseconds, 16 bytes and nothing more', () => {
    expect([...encodeAnswerAfter(513, 90_000)]).toEqual([...NNA1, ...bigEndian(513n, 4), ...bigEndian(90_000n, 8)]);
    // 25 h: past 2^32 µs, and the whole uint64 field is used.
    expect([...encodeAnswerAfter(1, 90_000_000)]).toEqual([...NNA1, 0, 0, 0, 1, ...bigEndian(90_000_000n, 8)]);
  });

  it('rounds the delay to the millisecond and wraps the number at 2^32', () => {
    expect([...encodeAnswerAfter(2 ** 32 + 7, 1499.5)]).toEqual([...NNA1, 0, 0, 0, 7, ...bigEndian(1500n, 8)]);
    expect([...encodeAnswerAfter(0, 0.4)]).toEqual([...NNA1, ...new Array<number>(12).fill(0)]);
  });
});

describe('decodeAnswerAfter', () => {
  it('reads a request written by hand: not answered', () => {
    expect(decodeAnswerAfter(Buffer.from([...NNA1, ...bigEndian(4_000_000_000n, 4), ...bigEndian(30_000n, 8)])))
      .toEqual({ seq: 4_000_000_000, delayMs: 30_000, answered: false });
  });

  it('reads the delayed answer ("NNa1") as answered', () => {
    expect(decodeAnswerAfter(Buffer.from([...NNa1, ...bigEndian(3n, 4), ...bigEndian(600_000n, 8)])))
      .toEqual({ seq: 3, delayMs: 600_000, answered: true });
  });

  it('is null for anything but exactly 16 bytes with one of the two magics', () => {
    const request = encodeAnswerAfter(5, 1000);
    expect(decodeAnswerAfter(request.subarray(0, 15))).toBeNull();
    expect(decodeAnswerAfter(Buffer.concat([request, Buffer.from('x')]))).toBeNull();
    expect(decodeAnswerAfter(Buffer.alloc(0))).toBeNull();
    // A probe and a control message have the same length and other magics.
    expect(decodeAnswerAfter(encodeProbe(5, 1000, Buffer.alloc(0)))).toBeNull();
    expect(decodeAnswerAfter(encodeControl('reverse-stop', 0))).toBeNull();
    expect(decodeAnswerAfter(Buffer.from('NNA2NNA1NNa1NNA1'))).toBeNull();
  });
});

describe('answerTo', () => {
  it('the same 16 bytes with the magic "NNa1", the request left as it was', () => {
    const request = encodeAnswerAfter(42, 5000);
    const answer = answerTo(request);
    expect([...answer]).toEqual([...NNa1, ...bigEndian(42n, 4), ...bigEndian(5000n, 8)]);
    expect([...request.subarray(0, 4)]).toEqual(NNA1);
    expect(decodeAnswerAfter(answer)).toEqual({ seq: 42, delayMs: 5000, answered: true });
  });
});

// The one-way tests' control messages: "NNP" and a type letter, the sequence field, the send
// time (µs, uint64 big-endian), then the body.
const LETTERS = { 'report-request': 'q', report: 'r', 'reverse-start': 's', cookie: 'c', 'reverse-end': 'e', 'reverse-stop': 'x' } as const;

describe('encodeControl', () => {
  it.each(Object.entries(LETTERS))('%s is "NNP%s"', (kind, letter) => {
    const datagram = encodeControl(kind as ControlKind, 9);
    expect([...datagram.subarray(0, 8)]).toEqual([0x4e, 0x4e, 0x50, letter.charCodeAt(0), 0, 0, 0, 9]);
    expect(datagram).toHaveLength(16);
  });

  it('stamps the send time in microseconds of the monotonic clock', () => {
    const before = Math.floor(performance.now() * 1000);
    const datagram = encodeControl('report-request', 20);
    const after = Math.ceil(performance.now() * 1000);
    const sentUs = datagram.readBigUInt64BE(8);
    expect(sentUs).toBeGreaterThanOrEqual(BigInt(before));
    expect(sentUs).toBeLessThanOrEqual(BigInt(after));
  });

  it('a JSON body for an object, the bytes as given for a Buffer, none for null or nothing', () => {
    const report = encodeControl('report', 7, { received: 3, jitterMs: 0.25 });
    expect(report.subarray(16).toString('latin1')).toBe('{"received":3,"jitterMs":0.25}');
    expect(report).toHaveLength(16 + 30);
    const cookie = encodeControl('cookie', 0, Buffer.from([0xde, 0xad, 0xbe, 0xef, 0, 1, 2, 0xff]));
    expect([...cookie.subarray(16)]).toEqual([0xde, 0xad, 0xbe, 0xef, 0, 1, 2, 0xff]);
    expect(encodeControl('reverse-end', 1, null)).toHaveLength(16);
    expect(encodeControl('reverse-end', 1)).toHaveLength(16);
  });

  it('wraps the sequence field at 2^32', () => {
    expect([...encodeControl('reverse-end', 2 ** 32 + 1).subarray(4, 8)]).toEqual([0, 0, 0, 1]);
  });
});

describe('decodeControl', () => {
  /** A control message written by hand: "NNP", the letter, seq, a send time, the body. */
  const byHand = (letter: string, seq: bigint, body: number[] = []) =>
    Buffer.from([0x4e, 0x4e, 0x50, letter.charCodeAt(0), ...bigEndian(seq, 4), ...bigEndian(123_456_789n, 8), ...body]);

  it.each(Object.entries(LETTERS))('"NNP%s" written by hand is %s', (kind, letter) => {
    expect(decodeControl(byHand(letter, 3_000_000_000n, [0x7b, 0x7d]))).toEqual({ kind, seq: 3_000_000_000, body: Buffer.from('{}') });
  });

  it('a bare 16-byte message has an empty body', () => {
    expect(decodeControl(byHand('q', 12n))).toEqual({ kind: 'report-request', seq: 12, body: Buffer.alloc(0) });
  });

  it('reads back what encodeControl wrote', () => {
    expect(decodeControl(encodeControl('reverse-start', 0, { perSecond: 10 }))).toEqual({ kind: 'reverse-start', seq: 0, body: Buffer.from('{"perSecond":10}') });
  });

  it('is null for a probe, an unknown letter, another prefix, or fewer than 16 bytes', () => {
    expect(decodeControl(encodeProbe(1, 5, Buffer.from('payload')))).toBeNull();
    expect(decodeControl(byHand('z', 1n))).toBeNull();
    expect(decodeControl(byHand('Q', 1n))).toBeNull();
    expect(decodeControl(Buffer.concat([Buffer.from('NNQ'), byHand('q', 1n).subarray(3)]))).toBeNull();
    expect(decodeControl(Buffer.concat([Buffer.from('MNP'), byHand('q', 1n).subarray(3)]))).toBeNull();
    expect(decodeControl(byHand('q', 1n).subarray(0, 15))).toBeNull();
    expect(decodeControl(Buffer.from('NNPq'))).toBeNull();
  });
});

describe('controlBody', () => {
  const withBody = (body: string | Buffer): ControlMessage => ({ kind: 'report', seq: 1, body: Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8') });

  it('a JSON object, read as UTF-8', () => {
    expect(controlBody(withBody('{"received":20,"bytes":520,"name":"capteur-é"}'))).toEqual({ received: 20, bytes: 520, name: 'capteur-é' });
    expect(controlBody(withBody('{}'))).toEqual({});
  });

  it('null for JSON that is no object: null, an array, a number, a string, a boolean', () => {
    for (const body of ['null', '[1,2]', '[]', '42', '"text"', 'true']) expect(controlBody(withBody(body)), body).toBeNull();
  });

  it('null for what does not parse: nothing, binary, cut JSON', () => {
    for (const body of [Buffer.alloc(0), Buffer.from([0xde, 0xad, 0xbe, 0xef]), Buffer.from('{"received":')]) expect(controlBody(withBody(body))).toBeNull();
  });
});
