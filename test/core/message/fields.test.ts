// The integer fields of src/core/message/fields.ts against the byte layouts of Python's struct
// formats (>B, >H, <H, >I, <I), and the wrap-around docs/scripts.md promises: 256 is 00 in a u8.
import { describe, expect, it } from 'vitest';
import { FIELD_WIDTH, INT_FIELDS, readField, writeField, type IntField } from '../../../src/core/message/fields.js';

function written(field: IntField, value: number): string {
  // One byte of padding each side: a field is written at its offset and nowhere else.
  const data = Buffer.alloc(FIELD_WIDTH[field] + 2, 0xee);
  writeField(data, 1, field, value);
  expect(data[0]).toBe(0xee);
  expect(data.at(-1)).toBe(0xee);
  return data.subarray(1, -1).toString('hex');
}

describe('integer fields', () => {
  it('are u8, u16be, u16le, u32be and u32le, of 1, 2, 2, 4 and 4 bytes', () => {
    expect(INT_FIELDS.map((field) => [field, FIELD_WIDTH[field]])).toEqual([['u8', 1], ['u16be', 2], ['u16le', 2], ['u32be', 4], ['u32le', 4]]);
  });

  it('write as struct.pack does: 0x12345678 big-endian is 12 34 56 78, little-endian 78 56 34 12', () => {
    expect(INT_FIELDS.map((field) => written(field, field === 'u8' ? 0xab : field.startsWith('u16') ? 0x1234 : 0x12345678)))
      .toEqual(['ab', '1234', '3412', '12345678', '78563412']);
    expect(INT_FIELDS.map((field) => written(field, 0))).toEqual(['00', '0000', '0000', '00000000', '00000000']);
    expect(INT_FIELDS.map((field) => written(field, 2 ** (8 * FIELD_WIDTH[field]) - 1))).toEqual(['ff', 'ffff', 'ffff', 'ffffffff', 'ffffffff']);
  });

  it('wrap modulo the range, as a counter on a device does: 256 is 00 in a u8, -1 is all ones', () => {
    expect([256, 257, 300, 65_536 + 5].map((value) => written('u8', value))).toEqual(['00', '01', '2c', '05']);
    expect(written('u16be', 65_536)).toBe('0000');
    expect(written('u16le', 65_536 + 0x1234)).toBe('3412');
    expect(written('u32be', 2 ** 32 + 7)).toBe('00000007');
    expect(written('u32le', 3 * 2 ** 32 + 0x0102)).toBe('02010000');
    expect(INT_FIELDS.map((field) => written(field, -1))).toEqual(['ff', 'ffff', 'ffff', 'ffffffff', 'ffffffff']);
    expect(written('u16be', -65_537)).toBe('ffff');
    // Milliseconds since 1970 in a u32: the low 32 bits.
    expect(written('u32be', 1_764_547_200_123)).toBe((1_764_547_200_123 % 2 ** 32).toString(16).padStart(8, '0'));
  });

  it('read back what they wrote, at any offset', () => {
    const data = Buffer.from('00123456789a', 'hex');
    expect(INT_FIELDS.map((field) => readField(data, 1, field))).toEqual([0x12, 0x1234, 0x3412, 0x12345678, 0x78563412]);
    expect(readField(Buffer.from('ffffffff', 'hex'), 0, 'u32be')).toBe(4_294_967_295);
  });
});
