// resolve against real DNS servers: dnsmasq instances the test starts inside a namespace whose
// resolv.conf points at them, so neither the system view (getaddrinfo) nor a direct query ever
// leaves this machine. Only the black-holed and SERVFAIL servers live in the test process, and
// those runs resolve address literals only (no getaddrinfo query at all).
import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { fileURLToPath } from 'node:url';
import packet from 'dns-packet';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli.js';
import { dnsmasqUnavailable, startDnsmasq, type Dnsmasq } from './support/dns.js';
import { createNamespace, netnsUnavailable, useResolvConf, type Namespace } from './support/netns.js';
import { needs } from './support/needs.js';
import { commandMissing } from './support/peers.js';

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const clean of cleanups.splice(0).reverse()) clean();
});


/** A UDP socket on 127.0.0.1 that answers queries with `reply` (or reads and never answers). */
async function udpServer(reply: ((query: packet.Packet) => Buffer) | null): Promise<{ port: number; received: () => number }> {
  const socket = dgram.createSocket('udp4');
  let received = 0;
  socket.on('message', (message, peer) => {
    received++;
    if (reply) socket.send(reply(packet.decode(message)), peer.port, peer.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  cleanups.push(() => socket.close());
  return { port: socket.address().port, received: () => received };
}

/** The record lines of the answer block `server S, TYPE: …`, without the `[client]   ` tag. */
function answerBlock(stdout: string, server: string, type: string): { header: string; records: string[] } {
  const lines = stdout.split('\n');
  const start = lines.findIndex((line) => line.startsWith(`[client] server ${server}, ${type}: `));
  expect(start, `no answer block for ${server} ${type} in:\n${stdout}`).toBeGreaterThanOrEqual(0);
  const records: string[] = [];
  for (let i = start + 1; lines[i]?.startsWith('[client]   '); i++) records.push(lines[i]!.slice('[client]   '.length));
  return { header: lines[start]!, records };
}

/** `1.0.0.…8.b.d.0.1.0.0.2.ip6.arpa` for 2001:db8::1, written out by hand. */
const IP6_ARPA_GW = `${'1'}${'.0'.repeat(23)}.8.b.d.0.1.0.0.2.ip6.arpa`;


describe('resolve against dnsmasq in a namespace', needs(netnsUnavailable, dnsmasqUnavailable), () => {
  let ns: Namespace;
  const servers: Dnsmasq[] = [];
  const run = (args: string[]) => runCli(args, { prefix: ns.prefix });
  const dig = (server: string, name: string, type: string) => ns.run('dig', ['+noall', '+answer', `@${server}`, name, type]);

  beforeAll(async () => {
    ns = createNamespace();
    useResolvConf(ns, 'nameserver 127.0.0.1\n');
    // The system's resolver: no upstream, so names it has no data for are REFUSED.
    servers.push(await startDnsmasq(ns, '127.0.0.1', [
      '--address=/dev.netnote.test/192.0.2.10',
      '--host-record=gw.netnote.test,192.0.2.1,2001:db8::1',
      '--txt-record=gw.netnote.test,v=netnote1 device=gw',
      `--txt-record=big.netnote.test,${'a'.repeat(250)},${'b'.repeat(250)},${'c'.repeat(250)}`,
      '--srv-host=_mqtt._tcp.netnote.test,gw.netnote.test,1883,10,5',
      '--cname=www.netnote.test,gw.netnote.test',
      '--mx-host=netnote.test,gw.netnote.test,10',
      '--address=/nx.netnote.test/',
      // IPv4 only: its AAAA query goes upstream, and without one dnsmasq refuses it.
      '--host-record=v4only.netnote.test,192.0.2.40',
    ]));
    // Another server with other data: authoritative for netnote.test (SOA, NS, NODATA answers),
    // and gw.netnote.test at another IPv4 address.
    servers.push(await startDnsmasq(ns, '127.0.0.2', [
      '--auth-server=ns.netnote.test,127.0.0.2', '--auth-zone=netnote.test', '--auth-ttl=300',
      '--host-record=gw.netnote.test,192.0.2.2,2001:db8::1',
      '--host-record=ns.netnote.test,192.0.2.53',
    ]));
  }, 15_000);
  afterAll(() => {
    for (const server of servers) server.stop();
    ns?.remove();
  });

  it("system view: the note's getaddrinfo(host, port), every address in the resolver's order", { ...needs(commandMissing('python3', 'python3')), timeout: 10_000 }, async () => {
    const { code, stdout, stderr } = await run(['resolve', 'gw.netnote.test', '80']);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    // The order getaddrinfo gives, as Python's socket.getaddrinfo sees it in the same namespace.
    const order = ns.run('python3', ['-c', "import socket\nfor a in socket.getaddrinfo('gw.netnote.test', 80, type=socket.SOCK_STREAM): print(a[4][0])"]).trim().split('\n');
    expect([...order].sort()).toEqual(['192.0.2.1', '2001:db8::1']);
    const tuples = (address: string) => address.includes(':')
      ? [`[client] (AF_INET6, SOCK_STREAM, 6, '', ('${address}', 80, 0, 0))`, `[client] (AF_INET6, SOCK_DGRAM, 17, '', ('${address}', 80, 0, 0))`]
      : [`[client] (AF_INET, SOCK_STREAM, 6, '', ('${address}', 80))`, `[client] (AF_INET, SOCK_DGRAM, 17, '', ('${address}', 80))`];
    const lines = stdout.split('\n');
    expect(lines[0]).toBe(`[client] DNS for gw.netnote.test: ${order[0]}`);
    expect(lines[1]).toMatch(/^\[client\] getaddrinfo\(gw\.netnote\.test, 80\): 2 addresses in [\d.]+ ms$/);
    expect(lines.slice(2)).toEqual([...order.flatMap(tuples), '']);
  });

  it('system view of a name that does not exist → 3', async () => {
    const { code, stdout, stderr } = await run(['resolve', 'nx.netnote.test', '80']);
    expect(code).toBe(3);
    expect(stdout).not.toContain('DNS for');
    expect(stdout).toMatch(/getaddrinfo\(nx\.netnote\.test, 80\): cannot resolve nx\.netnote\.test: no such host in/);
    expect(stderr).toMatch(/^netnote: cannot resolve nx\.netnote\.test: no such host\nnetnote: hint: /);
  }, 10_000);

  it('--server: A and AAAA with TTL and query time, next to the system view, which agrees', async () => {
    const { code, stdout, stderr } = await run(['resolve', 'gw.netnote.test', '80', '--server', '127.0.0.1:53']);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const a = answerBlock(stdout, '127.0.0.1:53', 'A');
    expect(a.header).toMatch(/^\[client\] server 127\.0\.0\.1:53, A: NOERROR in [\d.]+ ms$/);
    expect(a.records).toEqual(['gw.netnote.test  300  A  192.0.2.1']);
    expect(answerBlock(stdout, '127.0.0.1:53', 'AAAA').records).toEqual(['gw.netnote.test  300  AAAA  2001:db8::1']);
    expect(stdout).toMatch(/\[client\] DNS for gw\.netnote\.test: .*\n\[client\] getaddrinfo\(gw\.netnote\.test, 80\): 2 addresses/);
    expect(stdout.endsWith('[client] the system resolver and every server that answered agree on the addresses\n')).toBe(true);
  }, 10_000);

  it('--server with other data: the differences line says which view saw which address', async () => {
    const { code, stdout } = await run(['resolve', 'gw.netnote.test', '--server', '127.0.0.2']);
    expect(code).toBe(0);
    expect(answerBlock(stdout, '127.0.0.2:53', 'A').records).toEqual(['gw.netnote.test  300  A  192.0.2.2']);
    expect(stdout).toContain('[client] differences (address: seen by): 192.0.2.1: system; 192.0.2.2: 127.0.0.2:53\n');
  }, 10_000);

  it('a server asked for A only is not said to miss the IPv6 address the system view has', async () => {
    const { code, stdout } = await run(['resolve', 'gw.netnote.test', '-t', 'A', '--server', '127.0.0.1']);
    expect(code).toBe(0);
    expect(stdout).not.toContain('differences');
    expect(stdout).toContain('[client] the system resolver and every server that answered agree on the addresses\n');
  }, 10_000);

  it('-t is repeatable: every type given is asked', async () => {
    const { code, stdout } = await run(['resolve', 'gw.netnote.test', '-t', 'A', '-t', 'TXT', '-s', '127.0.0.1']);
    expect(code).toBe(0);
    expect(answerBlock(stdout, '127.0.0.1:53', 'A').records).toEqual(['gw.netnote.test  300  A  192.0.2.1']);
    expect(answerBlock(stdout, '127.0.0.1:53', 'TXT').records).toEqual(['gw.netnote.test  300  TXT  "v=netnote1 device=gw"']);
  }, 10_000);

  // Every type dnsmasq answers, each as dig shows it (names without the final dot).
  it.each([
    ['gw.netnote.test', 'A', '127.0.0.1', ['gw.netnote.test  300  A  192.0.2.1']],
    ['gw.netnote.test', 'AAAA', '127.0.0.1', ['gw.netnote.test  300  AAAA  2001:db8::1']],
    ['dev.netnote.test', 'A', '127.0.0.1', ['dev.netnote.test  300  A  192.0.2.10']],
    ['www.netnote.test', 'CNAME', '127.0.0.1', ['www.netnote.test  300  CNAME  gw.netnote.test']],
    ['netnote.test', 'MX', '127.0.0.1', ['netnote.test  300  MX  10 gw.netnote.test']],
    ['gw.netnote.test', 'TXT', '127.0.0.1', ['gw.netnote.test  300  TXT  "v=netnote1 device=gw"']],
    ['_mqtt._tcp.netnote.test', 'SRV', '127.0.0.1', ['_mqtt._tcp.netnote.test  300  SRV  10 5 1883 gw.netnote.test']],
    ['netnote.test', 'NS', '127.0.0.2', ['netnote.test  300  NS  ns.netnote.test']],
    ['netnote.test', 'SOA', '127.0.0.2', [/^netnote\.test {2}300 {2}SOA {2}ns\.netnote\.test hostmaster\.ns\.netnote\.test \d+ 1200 180 1209600 300$/]],
    ['192.0.2.1', 'PTR', '127.0.0.1', ['1.2.0.192.in-addr.arpa  300  PTR  gw.netnote.test']],
    ['2001:db8::1', 'PTR', '127.0.0.1', [`${IP6_ARPA_GW}  300  PTR  gw.netnote.test`]],
    ['gw.netnote.test', 'ANY', '127.0.0.1', ['gw.netnote.test  300  A  192.0.2.1', 'gw.netnote.test  300  AAAA  2001:db8::1', 'gw.netnote.test  300  TXT  "v=netnote1 device=gw"']],
  ] as Array<[string, string, string, Array<string | RegExp>]>)('%s %s from %s', { ...needs(commandMissing('dig', 'bind9-dnsutils')), timeout: 10_000 }, async (name, type, server, expected) => {
    const { code, stdout, stderr } = await run(['resolve', name, '--type', type, '--server', server]);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const block = answerBlock(stdout, `${server}:53`, type);
    expect(block.header).toMatch(new RegExp(`^\\[client\\] server ${server.replaceAll('.', '\\.')}:53, ${type}: NOERROR in [\\d.]+ ms$`));
    const records = [...block.records].sort();
    expect(records).toEqual(expected.map((e) => (typeof e === 'string' ? e : expect.stringMatching(e))).sort());
    // dig, asked the same question, sees the same records (SOA serials aside).
    const asked = type === 'PTR' ? (name.includes(':') ? IP6_ARPA_GW : '1.2.0.192.in-addr.arpa') : name;
    const digLines = dig(server, asked, type).trim().split('\n').map((line) => {
      const [owner, ttl, , rtype, ...data] = line.split(/\s+/);
      return [owner!.replace(/\.$/, ''), ttl, rtype, data.map((d) => d.replace(/\.$/, '')).join(' ')].join('  ');
    });
    const noSerial = (line: string) => line.replace(/( SOA {2}\S+ \S+ )\d+/, '$1S');
    expect(records.map(noSerial)).toEqual(digLines.sort().map(noSerial));
  });

  it('a UDP answer too big for 512 bytes is asked again over TCP, and shown whole', async () => {
    const { code, stdout } = await run(['resolve', 'big.netnote.test', '-t', 'TXT', '-s', '127.0.0.1']);
    expect(code).toBe(0);
    const block = answerBlock(stdout, '127.0.0.1:53', 'TXT');
    expect(block.header).toMatch(/NOERROR in [\d.]+ ms \(truncated over UDP, asked again over TCP\)$/);
    expect(block.records).toEqual([`big.netnote.test  300  TXT  "${'a'.repeat(250)}" "${'b'.repeat(250)}" "${'c'.repeat(250)}"`]);
  }, 10_000);

  it('NXDOMAIN → 3, "no such name"', async () => {
    const { code, stdout, stderr } = await run(['resolve', 'nx.netnote.test', '--server', '127.0.0.1']);
    expect(code).toBe(3);
    expect(stdout).toMatch(/\[client\] server 127\.0\.0\.1:53, A: NXDOMAIN, no records in [\d.]+ ms\n/);
    expect(stderr).toMatch(/^netnote: nx\.netnote\.test: no such name \(NXDOMAIN from 127\.0\.0\.1:53\)\n/);
  }, 10_000);

  it('a name dnsmasq refuses (no upstream) → 3 with REFUSED named', async () => {
    const { code, stdout, stderr } = await run(['resolve', 'other.netnote.test', '--server', '127.0.0.1']);
    expect(code).toBe(3);
    expect(stdout).toMatch(/\[client\] server 127\.0\.0\.1:53, A: REFUSED, no records in/);
    expect(stderr).toMatch(/^netnote: 127\.0\.0\.1:53 answered REFUSED for other\.netnote\.test A\nnetnote: hint: /);
  }, 10_000);

  it('an existing name without the type asked: REFUSED from a forwarder without upstream, "no MX record" from the authoritative one', async () => {
    // dnsmasq without the zone has no upstream to ask for gw's MX: it refuses.
    const forwarder = await run(['resolve', 'gw.netnote.test', '-t', 'MX', '--server', '127.0.0.1']);
    expect(forwarder.code).toBe(3);
    expect(forwarder.stderr).toMatch(/^netnote: 127\.0\.0\.1:53 answered REFUSED for gw\.netnote\.test MX\n/);
    // Authoritative for netnote.test, it answers NOERROR with no records (NODATA).
    const authoritative = await run(['resolve', 'gw.netnote.test', '-t', 'MX', '--server', '127.0.0.2']);
    expect(authoritative.code).toBe(3);
    expect(authoritative.stdout).toMatch(/\[client\] server 127\.0\.0\.2:53, MX: NOERROR, no records in [\d.]+ ms\n/);
    expect(authoritative.stderr).toMatch(/^netnote: gw\.netnote\.test: the name exists, no MX record \(127\.0\.0\.2:53\)\n/);
  }, 15_000);

  it('--json: the summary event carries the system view, the queries, the differences and the exit code', async () => {
    const { code, stdout } = await run(['--json', 'resolve', 'gw.netnote.test', '80', '--server', '127.0.0.2']);
    expect(code).toBe(0);
    const events = stdout.trim().split('\n').map((line) => JSON.parse(line));
    const summary = events.at(-1);
    expect(summary).toMatchObject({ v: 1, event: 'summary', role: 'client', exitCode: 0, error: null });
    const s = summary.summary;
    expect(s).toMatchObject({ proto: 'dns', host: 'gw.netnote.test', port: 80 });
    expect(s.system.error).toBeNull();
    expect(s.system.addresses.map((a: { address: string }) => a.address).sort()).toEqual(['192.0.2.1', '2001:db8::1']);
    expect(s.queries).toHaveLength(2);
    for (const q of s.queries) {
      expect(q.server).toEqual({ address: '127.0.0.2', port: 53, family: 'IPv4' });
      expect(q.error).toBeNull();
      expect(q.answer.rcode).toBe('NOERROR');
      expect(q.answer.ms).toBeGreaterThan(0);
    }
    expect(s.queries.find((q: { type: string }) => q.type === 'A').answer.records).toEqual([{ name: 'gw.netnote.test', type: 'A', ttl: 300, data: '192.0.2.2' }]);
    expect(s.differences).toEqual([{ address: '192.0.2.1', seenBy: ['system'] }, { address: '192.0.2.2', seenBy: ['127.0.0.2:53'] }]);

    const failed = await run(['--json', 'resolve', 'nx.netnote.test', '--server', '127.0.0.1']);
    expect(failed.code).toBe(3);
    const last = JSON.parse(failed.stdout.trim().split('\n').at(-1)!);
    expect(last).toMatchObject({ event: 'summary', exitCode: 3, error: { code: 'resolve', message: expect.stringContaining('NXDOMAIN') } });
    expect(last.summary.queries.map((q: { answer: { rcode: string } }) => q.answer.rcode)).toEqual(['NXDOMAIN', 'NXDOMAIN']);
  }, 15_000);

  // The exit status, one rule (README, resolve): with --server, the servers' answers for the
  // types asked decide; what does not change the status is still shown.
  it('a server with an address for A that refuses AAAA: exit 0, and a warning for the AAAA', async () => {
    const { code, stdout, stderr } = await run(['resolve', 'v4only.netnote.test', '--server', '127.0.0.1']);
    expect(code).toBe(0);
    expect(answerBlock(stdout, '127.0.0.1:53', 'A').records).toEqual(['v4only.netnote.test  300  A  192.0.2.40']);
    expect(answerBlock(stdout, '127.0.0.1:53', 'AAAA').header).toMatch(/AAAA: REFUSED, no records in/);
    expect(stderr).toBe('[client] warning: 127.0.0.1:53 answered REFUSED for v4only.netnote.test AAAA\n');
  }, 10_000);

  it('a server that contradicts itself (an address for A, NXDOMAIN for AAAA): exit 0, and a warning saying so', needs(commandMissing('python3', 'python3')), async () => {
    const broken = spawn('ip', ['netns', 'exec', ns.name, 'python3', fileURLToPath(new URL('./fixtures/dns/contradicting.py', import.meta.url)), '127.0.0.3', '53'], { stdio: ['ignore', 'pipe', 'inherit'] });
    cleanups.push(() => broken.kill('SIGKILL'));
    await new Promise((resolve) => broken.stdout.once('data', resolve));
    const { code, stdout, stderr } = await run(['--json', 'resolve', 'box.netnote.test', '--server', '127.0.0.3']);
    expect(code).toBe(0);
    const events = stdout.trim().split('\n').map((line) => JSON.parse(line));
    expect(events.find((e) => e.event === 'warning')).toMatchObject({ message: '127.0.0.3:53 contradicts itself: NXDOMAIN for box.netnote.test AAAA, but the name exists for A' });
    expect(events.at(-1)).toMatchObject({ event: 'summary', exitCode: 0, error: null });
    expect(events.at(-1).summary.queries.map((q: { answer: { rcode: string } }) => q.answer.rcode)).toEqual(['NOERROR', 'NXDOMAIN']);
    expect(stderr).toBe('');
    const human = await run(['resolve', 'box.netnote.test', '--server', '127.0.0.3']);
    expect(human.code).toBe(0);
    expect(human.stderr).toBe('[client] warning: 127.0.0.3:53 contradicts itself: NXDOMAIN for box.netnote.test AAAA, but the name exists for A\n');
  }, 10_000);

  it('the system resolver failing while the server answers: exit 0, printed as a difference', async () => {
    // Only 127.0.0.2 knows ns.netnote.test; the system's resolver (127.0.0.1) refuses it.
    const { code, stdout, stderr } = await run(['resolve', 'ns.netnote.test', '--server', '127.0.0.2']);
    expect(code).toBe(0);
    expect(stderr).toBe('');
    expect(stdout).toMatch(/\[client\] getaddrinfo\(ns\.netnote\.test, 0\): cannot resolve ns\.netnote\.test: .* in [\d.]+ ms\n/);
    expect(stdout).toMatch(/\[client\] differences \(address: seen by\): 192\.0\.2\.53: 127\.0\.0\.2:53 \(the system resolver has none: cannot resolve ns\.netnote\.test: [^)]*\)\n$/);
  }, 10_000);

  it('without --server, the system view decides alone: an address is 0 whatever a server would say', async () => {
    expect((await run(['resolve', 'v4only.netnote.test'])).code).toBe(0);
  }, 10_000);
});

describe('resolve --all-servers', needs(netnsUnavailable, dnsmasqUnavailable), () => {
  it('asks every nameserver of resolv.conf and shows each answer and where they differ', async () => {
    const ns = createNamespace();
    cleanups.push(ns.remove);
    useResolvConf(ns, 'nameserver 127.0.0.1\nnameserver 127.0.0.2\n');
    for (const [address, ipv4] of [['127.0.0.1', '192.0.2.1'], ['127.0.0.2', '192.0.2.2']] as const) {
      const server = await startDnsmasq(ns, address, [`--host-record=gw.netnote.test,${ipv4},2001:db8::1`]);
      cleanups.push(server.stop);
    }
    const { code, stdout, stderr } = await runCli(['resolve', 'gw.netnote.test', '--all-servers'], { prefix: ns.prefix });
    expect(stderr).toBe('');
    expect(code).toBe(0);
    for (const [server, ipv4] of [['127.0.0.1:53', '192.0.2.1'], ['127.0.0.2:53', '192.0.2.2']]) {
      expect(answerBlock(stdout, server!, 'A').header).toMatch(/NOERROR in [\d.]+ ms$/);
      expect(answerBlock(stdout, server!, 'A').records).toEqual([`gw.netnote.test  300  A  ${ipv4}`]);
      expect(answerBlock(stdout, server!, 'AAAA').records).toEqual(['gw.netnote.test  300  AAAA  2001:db8::1']);
    }
    // The system resolver asks the first nameserver: it agrees with that one, not with the second.
    expect(stdout).toContain('[client] differences (address: seen by): 192.0.2.1: system, 127.0.0.1:53; 192.0.2.2: 127.0.0.2:53\n');
  }, 15_000);
});

// These resolve an address literal: the system view returns it as is, nothing is asked of any
// resolver but the test's own sockets.
describe('resolve: failures of the server itself, and bad arguments', () => {
  it('a black-holed server → 5 after -w', async () => {
    const hole = await udpServer(null);
    const started = Date.now();
    const { code, stderr } = await runCli(['resolve', '192.0.2.1', '-t', 'PTR', '-s', `127.0.0.1:${hole.port}`, '-w', '300ms']);
    expect(code).toBe(5);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(hole.received()).toBeGreaterThanOrEqual(1);
    expect(stderr).toMatch(new RegExp(`^netnote: DNS server 127\\.0\\.0\\.1:${hole.port} did not answer within 300 ms\\nnetnote: hint: `));
  }, 10_000);

  it.each([
    ['garbage', () => Buffer.from('not a DNS message'), '1 undecodable'],
    ['an answer with the wrong ID', (query: packet.Packet) => packet.encode({ type: 'response', id: (query.id! + 1) % 65536, questions: query.questions }), "1 not a response with the query's ID"],
  ])('a server that answers only %s → 6 after -w, "malformed", and no claim that the views agree', async (_, reply, kind) => {
    const server = await udpServer(reply);
    const { code, stdout, stderr } = await runCli(['resolve', '192.0.2.1', '-t', 'A', '-s', `127.0.0.1:${server.port}`, '-w', '300ms']);
    expect(code).toBe(6);
    expect(stderr).toMatch(new RegExp(`^netnote: malformed DNS answer from 127\\.0\\.0\\.1:${server.port}: 1 reply in 300 ms, none an answer to the query \\(${kind}\\)\\nnetnote: hint: `));
    expect(stdout).not.toContain('agree');
  }, 10_000);

  it('SERVFAIL → 3 with the rcode named', async () => {
    const server = await udpServer((query) => packet.encode({ type: 'response', id: query.id, flags: 2, questions: query.questions }));
    const { code, stdout, stderr } = await runCli(['resolve', '192.0.2.1', '-t', 'PTR', '-s', `127.0.0.1:${server.port}`]);
    expect(code).toBe(3);
    expect(stdout).toContain(`[client] server 127.0.0.1:${server.port}, PTR: SERVFAIL, no records in`);
    expect(stderr).toMatch(new RegExp(`^netnote: 127\\.0\\.0\\.1:${server.port} answered SERVFAIL for 192\\.0\\.2\\.1 PTR\\n`));
  }, 10_000);

  it.each([
    [['-t', 'BOGUS'], /^netnote: invalid --type 'BOGUS': use A, AAAA, CNAME, MX, TXT, SRV, NS, SOA, PTR, ANY\nnetnote: hint: try 'netnote resolve --help'\n$/],
    [['-s', 'not-an-ip'], /^netnote: invalid --server 'not-an-ip': expected IP or IP:PORT/],
    [['-s', '127.0.0.1:99999'], /^netnote: invalid --server '127\.0\.0\.1:99999'/],
  ])('usage error %j → 2', async (extra, message) => {
    const { code, stdout, stderr } = await runCli(['resolve', '192.0.2.1', ...extra]);
    expect(code).toBe(2);
    expect(stderr).toMatch(message);
    expect(stderr).not.toMatch(/^\s+at /m);
    expect(stdout).toBe('');
  }, 10_000);
});
