// UDP as the note does it and as a LAN needs it, in network namespaces with real kernels and real
// peers: replies from another address than the one the datagrams go to (a multi-homed server on
// a wildcard), a wildcard udp-server answering from each address it is sent to, broadcast on a
// bridge with three responders, multicast groups (IPv4 and IPv6) with socat on the other end.
import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startCli, type Finished, type Running } from './support/cli.js';
import { createNamespace, createVethPair, vethUnavailable, type Namespace } from './support/netns.js';
import { findPeers, killGroup } from './support/peers.js';

const { SOCAT } = findPeers();
const unavailable = vethUnavailable() ?? (SOCAT ? null : 'socat missing (apt install socat)');
const skipped = unavailable === null ? '' : `: skipped, ${unavailable}`;

const esc = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

interface JsonEvent {
  event: string;
  message?: string;
  remote?: { address: string; port: number };
  kind?: string;
  summary?: Record<string, any>;
  exitCode?: number;
}

function events(run: Finished): JsonEvent[] {
  return run.stdout.split('\n').filter((line) => line !== '').map((line) => JSON.parse(line) as JsonEvent);
}

/** Whether a UDP socket is bound to `port` in the namespace (its /proc/net/udp and udp6). */
function bound(ns: Namespace, port: number): boolean {
  const hex = `:${port.toString(16).toUpperCase().padStart(4, '0')} `;
  return ['/proc/net/udp', '/proc/net/udp6'].some((file) => ns.run('cat', [file]).split('\n').slice(1).some((line) => line.trim().split(/\s+/)[1]?.endsWith(hex.trim())));
}

/** A peer program in a namespace, in its own process group, once its UDP port is bound. */
async function startPeerIn(peers: Set<ChildProcess>, ns: Namespace, command: string, args: string[], port: number): Promise<ChildProcess> {
  const child = spawn('ip', ['netns', 'exec', ns.name, command, ...args], { stdio: 'ignore', detached: true });
  peers.add(child);
  for (let i = 0; i < 200; i++) {
    if (bound(ns, port)) return child;
    if (child.exitCode !== null) break;
    await sleep(25);
  }
  throw new Error(`${command} ${args.join(' ')} did not bind UDP port ${port} in ${ns.name}`);
}

/** A netnote server in a namespace, once its first `bind address:` line (all its sockets bound) is out. */
async function serveIn(servers: Set<Running>, ns: Namespace, args: string[]): Promise<Running & { port: number }> {
  const running = startCli(args, { prefix: ns.prefix, timeoutMs: 60_000 });
  servers.add(running);
  const match = await running.waitFor(/\[server\] bind address: \S+, (\d+)\n/);
  return Object.assign(running, { port: Number(match[1]) });
}

// The topology: a client at 203.0.113.2 and a server whose address 192.0.2.1 is on its
// loopback, reached through its other address 203.0.113.1. A program on the server bound to
// 0.0.0.0 answers from the source its route back picks: 203.0.113.1, not 192.0.2.1.
const CLIENT = '203.0.113.2';
const SERVER_NEAR = '203.0.113.1';
const SERVER = '192.0.2.1';
const LATER = '192.0.2.7';
const SOCAT_PORT = 9001;
const CLOSED_PORT = 9002;

describe.skipIf(unavailable !== null)(`replies from another address: a multi-homed server on a wildcard (namespaces)${skipped}`, () => {
  let client: Namespace;
  let server: Namespace;
  const peers = new Set<ChildProcess>();
  const servers = new Set<Running>();

  beforeAll(async () => {
    client = createNamespace();
    server = createNamespace();
    createVethPair(client, server, `${CLIENT}/24`, `${SERVER_NEAR}/24`);
    server.run('ip', ['addr', 'add', `${SERVER}/32`, 'dev', 'lo']);
    client.run('ip', ['route', 'add', '192.0.2.0/24', 'via', SERVER_NEAR]);
    // socat's UDP-RECVFROM with fork answers from its listening socket, bound to 0.0.0.0.
    await startPeerIn(peers, server, SOCAT!, [`UDP4-RECVFROM:${SOCAT_PORT},fork`, 'EXEC:cat'], SOCAT_PORT);
  }, 30_000);

  afterEach(async () => {
    await Promise.all([...servers].map((s) => s.stop('SIGKILL')));
    servers.clear();
  });

  afterAll(() => {
    for (const peer of peers) killGroup(peer);
    client?.remove();
    server?.remove();
  });

  const inClient = (args: string[]) => runCli(args, { prefix: client.prefix, timeoutMs: 20_000 });

  it(`udp-client to ${SERVER} gets its echo from ${SERVER_NEAR} (socat on 0.0.0.0): matched, counted, printed with the address it came from, one warning naming both`, async () => {
    const run = await inClient(['udp-client', SERVER, String(SOCAT_PORT), '-c', '3', '-i', '100ms', '-w', '2s', '--verify-echo', '--bind', CLIENT]);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const replies = run.stdout.split('\n').filter((line) => line.includes('recv data'));
    expect(replies).toHaveLength(3);
    for (const line of replies) expect(line).toMatch(new RegExp(`^\\[client\\] \\[server addr: \\('${esc(SERVER_NEAR)}', ${SOCAT_PORT}\\)\\] recv data: b'1234567890'  \\(\\d+\\.\\d+ ms\\)$`));
    expect(run.stdout).toContain('[client] sent 3 (30 B), received 3 (30 B), 0 without reply');
    expect(run.stdout).toContain('[client] loss 0.0% (0 lost), 0 late, 0 duplicated, 0 reordered, 0 foreign, 3 from another address');
    expect(run.stderr).toBe(`[client] warning: replies come from ${SERVER_NEAR}, ${SOCAT_PORT}, not from ${SERVER}, ${SOCAT_PORT} where the datagrams go: ` +
      'a NAT on the way, or a multi-homed server bound to a wildcard address answering from another of its addresses; matched and counted as replies (--strict-source counts them as foreign)\n');
  });

  it('--json: recv events carry the address each reply came from; the summary counts them in otherSource', async () => {
    const run = await inClient(['--json', 'udp-client', SERVER, String(SOCAT_PORT), '-c', '2', '-i', '0', '--probe', '-w', '2s']);
    expect(run.code, run.stderr).toBe(0);
    const all = events(run);
    expect(all.filter((e) => e.event === 'recv').map((e) => e.remote)).toEqual([
      { address: SERVER_NEAR, port: SOCAT_PORT, family: 'IPv4' }, { address: SERVER_NEAR, port: SOCAT_PORT, family: 'IPv4' },
    ]);
    expect(all.filter((e) => e.event === 'warning')).toHaveLength(1);
    expect(all.at(-1)!.summary!.datagrams).toMatchObject({ lost: 0, foreign: 0, otherSource: 2 });
    expect(all.at(-1)!.summary!.remote).toEqual({ address: SERVER, port: SOCAT_PORT, family: 'IPv4' });
  });

  it('--strict-source counts the replies from the other address as foreign: no reply arrived, exit 5, and the hint says why', async () => {
    const run = await inClient(['udp-client', SERVER, String(SOCAT_PORT), '-c', '2', '-i', '0', '-w', '500ms', '--strict-source']);
    expect(run.code, run.stdout + run.stderr).toBe(5);
    expect(run.stdout).toContain(`[client] [server addr: ('${SERVER_NEAR}', ${SOCAT_PORT})] recv data: b'1234567890'  (not an answer to any datagram sent)`);
    expect(run.stdout).toContain('[client] loss 100.0% (2 lost), 0 late, 0 duplicated, 0 reordered, 2 foreign, 2 from another address');
    expect(run.stderr).toContain(`[client] warning: replies come from ${SERVER_NEAR}, ${SOCAT_PORT}, not from ${SERVER}, ${SOCAT_PORT}`);
    expect(run.stderr).toContain('counted as foreign (--strict-source)');
    expect(run.stderr).toContain(`netnote: no reply to any of 2 datagrams from ${SERVER}:${SOCAT_PORT} within 500 ms each\nnetnote: hint: 2 replies came from another address: without --strict-source they count\n`);
  });

  it(`an ICMP port unreachable still ends the run at once with exit 4 (the connected socket of the pair gets it)`, async () => {
    const started = Date.now();
    const run = await inClient(['udp-client', SERVER, String(CLOSED_PORT), '-c', '5', '-w', '5s']);
    expect(run.code, run.stdout + run.stderr).toBe(4);
    expect(Date.now() - started).toBeLessThan(4000);
    expect(run.stderr).toContain(`netnote: nothing listening on ${SERVER}:${CLOSED_PORT} (ICMP port unreachable)`);
  });

  it(`udp-server 0.0.0.0 answers from ${SERVER}, the address the datagram was sent to, and logs it; no warning on the client`, async () => {
    const echo = await serveIn(servers, server, ['udp-server', '0.0.0.0', '0']);
    expect(echo.stdout()).toContain(`[server] bind address: ${SERVER}, ${echo.port}  (lo)\n`);
    expect(echo.stdout()).toContain(`[server] bind address: ${SERVER_NEAR}, ${echo.port}  (`);
    const run = await inClient(['udp-client', SERVER, String(echo.port), '-c', '1', '-w', '2s', '--bind', CLIENT]);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const port = Number(/bind address: 203\.0\.113\.2, (\d+)/.exec(run.stdout)![1]);
    expect(run.stdout).toContain(`[client] [server addr: ('${SERVER}', ${echo.port})] recv data: b'1234567890'`);
    expect(run.stderr).toBe('');
    await echo.waitFor(new RegExp(`\\[server\\] \\[client addr: \\('${esc(CLIENT)}', ${port}\\)\\] recv data: b'1234567890'  \\(to ${esc(SERVER)}\\)\\n`));
  });

  it('udp-server 0.0.0.0 binds an address that appears after it started (and answers from it), and closes the socket of one that goes', async () => {
    const echo = await serveIn(servers, server, ['udp-server', '0.0.0.0', '0']);
    server.run('ip', ['addr', 'add', `${LATER}/32`, 'dev', 'lo']);
    try {
      await echo.waitFor(new RegExp(`\\[server\\] bind address: ${esc(LATER)}, ${echo.port}  \\(lo, address added\\)\\n`), 5_000);
      const run = await inClient(['udp-client', LATER, String(echo.port), '-c', '1', '-w', '2s']);
      expect(run.code, run.stdout + run.stderr).toBe(0);
      expect(run.stdout).toContain(`[client] [server addr: ('${LATER}', ${echo.port})] recv data: b'1234567890'`);
      expect(run.stderr).toBe('');
    } finally {
      server.run('ip', ['addr', 'del', `${LATER}/32`, 'dev', 'lo']);
    }
    await echo.waitFor(new RegExp(`\\[server\\] address gone: ${esc(LATER)}, ${echo.port}  \\(lo, its socket closed\\)\\n`), 5_000);
    const stopped = await echo.stop('SIGTERM');
    expect(stopped.code).toBe(0);
  }, 30_000);
});
