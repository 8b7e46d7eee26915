// Links that live for days, on loopback: keepalive as the kernel shows it (ss), heartbeats,
// what a lost connection is blamed on, reconnects with back-off, --wait-for, a server that drops
// its clients, timestamps, the --log file and interim reports. The same through a NAT that
// forgets idle connections is test/nat.test.ts.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { runCli, startCli, startServer } from './support/cli.js';
import { trackResources } from './support/cleanup.js';
import { hasCommand } from './support/peers.js';

const tracked = trackResources();

/** The established TCP sockets on this port (either end), as `ss -tno` shows them. */
function ssLines(port: number): string[] {
  return execFileSync('ss', ['-tnoH', 'state', 'established', `( sport = :${port} or dport = :${port} )`], { encoding: 'utf8' })
    .split('\n').filter(Boolean);
}

/**
 * A timer as ss prints it (iproute2's print_ms_timer): `1min30sec`, `12sec`, `2.608ms` (2 s and
 * 608 ms), `516ms`.
 */
function ssTimerMs(text: string): number {
  const match = /^(?:(\d+)min)?(?:(\d+)(?:sec|\.))?(?:(\d+)ms)?$/.exec(text);
  if (!match) throw new Error(`not an ss timer: ${text}`);
  const [, minutes = '0', secs = '0', ms = '0'] = match;
  return (Number(minutes) * 60 + Number(secs)) * 1000 + Number(ms);
}

describe.skipIf(!hasCommand('ss'))(`--keepalive${hasCommand('ss') ? '' : ': skipped, ss missing (apt install iproute2)'}`, () => {
  it('turns SO_KEEPALIVE on for the client and for every client of the server: ss -o shows the keepalive timer, the log what was set', async () => {
    const server = await startServer('tcp-server', ['--keepalive', '5s']);
    tracked.servers.add(server);
    expect(server.stdout()).toContain('[server] keepalive on every client: a probe after 5 s idle, then one every 1 s; 10 unanswered probes end the connection  (SO_KEEPALIVE, TCP_KEEPIDLE 5, TCP_KEEPINTVL 1, TCP_KEEPCNT 10)\n');
    const client = startCli(['tcp-client', '127.0.0.1', String(server.port), '--keepalive', '3s', '-c', '2', '-i', '2s'], { timeoutMs: 20_000 });
    tracked.servers.add(client);
    await client.waitFor(/\[client\] -------------------------\n/);
    const sockets = ssLines(server.port);
    expect(sockets).toHaveLength(2);
    // ss prints the time left before the next probe: under the idle time set on each end.
    const timers = sockets.map((line) => {
      const timer = /timer:\(keepalive,([^,]+),0\)/.exec(line);
      expect(timer, line).not.toBeNull();
      // The client's socket is the one whose peer is the server's port.
      return { client: new RegExp(`:${server.port}\\s+timer`).test(line), leftMs: ssTimerMs(timer![1]!) };
    });
    const clientTimer = timers.find((t) => t.client)!;
    const serverTimer = timers.find((t) => !t.client)!;
    expect(clientTimer.leftMs).toBeLessThanOrEqual(3000);
    expect(serverTimer.leftMs).toBeLessThanOrEqual(5000);
    expect(serverTimer.leftMs).toBeGreaterThan(clientTimer.leftMs);
    const done = await client.finished;
    expect(done.code).toBe(0);
    expect(done.stdout).toContain('[client] keepalive on: a probe after 3 s idle, then one every 1 s; 10 unanswered probes end the connection  (SO_KEEPALIVE, TCP_KEEPIDLE 3, TCP_KEEPINTVL 1, TCP_KEEPCNT 10)\n');
    // The note's connected line stays as it was, the keepalive line after it.
    expect(done.stdout).toMatch(/\[client\] connected\.  \(local 127\.0\.0\.1, \d+, [\d.]+ ms\)\n\[client\] keepalive on:/);
  }, 30_000);

  it('takes whole seconds only, as the kernel does: 1500ms and 0 are usage errors', async () => {
    for (const value of ['1500ms', '0', '40000s']) {
      const run = await runCli(['tcp-client', '127.0.0.1', '9', '--keepalive', value]);
      expect(run.code).toBe(2);
      expect(run.stderr).toBe(`netnote: invalid --keepalive '${value}': the kernel takes whole seconds from 1s to 32767s (TCP_KEEPIDLE)\nnetnote: hint: try 'netnote tcp-client --help'\n`);
    }
  });
});
