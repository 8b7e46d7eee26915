// The checksums of src/core/message/checksum.ts against the CRC catalogue's check values, frames
// from the Modbus specifications, and python3 on random data: zlib.crc32, binascii.crc_hqx
// (CRC-16/CCITT-FALSE with init 0xFFFF), CRC-16/MODBUS bit by bit from its definition, and the
// byte sums.
import { execFileSync } from 'node:child_process';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CHECKSUMS, isChecksumName, type ChecksumName } from '../../../src/core/message/checksum.js';
import { needs } from '../../support/needs.js';
import { commandMissing } from '../../support/peers.js';

const NAMES = Object.keys(CHECKSUMS) as ChecksumName[];

/** python3's value of each checksum, for each sample. */
function python(samples: Buffer[]): Array<Record<ChecksumName, number>> {
  const script = `
import sys, zlib, binascii, functools
def crc16_modbus(data):
    crc = 0xFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc
for line in sys.stdin.read().split("\\n"):
    d = bytes.fromhex(line)
    print(crc16_modbus(d), binascii.crc_hqx(d, 0xFFFF), zlib.crc32(d), sum(d) & 0xFF, functools.reduce(lambda x, b: x ^ b, d, 0), -sum(d) & 0xFF)`;
  const out = execFileSync('python3', ['-c', script], { input: samples.map((s) => s.toString('hex')).join('\n'), encoding: 'utf8' });
  const order: ChecksumName[] = ['crc16-modbus', 'crc16-ccitt', 'crc32', 'sum8', 'xor8', 'lrc'];
  return out.trimEnd().split('\n').map((line) => Object.fromEntries(line.split(' ').map((v, i) => [order[i], Number(v)])) as Record<ChecksumName, number>);
}

const compute = (name: ChecksumName, hex: string) => CHECKSUMS[name].compute(Buffer.from(hex, 'hex'));

describe('checksums', () => {
  it('"123456789" gives the catalogue check values (CRC-16/MODBUS 4B37, CRC-16/CCITT-FALSE 29B1, CRC-32 CBF43926) and its byte sums', () => {
    const digits = Buffer.from('123456789').toString('hex');
    expect(Object.fromEntries(NAMES.map((name) => [name, compute(name, digits)]))).toEqual({
      'crc16-modbus': 0x4b37, 'crc16-ccitt': 0x29b1, crc32: 0xcbf43926, sum8: 0xdd, xor8: 0x31, lrc: 0x23,
    });
  });

  it('Modbus RTU frames: 11 03 006B 0003 → 76 87, 01 03 0000 000A → C5 CD, 01 03 0000 0001 → 84 0A, low byte first', () => {
    expect(['1103006b0003', '01030000000a', '010300000001'].map((frame) => compute('crc16-modbus', frame))).toEqual([0x8776, 0xcdc5, 0x0a84]);
    expect(CHECKSUMS['crc16-modbus']).toMatchObject({ width: 2, order: 'le' });
  });

  it("Modbus ASCII: the LRC of F7 03 1389 000A is 60 (the serial line guide's :F7031389000A60)", () => {
    expect(compute('lrc', 'f7031389000a')).toBe(0x60);
  });

  it('the others are sent high byte first, in 2, 4 or 1 bytes', () => {
    expect(NAMES.filter((name) => name !== 'crc16-modbus').map((name) => [name, CHECKSUMS[name].width, CHECKSUMS[name].order])).toEqual([
      ['crc16-ccitt', 2, 'be'], ['crc32', 4, 'be'], ['sum8', 1, 'be'], ['xor8', 1, 'be'], ['lrc', 1, 'be'],
    ]);
  });

  it('match python3 on random data, empty data included', needs(commandMissing('python3', 'python3')), () => {
    const samples = [Buffer.alloc(0), ...fc.sample(fc.uint8Array({ minLength: 1, maxLength: 300 }), { numRuns: 300, seed: 20261201 }).map((a) => Buffer.from(a))];
    const expected = python(samples);
    samples.forEach((sample, i) => {
      expect(Object.fromEntries(NAMES.map((name) => [name, CHECKSUMS[name].compute(sample)])), `sample ${i}: ${sample.toString('hex')}`).toEqual(expected[i]);
    });
  });

  it('a name is a checksum only if the table has it, not if an object merely answers to it', () => {
    expect(NAMES.every(isChecksumName)).toBe(true);
    expect(['crc16', 'CRC32', 'toString', 'hasOwnProperty', '__proto__', ''].filter(isChecksumName)).toEqual([]);
  });
});
