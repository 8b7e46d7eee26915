import { execFileSync } from 'node:child_process';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SHOWN_BYTES, hexDump, pythonBytes, shownBytes } from '../../src/report/bytes.js';
import { needs } from '../support/needs.js';
import { commandMissing } from '../support/peers.js';

/** Python's own repr() of many byte strings at once: one python3 process for a whole batch. */
function pythonRepr(samples: Uint8Array[]): string[] {
  const input = samples.map((s) => Buffer.from(s).toString('hex')).join('\n');
  const script = 'import sys\nfor line in sys.stdin.read().split("\\n"):\n    print(repr(bytes.fromhex(line)))';
  return execFileSync('python3', ['-c', script], { input, encoding: 'latin1' }).split('\n').slice(0, samples.length);
}

// Bytes the rules single out: quotes, backslash, the three named escapes, DEL and the high half.
const tricky = fc.constantFrom(0x27, 0x22, 0x5c, 0x09, 0x0a, 0x0d, 0x00, 0x7f, 0x80, 0xff, 0x20, 0x7e, 0x1f);
const randomBytes = fc.array(fc.oneof(fc.integer({ min: 0, max: 255 }), tricky), { maxLength: 64 }).map((a) => Uint8Array.from(a));
// Mostly printable text, long enough for the word-at-a-time scan, at every alignment.
const printable = fc.tuple(
  fc.array(fc.oneof({ weight: 20, arbitrary: fc.integer({ min: 0x20, max: 0x7e }) }, { weight: 1, arbitrary: tricky }), { maxLength: 300 }),
  fc.integer({ min: 0, max: 3 }),
).map(([codes, offset]) => Buffer.from([...Array(offset).fill(0x41), ...codes]).subarray(offset));
const bytesLike = fc.oneof(randomBytes, printable);

describe("payloads render as Python's repr(bytes)", () => {
  it('matches python3 on thousands of random byte strings, empty data included', needs(commandMissing('python3', 'python3')), () => {
    const samples = [new Uint8Array(0), ...fc.sample(bytesLike, { numRuns: 5000, seed: 20261125 })];
    const expected = pythonRepr(samples);
    samples.forEach((sample, i) => expect(pythonBytes(sample), `sample ${i}`).toBe(expected[i]));
  });

  it('picks double quotes only for data with a single quote and no double quote', () => {
    expect(pythonBytes(Buffer.from("it's"))).toBe('b"it\'s"');
    expect(pythonBytes(Buffer.from('say "it\'s"'))).toBe("b'say \"it\\'s\"'");
    expect(pythonBytes(Buffer.from('a\\b'))).toBe("b'a\\\\b'");
  });

  it('renders a subarray without its neighbours', () => {
    const buffer = Buffer.from('xx1234567890yy');
    expect(pythonBytes(buffer.subarray(2, 12))).toBe("b'1234567890'");
  });
});

describe('a payload longer than a log line shows', () => {
  it('up to 1 MiB is shown whole; past it, the first MiB and how many bytes were left out', () => {
    expect(SHOWN_BYTES).toBe(1024 * 1024);
    const exactly = Buffer.alloc(SHOWN_BYTES, 'a');
    expect(shownBytes(exactly, '…')).toBe(`b'${'a'.repeat(SHOWN_BYTES)}'`);
    const over = Buffer.concat([Buffer.alloc(SHOWN_BYTES, 'a'), Buffer.from("'\x00")]);
    expect(shownBytes(over, '…')).toBe(`b'${'a'.repeat(SHOWN_BYTES)}'… (2 more bytes not shown)`);
  });
});

describe('hex dump', () => {
  /** hexdump -C's rows, without the final line that holds only the length. */
  const hexdumpC = (data: Buffer) => execFileSync('hexdump', ['-C'], { input: data, encoding: 'latin1' }).trimEnd().split('\n').slice(0, -1);

  it('lays out 16 bytes a row with offsets and printable ASCII, as hexdump -C does', needs(commandMissing('hexdump', 'bsdextrautils')), () => {
    const data = Buffer.from('1234567890abcdefXYZ\x00');
    expect(hexDump(data)).toEqual(hexdumpC(data));
  });

  it('matches hexdump -C for every row length and every byte value', needs(commandMissing('hexdump', 'bsdextrautils')), () => {
    // Distinct rows, so hexdump's "*" for a repeated row never appears.
    const all = Buffer.from(Array.from({ length: 256 }, (_, i) => (i * 37 + 11) & 0xff));
    for (const length of [1, 7, 8, 9, 15, 16, 17, 31, 32, 33, 256]) {
      const data = all.subarray(0, length);
      expect(hexDump(data), `${length} bytes`).toEqual(hexdumpC(data));
    }
    expect(hexDump(Buffer.alloc(0))).toEqual([]);
  });
});
