// The framers of src/core/message/frame.ts on their own: every mode against fragmented input
// (one byte per push) and coalesced input (ten messages in one push), round trips as fast-check
// properties, MQTT's remaining lengths as its specification encodes them, the bounded buffer (a
// 4 GB length prefix is an error, not an allocation), and the usage errors a person reads.
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
      const wire = payloads.map((p) => encode(spec, p));
      expect(feed(spec, Buffer.concat(wire), sizes)).toEqual(wire);
    }), { numRuns: 200 });
  });

  it('line: the body drops LF or CR LF, the data keeps it', () => {
    const frames = new Framer(parseFrame('line')).push(Buffer.from('AT\r\nOK\n\r\n\n'));
    expect(frames.map((f) => [f.data.toString(), f.body.toString()])).toEqual([['AT\r\n', 'AT'], ['OK\n', 'OK'], ['\r\n', ''], ['\n', '']]);
  });

  it.each([
    ['delimiter:7e7e', 'ab~~\r\n~~', [['ab~~', 'ab'], ['\r\n~~', '\r\n']]],
    ['fixed:3', 'ab\nc\r\n', [['ab\n', 'ab\n'], ['c\r\n', 'c\r\n']]],
    ['length:u8', '\x02\r\n', [['\x02\r\n', '\x02\r\n']]],
    ['mqtt', '\xc0\x00', [['\xc0\x00', '\xc0\x00']]],
  ])('%s: the body is the data without the delimiter, and all of it in the other modes', (mode, stream, expected) => {
    const frames = new Framer(parseFrame(mode)).push(Buffer.from(stream, 'latin1'));
    expect(frames.map((f) => [f.data.toString('latin1'), f.body.toString('latin1')])).toEqual(expected);
  });

  it("raw: each push is one message, as the note's recv(1024) sees it; an empty read is none", () => {
    const framer = new Framer(parseFrame('raw'));
    expect(framer.push(Buffer.from('ab')).map((f) => [f.data.toString(), f.body.toString()])).toEqual([['ab', 'ab']]);
    expect(framer.push(Buffer.alloc(0))).toEqual([]);
    expect(framer.holding).toBe(0);
  });

  it('holds the bytes of an incomplete message, and nothing once it is complete', () => {
    const framer = new Framer(parseFrame('line'));
    expect(framer.push(Buffer.from('OK\nAT+C'))).toHaveLength(1);
    expect([framer.holding, framer.buffered.toString()]).toEqual([4, 'AT+C']);
    expect(framer.push(Buffer.from('SQ\r\n')).map((f) => f.body.toString())).toEqual(['AT+CSQ']);
    expect([framer.holding, framer.buffered.length]).toEqual([0, 0]);
  });

  // MQTT 3.1.1 §2.2.3, Table 2.4: the smallest and largest remaining length of each encoded size,
  // and the text's own example, 321 = C1 02.
  it.each([
    [0, '00'], [127, '7f'], [128, '8001'], [321, 'c102'], [16_383, 'ff7f'], [16_384, '808001'], [2_097_151, 'ffff7f'], [2_097_152, '80808001'],
  ])('mqtt: remaining length %i, encoded %s, makes a whole message of that many bytes after the header', (remaining, encoded) => {
    const message = Buffer.concat([Buffer.from(`30${encoded}`, 'hex'), Buffer.alloc(remaining, 0x61)]);
    const framer = new Framer(parseFrame('mqtt'));
    expect(framer.push(message.subarray(0, -1))).toEqual([]);
    const frames = framer.push(message.subarray(-1));
    // Buffer.equals: vitest's deep equality takes seconds over megabytes.
    expect(frames.map((f) => f.data.length)).toEqual([message.length]);
    expect(frames[0]!.data.equals(message)).toBe(true);
    expect(framer.holding).toBe(0);
  });

  it("mqtt: README's CONNECT and the broker's CONNACK in one read are two messages", () => {
    const connect = Buffer.from('101300044d5154540402003c00076e65746e6f7465', 'hex');
    const connack = Buffer.from('20020000', 'hex');
    expect(new Framer(parseFrame('mqtt')).push(Buffer.concat([connect, connack])).map((f) => f.data)).toEqual([connect, connack]);
  });

  it("mqtt: the largest remaining length, FF FF FF 7F (268 435 455), is over netnote's limit; under a larger one it waits", () => {
    const header = Buffer.from('30ffffff7f', 'hex');
    expect(() => new Framer(parseFrame('mqtt')).push(header)).toThrow(expect.objectContaining({
      name: 'FrameError', message: 'remaining length 268435455: a 268435460-byte message is over the 16777216-byte limit', buffered: header,
    }));
    const roomy = new Framer(parseFrame('mqtt'), 2 ** 29);
    expect(roomy.push(header)).toEqual([]);
    expect(roomy.holding).toBe(5);
  });

  it('mqtt: a remaining length is checked against the limit once its last byte is in', () => {
    const framer = new Framer(parseFrame('mqtt'), 100);
    expect(framer.push(Buffer.from('30ff', 'hex'))).toEqual([]);
    expect(() => framer.push(Buffer.from('00', 'hex'))).toThrow(expect.objectContaining({
      message: 'remaining length 127: a 130-byte message is over the 100-byte limit',
    }));
  });

  it('mqtt: a remaining length of more than 4 bytes is malformed; the error holds those 5 bytes', () => {
    expect(() => new Framer(parseFrame('mqtt')).push(Buffer.from('c000' + '30ffffffff01', 'hex'))).toThrow(expect.objectContaining({
      name: 'FrameError', message: 'MQTT remaining length runs over 4 bytes', buffered: Buffer.from('30ffffffff', 'hex'),
    }));
  });

  it('a 4 GB length prefix is a framing error that names the length, and allocates nothing', () => {
    expect(() => new Framer(parseFrame('length:u32be')).push(Buffer.from('ffffffff00', 'hex'))).toThrow(expect.objectContaining({
      name: 'FrameError', message: 'length 4294967295: a 4294967299-byte message is over the 16777216-byte limit', buffered: Buffer.from('ffffffff00', 'hex'),
    }));
  });

  it('a message of exactly the limit passes; one byte more is a framing error', () => {
    const framer = new Framer(parseFrame('length:u8'), 10);
    const ten = Buffer.from('09' + '61'.repeat(9), 'hex');
    expect(framer.push(ten).map((f) => f.data)).toEqual([ten]);
    expect(() => framer.push(Buffer.from('0a', 'hex'))).toThrow(expect.objectContaining({ message: 'length 10: a 11-byte message is over the 10-byte limit' }));
  });

  it('a line that never ends stops past the limit with what was buffered', () => {
    const framer = new Framer(parseFrame('line'), 100);
    framer.push(Buffer.alloc(60, 0x41));
    expect(framer.push(Buffer.alloc(40, 0x41))).toEqual([]);
    expect(framer.holding).toBe(100);
    expect(() => framer.push(Buffer.from('A'))).toThrow(expect.objectContaining({
      name: 'FrameError', message: '101 bytes without a complete message: over the 100-byte limit', buffered: Buffer.alloc(101, 0x41),
    }));
  });

  it('a length that makes a message shorter than its header is malformed; the error holds that header', () => {
    expect(() => new Framer(parseFrame('length:u16be-4')).push(Buffer.from('0004' + '0001' + '00', 'hex'))).toThrow(expect.objectContaining({
      name: 'FrameError', message: 'length 1 makes a message shorter than its own header', buffered: Buffer.from('0001', 'hex'),
    }));
  });

  it.each(['raw', 'line', 'mqtt', 'fixed:3', 'fixed:12', 'delimiter:0d0a', 'length:u16be@4', 'length:u16be@12', 'length:u8+2', 'length:u8+12', 'length:u32le-4'])('parses and names %s', (mode) => {
    expect(frameName(parseFrame(mode))).toBe(mode);
  });

  it.each([
    [' line ', { kind: 'line' }],
    ['fixed:1', { kind: 'fixed', size: 1 }],
    ['fixed:16777216', { kind: 'fixed', size: 16_777_216 }],
    ['delimiter:0x0d0a', { kind: 'delimiter', delimiter: Buffer.from('\r\n') }],
    ['length:u16le@12-10', { kind: 'length', field: 'u16le', offset: 12, adjust: -10 }],
    ['length:u32be+2', { kind: 'length', field: 'u32be', offset: 0, adjust: 2 }],
  ])('%j is %o', (mode, spec) => {
    expect(parseFrame(mode)).toEqual(spec);
  });

  const lengthSyntax = 'expected length:u8|u16be|u16le|u32be|u32le, then optionally @OFFSET and +ADJ or -ADJ';
  it.each([
    ['', "unknown mode ''"],
    ['lines', "unknown mode 'lines'"],
    [':4', "unknown mode ''"],
    ['raw:1', 'raw takes no argument'],
    ['line:', 'line takes no argument'],
    ['fixed', 'the size must be 1 to 16777216 bytes'],
    ['fixed:0', 'the size must be 1 to 16777216 bytes'],
    ['fixed:x', 'the size must be 1 to 16777216 bytes'],
    ['fixed:x5', 'the size must be 1 to 16777216 bytes'],
    ['fixed:5x', 'the size must be 1 to 16777216 bytes'],
    ['fixed:16777217', 'the size must be 1 to 16777216 bytes'],
    ['delimiter:', 'give the delimiter in hex, e.g. delimiter:0d0a'],
    ['delimiter:zz', "'zz' is not hex"],
    ['delimiter:0x', 'the delimiter is empty'],
    ['length', lengthSyntax],
    ['length:u24', lengthSyntax],
    ['length:xu8', lengthSyntax],
    ['length:u16be+', lengthSyntax],
  ])('refuses %j: %s', (mode, why) => {
    expect(() => parseFrame(mode)).toThrow(expect.objectContaining({
      code: 'usage', message: `invalid frame '${mode}': ${why}`,
      hint: 'use raw, line, delimiter:HEX, fixed:N, length:u8|u16be|u16le|u32be|u32le[@OFFSET][+ADJ], or mqtt',
    }));
  });
});
