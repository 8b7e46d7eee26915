// Templates of src/core/message/template.ts: placeholders, lengths, captures and checksums
// against known vectors (Modbus RTU's C5 CD, the standard "123456789" check values, NMEA's
// published sentences), times against the clock read around them, and the usage errors of
// docs/scripts.md.
import { describe, expect, it } from 'vitest';
import { compileTemplate } from '../../../src/core/message/template.js';

const ctx = { seq: 1, captures: [] as Buffer[] };
const hex = (source: string, context = ctx) => compileTemplate(source, 'hex', 'test').expand(context).toString('hex');
const text = (source: string, context = ctx) => compileTemplate(source, 'text', 'test').expand(context).toString('latin1');

describe('templates', () => {
  it('Modbus RTU: 01 03 00 00 00 0A gets the CRC C5 CD', () => {
    expect(hex('01 03 00 00 00 0a {crc16-modbus}')).toBe('01030000000ac5cd');
  });

  it.each([
    ['crc16-modbus', '374b'], // CRC-16/MODBUS check 0x4B37, sent low byte first
    ['crc16-ccitt', '29b1'], // CRC-16/CCITT-FALSE check 0x29B1
    ['crc32', 'cbf43926'], // CRC-32 check 0xCBF43926
    ['sum8', 'dd'],
    ['xor8', '31'],
    ['lrc', '23'],
  ])('{%s} of "123456789" is the standard check value', (name, expected) => {
    expect(hex(`313233343536373839 {${name}}`).slice(18)).toBe(expected);
  });

  it('byte order and ASCII hex can be asked for; a range limits what is covered', () => {
    expect(hex('313233343536373839 {crc16-modbus:be}').slice(18)).toBe('4b37');
    expect(hex('313233343536373839 {crc16-ccitt:le}').slice(18)).toBe('b129');
    // NMEA 0183: XOR of the characters between $ and *, as two upper-case hex digits.
    expect(text('$GPGGA,092750.000,5321.6802,N,00630.3372,W,1,8,1.03,61.7,M,55.2,M,,*{xor8:1..67:hex}\r\n'))
      .toBe('$GPGGA,092750.000,5321.6802,N,00630.3372,W,1,8,1.03,61.7,M,55.2,M,,*76\r\n');
    expect(text('$GPRMC,123519,A,4807.038,N,01131.000,E,022.4,084.4,230394,003.1,W*{xor8:1..65:hex}\r\n'))
      .toBe('$GPRMC,123519,A,4807.038,N,01131.000,E,022.4,084.4,230394,003.1,W*6A\r\n');
    expect(hex('ffff 313233343536373839 {crc32:2..}').slice(22)).toBe('cbf43926');
    expect(hex('313233343536373839 ffff {crc32:0..9}').slice(22)).toBe('cbf43926');
    expect(hex('000000000000000000000000 313233343536373839 {crc32:12..21}').slice(42)).toBe('cbf43926');
    // An empty range sums nothing.
    expect(hex('0102 {sum8:1..1}')).toBe('010200');
  });

  it('a template of checksums and lengths alone: over no bytes, CRC-16/MODBUS is its initial FFFF, a length 0', () => {
    expect(hex('{crc16-modbus}')).toBe('ffff');
    expect(hex('{len:u8}')).toBe('00');
    expect(text('{len}')).toBe('0');
  });

  it('{seq} as decimal and as binary fields; a u8 wraps', () => {
    expect(text('n={seq}', { seq: 300, captures: [] })).toBe('n=300');
    expect(hex('{seq:u16be}{seq:u16le}{seq:u8}{seq:u32be}', { seq: 300, captures: [] })).toBe('012c' + '2c01' + '2c' + '0000012c');
    expect(text('{ seq : u8 }', { seq: 0x41, captures: [] })).toBe('A');
  });

  it('{len} counts the bytes after it, checksums included, wherever it stands', () => {
    expect(hex('aa {len:u8} 01 02 03 {crc16-modbus}')).toMatch(/^aa05010203[0-9a-f]{4}$/);
    expect(text('L{len}:abc')).toBe('L4:abc');
    expect(hex('{len:u16be} 01 02 03')).toBe('0003010203');
  });

  it('{time} is the Unix time, in seconds or milliseconds, decimal or as a field', () => {
    const before = Date.now();
    const seconds = Number(text('{time}'));
    const field = parseInt(hex('{time:u32be}'), 16);
    const milliseconds = Number(text('{time:ms}'));
    const wrapped = parseInt(hex('{time:ms:u32be}'), 16);
    const after = Date.now();
    for (const s of [seconds, field]) {
      expect(s).toBeGreaterThanOrEqual(Math.floor(before / 1000));
      expect(s).toBeLessThanOrEqual(Math.floor(after / 1000));
    }
    expect(milliseconds).toBeGreaterThanOrEqual(before);
    expect(milliseconds).toBeLessThanOrEqual(after);
    // Milliseconds in a u32 wrap every 49.7 days, as a device's tick counter does.
    expect(wrapped).toBeGreaterThanOrEqual(before % 2 ** 32);
    expect(wrapped).toBeLessThanOrEqual(after % 2 ** 32);
  });

  it('{rand:N} is N fresh bytes, 1 to 65536', () => {
    const a = hex('{rand:8}');
    expect(a).toHaveLength(16);
    expect(hex('{rand:8}')).not.toBe(a);
    expect(hex('{rand:1}')).toHaveLength(2);
    expect(hex('{rand:12}')).toHaveLength(24);
    expect(hex('{rand:65536}')).toHaveLength(2 * 65536);
  });

  it('captures go in as bytes; a group that did not match is empty', () => {
    const context = { seq: 1, captures: [Buffer.from('0102', 'hex')] };
    expect(hex('{1} 00 {2}', context)).toBe('010200');
    expect(text('id={1}', { seq: 1, captures: [Buffer.from('42')] })).toBe('id=42');
  });

  it('{{ and }} are literal braces in text; no placeholder means the same bytes every time', () => {
    const template = compileTemplate('{{"a":1}}', 'text', 'test');
    expect(template.fixed?.toString()).toBe('{"a":1}');
    expect(template.expand(ctx)).toBe(template.fixed);
    expect(template.source).toBe('{{"a":1}}');
    const empty = compileTemplate('', 'hex', 'test');
    expect([empty.fixed, empty.expand(ctx)]).toEqual([Buffer.alloc(0), Buffer.alloc(0)]);
    expect(compileTemplate('{seq}', 'text', 'test').fixed).toBeNull();
  });

  const rand = 'give the number of random bytes, 1 to 65536: {rand:4}';
  it.each([
    // docs/scripts.md's example
    ['01 03 {crc16}', 'hex', '{crc16}: unknown placeholder {crc16}'],
    ['{foo}', 'text', '{foo}: unknown placeholder {foo}'],
    ['{0}', 'text', '{0}: unknown placeholder {0}'],
    ['{12}', 'text', '{12}: unknown placeholder {12}'],
    ['n={seq', 'text', 'unclosed placeholder {seq'],
    ['a}', 'text', "a '}' with no '{' before it (write }} for a literal brace)"],
    // Hex has no braces to escape: }} is two stray braces there.
    ['0d }} 0a', 'hex', "a '}' with no '{' before it"],
    ['{{seq}', 'hex', '{{seq}: unknown placeholder {{seq}'],
    ['{seq:u24}', 'text', "{seq:u24}: 'u24' is not one of u8, u16be, u16le, u32be, u32le"],
    ['{seq:u8:u8}', 'text', '{seq:u8:u8}: too many arguments'],
    ['{1:u8}', 'text', '{1:u8}: too many arguments'],
    ['{time:ms:u32be:u8}', 'text', '{time:ms:u32be:u8}: too many arguments'],
    ['{rand}', 'text', `{rand}: ${rand}`],
    ['{rand:0}', 'text', `{rand:0}: ${rand}`],
    ['{rand:65537}', 'text', `{rand:65537}: ${rand}`],
    ['{rand:x4}', 'text', `{rand:x4}: ${rand}`],
    ['{rand:4x}', 'text', `{rand:4x}: ${rand}`],
    ['{crc32:sideways}', 'text', "{crc32:sideways}: 'sideways' is not le, be, hex or a byte range FROM..TO"],
    ['{crc32:x1..4}', 'text', "{crc32:x1..4}: 'x1..4' is not le, be, hex or a byte range FROM..TO"],
    ['{crc32:1..4x}', 'text', "{crc32:1..4x}: '1..4x' is not le, be, hex or a byte range FROM..TO"],
    ['{sum8:4..2}', 'text', '{sum8:4..2}: the range 4..2 ends before it starts'],
    ['01 0 {seq}', 'hex', "'01 0' is not whole bytes of hex"],
  ] as const)('%j (%s) is a usage error naming the placeholder', (source, mode, why) => {
    expect(() => compileTemplate(source, mode, 'send')).toThrow(expect.objectContaining({
      code: 'usage',
      message: `invalid template in send '${source}': ${why}`,
      hint: 'placeholders: {seq}, {seq:u16be}, {time}, {time:ms}, {time:u32be}, {rand:N}, {len}, {len:u16be}, {1}…{9}, {crc16-modbus}, {crc16-ccitt}, {crc32}, {sum8}, {xor8}, {lrc}',
    }));
  });
});
