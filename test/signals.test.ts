// One rule for signals, on every command: SIGINT, SIGTERM and SIGHUP each end a run with its
// summary printed (an error event for a run that had not started), and each has its exit code,
// 128 + the signal's number as a shell reports it: 130, 143, 129. Whatever the run waits on: a
// connect whose SYNs are dropped, a peer that never answers, a DNS server that never answers, a
// FIFO nobody writes to.
import dgram from 'node:dgram';
import net from 'node:net';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCli, startServer } from './support/cli.js';
import { trackResources } from './support/cleanup.js';
import { needs } from './support/needs.js';
import { createNamespace, netnsUnavailable, nft, type Namespace } from './support/netns.js';
import { rawServer } from './support/peers.js';

const { servers } = trackResources();
/** The peers every run shares, closed once all have run. */
const peers: Array<() => void> = [];

const SIGNALS = [
  ['SIGINT', 130, 'interrupted', 'interrupted'],
  ['SIGTERM', 143, 'terminated', 'terminated (SIGTERM)'],
  ['SIGHUP', 129, 'hangup', 'hung up (SIGHUP)'],
] as const;

type Json = Record<string, unknown> & { event: string };
const events = (stdout: string): Json[] => stdout.trim().split('\n').filter(Boolean).map((line) => JSON.parse(line) as Json);

let dir: string;
let echoPort: number;
let silentPort: number;
let closedPort: number;
let silentUdp: dgram.Socket;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'netnote-signals-'));
  execFileSync('mkfifo', [join(dir, 'fifo')]);
  echoPort = await rawServer(peers, (socket) => socket.pipe(socket));
  silentPort = await rawServer(peers, () => {}); // accepts, reads nothing, answers nothing
  const closed = net.createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  closedPort = (closed.address() as net.AddressInfo).port;
  await new Promise((resolve) => closed.close(resolve));
  silentUdp = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => silentUdp.bind(0, '127.0.0.1', resolve));
});
afterAll(() => {
  for (const close of peers) close();
  silentUdp?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A run, and what says it is under way (then the signal comes): its stdout, or a wait of its own. */
interface Scenario {
  /** `dns`: this run's own DNS server that never answers. */
  args: (dns: SilentDns) => string[];
  ready: RegExp | ((pid: number, dns: SilentDns) => Promise<void>);
  /** A run that ends before it starts ends with an error event instead of a summary. */
  started: boolean;
}

/** Resolves once process `pid` holds `path` open: it waits on it. */
async function holds(pid: number, path: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const fds = readdirSync(`/proc/${pid}/fd`).map((fd) => {
      try {
        return readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        return '';
      }
    });
    if (fds.includes(path)) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`process ${pid} never opened ${path}`);
}

/** A UDP socket that reads and never answers; resolves `asked` at its first datagram. */
interface SilentDns {
  port: number;
  asked: Promise<void>;
}

async function silentDns(): Promise<SilentDns> {
  const socket = dgram.createSocket('udp4');
  peers.push(() => socket.close());
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return { port: socket.address().port, asked: new Promise((resolve) => socket.once('message', () => resolve())) };
}

const SCENARIOS: Record<string, Scenario> = {
  'tcp-server': { args: () => ['tcp-server', '127.0.0.1', '0'], ready: /"listening"/, started: true },
  'udp-server': { args: () => ['udp-server', '127.0.0.1', '0'], ready: /"bound"/, started: true },
  'tcp-client, the note\'s loop': { args: () => ['tcp-client', '127.0.0.1', String(echoPort)], ready: /"recv"/, started: true },
  'tcp-client --stream': { args: () => ['tcp-client', '127.0.0.1', String(echoPort), '--stream', '--duration', '0'], ready: /"created"/, started: true },
  'tcp-client --connections': { args: () => ['tcp-client', '127.0.0.1', String(echoPort), '--connections', '2', '--hold', '60s'], ready: /"created"/, started: true },
  'udp-client, no reply yet': { args: () => ['udp-client', '127.0.0.1', String(silentUdp.address().port), '-w', '60s'], ready: /"send"/, started: true },
  'http-get, a server that never answers': { args: () => ['http-get', '127.0.0.1', String(silentPort)], ready: /"send"/, started: true },
  // An address literal: the system view asks no resolver, only the test's silent socket is asked.
  'resolve, a DNS server that never answers': { args: (dns) => ['resolve', '192.0.2.1', '-t', 'PTR', '-s', `127.0.0.1:${dns.port}`, '-w', '60s'], ready: (_, dns) => dns.asked, started: true },
  'demo': { args: () => ['demo', '-c', '100'], ready: /"recv"/, started: true },
  'idle-timeout, its trials idle': { args: () => ['idle-timeout', '127.0.0.1', String(echoPort), '--max', '60s'], ready: /"idle-round"/, started: true },
  'tcp-client --wait-for, nothing listening yet': { args: () => ['tcp-client', '127.0.0.1', String(closedPort), '--wait-for', '60s'], ready: /"waiting"/, started: true },
  'tcp-client --file FIFO nobody writes to': { args: () => ['tcp-client', '127.0.0.1', String(echoPort), '--file', join(dir, 'fifo')], ready: (pid) => holds(pid, join(dir, 'fifo')), started: false },
  'merge FIFO nobody writes to': { args: () => ['merge', join(dir, 'fifo')], ready: (pid) => holds(pid, join(dir, 'fifo')), started: false },
};

describe.concurrent('every command ends on every signal, with its summary and the signal\'s exit code', () => {
  it.each(Object.keys(SCENARIOS).flatMap((name) => SIGNALS.map((signal) => [name, ...signal] as const)))(
    '%s, %s → %i', async (name, signal, exitCode, code, message) => {
      const scenario = SCENARIOS[name]!;
      const dns = await silentDns();
      // Runs at once with the others: each ends its own process (the shared cleanup would end them all).
      const run = startCli(['--json', ...scenario.args(dns)], { timeoutMs: 20_000 });
      let finished;
      try {
        if (scenario.ready instanceof RegExp) await run.waitFor(scenario.ready);
        else await scenario.ready(run.proc.pid!, dns);
        finished = await run.stop(signal);
      } finally {
        run.proc.kill('SIGKILL');
      }
      expect(finished.signal, 'ended by the signal itself, not by netnote').toBeNull();
      expect(finished.code).toBe(exitCode);
      expect(finished.stderr).toMatch(new RegExp(`^netnote: ${message.replace(/[()]/g, '\\$&')}`));
      const last = events(finished.stdout).at(-1)!;
      if (scenario.started) expect(last).toMatchObject({ event: 'summary', exitCode, error: { code } });
      else expect(last).toMatchObject({ event: 'error', exitCode, code });
    }, 30_000);
});

describe('the human summary on a signal', () => {
  let ns: Namespace;
  beforeAll(() => {
    if (netnsUnavailable) return;
    ns = createNamespace();
    nft(ns, 'table inet netnote {\n chain output {\n  type filter hook output priority 0; policy accept;\n  tcp dport 9 drop\n }\n}\n');
  });
  afterAll(() => ns?.remove());

  it('Ctrl-C while connecting (SYNs dropped by nft): the summary says it never connected, exit 130', needs(netnsUnavailable), async () => {
    const run = startCli(['tcp-client', '127.0.0.1', '9'], { prefix: ns.prefix, timeoutMs: 20_000 });
    servers.add(run);
    await run.waitFor(/connecting: 127\.0\.0\.1, 9\n/);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const finished = await run.stop('SIGINT');
    expect(finished.code).toBe(130);
    expect(finished.stdout).toMatch(/\[client\] --- tcp summary ---\n\[client\] not connected; ended: interrupted after [\d.]+ s\n$/);
    expect(finished.stderr).toBe('netnote: interrupted while connecting\n');
  });

  it('SIGTERM on a server: its summary, then the reason on stderr, exit 143', async () => {
    const server = await startServer('tcp-server');
    servers.add(server);
    const finished = await server.stop('SIGTERM');
    expect(finished.code).toBe(143);
    expect(finished.stdout).toMatch(/\[server\] 0 clients served, 0 rejected, 0 still connected; in 0 B, out 0 B; up [\d.]+ s\n$/);
    expect(finished.stderr).toBe('netnote: terminated (SIGTERM)\n');
  });
});
