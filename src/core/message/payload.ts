import { InvalidValueError, NetnoteError } from '../errors.js';
import { readInput } from '../files.js';

/** The note's test message. */
export const NOTE_PAYLOAD = '1234567890';

/** One message at most: it is held in memory (and an echo check holds its reply too). */
const MAX_PAYLOAD = 256 * 1024 * 1024;

export type PayloadSpec =
  | { kind: 'bytes'; bytes: Buffer }
  | { kind: 'file'; path: string }
  | { kind: 'size'; size: number };

/** Hex as people paste it: `31 32 33`, `31:32:33`, `0x313233`, `313233`. */
export function parseHex(input: string): Buffer {
  const digits = input.trim().replace(/^0x/i, '').replace(/[\s:,-]|0x/gi, '');
  if (!/^[0-9a-fA-F]*$/.test(digits) || digits.length % 2 !== 0) {
    throw new InvalidValueError('hex', input, "expected pairs of hex digits, e.g. '31 32 33' or 0x313233");
  }
  return Buffer.from(digits, 'hex');
}

/** A generated payload of `size` bytes: the note's digits repeated, so it stays readable in logs. */
function generatePayload(size: number): Buffer {
  return Buffer.alloc(size, NOTE_PAYLOAD);
}

/** The payload; `signal` stops reading a --file that is slow to come (a FIFO, stdin). */
export async function loadPayload(spec: PayloadSpec, signal: AbortSignal): Promise<Buffer> {
  switch (spec.kind) {
    case 'bytes': return spec.bytes;
    case 'size':
      if (spec.size > MAX_PAYLOAD) throw tooLarge(`--size ${spec.size}`);
      return generatePayload(spec.size);
    case 'file': {
      // Read up to MAX_PAYLOAD: /dev/zero or an endless pipe must not fill memory.
      const payload = await readInput({ path: spec.path, option: '--file' }, MAX_PAYLOAD, signal);
      if (!payload) throw tooLarge(spec.path === '-' ? 'stdin' : `--file ${spec.path}`);
      return payload;
    }
  }
}

function tooLarge(what: string): NetnoteError {
  return new NetnoteError('usage', `${what} is more than the ${MAX_PAYLOAD / 1024 / 1024} MiB one message may be`, 'to measure bulk throughput, use --stream');
}
