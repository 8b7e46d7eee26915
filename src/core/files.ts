import { close, closeSync, constants, createReadStream, fstat, open, openSync } from 'node:fs';
import { promisify } from 'node:util';
import net from 'node:net';
import type { Readable } from 'node:stream';
import tty from 'node:tty';
import { pause } from './clock.js';
import { NetnoteError, outputError } from './errors.js';

// Files a person names on the command line (--file, --script, --cert, a run to merge, --output,
// --report) may be a FIFO, a device or stdin, not only a regular file. A FIFO nobody writes to
// (or reads from) blocks open() and read() forever, and a blocked call in Node's thread pool also
// blocks the process's exit: an input is opened non-blocking and read by the event loop, so a
// signal can always stop it; an output FIFO waits for its reader on the event loop too.

/** What was named, for messages: `--file /tmp/x`, `stdin`. */
export interface InputName {
  path: string;
  /** The option it was given to: `--file`, `--script`; the path alone when empty. */
  option: string;
}

function describe({ path, option }: InputName): string {
  return path === '-' ? 'stdin' : option ? `${option} ${path}` : path;
}

/**
 * The input as a stream the event loop reads (`-` is stdin); `signal` destroys it with the error
 * `interrupted`, whatever it waits for.
 */
export async function openInput(name: InputName, signal?: AbortSignal): Promise<Readable> {
  const input = await openStream(name);
  const onAbort = () => input.destroy(new NetnoteError('interrupted', `interrupted while reading ${describe(name)}`));
  if (signal?.aborted) onAbort();
  signal?.addEventListener('abort', onAbort, { once: true });
  // Read to its end, or closed: a signal later must not destroy it (stdin outlives the read).
  const done = () => signal?.removeEventListener('abort', onAbort);
  input.once('end', done).once('close', done);
  return input;
}

async function openStream(name: InputName): Promise<Readable> {
  if (name.path === '-') return process.stdin;
  let fd: number;
  try {
    // O_NONBLOCK: opening a FIFO returns at once, writer or not; a regular file ignores it.
    fd = await promisify(open)(name.path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    throw cannotRead(name, err);
  }
  // A plain descriptor, not a FileHandle: the stream made of it owns it and closes it.
  const stat = await promisify(fstat)(fd);
  if (stat.isFIFO() || stat.isSocket()) return new net.Socket({ fd, readable: true, writable: false });
  if (tty.isatty(fd)) return new tty.ReadStream(fd);
  if (stat.isDirectory()) {
    close(fd, () => {});
    throw new NetnoteError('usage', `cannot read ${describe(name)}: it is a directory`);
  }
  return createReadStream('', { fd });
}

/**
 * The whole input, or null when it holds more than `limit` bytes (/dev/zero, an endless pipe).
 * `signal` stops the read: the error is then `interrupted`.
 */
export async function readInput(name: InputName, limit: number, signal?: AbortSignal): Promise<Buffer | null> {
  const input = await openInput(name, signal);
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of input) {
      total += (chunk as Buffer).length;
      if (total > limit) return null;
      chunks.push(chunk as Buffer);
    }
  } catch (err) {
    throw cannotRead(name, err);
  } finally {
    // stdin stays open for Node to close; anything we opened is closed now, read to the end or not.
    if (input !== process.stdin) input.destroy();
  }
  return Buffer.concat(chunks, total);
}

/** How often an output FIFO is tried again while it has no reader. */
const READER_POLL_MS = 50;

/**
 * Opens an output for writing (created, then truncated or appended to: `flags` 'w' or 'a') and
 * returns its descriptor. A FIFO waits for its reader, as the shell's `> fifo` does, but without
 * blocking a thread: `signal` stops the wait.
 */
export async function openOutput(path: string, what: string, signal?: AbortSignal, flags: 'w' | 'a' = 'w'): Promise<number> {
  for (;;) {
    try {
      // Non-blocking, a FIFO without a reader is ENXIO at once; with one, the real open cannot block.
      // The probe stays open until the real one is: a reader that saw no writer at all would read EOF.
      const probe = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_NONBLOCK, 0o666);
      try {
        return openSync(path, flags);
      } finally {
        closeSync(probe);
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENXIO') throw outputError(what, err);
    }
    await pause(READER_POLL_MS, signal);
    if (signal?.aborted) throw new NetnoteError('interrupted', `interrupted while waiting for a reader of ${what}`);
  }
}

function cannotRead(name: InputName, err: unknown): NetnoteError {
  if (err instanceof NetnoteError) return err;
  return new NetnoteError('usage', `cannot read ${describe(name)}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
}
