// A server out of file descriptors (`ulimit -n`) cannot take every client; each one it could
// not take is counted and said, in warnings at most once a second and in the summary, instead of
// being closed unseen by libuv's EMFILE trick.
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { startCli } from './support/cli.js';
import { trackResources } from './support/cleanup.js';
import { schemaErrors } from './support/schema.js';

const { servers, sockets } = trackResources();

/** netnote alone runs with `ulimit -n 64`. */
const LOW_LIMIT = { prefix: ['sh', '-c', 'ulimit -n 64 && exec "$0" "$@"'], timeoutMs: 30_000 };
const CLIENTS = 100;

type Json = Record<string, unknown> & { event: string };

/**
 * CLIENTS connections at once, held open; `closedByServer()` counts those the server closed (a
 * dropped one, at once); resolves once each is either closed so or `accepted()` by the server.
 */
async function clients(port: number, accepted: () => number): Promise<{ closedByServer: () => number }> {
  let closed = 0;
  for (let i = 0; i < CLIENTS; i++) {
    const socket = net.connect(port, '127.0.0.1');
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('end', () => closed++);
  }
  for (let i = 0; i < 200 && accepted() + closed < CLIENTS; i++) await new Promise((resolve) => setTimeout(resolve, 50));
  return { closedByServer: () => closed };
}
const events = (stdout: string): Json[] => stdout.trim().split('\n').filter(Boolean).map((line) => JSON.parse(line) as Json);

describe('tcp-server under ulimit -n 64 with 100 clients at once', () => {
  it('every client is served or counted as shed, the shed ones said in rate-limited warnings and in the summary', async () => {
    const server = startCli(['--json', 'tcp-server', '127.0.0.1', '0', '--backlog', '128'], LOW_LIMIT);
    servers.add(server);
    const port = Number((await server.waitFor(/"event":"listening".*?"port":(\d+)/))[1]);

    const accepted = () => (server.stdout().match(/"event":"accepted"/g) ?? []).length;
    const { closedByServer } = await clients(port, accepted);
    // Counted now: stopping the server closes the clients it served too.
    const shed = closedByServer();
    expect(accepted() + shed).toBe(CLIENTS);
    expect(shed).toBeGreaterThan(0);

    const finished = await server.stop('SIGINT');
    expect(finished.code).toBe(130);
    const all = events(finished.stdout);
    for (const event of all) expect(schemaErrors(event), JSON.stringify(event)).toBeNull();
    const summary = all.at(-1)!.summary as { clients: { served: number; rejected: number; shed: number } };
    expect(summary.clients).toMatchObject({ served: accepted(), rejected: 0, shed });

    const warnings = all.filter((e) => e.event === 'warning').map((e) => e.message as string);
    const said = warnings.map((message) => Number(/^(\d+) clients? closed at once, out of file descriptors \(EMFILE\): ulimit -n 64 holds about \d+ clients at once$/.exec(message)?.[1]));
    expect(said.every((count) => count > 0), warnings.join('\n')).toBe(true);
    expect(said.reduce((a, b) => a + b, 0)).toBe(shed);
    // A flood of drops is a few lines, not one per client: the first at once, then one a second.
    expect(warnings.length).toBeLessThanOrEqual(3);
  });

  it('the human summary names the clients shed', async () => {
    const server = startCli(['--quiet', 'tcp-server', '127.0.0.1', '0', '--backlog', '128'], LOW_LIMIT);
    servers.add(server);
    const port = Number((await server.waitFor(/bind address: \S+, (\d+)\n/))[1]);
    const accepted = () => (server.stdout().match(/accept a client/g) ?? []).length;
    const shed = (await clients(port, accepted)).closedByServer();
    const finished = await server.stop('SIGINT');
    expect(finished.stdout).toMatch(new RegExp(`\\[server\\] ${accepted()} clients served, 0 rejected, ${shed} shed \\(out of file descriptors\\), 0 still connected;`));
    expect(finished.stderr).toMatch(/^\[server\] warning: \d+ clients? closed at once, out of file descriptors \(EMFILE\): ulimit -n 64 holds about \d+ clients at once\n/);
  });
});
