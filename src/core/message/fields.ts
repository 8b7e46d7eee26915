// Unsigned integer fields as device protocols lay them out: the length prefixes a framer reads
// and the sequence numbers, times and lengths a template writes.

export type IntField = 'u8' | 'u16be' | 'u16le' | 'u32be' | 'u32le';

export const INT_FIELDS: readonly IntField[] = ['u8', 'u16be', 'u16le', 'u32be', 'u32le'];

export const FIELD_WIDTH: Record<IntField, number> = { u8: 1, u16be: 2, u16le: 2, u32be: 4, u32le: 4 };

export function readField(data: Buffer, at: number, field: IntField): number {
  switch (field) {
    case 'u8': return data[at]!;
    case 'u16be': return data.readUInt16BE(at);
    case 'u16le': return data.readUInt16LE(at);
    case 'u32be': return data.readUInt32BE(at);
    case 'u32le': return data.readUInt32LE(at);
  }
}

/** Writes `value` modulo the field's range: a sequence number past 65535 wraps in a u16, as on a device. */
export function writeField(data: Buffer, at: number, field: IntField, value: number): void {
  const range = 2 ** (FIELD_WIDTH[field] * 8);
  const wrapped = value >= 0 && value < range ? value : ((Math.trunc(value) % range) + range) % range;
  switch (field) {
    case 'u8': data[at] = wrapped; return;
    case 'u16be': data.writeUInt16BE(wrapped, at); return;
    case 'u16le': data.writeUInt16LE(wrapped, at); return;
    case 'u32be': data.writeUInt32BE(wrapped, at); return;
    case 'u32le': data.writeUInt32LE(wrapped, at); return;
  }
}
