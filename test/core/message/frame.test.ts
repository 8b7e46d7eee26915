// The framers of src/core/message/frame.ts on their own: every mode against fragmented input
// (one byte per push) and coalesced input (ten messages in one push), round trips as fast-check
// properties, and the bounded buffer (a 4 GB length prefix is an error, not an allocation).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FIELD_WIDTH, writeField } from '../../../src/core/message/fields.js';
import { FrameError, Framer, frameName, parseFrame, type FrameSpec } from '../../../src/core/message/frame.js';

/** How a sender lays out `payload` as one message of `spec` (the test's side of the round trip). */
function encode(spec: FrameSpec, payload: Buffer): Buffer {
  switch (spec.kind) {
    case 'line': return Buffer.concat([payload, Buffer.from('\r\n')]);
    case 'delimiter': return Buffer.concat([payload, spec.delimiter]);
    case 'fixed': return payload;
    case 'length': {
      const header = Buffer.alloc(spec.offset + FIELD_WIDTH[spec.field], 0xaa);
      writeField(header, spec.offset, spec.field, payload.length - spec.adjust);
      return Buffer.concat([header, payload]);
    }
    case 'mqtt': {
      const length: number[] = [];
      let n = payload.length;
      do {
        length.push((n % 128) | (n >= 128 ? 0x80 : 0));
        n = Math.floor(n / 128);
      } while (n > 0);
      return Buffer.concat([Buffer.from([0x30, ...length]), payload]);
    }
    case 'raw': return payload;
  }
}

/** Feeds `stream` to a framer in pieces of the given sizes (cycled); the messages it yields. */
function feed(spec: FrameSpec, stream: Buffer, sizes: number[]): Buffer[] {
  const framer = new Framer(spec);
  const out: Buffer[] = [];
  let at = 0;
  for (let i = 0; at < stream.length; i++) {
    const size = sizes[i % sizes.length]!;
    out.push(...framer.push(stream.subarray(at, at + size)).map((f) => f.data));
    at += size;
  }
  expect(framer.buffered.length).toBe(0);
  return out;
}

const MODES: Array<[string, (payload: Buffer) => boolean]> = [
  ['line', (p) => !p.includes(0x0a) && !p.includes(0x0d)],
  ['delimiter:7e7e', (p) => !p.includes(Buffer.from('~')) ],
  ['fixed:5', (p) => p.length === 5],
  ['length:u8', (p) => p.length < 256],
  ['length:u16be', () => true],
  ['length:u16le@3', () => true],
  ['length:u32be-4', () => true],
  ['length:u16be+2', (p) => p.length >= 2],
  ['mqtt', () => true],
];

describe('framers', () => {
  it.each(MODES)('%s: ten messages one byte at a time, and all ten in one push, come out whole', (mode, fits) => {
    const spec = parseFrame(mode);
    const payloads = Array.from({ length: 10 }, (_, i) => Buffer.from(`msg${i}!`.padEnd(5, '.').slice(0, mode === 'fixed:5' ? 5 : undefined)))
      .filter(fits);
    expect(payloads).toHaveLength(10);
    const wire = payloads.map((p) => encode(spec, p));
    const stream = Buffer.concat(wire);
    expect(feed(spec, stream, [1])).toEqual(wire);
    expect(feed(spec, stream, [stream.length])).toEqual(wire);
  });

  it.each(MODES)('%s: any messages cut anywhere come back as they were sent (fast-check)', (mode, fits) => {
    const spec = parseFrame(mode);
    const payload = fc.uint8Array({ minLength: 0, maxLength: 300 }).map((a) => Buffer.from(a)).filter(fits);
    fc.assert(fc.property(fc.array(payload, { minLength: 1, maxLength: 8 }), fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 6 }), (payloads, sizes) => {
      if (spec.kind === 'length' && spec.adjust < 0 && payloads.some((p) => p.length < 0)) return;
      const wire = payloads.map((p) => encode(spec, p));
      expect(feed(spec, Buffer.concat(wire), sizes)).toEqual(wire);
    }), { numRuns: 200 });
  });

  it('line: the body drops LF or CR LF, the data keeps it', () => {
    const frames = new Framer(parseFrame('line')).push(Buffer.from('AT\r\nOK\n'));
    expect(frames.map((f) => [f.data.toString(), f.body.toString()])).toEqual([['AT\r\n', 'AT'], ['OK\n', 'OK']]);
  });

  it('raw: each push is one message, as the note\'s recv(1024) sees it', () => {
    const framer = new Framer(parseFrame('raw'));
    expect(framer.push(Buffer.from('ab')).map((f) => f.data.toString())).toEqual(['ab']);
  });

  it('a 4 GB length prefix is a framing error that names the length, and allocates nothing', () => {
    const framer = new Framer(parseFrame('length:u32be'));
    const error = (() => {
      try {
        framer.push(Buffer.from('ffffffff00', 'hex'));
      } catch (err) {
        return err as FrameError;
      }
      return null;
    })();
    expect(error).toBeInstanceOf(FrameError);
    expect(error!.message).toMatch(/length 4294967295: a 4294967299-byte message is over the 16777216-byte limit/);
    expect(error!.buffered).toEqual(Buffer.from('ffffffff00', 'hex'));
  });

  it('a line that never ends stops at the limit with what was buffered', () => {
    const framer = new Framer(parseFrame('line'), 100);
    framer.push(Buffer.alloc(60, 0x41));
    expect(() => framer.push(Buffer.alloc(60, 0x41))).toThrow(/120 bytes without a complete message: over the 100-byte limit/);
  });

  it('an MQTT remaining length of more than 4 bytes is malformed', () => {
    expect(() => new Framer(parseFrame('mqtt')).push(Buffer.from('30ffffffff01', 'hex'))).toThrow(/runs over 4 bytes/);
  });

  it('a length that makes a message shorter than its header is malformed', () => {
    expect(() => new Framer(parseFrame('length:u16be-4')).push(Buffer.from('000100', 'hex'))).toThrow(/shorter than its own header/);
  });

  it.each(['raw', 'line', 'mqtt', 'fixed:3', 'delimiter:0d0a', 'length:u16be@4', 'length:u8+2', 'length:u32le-4'])('parses and names %s', (mode) => {
    expect(frameName(parseFrame(mode))).toBe(mode);
  });

  it.each(['', 'lines', 'fixed:0', 'fixed:x', 'delimiter:', 'delimiter:zz', 'length:u24', 'length:u16be+', 'raw:1'])('refuses %j', (mode) => {
    expect(() => parseFrame(mode)).toThrow(/invalid frame/);
  });
});
