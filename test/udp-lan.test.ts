// UDP as the note does it and as a LAN needs it, in network namespaces with real kernels and real
// peers: replies from another address than the one the datagrams go to (a multi-homed server on
// a wildcard), a wildcard udp-server answering from each address it is sent to, broadcast on a
// bridge with three responders, multicast groups (IPv4 and IPv6) with socat on the other end.
import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startCli, type Finished, type Running } from './support/cli.js';
import { createNamespace, createVethPair, vethUnavailable, type Namespace } from './support/netns.js';
import { findPeers, killGroup, runPeer } from './support/peers.js';
import { needs } from './support/needs.js';

const { SOCAT, missing } = findPeers();
const unavailable = vethUnavailable();

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

describe('replies from another address: a multi-homed server on a wildcard (namespaces)', needs(unavailable, missing.socat), () => {
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
    expect(stopped.code).toBe(143);
  }, 30_000);
});

// A LAN: a bridge in its own namespace, the client and three devices each on a veth port of it.
const LAN = { client: '198.51.100.1', devices: ['198.51.100.11', '198.51.100.12', '198.51.100.13'], broadcast: '198.51.100.255' };
const LAN6 = { client: '2001:db8:5::1', devices: ['2001:db8:5::11', '2001:db8:5::12'] };
const PORT = 9100;
const GROUP4 = '239.1.2.3';
const GROUP6 = 'ff02::1234';
const SSM_GROUP = '232.1.1.1';

describe('broadcast and multicast on a bridge: a client and three devices (namespaces)', needs(unavailable, missing.socat), () => {
  let lan: Namespace;
  let client: Namespace;
  const devices: Namespace[] = [];
  const peers = new Set<ChildProcess>();
  const servers = new Set<Running>();

  beforeAll(() => {
    lan = createNamespace();
    lan.run('ip', ['link', 'add', 'br0', 'type', 'bridge']);
    lan.run('ip', ['link', 'set', 'br0', 'up']);
    client = createNamespace();
    for (let i = 0; i < 3; i++) devices.push(createNamespace());
    for (const [ns, v4, v6] of [[client, LAN.client, LAN6.client], ...devices.map((d, i) => [d, LAN.devices[i]!, LAN6.devices[i]] as const)] as const) {
      const pair = createVethPair(ns, lan);
      // Every host calls its NIC eth0, as a device would.
      ns.run('ip', ['link', 'set', pair.a, 'down']);
      ns.run('ip', ['link', 'set', pair.a, 'name', 'eth0']);
      ns.run('ip', ['addr', 'add', `${v4}/24`, 'dev', 'eth0']);
      if (v6) ns.run('ip', ['addr', 'add', `${v6}/64`, 'dev', 'eth0', 'nodad']);
      ns.run('ip', ['link', 'set', 'eth0', 'up']);
      lan.run('ip', ['link', 'set', pair.b, 'master', 'br0']);
    }
  }, 30_000);

  afterEach(async () => {
    for (const peer of peers) killGroup(peer);
    peers.clear();
    await Promise.all([...servers].map((s) => s.stop('SIGKILL')));
    servers.clear();
  });

  afterAll(() => {
    for (const ns of [client, ...devices, lan]) ns?.remove();
  });

  const inClient = (args: string[]) => runCli(args, { prefix: client.prefix, timeoutMs: 20_000 });

  /** socat in the client's namespace sending `input` to `address` (a group): what came back within a second. */
  const socatSends = (address: string, input: string) => runPeer(peers, 'ip', ['netns', 'exec', client.name, SOCAT!, '-t', '1', '-', address], Buffer.from(input)).then((run) => run.stdout.toString());

  /** The three devices: netnote udp-server, socat UDP-RECVFROM with fork, and socat UDP-RECVFROM answering once. */
  async function threeDevices(): Promise<Running> {
    const [netnote] = await Promise.all([
      serveIn(servers, devices[0]!, ['udp-server', '0.0.0.0', String(PORT)]),
      startPeerIn(peers, devices[1]!, SOCAT!, [`UDP4-RECVFROM:${PORT},fork`, 'EXEC:cat'], PORT),
      startPeerIn(peers, devices[2]!, SOCAT!, [`UDP4-RECVFROM:${PORT}`, 'EXEC:cat'], PORT),
    ]);
    return netnote;
  }

  it('without --broadcast, a broadcast destination is a usage error naming the flag (exit 2), for a subnet\'s and for 255.255.255.255', async () => {
    for (const address of [LAN.broadcast, '255.255.255.255']) {
      const run = await inClient(['udp-client', address, String(PORT), '-c', '1']);
      expect(run.code, run.stdout + run.stderr).toBe(2);
      expect(run.stderr).toBe(`netnote: ${address} is a broadcast address: sending to it needs --broadcast\n` +
        `netnote: hint: netnote udp-client ${address} ${PORT} --broadcast sends one datagram and lists every device that answers\n`);
      expect(run.stdout).not.toContain('send data');
    }
  });

  it(`--broadcast to ${LAN.broadcast}: netnote udp-server and two socat UDP-RECVFROM answer, "3 devices answered", each with its count and RTT`, async () => {
    const netnote = await threeDevices();
    const run = await inClient(['udp-client', LAN.broadcast, String(PORT), '--broadcast', '-w', '1s']);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toContain('[client] sent 1 (10 B) to a broadcast address, received 3 (30 B) from 3 devices\n');
    expect(run.stdout).toContain('[client] 3 devices answered:\n');
    for (const device of LAN.devices) {
      expect(run.stdout).toMatch(new RegExp(`^\\[client\\] \\[server addr: \\('${esc(device)}', ${PORT}\\)\\] recv data: b'1234567890'  \\(\\d+\\.\\d+ ms\\)$`, 'm'));
      expect(run.stdout).toMatch(new RegExp(`^\\[client\\] \\[server addr: \\('${esc(device)}', ${PORT}\\)\\] 1 reply to 1 datagram, rtt \\d+\\.\\d{3} ms$`, 'm'));
    }
    expect(run.stderr).toBe('');
    await netnote.waitFor(new RegExp(`recv data: b'1234567890'  \\(to broadcast ${esc(LAN.broadcast)}\\)\\n`));
  });

  it('--broadcast to 255.255.255.255 with --bind: it leaves by that address\'s NIC; --json lists the responders', async () => {
    await threeDevices();
    const run = await inClient(['--json', 'udp-client', '255.255.255.255', String(PORT), '--broadcast', '--bind', LAN.client, '-w', '1s', '--probe']);
    expect(run.code, run.stderr).toBe(0);
    const summary = events(run).at(-1)!.summary!;
    expect(summary.cast).toBe('broadcast');
    expect(summary.responders.map((r: { remote: { address: string } }) => r.remote.address).sort()).toEqual(LAN.devices);
    for (const r of summary.responders) expect(r).toMatchObject({ replies: 1, answered: 1, bytes: 26, rttMs: { min: expect.any(Number), mean: expect.any(Number), max: expect.any(Number) } });
    expect(summary.datagrams).toMatchObject({ lost: 0, duplicated: 0, foreign: 0 });
  });

  it(`multicast ${GROUP4}: udp-server --join and socat (ip-add-membership) answer udp-client; udp-server answers socat as sender and logs the group`, async () => {
    const netnote = await serveIn(servers, devices[0]!, ['udp-server', '0.0.0.0', String(PORT), '--join', `${GROUP4}@eth0`]);
    expect(netnote.stdout()).toContain(`[server] bind address: ${GROUP4}, ${PORT}  (group joined on eth0)\n`);
    await startPeerIn(peers, devices[1]!, SOCAT!, [`UDP4-RECVFROM:${PORT},ip-add-membership=${GROUP4}:eth0,fork`, 'EXEC:cat'], PORT);
    const run = await inClient(['udp-client', GROUP4, String(PORT), '--multicast-interface', 'eth0', '--ttl', '1', '-w', '1s']);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toContain('[client] sent 1 (10 B) to a group, received 2 (20 B) from 2 devices\n');
    for (const device of LAN.devices.slice(0, 2)) expect(run.stdout).toContain(`[client] [server addr: ('${device}', ${PORT})] 1 reply to 1 datagram, rtt `);
    await netnote.waitFor(new RegExp(`\\[client addr: \\('${esc(LAN.client)}', \\d+\\)\\] recv data: b'1234567890'  \\(to group ${esc(GROUP4)}\\)\\n`));
    // socat as the sender: each member's echo comes back to it.
    const sent = await socatSends(`UDP4-DATAGRAM:${GROUP4}:${PORT},ip-multicast-if=${LAN.client}`, 'from socat\n');
    expect(sent).toBe('from socat\nfrom socat\n');
    await netnote.waitFor(/recv data: b'from socat\\n' {2}\(to group 239\.1\.2\.3\)\n/);
  });

  it(`multicast ${GROUP6}: udp-server :: --join GROUP@eth0 and socat (ipv6-join-group) answer udp-client; socat as sender gets udp-server's echo`, async () => {
    const netnote = await serveIn(servers, devices[0]!, ['udp-server', '::', String(PORT), '--join', `${GROUP6}@eth0`]);
    await startPeerIn(peers, devices[1]!, SOCAT!, [`UDP6-RECVFROM:${PORT},ipv6-join-group=[${GROUP6}]:eth0,fork`, 'EXEC:cat'], PORT);
    const run = await inClient(['--json', 'udp-client', GROUP6, String(PORT), '--multicast-interface', 'eth0', '-w', '1s']);
    expect(run.code, run.stderr).toBe(0);
    const summary = events(run).at(-1)!.summary!;
    expect(summary.cast).toBe('multicast');
    // Link-scope: the members answer from their link-local addresses.
    expect(summary.responders).toHaveLength(2);
    for (const r of summary.responders) expect(r.remote.address).toMatch(/^fe80::[0-9a-f:]+%eth0$/);
    await netnote.waitFor(new RegExp(`recv data: b'1234567890'  \\(to group ${esc(GROUP6)}\\)\\n`));
    const sent = await socatSends(`UDP6-DATAGRAM:[${GROUP6}%eth0]:${PORT}`, 'v6 from socat\n');
    expect(sent).toBe('v6 from socat\nv6 from socat\n');
    await netnote.waitFor(new RegExp(`recv data: b'v6 from socat\\\\n'  \\(to group ${esc(GROUP6)}\\)\\n`));
  });

  it('--loopback off: a member on the sending host does not hear the group; on (the kernel\'s default): it answers too', async () => {
    await serveIn(servers, devices[0]!, ['udp-server', '0.0.0.0', String(PORT), '--join', `${GROUP4}@eth0`]);
    await serveIn(servers, client, ['udp-server', '0.0.0.0', String(PORT), '--join', `${GROUP4}@eth0`]);
    const off = await inClient(['--json', 'udp-client', GROUP4, String(PORT), '--multicast-interface', LAN.client, '--loopback', 'off', '-w', '1s']);
    const on = await inClient(['--json', 'udp-client', GROUP4, String(PORT), '--multicast-interface', LAN.client, '--loopback', 'on', '-w', '1s']);
    const answered = (run: Finished) => events(run).at(-1)!.summary!.responders.map((r: { remote: { address: string } }) => r.remote.address).sort();
    expect(answered(off)).toEqual([LAN.devices[0]]);
    expect(answered(on)).toEqual([LAN.client, LAN.devices[0]]);
  });

  it(`source-specific: --join ${SSM_GROUP}@eth0,source=${LAN.client} receives the client's datagrams to the group, not another sender's`, async () => {
    const netnote = await serveIn(servers, devices[0]!, ['udp-server', '0.0.0.0', String(PORT), '--join', `${SSM_GROUP}@eth0,source=${LAN.client}`]);
    expect(netnote.stdout()).toContain(`[server] bind address: ${SSM_GROUP}, ${PORT}  (group joined as (${LAN.client}, ${SSM_GROUP}) on eth0)\n`);
    const other = await runCli(['udp-client', SSM_GROUP, String(PORT), '--multicast-interface', 'eth0', '--data', 'not from the source', '-w', '500ms'], { prefix: devices[2]!.prefix, timeoutMs: 20_000 });
    expect(other.code, other.stdout + other.stderr).toBe(5);
    const run = await inClient(['udp-client', SSM_GROUP, String(PORT), '--multicast-interface', 'eth0', '-w', '1s']);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toContain(`[client] [server addr: ('${LAN.devices[0]}', ${PORT})] 1 reply to 1 datagram`);
    await netnote.waitFor(new RegExp(`\\[client addr: \\('${esc(LAN.client)}', \\d+\\)\\] recv data: b'1234567890'  \\(to group ${esc(SSM_GROUP)}\\)\\n`));
    expect(netnote.stdout()).not.toContain('not from the source');
  });

  it('--join with a group that is not multicast, or a source of the other family: exit 2 naming --join', async () => {
    const bad = await runCli(['udp-server', '0.0.0.0', '0', '--join', '192.0.2.1']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("netnote: invalid --join '192.0.2.1': expected a multicast group (224.0.0.0/4 or ff00::/8)");
    const family = await runCli(['udp-server', '0.0.0.0', '0', '--join', `${SSM_GROUP},source=2001:db8::1`]);
    expect(family.code).toBe(2);
    expect(family.stderr).toContain('the source must be an IPv4 address of the sender');
  });
});
