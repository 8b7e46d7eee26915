// Multi-NIC for real: a "device" namespace with two NICs on two subnets, as a gateway with a 4G
// modem and an Ethernet port has (wwan0: 192.0.2.1/24, eth0: 198.51.100.1/24, plus IPv6), and a
// "server" namespace at the other end of both. The server also has a third address, 203.0.113.1
// (2001:db8:3::1) on its loopback, which the device reaches through its default route (wwan0), or
// through eth0 when the source is eth0's address (policy routing, as docs/choosing-a-nic.md shows).
// A third NIC, wlan0, exists but is down and has no address (Wi-Fi not associated).
//
// netnote runs in the namespaces exactly as a user would run it (ip netns exec), and every claim is
// checked against the kernel: `ip -j addr`, `ip -j route`, `ip -j route get`, `ss`, nft counters of
// which NIC a packet really left by, and what the servers in the other namespace saw.
// Documentation addresses only (RFC 5737, RFC 3849): nothing real can be reached or shadowed.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startCli, type Finished, type Running } from './support/cli.js';
import { createNamedVethPair, createNamespace, nft, useResolvConf, vethUnavailable, type Namespace } from './support/netns.js';
import { needs } from './support/needs.js';

const NICS = {
  wwan0: { v4: '192.0.2.1', v6: '2001:db8:1::1', peer4: '192.0.2.2', peer6: '2001:db8:1::2' },
  eth0: { v4: '198.51.100.1', v6: '2001:db8:2::1', peer4: '198.51.100.2', peer6: '2001:db8:2::2' },
} as const;
type NicName = keyof typeof NICS;
/** The server's third address, on its loopback: behind either NIC. */
const FAR4 = '203.0.113.1';
const FAR6 = '2001:db8:3::1';
/** The routing table that sends what eth0's address sources out through eth0. */
const ETH_TABLE = '100';
/** The DNS server the device's resolv.conf names (never asked: every test uses IP literals). */
const DNS = '203.0.113.53';
/** Fixed local ports: below the ephemeral range (32768-60999), so no port-0 socket takes one. */
const PORTS = { timeWait: 20001, noTimestamps: 20002, live: 20003, listener: 20004, udp: 20010 };

/** Whether nft runs `counter` here (module nft_counter): the weak-host tests count packets per NIC. */
function counterUnavailable(): string | null {
  let ns: Namespace | undefined;
  try {
    ns = createNamespace();
    nft(ns, 'table inet probe {\n chain output {\n  type filter hook output priority 0; policy accept;\n  oifname "lo" counter\n }\n}\n');
    return null;
  } catch (err) {
    return `nft counter rule refused: ${String((err as { stderr?: unknown }).stderr || (err as Error).message).trim()}`;
  } finally {
    ns?.remove();
  }
}

const unavailable = vethUnavailable();
const noCounters = unavailable ?? counterUnavailable();

const esc = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Runs `fn` on the first call only; later calls get the same promise (tests that read one run). */
function once<T>(fn: () => Promise<T>): () => Promise<T> {
  let result: Promise<T> | undefined;
  return () => (result ??= fn());
}

interface JsonEvent {
  event: string;
  summary?: Record<string, any>;
  exitCode?: number;
  error?: { code: string; message: string; hint?: string } | null;
}

function summaryOf(run: Finished): Record<string, any> {
  const events = run.stdout.split('\n').filter((line) => line !== '').map((line) => JSON.parse(line) as JsonEvent);
  const summary = events.find((e) => e.event === 'summary')?.summary;
  expect(summary, run.stdout + run.stderr).toBeDefined();
  return summary!;
}

/** The port a client logged in its `bind address: ADDR, PORT` line; fails when it logged none. */
function boundPort(run: Finished, address: string): number {
  const match = run.stdout.match(new RegExp(`^\\[client\\] bind address: ${esc(address)}, (\\d+)$`, 'm'));
  expect(match, `no 'bind address: ${address}, PORT' line in:\n${run.stdout}\n${run.stderr}`).not.toBeNull();
  const port = Number(match![1]);
  expect(port).toBeGreaterThan(0);
  return port;
}

interface IpLink {
  ifname: string;
  mtu: number;
  operstate: string;
  address: string;
  addr_info: Array<{ family: 'inet' | 'inet6'; local: string; prefixlen: number }>;
}
interface IpRoute {
  dst?: string;
  gateway?: string;
  dev: string;
  prefsrc?: string;
}

function ipv4Netmask(prefix: number): string {
  const bits = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  return [24, 16, 8, 0].map((shift) => (bits >>> shift) & 0xff).join('.');
}

/** A tiny HTTP server (Node's http) in the server namespace that logs `client ADDR PORT` per request. */
interface HttpPeer {
  port: number;
  log(): string;
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<void>;
  kill(): void;
}

const HTTP_SERVER = `
const http = require('node:http');
const server = http.createServer((req, res) => {
  const address = req.socket.remoteAddress.replace(/^::ffff:/, '');
  console.log('client ' + address + ' ' + req.socket.remotePort);
  res.end('you are ' + address + ' ' + req.socket.remotePort + '\\n');
});
server.listen(0, '::', () => console.log('listening ' + server.address().port));
`;

function startHttpPeer(ns: Namespace): Promise<HttpPeer> {
  const proc: ChildProcessWithoutNullStreams = spawn('ip', ['netns', 'exec', ns.name, process.execPath, '-e', HTTP_SERVER], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  proc.stderr.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  const waitFor = async (pattern: RegExp, timeoutMs = 5_000) => {
    const until = Date.now() + timeoutMs;
    while (!pattern.test(out)) {
      if (Date.now() > until || proc.exitCode !== null) throw new Error(`no ${pattern} from the HTTP peer:\n${out}`);
      await sleep(20);
    }
  };
  const peer = { port: 0, log: () => out, waitFor, kill: () => proc.kill('SIGKILL') };
  return waitFor(/listening \d+/, 10_000).then(() => Object.assign(peer, { port: Number(/listening (\d+)/.exec(out)![1]) }));
}

describe('multi-NIC: a device with 4G (wwan0) and Ethernet (eth0) NICs, a server behind both (namespaces)', needs(unavailable), () => {
  let device: Namespace;
  let server: Namespace;
  const namespaces: Namespace[] = [];
  const running: Running[] = [];
  let httpPeer: HttpPeer | undefined;
  /** netnote servers in the server namespace, each with the port the kernel gave it. */
  const servers = {} as Record<'tcp4' | 'tcp6' | 'udp4' | 'udp6' | 'udpFar', Running & { port: number }>;

  const inDevice = (args: string[], timeoutMs = 15_000) => runCli(args, { prefix: device.prefix, timeoutMs });

  async function serve(key: keyof typeof servers, args: string[]): Promise<void> {
    const proc = startCli(args, { prefix: server.prefix });
    running.push(proc);
    const match = await proc.waitFor(/\[server\] bind address: \S+, (\d+)\n/);
    servers[key] = Object.assign(proc, { port: Number(match[1]) });
  }

  beforeAll(async () => {
    device = createNamespace();
    namespaces.push(device);
    server = createNamespace();
    namespaces.push(server);
    createNamedVethPair(device, server,
      { name: 'wwan0', addresses: [`${NICS.wwan0.v4}/24`, `${NICS.wwan0.v6}/64`] },
      { name: 'srv-wwan', addresses: [`${NICS.wwan0.peer4}/24`, `${NICS.wwan0.peer6}/64`] });
    createNamedVethPair(device, server,
      { name: 'eth0', addresses: [`${NICS.eth0.v4}/24`, `${NICS.eth0.v6}/64`] },
      { name: 'srv-eth', addresses: [`${NICS.eth0.peer4}/24`, `${NICS.eth0.peer6}/64`] });
    createNamedVethPair(device, server, { name: 'wlan0', up: false }, { name: 'srv-wlan', up: false });
    server.run('ip', ['addr', 'add', `${FAR4}/32`, 'dev', 'lo']);
    server.run('ip', ['addr', 'add', `${FAR6}/128`, 'dev', 'lo']);
    // The device's default route is the 4G NIC's, as a modem's first data call sets it.
    device.run('ip', ['route', 'add', 'default', 'via', NICS.wwan0.peer4, 'dev', 'wwan0']);
    device.run('ip', ['-6', 'route', 'add', 'default', 'via', NICS.wwan0.peer6, 'dev', 'wwan0']);
    // Source-based policy routing: what leaves with eth0's address leaves by eth0.
    device.run('ip', ['route', 'add', 'default', 'via', NICS.eth0.peer4, 'dev', 'eth0', 'table', ETH_TABLE]);
    device.run('ip', ['rule', 'add', 'from', NICS.eth0.v4, 'lookup', ETH_TABLE]);
    device.run('ip', ['-6', 'route', 'add', 'default', 'via', NICS.eth0.peer6, 'dev', 'eth0', 'table', ETH_TABLE]);
    device.run('ip', ['-6', 'rule', 'add', 'from', NICS.eth0.v6, 'lookup', ETH_TABLE]);
    useResolvConf(device, `nameserver ${DNS}\n`);

    await Promise.all([
      serve('tcp4', ['tcp-server', '0.0.0.0', '0']),
      serve('tcp6', ['tcp-server', '::', '0']),
      serve('udp4', ['udp-server', '0.0.0.0', '0']),
      serve('udp6', ['udp-server', '::', '0']),
      // Bound to the far address itself: one socket, no per-address sockets (see the wildcard test below).
      serve('udpFar', ['udp-server', FAR4, '0']),
      startHttpPeer(server).then((peer) => void (httpPeer = peer)),
    ]);
  }, 30_000);

  afterAll(async () => {
    httpPeer?.kill();
    await Promise.all(running.splice(0).map((proc) => proc.stop('SIGKILL')));
    // Deleting a namespace deletes its ends of the veth pairs, and the pairs with them.
    for (const ns of namespaces.splice(0)) ns.remove();
  }, 15_000);

  // --------------------------------------------------------------------------------------------
  // interfaces and route, against what ip reports

  /** `interfaces` in text and --json, with what ip says, run once for the tests that read them. */
  const interfacesRun = once(async () => {
    const [text, json] = await Promise.all([inDevice(['interfaces']), inDevice(['--json', 'interfaces'])]);
    const links = JSON.parse(device.run('ip', ['-j', 'addr', 'show'])) as IpLink[];
    // `ip route show default` reads the main table: the routes every packet without a rule uses.
    const defaults = [
      ...(JSON.parse(device.run('ip', ['-j', '-4', 'route', 'show', 'default'])) as IpRoute[]).map((r) => ({ family: 'IPv4', gateway: r.gateway, interface: r.dev })),
      ...(JSON.parse(device.run('ip', ['-j', '-6', 'route', 'show', 'default'])) as IpRoute[]).map((r) => ({ family: 'IPv6', gateway: r.gateway, interface: r.dev })),
    ];
    // The text form: one block per NIC, its address lines, its default routes under it.
    const blocks = new Map<string, string[]>();
    let current: string[] = [];
    for (const line of text.stdout.split('\n').filter((l) => l !== '')) {
      if (line.startsWith(' ')) current.push(line);
      else blocks.set(line.split(':')[0]!, (current = [line]));
    }
    return { text, json, links, defaults, blocks };
  });

  it('interfaces lists every NIC with addresses, prefixes, MTU, state and MAC exactly as ip -j addr reports them, and the default routes of ip -j route, in text and --json', async () => {
    const { text, json, links, defaults, blocks } = await interfacesRun();
    expect(text.code, text.stderr).toBe(0);
    expect(json.code, json.stderr).toBe(0);

    const summary = summaryOf(json);
    const nics = summary.interfaces as Array<{ name: string; mac: string; state: string; mtu: number; addresses: Array<{ family: string; address: string; prefix: number; netmask: string }> }>;
    expect(nics.map((n) => n.name).sort()).toEqual(links.map((l) => l.ifname).sort());
    expect(nics.map((n) => n.name).sort()).toEqual(['eth0', 'lo', 'wlan0', 'wwan0']);
    for (const link of links) {
      const nic = nics.find((n) => n.name === link.ifname)!;
      expect({ name: nic.name, mtu: nic.mtu, state: nic.state, mac: nic.mac }).toEqual({ name: link.ifname, mtu: link.mtu, state: link.operstate.toLowerCase(), mac: link.address });
      const fromIp = link.addr_info.map((a) => `${a.family === 'inet' ? 'IPv4' : 'IPv6'} ${a.local}/${a.prefixlen}`).sort();
      expect(nic.addresses.map((a) => `${a.family} ${a.address}/${a.prefix}`).sort(), link.ifname).toEqual(fromIp);
      for (const a of nic.addresses.filter((x) => x.family === 'IPv4')) expect(a.netmask).toBe(ipv4Netmask(a.prefix));
    }
    // What the setup made, spelled out (so a wrong setup cannot make both sides agree on nothing).
    const wwan0 = nics.find((n) => n.name === 'wwan0')!;
    const eth0 = nics.find((n) => n.name === 'eth0')!;
    expect(wwan0.addresses).toEqual(expect.arrayContaining([
      { family: 'IPv4', address: NICS.wwan0.v4, prefix: 24, netmask: '255.255.255.0' },
      { family: 'IPv6', address: NICS.wwan0.v6, prefix: 64, netmask: 'ffff:ffff:ffff:ffff::' },
    ]));
    expect(eth0.addresses).toEqual(expect.arrayContaining([
      { family: 'IPv4', address: NICS.eth0.v4, prefix: 24, netmask: '255.255.255.0' },
      { family: 'IPv6', address: NICS.eth0.v6, prefix: 64, netmask: 'ffff:ffff:ffff:ffff::' },
    ]));
    expect([wwan0.state, wwan0.mtu, eth0.state, eth0.mtu]).toEqual(['up', 1500, 'up', 1500]);
    expect(nics.find((n) => n.name === 'wlan0')).toMatchObject({ state: 'down', addresses: [] });

    expect(defaults).toEqual([
      { family: 'IPv4', gateway: NICS.wwan0.peer4, interface: 'wwan0' },
      { family: 'IPv6', gateway: NICS.wwan0.peer6, interface: 'wwan0' },
    ]);
    expect(summary.defaultRoutes).toEqual(expect.arrayContaining(defaults));
    expect(summary.dns).toEqual([DNS]);
    expect(summary.unavailable).toEqual([]);

    for (const link of links) {
      const block = blocks.get(link.ifname);
      expect(block, text.stdout).toBeDefined();
      expect(block![0]).toBe(`${link.ifname}: ${link.operstate.toLowerCase()}, mtu ${link.mtu}, mac ${link.address}`);
      const addressLines = block!.filter((l) => l.startsWith('  inet'));
      expect(addressLines).toHaveLength(link.addr_info.length);
      for (const a of link.addr_info) {
        expect(addressLines, text.stdout).toContainEqual(a.family === 'inet'
          ? `  inet  ${a.local}/${a.prefixlen}  netmask ${ipv4Netmask(a.prefixlen)}`
          : expect.stringMatching(new RegExp(`^  inet6 ${esc(a.local)}/${a.prefixlen}  netmask [0-9a-f:]+$`)));
      }
    }
    expect(blocks.get('wwan0')).toEqual(expect.arrayContaining([`  default IPv4 route via ${NICS.wwan0.peer4}`, `  default IPv6 route via ${NICS.wwan0.peer6}`]));
    expect(text.stdout).toContain(`dns: ${DNS}\n`);
  }, 20_000);

  it(`interfaces lists only the default routes ip route show default lists (the main table), not eth0's default in policy table ${ETH_TABLE} that only traffic from eth0's address uses`, async () => {
    const { text, json, defaults, blocks } = await interfacesRun();
    expect(json.code, json.stderr).toBe(0);
    // The policy table does hold a default route for each family (set up above)...
    expect(device.run('ip', ['-4', 'route', 'show', 'table', ETH_TABLE])).toContain(`default via ${NICS.eth0.peer4} dev eth0`);
    expect(device.run('ip', ['-6', 'route', 'show', 'table', ETH_TABLE])).toContain(`default via ${NICS.eth0.peer6} dev eth0`);
    // ...which is not the host's default route: only the main table's are.
    expect(summaryOf(json).defaultRoutes).toEqual(defaults);
    expect(blocks.get('eth0')!.filter((l) => l.startsWith('  default')), text.stdout).toEqual([]);
  }, 20_000);

  it('route names the NIC and source address the kernel picks (ip -j route get) for each NIC\'s subnet, and the default route\'s NIC (wwan0) for the far address', async () => {
    const destinations = [NICS.wwan0.peer4, NICS.eth0.peer4, FAR4, NICS.wwan0.peer6, NICS.eth0.peer6, FAR6];
    const textForm = [FAR4, NICS.eth0.peer6];
    const [runs, texts] = await Promise.all([
      Promise.all(destinations.map((host) => inDevice(['--json', 'route', host]))),
      Promise.all(textForm.map((host) => inDevice(['route', host]))),
    ]);
    const seen: Record<string, { source: string; interface: string }> = {};
    destinations.forEach((host, i) => {
      const json = runs[i]!;
      expect(json.code, json.stderr).toBe(0);
      const [kernel] = JSON.parse(device.run('ip', ['-j', 'route', 'get', host])) as IpRoute[];
      const summary = summaryOf(json);
      expect({ host, source: summary.source, interface: summary.interface }).toEqual({ host, source: kernel!.prefsrc, interface: kernel!.dev });
      expect(summary.destination).toMatchObject({ address: host, port: 9 });
      seen[host] = { source: summary.source, interface: summary.interface };
    });
    textForm.forEach((host, i) => {
      const text = texts[i]!;
      expect(text.code, text.stderr).toBe(0);
      expect(text.stdout).toBe(`route to ${host}, 9: source ${seen[host]!.source}, interface ${seen[host]!.interface} (nothing was sent)\n`);
    });
    expect(seen).toEqual({
      [NICS.wwan0.peer4]: { source: NICS.wwan0.v4, interface: 'wwan0' },
      [NICS.eth0.peer4]: { source: NICS.eth0.v4, interface: 'eth0' },
      [FAR4]: { source: NICS.wwan0.v4, interface: 'wwan0' },
      [NICS.wwan0.peer6]: { source: NICS.wwan0.v6, interface: 'wwan0' },
      [NICS.eth0.peer6]: { source: NICS.eth0.v6, interface: 'eth0' },
      [FAR6]: { source: NICS.wwan0.v6, interface: 'wwan0' },
    });
  }, 20_000);

  it('route to a link-local address with its zone (fe80::…%eth0) names that NIC and its own link-local source; a zone no NIC has is exit 2, as --interface', async () => {
    // The kernel gives every NIC a link-local address of its own; until its duplicate address
    // detection ends it is tentative and cannot be a source.
    const linkLocal = async (ns: Namespace, nic: string): Promise<string> => {
      for (let i = 0; i < 100; i++) {
        // (ip -j shows the addresses the filter left out as {}.)
        const [link] = JSON.parse(ns.run('ip', ['-j', '-6', 'addr', 'show', 'dev', nic, 'scope', 'link'])) as Array<{ addr_info: Array<{ local?: string; tentative?: boolean }> }>;
        const ready = link?.addr_info.find((a) => a.local && !a.tentative);
        if (ready) return ready.local!;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      throw new Error(`no usable link-local address on ${nic}`);
    };
    const [mine, peer] = await Promise.all([linkLocal(device, 'eth0'), linkLocal(server, 'srv-eth')]);
    const run = await inDevice(['route', `${peer}%eth0`]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(`route to ${peer}%eth0, 9: source ${mine}%eth0, interface eth0 (nothing was sent)\n`);
    const unknown = await inDevice(['route', `${peer}%eth9`]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^netnote: no interface named 'eth9' on this host: .*\beth0\b/);
  }, 20_000);

  it('route names the NIC the packet leaves by, not the NIC that holds the source address (a route via eth0 with `src` of wwan0\'s address)', async () => {
    // Routes like this are common on modems and VPNs: leave by one NIC, stamp another's address.
    const host = '203.0.113.7';
    device.run('ip', ['route', 'add', `${host}/32`, 'via', NICS.eth0.peer4, 'dev', 'eth0', 'src', NICS.wwan0.v4]);
    try {
      const [kernel] = JSON.parse(device.run('ip', ['-j', 'route', 'get', host])) as IpRoute[];
      expect(kernel).toMatchObject({ dev: 'eth0', prefsrc: NICS.wwan0.v4 });
      const run = await inDevice(['--json', 'route', host]);
      expect(run.code, run.stderr).toBe(0);
      expect(summaryOf(run)).toMatchObject({ source: NICS.wwan0.v4, interface: 'eth0' });
    } finally {
      device.run('ip', ['route', 'del', `${host}/32`]);
    }
  }, 15_000);

  // --------------------------------------------------------------------------------------------
  // --bind / --interface choose the NIC: the server in the other namespace sees its address

  /** Both NICs, each chosen by address and by name. */
  const choices = (['wwan0', 'eth0'] as NicName[]).flatMap((nic) => [
    { nic, address: NICS[nic].v4, args: ['--bind', NICS[nic].v4] },
    { nic, address: NICS[nic].v4, args: ['--interface', nic] },
  ]);

  it('tcp-client --bind ADDR / --interface NAME: tcp-server 0.0.0.0 in the server namespace accepts the chosen NIC\'s address and the port the client logged (IPv4 and IPv6)', async () => {
    const cases = [
      ...choices.map((c) => ({ ...c, host: FAR4, server: servers.tcp4 })),
      { nic: 'eth0', address: NICS.eth0.v6, args: ['--interface', 'eth0'], host: FAR6, server: servers.tcp6 },
      { nic: 'wwan0', address: NICS.wwan0.v6, args: ['--bind', NICS.wwan0.v6], host: NICS.wwan0.peer6, server: servers.tcp6 },
    ];
    const runs = await Promise.all(cases.map((c) => inDevice(['tcp-client', c.host, String(c.server.port), '-c', '1', '--verify-echo', ...c.args])));
    for (const [i, c] of cases.entries()) {
      const run = runs[i]!;
      expect(run.code, `${c.args.join(' ')}: ${run.stdout}${run.stderr}`).toBe(0);
      const port = boundPort(run, c.address);
      expect(run.stdout).toContain(`[client] connected.  (local ${c.address}, ${port},`);
      await c.server.waitFor(new RegExp(`\\[server\\] accept a client: ${esc(c.address)}, ${port}\\n`), 5_000);
    }
  }, 20_000);

  it('udp-client --bind ADDR / --interface NAME: udp-server logs [client addr: (\'ADDR\', PORT)] with the chosen NIC\'s address and the port the client logged (IPv4 and IPv6)', async () => {
    const cases = [
      // The wildcard server answers each NIC's subnet from the address the datagram was sent to.
      ...choices.map((c) => ({ ...c, host: NICS[c.nic].peer4, server: servers.udp4 })),
      // The far address: policy routing takes eth0's source out by eth0; the server is bound to it.
      ...[choices[1]!, choices[2]!].map((c) => ({ ...c, host: FAR4, server: servers.udpFar })),
      { nic: 'eth0', address: NICS.eth0.v6, args: ['--interface', 'eth0'], host: NICS.eth0.peer6, server: servers.udp6 },
    ];
    const runs = await Promise.all(cases.map((c) => inDevice(['udp-client', c.host, String(c.server.port), '-c', '1', '-w', '3s', '--verify-echo', ...c.args])));
    for (const [i, c] of cases.entries()) {
      const run = runs[i]!;
      expect(run.code, `${c.host} ${c.args.join(' ')}: ${run.stdout}${run.stderr}`).toBe(0);
      const port = boundPort(run, c.address);
      const tuple = c.address.includes(':') ? `('${c.address}', ${port}, 0, 0)` : `('${c.address}', ${port})`;
      // A server bound to a wildcard names the address each datagram was sent to (one socket per address).
      const to = c.server === servers.udpFar ? '' : `  \\(to ${esc(c.host)}\\)`;
      await c.server.waitFor(new RegExp(`\\[server\\] \\[client addr: ${esc(tuple)}\\] recv data: b'1234567890'${to}\\n`), 5_000);
    }
  }, 20_000);

  it('http-get --bind ADDR / --interface NAME: a Node http server in the server namespace sees the chosen NIC\'s address and the port the client logged (IPv4 and IPv6)', async () => {
    const peer = httpPeer!;
    const cases = [
      ...choices.map((c) => ({ ...c, target: [FAR4, String(peer.port)] })),
      { nic: 'eth0', address: NICS.eth0.v6, args: ['--interface', 'eth0'], target: [`http://[${FAR6}]:${peer.port}/`] },
    ];
    const runs = await Promise.all(cases.map((c) => inDevice(['http-get', ...c.target, '--fail', '-m', '10s', ...c.args])));
    for (const [i, c] of cases.entries()) {
      const run = runs[i]!;
      expect(run.code, `${c.args.join(' ')}: ${run.stdout}${run.stderr}`).toBe(0);
      const port = boundPort(run, c.address);
      expect(run.stdout).toContain(`you are ${c.address} ${port}`);
      await peer.waitFor(new RegExp(`^client ${esc(c.address)} ${port}$`, 'm'));
    }
  }, 20_000);

  // --------------------------------------------------------------------------------------------
  // The weak host model: a source address does not choose the NIC, the route does

  /** Counts, in the device namespace, packets from eth0's address to the far address per outgoing NIC. */
  function countByNic(): () => { wwan0: number; eth0: number } {
    nft(device, [
      'table inet nics',
      'delete table inet nics',
      'table inet nics {',
      ' chain output {',
      '  type filter hook output priority 0; policy accept;',
      `  oifname "wwan0" ip saddr ${NICS.eth0.v4} ip daddr ${FAR4} counter`,
      `  oifname "eth0" ip saddr ${NICS.eth0.v4} ip daddr ${FAR4} counter`,
      ' }',
      '}',
      '',
    ].join('\n'));
    return () => {
      const listing = JSON.parse(device.run('nft', ['-j', 'list', 'chain', 'inet', 'nics', 'output'])) as { nftables: Array<{ rule?: { expr: Array<{ counter?: { packets: number } }> } }> };
      const [wwan0, eth0] = listing.nftables.filter((item) => item.rule).map((item) => item.rule!.expr.find((e) => e.counter)!.counter!.packets);
      return { wwan0: wwan0!, eth0: eth0! };
    };
  }

  const routeFrom = (source: string) => (JSON.parse(device.run('ip', ['-j', 'route', 'get', FAR4, 'from', source])) as IpRoute[])[0]!;

  it(`weak host: without policy routing, --bind ${NICS.eth0.v4} to ${FAR4} still leaves by wwan0 (the default route); with \`ip rule add from ${NICS.eth0.v4} lookup ${ETH_TABLE}\` it leaves by eth0 (nft counters)`, { ...needs(noCounters), timeout: 20_000 }, async () => {
    const args = ['tcp-client', FAR4, String(servers.tcp4.port), '-c', '1', '--bind', NICS.eth0.v4];
    device.run('ip', ['rule', 'del', 'from', NICS.eth0.v4, 'lookup', ETH_TABLE]);
    try {
      expect(routeFrom(NICS.eth0.v4)).toMatchObject({ dev: 'wwan0', gateway: NICS.wwan0.peer4 });
      let counts = countByNic();
      const weak = await inDevice(args);
      expect(weak.code, weak.stderr).toBe(0);
      const weakPort = boundPort(weak, NICS.eth0.v4);
      // The server sees eth0's address...
      await servers.tcp4.waitFor(new RegExp(`accept a client: ${esc(NICS.eth0.v4)}, ${weakPort}\\n`));
      // ...but every packet of the connection went out through the 4G NIC.
      const weakCounts = counts();
      expect(weakCounts.eth0, JSON.stringify(weakCounts)).toBe(0);
      expect(weakCounts.wwan0, JSON.stringify(weakCounts)).toBeGreaterThanOrEqual(4); // SYN, ACK, data, FIN at least
    } finally {
      device.run('ip', ['rule', 'add', 'from', NICS.eth0.v4, 'lookup', ETH_TABLE]);
    }
    expect(routeFrom(NICS.eth0.v4)).toMatchObject({ dev: 'eth0', gateway: NICS.eth0.peer4 });
    const counts = countByNic();
    const strong = await inDevice(args);
    expect(strong.code, strong.stderr).toBe(0);
    const strongPort = boundPort(strong, NICS.eth0.v4);
    await servers.tcp4.waitFor(new RegExp(`accept a client: ${esc(NICS.eth0.v4)}, ${strongPort}\\n`));
    const strongCounts = counts();
    expect(strongCounts.wwan0, JSON.stringify(strongCounts)).toBe(0);
    expect(strongCounts.eth0, JSON.stringify(strongCounts)).toBeGreaterThanOrEqual(4);
    device.run('nft', ['delete', 'table', 'inet', 'nics']);
  });

  it(`a UDP server bound to 0.0.0.0 answers a datagram sent to ${FAR4} from ${FAR4} (its socket for that address), not from its route's source ${NICS.eth0.peer4}; the log names ${FAR4}`, { ...needs(noCounters), timeout: 20_000 }, async () => {
    // Node can neither read a datagram's destination nor choose a reply's source (IP_PKTINFO):
    // one wildcard socket answered from the route's source, and a connected client dropped it.
    nft(device, [
      'table inet wrongsource', 'delete table inet wrongsource',
      'table inet wrongsource {',
      ' chain input {',
      '  type filter hook input priority 0; policy accept;',
      `  ip saddr ${NICS.eth0.peer4} udp sport ${servers.udp4.port} counter`,
      `  ip saddr ${FAR4} udp sport ${servers.udp4.port} counter`,
      ' }',
      '}', '',
    ].join('\n'));
    try {
      const run = await inDevice(['udp-client', FAR4, String(servers.udp4.port), '-c', '1', '-w', '3s', '--interface', 'eth0']);
      expect(run.code, run.stdout + run.stderr).toBe(0);
      const port = boundPort(run, NICS.eth0.v4);
      expect(run.stdout).toContain(`[client] [server addr: ('${FAR4}', ${servers.udp4.port})] recv data: b'1234567890'`);
      expect(run.stderr).toBe(''); // no warning about a reply from another address
      await servers.udp4.waitFor(new RegExp(`\\[client addr: \\('${esc(NICS.eth0.v4)}', ${port}\\)\\] recv data: b'1234567890'  \\(to ${esc(FAR4)}\\)\\n`));
      const listing = JSON.parse(device.run('nft', ['-j', 'list', 'chain', 'inet', 'wrongsource', 'input'])) as { nftables: Array<{ rule?: { expr: Array<{ counter?: { packets: number } }> } }> };
      const counters = listing.nftables.flatMap((item) => (item.rule ? [item.rule.expr.find((e) => e.counter)!.counter!.packets] : []));
      expect(counters).toEqual([0, 1]);
    } finally {
      device.run('nft', ['delete', 'table', 'inet', 'wrongsource']);
    }
  });

  // --------------------------------------------------------------------------------------------
  // A fixed local port: TIME_WAIT, SO_REUSEADDR, ports held by other sockets

  /** Whether the device holds local → remote in TIME_WAIT, waiting up to 3 s for it to get there. */
  async function inTimeWait(local: string, remote: string): Promise<boolean> {
    const until = Date.now() + 3_000;
    for (;;) {
      const lines = device.run('ss', ['-Htan', 'state', 'time-wait']).split('\n');
      if (lines.some((line) => line.trim().split(/\s+/).includes(local) && line.trim().split(/\s+/).includes(remote))) return true;
      if (Date.now() > until) return false;
      await sleep(50);
    }
  }

  function tcpTo(fixed: number, extra: string[] = []): Promise<Finished> {
    return inDevice(['tcp-client', NICS.eth0.peer4, String(servers.tcp4.port), '-c', '1', '--bind', `${NICS.eth0.v4}:${fixed}`, ...extra]);
  }

  it(`tcp-client --bind ${NICS.eth0.v4}:${PORTS.timeWait}: reconnects at once while the last connection is in TIME_WAIT, without --reuse-address and with it (libuv sets SO_REUSEADDR on every TCP bind; with TCP timestamps the kernel lets a bound connect() take over the TIME_WAIT)`, async () => {
    // Why both succeed on Linux:
    // - bind(): libuv sets SO_REUSEADDR on every TCP socket it binds (uv__tcp_bind), so a port
    //   held only by a TIME_WAIT socket (or by connections, never by a listener) can be bound;
    //   --reuse-address changes nothing for TCP.
    // - connect() to the same peer: the 4-tuple is still in TIME_WAIT on this side (the client
    //   closed first). For a socket bound to a port, the kernel's tcp_twsk_unique() recycles the
    //   TIME_WAIT entry if it saw TCP timestamps from the peer (PAWS tells old segments from new
    //   ones), whatever net.ipv4.tcp_tw_reuse says. Without timestamps connect() fails with
    //   EADDRNOTAVAIL: the next tests.
    const local = `${NICS.eth0.v4}:${PORTS.timeWait}`;
    const remote = `${NICS.eth0.peer4}:${servers.tcp4.port}`;
    expect(device.run('sysctl', ['-n', 'net.ipv4.tcp_timestamps']).trim()).toBe('1');
    for (const extra of [[], [], ['--reuse-address'], ['--reuse-address']]) {
      const run = await tcpTo(PORTS.timeWait, extra);
      expect(run.code, `${extra.join(' ')}: ${run.stdout}${run.stderr}`).toBe(0);
      expect(boundPort(run, NICS.eth0.v4)).toBe(PORTS.timeWait);
      expect(run.stdout).toContain('[client] recv data: b\'1234567890\'');
      expect(await inTimeWait(local, remote), `no TIME_WAIT ${local} → ${remote}`).toBe(true);
    }
    const accepts = servers.tcp4.stdout().split('\n').filter((line) => line === `[server] accept a client: ${NICS.eth0.v4}, ${PORTS.timeWait}`);
    expect(accepts).toHaveLength(4);
  }, 25_000);

  /** A first connection from the fixed port to a peer that does not use TCP timestamps, then two at once. */
  const withoutTimestamps = once(() => reconnectWithoutTimestamps(PORTS.noTimestamps));
  async function reconnectWithoutTimestamps(fixed: number): Promise<{ plain: Finished; reuse: Finished; fresh: Finished }> {
    // Some embedded TCP stacks send no timestamps; here the server's namespace stops sending them.
    server.run('sysctl', ['-q', '-w', 'net.ipv4.tcp_timestamps=0']);
    try {
      const first = await tcpTo(fixed);
      expect(first.code, first.stdout + first.stderr).toBe(0);
      expect(await inTimeWait(`${NICS.eth0.v4}:${fixed}`, `${NICS.eth0.peer4}:${servers.tcp4.port}`)).toBe(true);
      const plain = await tcpTo(fixed);
      const reuse = await tcpTo(fixed, ['--reuse-address']);
      const fresh = await inDevice(['tcp-client', NICS.eth0.peer4, String(servers.tcp4.port), '-c', '1', '--bind', NICS.eth0.v4]);
      return { plain, reuse, fresh };
    } finally {
      server.run('sysctl', ['-q', '-w', 'net.ipv4.tcp_timestamps=1']);
    }
  }

  it(`a peer without TCP timestamps: the reconnect from the fixed port in TIME_WAIT fails at once with exit 7, with or without --reuse-address (connect: EADDRNOTAVAIL); port 0 connects`, async () => {
    const { plain, reuse, fresh } = await withoutTimestamps();
    expect(plain.code, plain.stdout + plain.stderr).toBe(7);
    expect(reuse.code, reuse.stdout + reuse.stderr).toBe(7);
    expect(fresh.code, fresh.stdout + fresh.stderr).toBe(0);
  }, 25_000);

  it('a peer without TCP timestamps: the error names the local address and port held in TIME_WAIT, not the destination as "not an address of this host"', async () => {
    const { plain, reuse } = await withoutTimestamps();
    for (const run of [plain, reuse]) {
      expect(run.code).toBe(7);
      expect(run.stderr).not.toContain(`${NICS.eth0.peer4} is not an address of this host`);
      expect(run.stderr).toContain(`${NICS.eth0.v4}, ${PORTS.noTimestamps}`);
      expect(run.stderr).toMatch(/TIME.?WAIT/i);
    }
  }, 25_000);

  /** A tcp-client that keeps a connection from the fixed port open, then a second client from it. */
  const samePeerFromLivePort = once(() => secondFromLivePort(PORTS.live + 100, NICS.eth0.peer4));
  async function secondFromLivePort(fixed: number, host: string): Promise<Finished> {
    const holder = startCli(['tcp-client', NICS.eth0.peer4, String(servers.tcp4.port), '-i', '200ms', '--bind', `${NICS.eth0.v4}:${fixed}`], { prefix: device.prefix, timeoutMs: 20_000 });
    running.push(holder);
    try {
      await holder.waitFor(new RegExp(`connected\\.  \\(local ${esc(NICS.eth0.v4)}, ${fixed},`));
      return await inDevice(['tcp-client', host, String(servers.tcp4.port), '-c', '1', '--bind', `${NICS.eth0.v4}:${fixed}`]);
    } finally {
      await holder.stop('SIGKILL');
    }
  }

  it(`a fixed TCP port held by a live connection: a second connection from it to another peer (${FAR4}) works (SO_REUSEADDR), to the same peer it fails with exit 7`, async () => {
    const other = await secondFromLivePort(PORTS.live, FAR4);
    expect(other.code, other.stdout + other.stderr).toBe(0);
    expect(boundPort(other, NICS.eth0.v4)).toBe(PORTS.live);
    const same = await samePeerFromLivePort();
    expect(same.code, same.stdout + same.stderr).toBe(7);
  }, 25_000);

  it('a fixed TCP port held by a live connection to the same peer: the error names the local address and port, not the destination as "not an address of this host"', async () => {
    const same = await samePeerFromLivePort();
    expect(same.code).toBe(7);
    expect(same.stderr).not.toContain(`${NICS.eth0.peer4} is not an address of this host`);
    expect(same.stderr).toContain(`${NICS.eth0.v4}, ${PORTS.live + 100}`);
  }, 25_000);

  it('a fixed TCP port held by a listener: exit 7, "local port ADDR, PORT is already in use", with or without --reuse-address', async () => {
    const listener = startCli(['tcp-server', NICS.eth0.v4, String(PORTS.listener)], { prefix: device.prefix, timeoutMs: 20_000 });
    running.push(listener);
    try {
      await listener.waitFor(/started, listening/);
      const runs = await Promise.all([tcpTo(PORTS.listener), tcpTo(PORTS.listener, ['--reuse-address'])]);
      for (const run of runs) {
        expect(run.code, run.stdout + run.stderr).toBe(7);
        expect(run.stderr).toBe(`netnote: local port ${NICS.eth0.v4}, ${PORTS.listener} is already in use\nnetnote: hint: a listening socket holds it: pick another port, or 0\n`);
      }
    } finally {
      await listener.stop('SIGKILL');
    }
  }, 20_000);

  it(`udp-client --bind ${NICS.eth0.v4}:${PORTS.udp} while another socket holds the port: exit 7 with the hint to add --reuse-address; with SO_REUSEADDR on both sockets it binds and gets its echo`, async () => {
    const udpTo = (extra: string[] = []) => inDevice(['udp-client', NICS.eth0.peer4, String(servers.udp4.port), '-c', '1', '-w', '3s', '--bind', `${NICS.eth0.v4}:${PORTS.udp}`, ...extra]);
    const hold = async (extra: string[]) => {
      const holder = startCli(['udp-server', NICS.eth0.v4, String(PORTS.udp), ...extra], { prefix: device.prefix, timeoutMs: 20_000 });
      running.push(holder);
      await holder.waitFor(new RegExp(`bind address: ${esc(NICS.eth0.v4)}, ${PORTS.udp}\\n`));
      return holder;
    };
    const inUse = `netnote: local port ${NICS.eth0.v4}, ${PORTS.udp} is already in use\n`;

    // libuv leaves SO_REUSEADDR off for UDP: a second bind of the port fails...
    let holder = await hold([]);
    const [plain, oneSided] = await Promise.all([udpTo(), udpTo(['--reuse-address'])]);
    await holder.stop('SIGKILL');
    expect(plain.code, plain.stdout + plain.stderr).toBe(7);
    expect(plain.stderr).toBe(`${inUse}netnote: hint: add --reuse-address to share it, or use port 0\n`);
    // ...and asking for it on one side only is not enough: both sockets must set it.
    expect(oneSided.code, oneSided.stdout + oneSided.stderr).toBe(7);
    expect(oneSided.stderr).toBe(`${inUse}netnote: hint: another socket holds it without SO_REUSEADDR: pick another port, or 0\n`);

    holder = await hold(['--reuse-address']);
    try {
      const [stillPlain, shared] = await Promise.all([udpTo(), udpTo(['--reuse-address'])]);
      expect(stillPlain.code).toBe(7);
      expect(stillPlain.stderr).toBe(`${inUse}netnote: hint: add --reuse-address to share it, or use port 0\n`);
      expect(shared.code, shared.stdout + shared.stderr).toBe(0);
      expect(boundPort(shared, NICS.eth0.v4)).toBe(PORTS.udp);
      // The connected client socket gets the echo, not the unconnected holder (a better match).
      expect(shared.stdout).toContain(`[client] [server addr: ('${NICS.eth0.peer4}', ${servers.udp4.port})] recv data: b'1234567890'`);
      await servers.udp4.waitFor(new RegExp(`\\[client addr: \\('${esc(NICS.eth0.v4)}', ${PORTS.udp}\\)\\] recv data`));
    } finally {
      await holder.stop('SIGKILL');
    }
  }, 20_000);

  // --------------------------------------------------------------------------------------------
  // Errors, the same on every client

  const clients = [
    { command: 'tcp-client', target: (host: string, port: number) => [host, String(port), '-c', '1'] },
    { command: 'udp-client', target: (host: string, port: number) => [host, String(port), '-c', '1', '-w', '1s'] },
    { command: 'http-get', target: (host: string, port: number) => [host.includes(':') ? `http://[${host}]:${port}/` : host, ...(host.includes(':') ? [] : [String(port)]), '-m', '5s'] },
  ];

  it('--bind an address this host does not have: exit 7 "ADDR is not an address of this host", hint "see netnote interfaces" (tcp-client, udp-client, http-get)', async () => {
    const runs = await Promise.all(clients.map((c) => inDevice([c.command, ...c.target(NICS.eth0.peer4, servers.tcp4.port), '--bind', '203.0.113.99'])));
    for (const [i, run] of runs.entries()) {
      expect(run.code, `${clients[i]!.command}: ${run.stdout}${run.stderr}`).toBe(7);
      expect(run.stderr).toBe('netnote: 203.0.113.99 is not an address of this host\nnetnote: hint: see netnote interfaces\n');
    }
  }, 15_000);

  const unknownInterface = once(() => Promise.all(clients.map((c) => inDevice([c.command, ...c.target(NICS.eth0.peer4, servers.tcp4.port), '--interface', 'wlan9']))));

  it('--interface with a name no NIC has: exit 2, listing the names that exist (tcp-client, udp-client, http-get)', async () => {
    const runs = await unknownInterface();
    for (const [i, run] of runs.entries()) {
      expect(run.code, `${clients[i]!.command}: ${run.stdout}${run.stderr}`).toBe(2);
      const match = run.stderr.match(/^netnote: no interface named 'wlan9' on this host: (.+)\nnetnote: hint: see netnote interfaces\n$/);
      expect(match, run.stderr).not.toBeNull();
      expect(match![1]!.split(', ')).toEqual(expect.arrayContaining(['lo', 'wwan0', 'eth0']));
    }
  }, 15_000);

  it('--interface with a NIC that exists but has no address (wlan0, down): exit 2 "interface wlan0 has no IPv4 address", and wlan0 is among the names an unknown name lists', async () => {
    const [noAddress, [unknown]] = await Promise.all([
      inDevice(['tcp-client', NICS.eth0.peer4, String(servers.tcp4.port), '-c', '1', '--interface', 'wlan0']),
      unknownInterface(),
    ]);
    expect(noAddress.code, noAddress.stderr).toBe(2);
    expect(noAddress.stderr).toContain('interface wlan0 has no IPv4 address');
    expect(unknown!.code, unknown!.stderr).toBe(2);
    expect(unknown!.stderr.match(/on this host: (.+)\n/)?.[1]?.split(', ')).toContain('wlan0');
  }, 15_000);

  it('an IPv4 --bind with an IPv6 destination: exit 2 explaining the family mismatch (tcp-client, udp-client, http-get; and the reverse, tcp-client)', async () => {
    const runs = await Promise.all([
      ...clients.map((c) => inDevice([c.command, ...c.target(NICS.eth0.peer6, servers.tcp6.port), '--bind', NICS.eth0.v4])),
      inDevice(['tcp-client', NICS.eth0.peer4, String(servers.tcp4.port), '-c', '1', '--bind', NICS.eth0.v6]),
    ]);
    for (const [i, run] of runs.entries()) {
      const v4bind = i < clients.length;
      expect(run.code, `${clients[i % clients.length]!.command}: ${run.stdout}${run.stderr}`).toBe(2);
      expect(run.stderr).toBe(v4bind
        ? `netnote: cannot bind IPv4 address ${NICS.eth0.v4} to reach an IPv6 destination\nnetnote: hint: bind an IPv6 address, or pick a destination of the same family\n`
        : `netnote: cannot bind IPv6 address ${NICS.eth0.v6} to reach an IPv4 destination\nnetnote: hint: bind an IPv4 address, or pick a destination of the same family\n`);
    }
  }, 15_000);
});
