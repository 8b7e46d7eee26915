// A check on the replies (--verify-echo, --expect, --expect-regex) fails on bytes no message
// awaited: more than the echo, bytes between messages, a frame beyond the last reply. The peers
// are broken devices written here: they answer the note's message with something more.
import type net from 'node:net';
import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli.js';
import { trackResources } from './support/cleanup.js';
import { rawServer } from './support/peers.js';
import { schemaErrors } from './support/schema.js';

const { cleanups } = trackResources();

/** A peer that answers each chunk it reads with `answer(chunk)`. */
const answering = (answer: (chunk: Buffer, socket: net.Socket) => void) =>
  rawServer(cleanups, (socket) => socket.on('data', (chunk: Buffer) => answer(chunk, socket)));

type Json = Record<string, unknown> & { event: string };
const events = (stdout: string): Json[] => stdout.trim().split('\n').map((line) => JSON.parse(line) as Json);

describe('bytes beyond the reply fail a check on the replies', () => {
  it("the echo twice (b'12345678901234567890' to b'1234567890') → exit 1, shown", async () => {
    const port = await answering((chunk, socket) => socket.write(Buffer.concat([chunk, chunk])));
    const run = await runCli(['tcp-client', '127.0.0.1', String(port), '-c', '3', '-i', '0', '--verify-echo']);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain("[client] mismatch on reply 1: expected b'1234567890' (echo), got b'12345678901234567890'  (the last 10 bytes came when no message awaited a reply)\n");
    expect(run.stderr).toBe('netnote: 10 more bytes arrived beyond the reply to message 1: no message awaited them\n');
  });

  it("the echo and GARBAGE, against --expect; --json: a mismatch event with the surplus, valid against the schema", async () => {
    const port = await answering((chunk, socket) => socket.write(Buffer.concat([chunk, Buffer.from('GARBAGE')])));
    const run = await runCli(['--json', 'tcp-client', '127.0.0.1', String(port), '-c', '3', '-i', '0', '--expect', '1234567890']);
    expect(run.code).toBe(1);
    const mismatch = events(run.stdout).find((e) => e.event === 'mismatch')!;
    expect(schemaErrors(mismatch)).toBeNull();
    expect(mismatch).toMatchObject({ seq: 1, check: 'expect', surplus: 7, got: { text: "b'1234567890GARBAGE'" } });
    expect(events(run.stdout).at(-1)).toMatchObject({ event: 'summary', exitCode: 1, error: { code: 'assertion' } });
  });

  it('--no-wait: 9.77 KiB after the last echo → exit 1', async () => {
    let echoed = 0;
    const port = await answering((chunk, socket) => {
      socket.write(chunk);
      echoed += chunk.length;
      if (echoed === 30) socket.write(Buffer.alloc(10_000, 'x'));
    });
    const run = await runCli(['tcp-client', '127.0.0.1', String(port), '-c', '3', '-i', '0', '--no-wait', '--verify-echo', '-q']);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^netnote: 10000 more bytes arrived beyond the reply to message 3: no message awaited them\n$/);
  });

  it('bytes between messages, while none awaits a reply (a push during -i) → exit 1', async () => {
    const port = await answering((chunk, socket) => {
      socket.write(chunk);
      setTimeout(() => socket.write('PUSH'), 100);
    });
    const run = await runCli(['tcp-client', '127.0.0.1', String(port), '-c', '2', '-i', '500ms', '--verify-echo']);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain("[client] mismatch on reply 1: expected b'1234567890' (echo), got b'1234567890PUSH'  (the last 4 bytes came when no message awaited a reply)\n");
  });

  it('--frame line: a second line for one request, and the start of a line beyond the reply → exit 1', async () => {
    for (const extra of ['EXTRA\n', 'EXT']) {
      const port = await answering((_, socket) => socket.write(`OK\n${extra}`));
      const run = await runCli(['tcp-client', '127.0.0.1', String(port), '-c', '2', '-i', '300ms', '--data', 'AT\n', '--frame', 'line', '--expect-regex', '^OK']);
      expect(run.code, extra).toBe(1);
      expect(run.stderr, extra).toBe(`netnote: ${extra.length} more bytes arrived beyond the reply to message 1: no message awaited them\n`);
    }
  });

  it('without a check, the surplus is only counted: the note\'s loop is not an assertion', async () => {
    const port = await answering((chunk, socket) => socket.write(Buffer.concat([chunk, chunk])));
    const run = await runCli(['tcp-client', '127.0.0.1', String(port), '-c', '2', '-i', '0']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('[client] sent 2 (20 B), received 2 (40 B), 0 without reply\n');
  });
});
