// Templates of src/core/message/template.ts: placeholders, lengths, captures and checksums
// against known vectors (Modbus RTU's C5 CD, the standard "123456789" check values).
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
    // NMEA 0183: XOR of the characters between $ and *, as two hex digits.
    expect(text('$GPGGA,092750.000,5321.6802,N,00630.3372,W,1,8,1.03,61.7,M,55.2,M,,*{xor8:1..67:hex}\r\n'))
      .toBe('$GPGGA,092750.000,5321.6802,N,00630.3372,W,1,8,1.03,61.7,M,55.2,M,,*76\r\n');
    expect(hex('ffff 313233343536373839 {crc32:2..}').slice(22)).toBe('cbf43926');
    expect(hex('313233343536373839 ffff {crc32:0..9}').slice(22)).toBe('cbf43926');
  });

  it('{seq} as decimal and as binary fields; a u8 wraps', () => {
    expect(text('n={seq}', { seq: 300, captures: [] })).toBe('n=300');
    expect(hex('{seq:u16be}{seq:u16le}{seq:u8}{seq:u32be}', { seq: 300, captures: [] })).toBe('012c' + '2c01' + '2c' + '0000012c');
  });

  it('{len} counts the bytes after it, checksums included', () => {
    expect(hex('aa {len:u8} 01 02 03 {crc16-modbus}')).toMatch(/^aa05010203[0-9a-f]{4}$/);
    expect(text('L{len}:abc')).toBe('L4:abc');
  });

  it('{time} is the Unix time; {rand:N} is N fresh bytes', () => {
    const before = Math.floor(Date.now() / 1000);
    expect(Number(text('{time}'))).toBeGreaterThanOrEqual(before);
    expect(parseInt(hex('{time:u32be}'), 16)).toBeGreaterThanOrEqual(before);
    expect(Number(text('{time:ms}'))).toBeGreaterThan(before * 1000);
    const a = hex('{rand:8}');
    expect(a).toHaveLength(16);
    expect(hex('{rand:8}')).not.toBe(a);
  });

  it('captures go in as bytes; a group that did not match is empty', () => {
    const context = { seq: 1, captures: [Buffer.from('0102', 'hex')] };
    expect(hex('{1} 00 {2}', context)).toBe('010200');
    expect(text('id={1}', { seq: 1, captures: [Buffer.from('42')] })).toBe('id=42');
  });

  it('{{ and }} are literal braces in text; no placeholder means the same bytes every time', () => {
    const template = compileTemplate('{{"a":1}}', 'text', 'test');
    expect(template.fixed?.toString()).toBe('{"a":1}');
  });

  it.each([
    ['{foo}', 'text', /unknown placeholder \{foo\}/],
    ['{seq', 'text', /unclosed placeholder \{seq/],
    ['a}', 'text', /'\}' with no '\{'/],
    ['{seq:u24}', 'text', /'u24' is not one of u8/],
    ['{rand}', 'text', /number of random bytes/],
    ['{crc32:sideways}', 'text', /'sideways' is not le, be, hex or a byte range/],
    ['01 0 {seq}', 'hex', /'01 0' is not whole bytes of hex/],
  ] as const)('%j (%s) is a usage error naming the placeholder', (source, mode, message) => {
    expect(() => compileTemplate(source, mode, '--data')).toThrow(message);
  });
});

