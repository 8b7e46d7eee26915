// Keepalive and reconnects against a real NAT that forgets idle connections after 5 s (three
// namespaces, conntrack timeouts set in the router's): --keepalive 1s keeps a connection across
// gaps longer than that, a peer that vanishes ends in ETIMEDOUT blamed on keepalive, and
// --reconnect gets a client going again after the NAT dropped its connection.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startCli, type Running } from './support/cli.js';
import { createNat, natUnavailable, nft, type Nat } from './support/netns.js';
import { needs } from './support/needs.js';

const unavailable = natUnavailable();
const TIMEOUT_S = 5;

interface Event {
  event: string;
  [field: string]: unknown;
}

const events = (stdout: string): Event[] => stdout.split('\n').filter(Boolean).map((line) => JSON.parse(line) as Event);

describe(`keepalive and reconnects through a NAT that forgets after ${TIMEOUT_S} s (namespaces)`, needs(unavailable), () => {
  let nat: Nat;
  const servers: Running[] = [];
  let port = 0;

  beforeAll(async () => {
    nat = createNat(TIMEOUT_S, TIMEOUT_S);
    const server = startCli(['tcp-server', nat.serverAddress, '0', '--quiet'], { prefix: nat.server.prefix, timeoutMs: 120_000 });
    servers.push(server);
    port = Number((await server.waitFor(/bind address: 198\.51\.100\.2, (\d+)\n/))[1]);
  }, 30_000);

  afterAll(async () => {
    for (const server of servers) await server.stop('SIGKILL');
    nat?.remove();
  });

  it('--keepalive 1s carries a connection across 8 s of quiet; without it the reply never comes (exit 5, the hint blames the path); ss -o shows the timer', async () => {
    const client = (extra: string[]) => startCli(['tcp-client', nat.serverAddress, String(port), '-c', '2', '-i', '8s', '-w', '2s', ...extra], { prefix: nat.device.prefix, timeoutMs: 30_000 });
    const kept = client(['--keepalive', '1s']);
    const bare = client([]);
    servers.push(kept, bare);
    await kept.waitFor(/-------------------------\n/);
    const local = Number(/connected\.  \(local 192\.0\.2\.2, (\d+),/.exec(kept.stdout())![1]);
    const ss = nat.device.run('ss', ['-tnoH', 'state', 'established', `( sport = :${local} )`]);
    expect(ss).toMatch(/timer:\(keepalive,/);
    const [keptRun, bareRun] = await Promise.all([kept.finished, bare.finished]);
    expect(keptRun.code, keptRun.stderr).toBe(0);
    expect(keptRun.stdout).toMatch(/\[client\] keepalive: a probe after 1 s idle; about [6-9] probes in the quiet gaps/);
    expect(bareRun.code).toBe(5);
    expect(bareRun.stderr).toMatch(/^netnote: no reply to message 2 from 198\.51\.100\.2:\d+ within 2000 ms \(reply timeout\)\nnetnote: hint: the connection had been idle [78]\.\d\d s before message 2, and earlier replies came: a NAT or firewall on the path may have forgotten it/);
  }, 40_000);

  it('a peer that vanishes (the router drops the connection both ways): ETIMEDOUT after the probes, blamed on keepalive; the namespace\'s tcp_keepalive_intvl and _probes do not matter', async () => {
    // libuv sets TCP_KEEPINTVL 1 s and TCP_KEEPCNT 10 itself: the system's own (75 s, 9 probes: a
    // new namespace's defaults, set again here to say so) would make it 1 + 75 × 9 s.
    nat.device.run('sysctl', ['-qw', 'net.ipv4.tcp_keepalive_intvl=75', 'net.ipv4.tcp_keepalive_probes=9']);
    const client = startCli(['--json', 'tcp-client', nat.serverAddress, String(port), '-c', '2', '-i', '60s', '--keepalive', '1s'], { prefix: nat.device.prefix, timeoutMs: 40_000 });
    servers.push(client);
    await client.waitFor(/"event":"round"/);
    const local = Number(/"event":"connected".*?"local":\{"address":"192\.0\.2\.2","port":(\d+)/.exec(client.stdout())![1]);
    nft(nat.router, [
      'table inet vanish {',
      ' chain forwarded {',
      '  type filter hook forward priority -10; policy accept;',
      `  tcp sport ${local} drop`,
      `  tcp dport ${local} drop`,
      ' }',
      '}',
      '',
    ].join('\n'));
    const cut = Date.now();
    try {
      const done = await client.finished;
      const took = Date.now() - cut;
      expect(done.code).toBe(5);
      // One idle second, then 10 probes a second apart: about 11 s, not minutes.
      expect(took).toBeGreaterThan(9000);
      expect(took).toBeLessThan(16_000);
      const lost = events(done.stdout).find((e) => e.event === 'lost')!;
      expect(lost).toMatchObject({ cause: 'keepalive' });
      expect(lost.idleMs as number).toBeGreaterThan(10_000);
      expect(done.stderr).toMatch(/^netnote: connection to 198\.51\.100\.2:\d+ lost: 10 keepalive probes 1 s apart went unanswered \(ETIMEDOUT\)\n/);
    } finally {
      nat.router.run('nft', ['delete', 'table', 'inet', 'vanish']);
    }
  }, 40_000);

  it('--reconnect: the message after 7 s of quiet gets no reply (the NAT forgot the connection); the client connects again and carries on', async () => {
    const run = await runCli(['--json', 'tcp-client', nat.serverAddress, String(port), '-c', '3', '-i', '7s', '-w', '1500ms', '--reconnect', '--backoff', '200ms'],
      { prefix: nat.device.prefix, timeoutMs: 40_000 });
    expect(run.code, run.stderr).toBe(0);
    const list = events(run.stdout);
    expect(list.filter((e) => e.event === 'lost')).toMatchObject([{ cause: 'reply-timeout', seq: 2 }]);
    const summary = (list.at(-1) as unknown as { summary: { sent: { messages: number }; received: { messages: number }; reconnects: { reconnects: number; lostMessages: number } } }).summary;
    expect(summary.sent.messages).toBe(3);
    expect(summary.reconnects).toMatchObject({ reconnects: 1, lostMessages: 1 });
    expect(summary.received.messages).toBe(2);
  }, 40_000);
});
