// netnote idle-timeout against a real NAT: three namespaces, the router masquerading with
// conntrack timeouts of 5 s for TCP and UDP (nf_conntrack_tcp_loose=0: a forgotten connection is
// dropped, not picked up again). The search must bracket those 5 s in both directions, and
// --verify must hold with a heartbeat under them and fail with one over them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startCli, type Running } from './support/cli.js';
import { createNat, natUnavailable, type Nat } from './support/netns.js';
import { findPeers, killGroup } from './support/peers.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { needs } from './support/needs.js';

const unavailable = natUnavailable();
const { SOCAT, missing } = findPeers();

/** The NAT's idle timeout, for TCP and UDP alike. */
const TIMEOUT_S = 5;
/** Trials 1.5 s apart: 4.5 s survives, 6 s does not; no trial sits on the 5 s edge itself. */
const RESOLUTION = '1.5s';

interface Event {
  event: string;
  [field: string]: unknown;
}

interface Bracket {
  lowMs: number;
  highMs: number | null;
  trials: number;
  inconsistent: number;
  cappedMs: number | null;
}

interface IdleSummary {
  transport: string;
  uplink: Bracket | null;
  downlink: Bracket | null;
  lowMs: number | null;
  highMs: number | null;
  adviceMs: number | null;
  trials: Array<{ direction: string; idleMs: number; survived: boolean; seen: string }>;
  verify: { everyMs: number; heartbeats: number; answered: number; held: boolean; direction: string } | null;
}

const events = (stdout: string): Event[] => stdout.split('\n').filter(Boolean).map((line) => JSON.parse(line) as Event);
const summaryOf = (list: Event[]): IdleSummary => (list.find((e) => e.event === 'summary') as unknown as { summary: IdleSummary }).summary;

describe(`idle-timeout through a NAT that forgets after ${TIMEOUT_S} s (namespaces)`, needs(unavailable), () => {
  let nat: Nat;
  const servers: Running[] = [];
  const peers: ChildProcess[] = [];
  let tcpPort = 0;
  let udpPort = 0;

  beforeAll(async () => {
    nat = createNat(TIMEOUT_S, TIMEOUT_S);
    const start = async (proto: string) => {
      const server = startCli([`${proto}-server`, nat.serverAddress, '0', '--quiet'], { prefix: nat.server.prefix, timeoutMs: 120_000 });
      servers.push(server);
      return Number((await server.waitFor(/bind address: 198\.51\.100\.2, (\d+)\n/))[1]);
    };
    [tcpPort, udpPort] = await Promise.all([start('tcp'), start('udp')]);
  }, 30_000);

  afterAll(async () => {
    for (const peer of peers) killGroup(peer);
    for (const server of servers) await server.stop('SIGKILL');
    nat?.remove();
  });

  it(`TCP: both directions bracket the NAT's ${TIMEOUT_S} s within the resolution; every trial in --json, the shorter ones survived`, async () => {
    const run = await runCli(['--json', 'idle-timeout', nat.serverAddress, String(tcpPort), '--resolution', RESOLUTION, '-w', '1s'],
      { prefix: nat.device.prefix, timeoutMs: 60_000 });
    expect(run.code, run.stderr).toBe(0);
    const list = events(run.stdout);
    const s = summaryOf(list);
    expect(list.find((e) => e.event === 'idle-start')).toMatchObject({ transport: 'tcp', downlink: true });
    for (const bracket of [s.uplink!, s.downlink!]) {
      expect(bracket.lowMs).toBeLessThan(TIMEOUT_S * 1000);
      expect(bracket.inconsistent).toBe(0);
    }
    expect(s.lowMs).toBeLessThan(TIMEOUT_S * 1000);
    expect(s.highMs).toBeGreaterThanOrEqual(TIMEOUT_S * 1000);
    expect(s.highMs! - s.lowMs!).toBeLessThanOrEqual(1500);
    expect(s.adviceMs).toBe(Math.floor((s.lowMs! * 0.9) / 1000) * 1000);
    // Every trial is an event and in the summary; a connection idle under the NAT's timeout survived, one over it did not.
    const trials = list.filter((e) => e.event === 'trial');
    expect(trials).toHaveLength(s.trials.length);
    for (const t of s.trials) expect(t.survived, JSON.stringify(t)).toBe(t.idleMs < TIMEOUT_S * 1000);
    // Nothing came back: the NAT dropped what it no longer knew (no reset, no FIN).
    for (const t of s.trials.filter((trial) => !trial.survived)) expect(t.seen).toBe(t.direction === 'uplink' ? 'no-echo' : 'no-answer');
  }, 60_000);

  it(`UDP: the downlink brackets the ${TIMEOUT_S} s; the uplink survives past it (the NAT makes a new mapping), and the advice is for a heartbeat`, async () => {
    const run = await runCli(['idle-timeout', nat.serverAddress, String(udpPort), '--proto', 'udp', '--resolution', RESOLUTION, '-w', '1s', '--quiet'],
      { prefix: nat.device.prefix, timeoutMs: 60_000 });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('[client] idle-timeout of 198.51.100.2:');
    expect(run.stdout).toMatch(/\[client\] downlink: 4\.5 s survived, 6 s did not \(1 round, \d+ trials\)\n/);
    // The uplink datagram after 6 s of quiet makes a new mapping and is echoed: only the downlink shows the NAT forgot.
    expect(run.stdout).toMatch(/\[client\] uplink: (6|7\.5) s survived, nothing longer tried \(the other direction did not survive 6 s\)/);
    expect(run.stdout).toContain('[client] idle timeout of the path: UDP between 4.5 s and 6 s → heartbeat every ≤ 4 s\n');
    expect(run.stdout).toContain(`[client] check it: netnote idle-timeout 198.51.100.2 ${udpPort} --proto udp --verify 4s --hold 10m\n`);
  }, 60_000);

  it('--verify: a heartbeat every 3 s holds the connection and the mapping for 7 s; every 6 s does not (exit 1)', async () => {
    const verify = (proto: string, every: string, port: number) => runCli(['--json', 'idle-timeout', nat.serverAddress, String(port), '--proto', proto,
      '--verify', every, '--hold', '7s', '-w', '1s'], { prefix: nat.device.prefix, timeoutMs: 60_000 });
    const [tcpHolds, tcpFails, udpHolds, udpFails] = await Promise.all([
      verify('tcp', '3s', tcpPort), verify('tcp', '6s', tcpPort), verify('udp', '3s', udpPort), verify('udp', '6s', udpPort),
    ]);
    for (const held of [tcpHolds, udpHolds]) {
      expect(held.code, held.stderr).toBe(0);
      const v = summaryOf(events(held.stdout)).verify!;
      expect(v).toMatchObject({ everyMs: 3000, held: true, direction: 'downlink' });
      expect(v.heartbeats).toBeGreaterThanOrEqual(3);
      expect(v.answered).toBe(v.heartbeats);
    }
    for (const failed of [tcpFails, udpFails]) {
      expect(failed.code).toBe(1);
      expect(summaryOf(events(failed.stdout)).verify).toMatchObject({ everyMs: 6000, held: false, heartbeats: 1, answered: 0 });
      expect(failed.stderr).toMatch(/^netnote: a heartbeat every 6 s did not hold the connection to 198\.51\.100\.2:\d+: heartbeat 1 got no answer after 6 s idle \(downlink\)\n/);
    }
  }, 60_000);

  it(`against a peer that only echoes (socat): uplink trials only, and TCP's still bracket the ${TIMEOUT_S} s`, needs(missing.socat), async () => {
    // The server's namespace holds nothing but the two netnote servers: the port next to one is free.
    const port = tcpPort + 1 < 65536 ? tcpPort + 1 : tcpPort - 1;
    const socat = spawn('ip', ['netns', 'exec', nat.server.name, SOCAT!, `TCP-LISTEN:${port},bind=${nat.serverAddress},fork,reuseaddr`, 'PIPE'], { stdio: 'ignore', detached: true });
    peers.push(socat);
    let run;
    for (let attempt = 0; ; attempt++) {
      run = await runCli(['--json', 'idle-timeout', nat.serverAddress, String(port), '--resolution', RESOLUTION, '-w', '1s'], { prefix: nat.device.prefix, timeoutMs: 60_000 });
      // socat may take a moment to listen.
      if (run.code !== 4 || attempt === 20) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(run.code, run.stderr).toBe(0);
    const list = events(run.stdout);
    expect(list.find((e) => e.event === 'idle-start')).toMatchObject({ downlink: false });
    const s = summaryOf(list);
    expect(s.downlink).toBeNull();
    expect(s.uplink!.lowMs).toBe(4500);
    expect(s.uplink!.highMs).toBe(6000);
  }, 60_000);
});
