// A stream's seconds when the process falls behind its timers: a loaded machine runs the
// duration's timer and the per-second ticker late, together, and in either order.
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import type { NetEvent } from '../../../src/core/events.js';
import { runStream } from '../../../src/core/measure/stream.js';
import { trackResources } from '../../support/cleanup.js';

const tracked = trackResources();

/** Blocks the whole process, as a busy machine that does not schedule it would. */
function stall(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) { /* the event loop stands still */ }
}

describe('runStream under a stalled event loop', () => {
  it('reports every whole second of --duration 2s when both timers fire late in one turn', async () => {
    // A sink in this process that stalls it 2.5 s on the first bytes: by then the ticker's first
    // second and the duration's end are both due, and the peer closes right after our FIN.
    let stalled = false;
    const server = net.createServer((socket) => {
      tracked.sockets.add(socket);
      socket.on('data', () => {
        if (!stalled) stall(2500);
        stalled = true;
      });
      socket.on('end', () => socket.end());
    });
    tracked.cleanups.push(() => server.close());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as net.AddressInfo;

    const events: NetEvent[] = [];
    const sink = { emit: (e: NetEvent) => events.push(e), messages: false, room: () => null };
    const { summary, error } = await runStream({
      host: '127.0.0.1', port, local: null, tls: null, timeoutMs: 5000, durationMs: 2000, blockSize: 1024,
      parallel: 1, reverse: false, bidir: false, pace: null,
    }, sink, new AbortController().signal);

    expect(error).toBeNull();
    expect(stalled).toBe(true);
    const seconds = events.filter((e) => e.event === 'interval').map((e) => [e.fromS, e.toS]);
    expect(seconds).toEqual([[0, 1], [1, 2]]);
    expect(summary.ended).toBe('completed');
  }, 15_000);
});
