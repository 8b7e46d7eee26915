import { createReadStream } from 'node:fs';
import { InvalidValueError, NetnoteError } from '../errors.js';

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

export async function loadPayload(spec: PayloadSpec): Promise<Buffer> {
  switch (spec.kind) {
    case 'bytes': return spec.bytes;
    case 'size':
      if (spec.size > MAX_PAYLOAD) throw tooLarge(`--size ${spec.size}`);
      return generatePayload(spec.size);
    case 'file': return readPayload(spec.path);
  }
}

/** A file or stdin (`-`), read up to MAX_PAYLOAD: /dev/zero or an endless pipe must not fill memory. */
async function readPayload(path: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  const input = path === '-' ? process.stdin : createReadStream(path);
  try {
    for await (const chunk of input) {
      total += (chunk as Buffer).length;
      if (total > MAX_PAYLOAD) break;
      chunks.push(chunk as Buffer);
    }
  } catch (err) {
    throw new NetnoteError('usage', `cannot read --file ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  if (total > MAX_PAYLOAD) throw tooLarge(path === '-' ? 'stdin' : `--file ${path}`);
  return Buffer.concat(chunks, total);
}

function tooLarge(what: string): NetnoteError {
  return new NetnoteError('usage', `${what} is more than the ${MAX_PAYLOAD / 1024 / 1024} MiB one message may be`, 'to measure bulk throughput, use --stream');
}
