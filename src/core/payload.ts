import { readFile } from 'node:fs/promises';
import { NetnoteError } from './errors.js';

/** The note's test message. */
export const NOTE_PAYLOAD = '1234567890';

export type PayloadSpec =
  | { kind: 'bytes'; bytes: Buffer }
  | { kind: 'file'; path: string }
  | { kind: 'size'; size: number };

/** Hex as people paste it: `31 32 33`, `31:32:33`, `0x313233`, `313233`. */
export function parseHex(input: string): Buffer {
  const digits = input.trim().replace(/^0x/i, '').replace(/[\s:,-]|0x/gi, '');
  if (!/^[0-9a-fA-F]*$/.test(digits) || digits.length % 2 !== 0) {
    throw new NetnoteError('usage', `invalid hex '${input}': expected pairs of hex digits, e.g. '31 32 33' or 0x313233`);
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
    case 'size': return generatePayload(spec.size);
    case 'file': return spec.path === '-' ? readStdin() : readPayloadFile(spec.path);
  }
}

async function readPayloadFile(path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (err) {
    throw new NetnoteError('usage', `cannot read --file ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
}

async function readStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
