import { crc16ccitt, crc16modbus, crc32 } from 'crc';

// The checksums device protocols put at the end of a frame. The CRCs come from the `crc`
// package (its check values are tested); the 8-bit sums are one line each.

export type ChecksumName = 'crc16-modbus' | 'crc16-ccitt' | 'crc32' | 'sum8' | 'xor8' | 'lrc';

interface Checksum {
  width: 1 | 2 | 4;
  /** How the protocol that uses it sends it: Modbus RTU puts the CRC's low byte first. */
  order: 'le' | 'be';
  compute(data: Buffer): number;
}

export const CHECKSUMS: Record<ChecksumName, Checksum> = {
  /** CRC-16/MODBUS: poly 0x8005 reflected, init 0xFFFF; sent low byte first. */
  'crc16-modbus': { width: 2, order: 'le', compute: (data) => crc16modbus(data) },
  /** CRC-16/CCITT-FALSE: poly 0x1021, init 0xFFFF, not reflected; sent high byte first. */
  'crc16-ccitt': { width: 2, order: 'be', compute: (data) => crc16ccitt(data) },
  /** CRC-32 (IEEE 802.3, zlib); written high byte first, as PNG and most framings do. */
  crc32: { width: 4, order: 'be', compute: (data) => crc32(data) },
  sum8: { width: 1, order: 'be', compute: (data) => data.reduce((sum, byte) => (sum + byte) & 0xff, 0) },
  xor8: { width: 1, order: 'be', compute: (data) => data.reduce((x, byte) => x ^ byte, 0) },
  /** Modbus ASCII's longitudinal redundancy check: the two's complement of the byte sum. */
  lrc: { width: 1, order: 'be', compute: (data) => (-data.reduce((sum, byte) => sum + byte, 0)) & 0xff },
};

export function isChecksumName(name: string): name is ChecksumName {
  return Object.hasOwn(CHECKSUMS, name);
}
