// `netnote tcp-server`, the note's TCP echo server, driven over real sockets on loopback by real
// peers (nc, socat, ncat) and by Node clients: echo correctness, robustness against what clients
// send and how they leave, bounded memory under a client that never reads, the options, signals,
// --json, and the documented exit codes for bad input. Every port is chosen by the kernel (port 0).
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { runCli, startCli, type Running } from './support/cli.js';
import { trackResources } from './support/cleanup.js';
import { needs } from './support/needs.js';
import { findPeers, ipv6LoopbackMissing, killGroup, runPeer as runPeerIn } from './support/peers.js';

const MiB = 1024 * 1024;

// ---------------------------------------------------------------------------------------------
// Cleanup: every server, peer process and socket a test opens is registered here and ended after
// the test, whether it passed or not.

const { servers, peers, sockets } = trackResources();

/** `netnote tcp-server HOST 0 EXTRA…`, resolved once it listens; killed after the test. */
async function serve(extra: string[] = [], host = '127.0.0.1'): Promise<Running & { port: number }> {
  const server = startCli(['tcp-server', host, '0', ...extra]);
  servers.add(server); // registered before it listens, so a server that never does is killed too
  const match = await server.waitFor(/bind address: \S+, (\d+)\n/);
  return Object.assign(server, { port: Number(match[1]) });
}

/** Same with --json: the port comes from the `listening` event. */
async function serveJson(extra: string[] = []): Promise<Running & { port: number }> {
  const server = startCli(['--json', 'tcp-server', '127.0.0.1', '0', ...extra]);
  servers.add(server);
  const match = await server.waitFor(/"event":"listening".*"port":(\d+)/);
  return Object.assign(server, { port: Number(match[1]) });
}

function connect(port: number, host = '127.0.0.1'): net.Socket {
  const socket = net.connect({ port, host });
  sockets.add(socket);
  return socket;
}

function connected(socket: net.Socket): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
}

interface Conversation {
  /** Everything the server sent back, up to its close. */
  received: Buffer;
  /** The client's port: its name in the server's log. */
  localPort: number;
}

/**
 * One client the way the note's peers use the echo server: send `payload`, half-close, read the
 * echo until the server closes. Fails on a socket error or after `timeoutMs`.
 */
function converse(port: number, payload: Buffer, options: { host?: string; timeoutMs?: number } = {}): Promise<Conversation> {
  const { host = '127.0.0.1', timeoutMs = 10_000 } = options;
  return new Promise((resolve, reject) => {
    const socket = connect(port, host);
    const chunks: Buffer[] = [];
    let localPort = 0;
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no complete echo within ${timeoutMs} ms (${Buffer.concat(chunks).length} of ${payload.length} bytes back)`));
    }, timeoutMs);
    socket.on('connect', () => (localPort = socket.localPort ?? 0));
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    socket.on('close', (hadError) => {
      clearTimeout(timer);
      sockets.delete(socket);
      if (!hadError) resolve({ received: Buffer.concat(chunks), localPort });
    });
    socket.end(payload);
  });
}

/** Resolves when `socket` is closed; `received` is what arrived before that. */
function closedBy(socket: net.Socket, timeoutMs: number): Promise<{ received: Buffer; sawEnd: boolean; error?: string }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let sawEnd = false;
    let error: string | undefined;
    const timer = setTimeout(() => reject(new Error(`connection still open after ${timeoutMs} ms`)), timeoutMs);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('end', () => (sawEnd = true));
    socket.on('error', (err: NodeJS.ErrnoException) => (error = err.code ?? err.message));
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ received: Buffer.concat(chunks), sawEnd, ...(error ? { error } : {}) });
    });
  });
}

const runPeer = (command: string, args: string[], input: Buffer, timeoutMs?: number) => runPeerIn(peers, command, args, input, timeoutMs);

/** Resident memory of a process, from /proc/PID/status (Linux). */
function rssBytes(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!match) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(match[1]) * 1024;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Writes `chunk` until `limit` bytes were offered, `ms` ran out, or the kernel took nothing more
 * for a second (backpressure reached the writer). `accepted`: what the kernel took (write callbacks).
 */
async function pushUntilStalled(socket: net.Socket, chunk: Buffer, limit: number, ms: number): Promise<{ accepted: number; offered: number }> {
  let accepted = 0;
  let offered = 0;
  const deadline = Date.now() + ms;
  while (offered < limit && Date.now() < deadline) {
    offered += chunk.length;
    if (socket.write(chunk, (err) => { if (!err) accepted += chunk.length; })) continue;
    const drained = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => { socket.off('drain', onDrain); resolve(false); }, 1000);
      const onDrain = () => { clearTimeout(timer); resolve(true); };
      socket.once('drain', onDrain);
    });
    if (!drained) break;
  }
  return { accepted, offered };
}

// ---------------------------------------------------------------------------------------------
// Reading the server's log.

/** Python's bytes literal back to bytes; rejects anything repr(bytes) would not print. */
function fromPythonBytes(literal: string): Buffer {
  const match = /^b(['"])(.*)\1$/s.exec(literal);
  if (!match) throw new Error(`not a bytes literal: ${literal}`);
  const [, quote, body] = match as unknown as [string, string, string];
  const out: number[] = [];
  for (let i = 0; i < body.length; i++) {
    const char = body[i]!;
    if (char !== '\\') {
      const code = char.charCodeAt(0);
      if (code < 0x20 || code > 0x7e || char === quote) throw new Error(`unescaped ${JSON.stringify(char)} in ${literal}`);
      out.push(code);
      continue;
    }
    const next = body[++i];
    const simple: Record<string, number> = { t: 9, n: 10, r: 13, '\\': 0x5c, "'": 0x27 };
    if (next !== undefined && next in simple) out.push(simple[next]!);
    else if (next === 'x' && /^[0-9a-f]{2}$/.test(body.slice(i + 1, i + 3))) {
      out.push(parseInt(body.slice(i + 1, i + 3), 16));
      i += 2;
    } else throw new Error(`bad escape \\${next} in ${literal}`);
  }
  return Buffer.from(out);
}

/** The literals of every `recv data:` line the server printed for the client at `port`. */
function recvLiterals(stdout: string, port: number, host = '127.0.0.1'): string[] {
  const prefix = `[server] [client addr: ${host}, ${port}] recv data: `;
  return stdout.split('\n').filter((line) => line.startsWith(prefix)).map((line) => line.slice(prefix.length));
}

/** What the server's log says the client at `port` sent, decoded from its bytes literals. */
function loggedBytes(stdout: string, port: number, host = '127.0.0.1'): Buffer {
  return Buffer.concat(recvLiterals(stdout, port, host).map(fromPythonBytes));
}

const escapeRe = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Waits for the server's `disconnected` line for the client at `port`; returns the reason text. */
async function disconnectReason(server: Running, port: number, host = '127.0.0.1', timeoutMs = 10_000): Promise<string> {
  const match = await server.waitFor(new RegExp(`\\[client addr: ${escapeRe(host)}, ${port}\\] disconnected {2}\\((.*?);`), timeoutMs);
  return match[1]!;
}

/** Waits until every client the server logged as accepted is also logged as disconnected. */
async function settled(server: Running, timeoutMs = 5000): Promise<void> {
  const count = (pattern: RegExp) => server.stdout().match(pattern)?.length ?? 0;
  const deadline = Date.now() + timeoutMs;
  while (count(/\] accept a client: /g) !== count(/\] disconnected {2}\(/g)) {
    if (Date.now() > deadline) throw new Error(`clients still connected after ${timeoutMs} ms:\n${server.stdout()}`);
    await sleep(25);
  }
}

/** `--- tcp HOST:PORT summary ---` and the lines after it. */
function summaryOf(stdout: string, hostPort: string): string[] {
  const lines = stdout.split('\n');
  const start = lines.indexOf(`[server] --- tcp ${hostPort} summary ---`);
  return start < 0 ? [] : lines.slice(start).filter((line) => line !== '');
}

function jsonLines(stdout: string): Array<Record<string, any>> {
  return stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, any>);
}

// ---------------------------------------------------------------------------------------------
// Peers found on this machine. CI installs socat, ncat and netcat-openbsd; a missing one skips
// only its own tests (needs()).

const { OPENBSD_NC, SOCAT, NCAT, missing } = findPeers();

/** 192.0.2.1 is refused by bind() unless the host allows binding foreign addresses. */
const nonlocalBindAllowed = existsSync('/proc/sys/net/ipv4/ip_nonlocal_bind')
  && readFileSync('/proc/sys/net/ipv4/ip_nonlocal_bind', 'utf8').trim() !== '0'
  ? 'net.ipv4.ip_nonlocal_bind is set on this host: 192.0.2.1 can be bound' : null;

// Python's repr(bytes(range(256))), copied from Python 3, not computed by the code under test.
const ALL_BYTES_LITERAL = "b'\\x00\\x01\\x02\\x03\\x04\\x05\\x06\\x07\\x08\\t\\n\\x0b\\x0c\\r\\x0e\\x0f\\x10\\x11\\x12\\x13\\x14\\x15\\x16\\x17\\x18\\x19\\x1a\\x1b\\x1c\\x1d\\x1e\\x1f !\"#$%&\\'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\\\]^_`abcdefghijklmnopqrstuvwxyz{|}~\\x7f\\x80\\x81\\x82\\x83\\x84\\x85\\x86\\x87\\x88\\x89\\x8a\\x8b\\x8c\\x8d\\x8e\\x8f\\x90\\x91\\x92\\x93\\x94\\x95\\x96\\x97\\x98\\x99\\x9a\\x9b\\x9c\\x9d\\x9e\\x9f\\xa0\\xa1\\xa2\\xa3\\xa4\\xa5\\xa6\\xa7\\xa8\\xa9\\xaa\\xab\\xac\\xad\\xae\\xaf\\xb0\\xb1\\xb2\\xb3\\xb4\\xb5\\xb6\\xb7\\xb8\\xb9\\xba\\xbb\\xbc\\xbd\\xbe\\xbf\\xc0\\xc1\\xc2\\xc3\\xc4\\xc5\\xc6\\xc7\\xc8\\xc9\\xca\\xcb\\xcc\\xcd\\xce\\xcf\\xd0\\xd1\\xd2\\xd3\\xd4\\xd5\\xd6\\xd7\\xd8\\xd9\\xda\\xdb\\xdc\\xdd\\xde\\xdf\\xe0\\xe1\\xe2\\xe3\\xe4\\xe5\\xe6\\xe7\\xe8\\xe9\\xea\\xeb\\xec\\xed\\xee\\xef\\xf0\\xf1\\xf2\\xf3\\xf4\\xf5\\xf6\\xf7\\xf8\\xf9\\xfa\\xfb\\xfc\\xfd\\xfe\\xff'";

// =============================================================================================

describe('tcp-server with real peers', () => {
  it('echoes what OpenBSD nc sends, and logs the accept, recv and disconnect of that client', { ...needs(missing.nc), timeout: 20_000 }, async () => {
    const server = await serve();
    const input = Buffer.from('1234567890\nhello from nc\n');
    const nc = await runPeer(OPENBSD_NC!, ['-N', '127.0.0.1', String(server.port)], input);
    expect(nc.code).toBe(0);
    expect(nc.stdout.equals(input)).toBe(true);

    const accept = await server.waitFor(/\[server\] accept a client: 127\.0\.0\.1, (\d+)\n/);
    const clientPort = Number(accept[1]);
    expect(await disconnectReason(server, clientPort)).toBe('closed by peer');
    const log = server.stdout();
    expect(loggedBytes(log, clientPort).equals(input)).toBe(true);
    expect(recvLiterals(log, clientPort)[0]).toMatch(/^b'1234567890\\n/);
    expect(log).toMatch(new RegExp(`\\[server\\] \\[client addr: 127\\.0\\.0\\.1, ${clientPort}\\] disconnected {2}\\(closed by peer; in 25 B, out 25 B, [\\d.]+ s\\)\\n`));
    // The note's three lines, in the note's order.
    const order = ['accept a client:', 'recv data:', 'disconnected'].map((text) => log.indexOf(text));
    expect(order).toEqual([...order].sort((a, b) => a - b));
    expect(server.stderr()).toBe('');
  });

  it('echoes text through socat', { ...needs(missing.socat), timeout: 20_000 }, async () => {
    const server = await serve();
    const input = Buffer.from('socat says hello\r\nand goodbye');
    const socat = await runPeer(SOCAT!, ['-t', '10', '-', `TCP:127.0.0.1:${server.port}`], input);
    expect(socat.code).toBe(0);
    expect(socat.stdout.toString('latin1')).toBe(input.toString('latin1'));
  });

  it('echoes a 1 MiB random binary payload through socat byte for byte', { ...needs(missing.socat), timeout: 40_000 }, async () => {
    const server = await serve(['--quiet']);
    const payload = randomBytes(MiB);
    // -t 10: socat waits up to 10 s (default 0.5 s) for the echo after its stdin ends; it still
    // exits as soon as the server closes.
    const socat = await runPeer(SOCAT!, ['-t', '10', '-', `TCP:127.0.0.1:${server.port}`], payload, 30_000);
    expect(socat.code).toBe(0);
    expect(socat.stdout.length).toBe(payload.length);
    expect(socat.stdout.equals(payload)).toBe(true);
    // The server logs the disconnect a moment after socat has its echo and exits.
    await server.waitFor(/\] disconnected {2}\(closed by peer; in 1\.00 MiB, out 1\.00 MiB, /);
    expect(server.stdout()).not.toContain('recv data:'); // --quiet drops per-message lines
  });

  it('echoes what ncat sends (ncat half-closes after stdin EOF by default)', { ...needs(missing.ncat), timeout: 20_000 }, async () => {
    const server = await serve();
    const input = randomBytes(4096);
    const ncat = await runPeer(NCAT!, ['127.0.0.1', String(server.port)], input);
    expect(ncat.code).toBe(0);
    expect(ncat.stdout.equals(input)).toBe(true);
  });
});

describe('tcp-server under load and abuse', () => {
  it('echoes 200 concurrent clients exactly while one client resets mid-send and one pushes without reading; memory stays bounded', async () => {
    // A larger backlog than the note's 10 so 200 simultaneous connects do not wait for SYN retries.
    const server = await serve(['--quiet', '--backlog', '512']);
    const pid = server.proc.pid!;
    const payloadFor = (i: number) => Buffer.concat([Buffer.from(`client ${i}: `), randomBytes(500 + ((i * 997) % 7000))]);

    // Warm-up: the same load once, so the baseline already includes what serving 200 clients
    // costs the process (JIT, allocator arenas, socket objects).
    await Promise.all(Array.from({ length: 200 }, (_, i) => converse(server.port, payloadFor(i))));
    await sleep(200);
    const rssBefore = rssBytes(pid);

    // The client that never reads: it offers up to 64 MiB, writing whenever its socket drains,
    // and stops once the kernel has taken nothing more for a second (backpressure reached it).
    const OFFERED = 64 * MiB;
    const pusher = connect(server.port);
    pusher.pause();
    pusher.on('error', () => {});
    const pushing = (async () => {
      await connected(pusher);
      return pushUntilStalled(pusher, randomBytes(64 * 1024), OFFERED, 6000);
    })();

    // The client that resets mid-send: 16 MiB queued (more than loopback buffers hold for a
    // peer that reads no echo), reset once 512 KiB have left and the rest is still queued.
    const resetter = connect(server.port);
    resetter.on('error', () => {});
    const resetting = (async () => {
      await connected(resetter);
      const port = resetter.localPort!;
      const chunk = randomBytes(64 * 1024);
      let sent = 0;
      return new Promise<{ port: number; sentBeforeReset: number; queuedAtReset: number }>((resolve) => {
        for (let i = 0; i < 256; i++) {
          resetter.write(chunk, (err) => {
            if (err || resetter.destroyed) return;
            sent += chunk.length;
            if (sent >= 512 * 1024) {
              const queuedAtReset = resetter.writableLength;
              resetter.resetAndDestroy();
              resolve({ port, sentBeforeReset: sent, queuedAtReset });
            }
          });
        }
      });
    })();

    const payloads = Array.from({ length: 200 }, (_, i) => payloadFor(i));
    const echoes = await Promise.all(payloads.map((payload) => converse(server.port, payload, { timeoutMs: 20_000 })));
    const wrong = echoes.map((echo, i) => (echo.received.equals(payloads[i]!) ? null : i)).filter((i) => i !== null);
    expect(wrong, 'clients whose echo differs from what they sent').toEqual([]);

    const reset = await resetting;
    expect(reset.queuedAtReset, 'the reset came while data was still queued').toBeGreaterThan(0);
    expect(await disconnectReason(server, reset.port)).toBe('reset by peer');

    const push = await pushing;
    await sleep(200);
    const rssAfter = rssBytes(pid);
    const growth = rssAfter - rssBefore;
    const report = `kernel took ${(push.accepted / MiB).toFixed(1)} MiB of the ${OFFERED / MiB} MiB offered (${(push.offered / MiB).toFixed(1)} MiB queued); server RSS ${(rssBefore / MiB).toFixed(1)} -> ${(rssAfter / MiB).toFixed(1)} MiB`;
    // The push went through the server (it read and echoed until the echo path was full)...
    expect(push.accepted, report).toBeGreaterThan(2 * MiB);
    // ...and then stalled well short of the offer: backpressure reached the client. (Loopback
    // socket buffers for a peer that reads nothing hold ~9 MiB here, at most ~20 MiB with common
    // kernel defaults.)
    expect(push.accepted, report).toBeLessThan(OFFERED / 2);
    // The bound. A server that respects backpressure holds at most a stream's high-water mark and
    // a read chunk (~100 KiB) for this client; the rest of what the kernel took (~9 MiB here) waits
    // in kernel socket buffers, which RSS does not count. What remains is the cost of the 200
    // clients served meanwhile plus allocator noise: 3-4 MiB for the push alone, about 7 MiB with
    // everything at once (measured on a 2-core machine). A server that queues the echo it cannot
    // send keeps reading, so the kernel takes all 64 MiB within the window and the server holds
    // nearly all of it: a naive `on('data', (d) => socket.write(d))` echo grew by 66 MiB in the
    // same measurement. 24 MiB lies well clear of both.
    expect(growth, report).toBeLessThan(24 * MiB);

    // Still serving, and still honouring --quiet.
    expect(server.proc.exitCode).toBeNull();
    const after = Buffer.from('still there?');
    expect((await converse(server.port, after)).received.equals(after)).toBe(true);
    expect(server.stdout()).not.toContain('recv data:');
  }, 45_000);

  it('survives binary garbage, an instant close and an instant reset, and logs binary data as Python bytes literals', async () => {
    const server = await serve();

    const allBytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const randoms = [randomBytes(4096), randomBytes(1000), randomBytes(1)];
    const garbage = await Promise.all([allBytes, ...randoms].map((payload) => converse(server.port, payload)));
    garbage.forEach((echo, i) => expect(echo.received.equals([allBytes, ...randoms][i]!)).toBe(true));

    // Connects, then closes at once (FIN) without sending anything.
    const closer = connect(server.port);
    await connected(closer);
    const closerPort = closer.localPort!;
    closer.end();
    // Connects, then resets at once (RST).
    const resetter = connect(server.port);
    resetter.on('error', () => {});
    await connected(resetter);
    resetter.resetAndDestroy();

    expect(await disconnectReason(server, closerPort)).toBe('closed by peer');
    await settled(server);

    // The server is still up and serving.
    const hello = Buffer.from('after the garbage');
    expect((await converse(server.port, hello)).received.equals(hello)).toBe(true);
    expect(server.proc.exitCode).toBeNull();

    const log = server.stdout();
    // All 256 byte values are rendered exactly as Python's repr() does.
    expect(recvLiterals(log, garbage[0]!.localPort)).toEqual([ALL_BYTES_LITERAL]);
    // Random data round-trips through the log: every recv line is a valid bytes literal and
    // together they are exactly what the client sent.
    randoms.forEach((payload, i) => expect(loggedBytes(log, garbage[i + 1]!.localPort).equals(payload)).toBe(true));
    // One event per line: no raw control bytes leak into the log.
    expect(log).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f-\xff]/);
    expect(log).toContain(`[server] accept a client: 127.0.0.1, ${closerPort}\n`);
    // A reset that beats our accept() is reported on stderr, and nothing else is.
    expect(server.stderr()).toMatch(/^(\[server\] warning: a client reset its connection before it could be accepted\n)*$/);
  }, 20_000);

  it('names every client it logs, even one that resets right after connecting', async () => {
    const server = await serve();
    const ports: number[] = [];
    for (let i = 0; i < 5; i++) {
      const resetter = connect(server.port);
      resetter.on('error', () => {});
      await connected(resetter);
      ports.push(resetter.localPort!);
      resetter.resetAndDestroy();
    }
    await settled(server);
    const hello = Buffer.from('still serving');
    expect((await converse(server.port, hello)).received.equals(hello)).toBe(true);
    await settled(server);

    const { stdout } = await server.stop('SIGTERM');
    // The RST often arrives before the server gets to the connection. Whatever it then logs
    // about that client, it must not be an accept / disconnect / summary line with no address.
    const nameless = stdout.split('\n').filter((line) => /accept a client: , |\[client addr: , \d+\]/.test(line));
    expect(nameless, 'lines without the client address').toEqual([]);
    // A client the server did see by its address is logged like any other: its accept line, if
    // there is one, has its disconnect line, and a client without one has neither.
    for (const port of ports) {
      const accepted = stdout.split(`accept a client: 127.0.0.1, ${port}\n`).length - 1;
      const left = stdout.match(new RegExp(`\\[client addr: 127\\.0\\.0\\.1, ${port}\\] disconnected {2}\\((reset|closed) by peer;`, 'g'))?.length ?? 0;
      expect(left, `client ${port}: ${accepted} accept line(s), ${left} disconnect line(s)`).toBe(accepted);
      expect(accepted).toBeLessThanOrEqual(1);
    }
  }, 20_000);
});

describe('tcp-server options', () => {
  it('--max-clients 3 accepts 3 clients at once and closes the 4th and 5th at once, without echo', async () => {
    const server = await serve(['--max-clients', '3']);

    // Three clients connect and prove they are served: each gets an echo and stays connected.
    const held: net.Socket[] = [];
    for (let i = 0; i < 3; i++) {
      const socket = connect(server.port);
      await connected(socket);
      const echoed = new Promise<Buffer>((resolve) => socket.once('data', resolve));
      socket.write(`held ${i}`);
      expect((await echoed).toString()).toBe(`held ${i}`);
      held.push(socket);
    }

    // Two more: the server closes them at once; they never get an echo.
    const rejectedPorts: number[] = [];
    for (let i = 0; i < 2; i++) {
      const socket = connect(server.port);
      const closed = closedBy(socket, 5000);
      await connected(socket);
      rejectedPorts.push(socket.localPort!);
      socket.write(`extra ${i}`);
      const outcome = await closed;
      expect(outcome.received.length, `rejected client ${i} got ${outcome.received.toString()}`).toBe(0);
      expect(outcome.sawEnd || outcome.error !== undefined).toBe(true);
    }
    for (const port of rejectedPorts) {
      await server.waitFor(new RegExp(`\\[server\\] reject a client: 127\\.0\\.0\\.1, ${port} {2}\\(max clients 3 reached\\)\\n`));
    }

    // The three served clients still work.
    for (const [i, socket] of held.entries()) {
      const echoed = new Promise<Buffer>((resolve) => socket.once('data', resolve));
      socket.write(`still ${i}`);
      expect((await echoed).toString()).toBe(`still ${i}`);
    }
    for (const socket of held) {
      const port = socket.localPort!;
      socket.end();
      expect(await disconnectReason(server, port)).toBe('closed by peer');
    }

    const { code, stdout } = await server.stop('SIGINT');
    expect(code).toBe(130);
    expect(stdout.match(/reject a client:/g)).toHaveLength(2);
    expect(stdout.match(/accept a client:/g)).toHaveLength(3);
    expect(summaryOf(stdout, `127.0.0.1:${server.port}`)[1]).toMatch(/^\[server\] 3 clients served, 2 rejected, 0 still connected; in /);
  }, 20_000);

  it('--idle-timeout 1s closes a silent client after 1 s by its own clock, and not one that talks every 100 ms', async () => {
    const server = await serve(['--idle-timeout', '1s']);
    /** The server's `disconnected` line for the client at `port`: reason, bytes in and out, seconds connected. */
    const disconnected = async (port: number) => {
      const m = await server.waitFor(new RegExp(`\\[client addr: 127\\.0\\.0\\.1, ${port}\\] disconnected {2}\\((.*?); in (\\d+) B, out (\\d+) B, ([\\d.]+) s\\)`));
      return { reason: m[1], bytesIn: Number(m[2]), bytesOut: Number(m[3]), seconds: Number(m[4]) };
    };

    const silent = connect(server.port);
    const silentClosed = closedBy(silent, 10_000);
    await connected(silent);
    const silentPort = silent.localPort!;

    // Meanwhile a client that speaks every 100 ms for 1.5 s keeps its connection: a tenth of the
    // timeout between messages leaves room for a loaded machine's late timers.
    const talker = connect(server.port);
    await connected(talker);
    const talkerPort = talker.localPort!;
    let echoed = '';
    talker.on('data', (chunk: Buffer) => (echoed += chunk.toString()));
    for (let i = 0; i < 15; i++) {
      talker.write(String.fromCharCode(0x61 + i));
      await sleep(100);
    }

    expect((await silentClosed).received.length).toBe(0);
    // The server's own account: closed for idleness, after the timeout and not much later.
    const idle = await disconnected(silentPort);
    expect(idle).toMatchObject({ reason: 'idle timeout', bytesIn: 0, bytesOut: 0 });
    expect(idle.seconds).toBeGreaterThanOrEqual(0.99);
    expect(idle.seconds).toBeLessThan(3);

    expect(talker.destroyed).toBe(false);
    const talkerClosed = closedBy(talker, 5000);
    talker.end();
    await talkerClosed;
    expect(echoed).toBe('abcdefghijklmno');
    // Connected for longer than the timeout, every byte echoed, and ended by the client.
    const talked = await disconnected(talkerPort);
    expect(talked).toMatchObject({ reason: 'closed by peer', bytesIn: 15, bytesOut: 15 });
    expect(talked.seconds).toBeGreaterThanOrEqual(1.4);
  }, 20_000);

  it('--sink reads and counts but sends nothing back; the summary has the bytes in and 0 out', async () => {
    const server = await serve(['--sink']);
    const payload = Buffer.alloc(1000, 'x');
    const { received, localPort } = await converse(server.port, payload);
    expect(received.length).toBe(0);
    expect(await disconnectReason(server, localPort)).toBe('closed by peer');

    const { code, stdout } = await server.stop('SIGTERM');
    expect(code).toBe(143);
    expect(loggedBytes(stdout, localPort).equals(payload)).toBe(true);
    expect(summaryOf(stdout, `127.0.0.1:${server.port}`)).toEqual([
      `[server] --- tcp 127.0.0.1:${server.port} summary ---`,
      expect.stringMatching(/^\[server\] 1 client served, 0 rejected, 0 still connected; in 1000 B, out 0 B; up [\d.]+ s$/),
      expect.stringMatching(new RegExp(`^\\[server\\] \\[client addr: 127\\.0\\.0\\.1, ${localPort}\\] in 1000 B, out 0 B, [\\d.]+ s, closed by peer$`)),
    ]);
  }, 20_000);
});

describe('tcp-server signals and summary', () => {
  it('on SIGINT prints the summary with a line per client and exits 130', async () => {
    const server = await serve();
    const a = await converse(server.port, Buffer.from('1234567890'));
    const b = await converse(server.port, Buffer.from('abc'));
    await disconnectReason(server, a.localPort);
    await disconnectReason(server, b.localPort);

    const { code, stdout, stderr } = await server.stop('SIGINT');
    expect(code).toBe(130);
    expect(summaryOf(stdout, `127.0.0.1:${server.port}`)).toEqual([
      `[server] --- tcp 127.0.0.1:${server.port} summary ---`,
      expect.stringMatching(/^\[server\] 2 clients served, 0 rejected, 0 still connected; in 13 B, out 13 B; up [\d.]+ s$/),
      expect.stringMatching(new RegExp(`^\\[server\\] \\[client addr: 127\\.0\\.0\\.1, ${a.localPort}\\] in 10 B, out 10 B, [\\d.]+ s, closed by peer$`)),
      expect.stringMatching(new RegExp(`^\\[server\\] \\[client addr: 127\\.0\\.0\\.1, ${b.localPort}\\] in 3 B, out 3 B, [\\d.]+ s, closed by peer$`)),
    ]);
    expect(stderr).not.toContain('    at ');
    expect(stderr.trim().split('\n')).toHaveLength(1); // one clear line
  }, 20_000);

  it('on SIGTERM prints the summary and exits 143 (128 + 15), saying so on stderr', async () => {
    const server = await serve();
    const a = await converse(server.port, Buffer.from('hello'));
    await disconnectReason(server, a.localPort);
    const { code, stdout, stderr } = await server.stop('SIGTERM');
    expect(code).toBe(143);
    expect(stderr).toBe('netnote: terminated (SIGTERM)\n');
    const summary = summaryOf(stdout, `127.0.0.1:${server.port}`);
    expect(summary[1]).toMatch(/^\[server\] 1 client served, 0 rejected, 0 still connected; in 5 B, out 5 B; /);
    expect(summary[2]).toMatch(new RegExp(`^\\[server\\] \\[client addr: 127\\.0\\.0\\.1, ${a.localPort}\\] in 5 B, out 5 B, [\\d.]+ s, closed by peer$`));
  }, 20_000);

  it('on SIGINT closes a client still connected, logs it as interrupted and lists it in the summary', async () => {
    const server = await serve();
    const socket = connect(server.port);
    await connected(socket);
    const port = socket.localPort!;
    const echoed = new Promise<Buffer>((resolve) => socket.once('data', resolve));
    socket.write('hello');
    expect((await echoed).toString()).toBe('hello');
    const closed = closedBy(socket, 5000);

    const { code, stdout } = await server.stop('SIGINT');
    expect(code).toBe(130);
    await closed; // the client sees its connection end
    expect(stdout).toMatch(new RegExp(`\\[server\\] \\[client addr: 127\\.0\\.0\\.1, ${port}\\] disconnected {2}\\(interrupted; in 5 B, out 5 B, `));
    expect(summaryOf(stdout, `127.0.0.1:${server.port}`)).toEqual([
      `[server] --- tcp 127.0.0.1:${server.port} summary ---`,
      expect.stringMatching(/^\[server\] 1 client served, 0 rejected, 0 still connected; in 5 B, out 5 B; up [\d.]+ s$/),
      expect.stringMatching(new RegExp(`^\\[server\\] \\[client addr: 127\\.0\\.0\\.1, ${port}\\] in 5 B, out 5 B, [\\d.]+ s, interrupted$`)),
    ]);
  }, 20_000);

  it.each([
    ['SIGINT', 130, 'interrupted', 'interrupted'],
    ['SIGTERM', 143, 'terminated', 'terminated (SIGTERM)'],
    ['SIGHUP', 129, 'hangup', 'hung up (SIGHUP)'],
  ] as const)('with --json, %s ends with a summary event whose exitCode is %i', async (signal, exitCode, errorCode, message) => {
    const server = await serveJson();
    const a = await converse(server.port, Buffer.from('1234567890'));
    await server.waitFor(/"event":"closed"/);

    const { code, stdout } = await server.stop(signal);
    expect(code).toBe(exitCode);
    const events = jsonLines(stdout);
    expect(events.every((e) => e.v === 1 && typeof e.time === 'string' && e.role === 'server')).toBe(true);
    // DESIGN §4: the summary is the final event; it carries the exit code and the error, if any.
    expect(events.map((e) => e.event)).toEqual(['created', 'bound', 'listening', 'accepted', 'recv', 'closed', 'summary']);
    expect(events.find((e) => e.event === 'recv')!.data).toEqual({ bytes: 10, base64: 'MTIzNDU2Nzg5MA==', text: "b'1234567890'" });
    const summary = events.find((e) => e.event === 'summary')!;
    expect(summary.exitCode).toBe(exitCode);
    expect(summary.summary.clients).toEqual({ served: 1, rejected: 0, active: 0, shed: 0 });
    expect(summary.summary.bytesIn).toBe(10);
    expect(summary.summary.bytesOut).toBe(10);
    expect(summary.summary.perClient).toEqual([expect.objectContaining({ remote: expect.objectContaining({ port: a.localPort }), reason: 'peer-closed' })]);
    expect(summary.error).toEqual({ code: errorCode, message });
  }, 20_000);
});

describe('tcp-server bad input and bind failures', () => {
  it('exits 7 with "already in use" and no stack trace when the port is taken', async () => {
    const first = await serve();
    const second = await runCli(['tcp-server', '127.0.0.1', String(first.port)], { timeoutMs: 10_000 });
    expect(second.code).toBe(7);
    expect(second.stderr).toContain(`127.0.0.1:${first.port} is already in use`);
    expect(second.stderr).not.toContain('    at ');
    // The first server is untouched.
    const ping = Buffer.from('ping');
    expect((await converse(first.port, ping)).received.equals(ping)).toBe(true);
  }, 20_000);

  it.each(['70000', 'abc', '-1'])('exits 2 for the bad port %s', async (port) => {
    const { code, stdout, stderr } = await runCli(['tcp-server', '127.0.0.1', port], { timeoutMs: 10_000 });
    expect(code).toBe(2);
    expect(stderr).toContain(`invalid port '${port}'`);
    expect(stderr).not.toContain('    at ');
    expect(stdout).toBe('');
  }, 15_000);

  it('exits 7 for an address that is not on this host (192.0.2.1)', { ...needs(nonlocalBindAllowed), timeout: 15_000 }, async () => {
    const { code, stderr } = await runCli(['tcp-server', '192.0.2.1', '0'], { timeoutMs: 10_000 });
    expect(code).toBe(7);
    expect(stderr).toContain('192.0.2.1 is not an address of this host');
    expect(stderr).not.toContain('    at ');
  });
});

describe('tcp-server over IPv6', () => {
  it('serves a client on ::1', { ...needs(ipv6LoopbackMissing), timeout: 20_000 }, async () => {
    const server = await serve([], '::1');
    expect(server.stdout()).toContain(`[server] bind address: ::1, ${server.port}\n`);
    const payload = Buffer.from('hello over IPv6');
    const { received, localPort } = await converse(server.port, payload, { host: '::1' });
    expect(received.equals(payload)).toBe(true);
    await server.waitFor(new RegExp(`\\[server\\] accept a client: ::1, ${localPort}\\n`));
    expect(recvLiterals(server.stdout(), localPort, '::1')).toEqual(["b'hello over IPv6'"]);
    expect(await disconnectReason(server, localPort, '::1')).toBe('closed by peer');
    const { code, stdout } = await server.stop('SIGTERM');
    expect(code).toBe(143);
    expect(stdout).toContain(`[server] --- tcp [::1]:${server.port} summary ---`);
  });
});

describe('a stdout nobody reads', () => {
  it('stops the server reading, as the note\'s blocking print() does: memory stays bounded, TCP slows the client, nothing is lost', async () => {
    const server = startCli(['--json', 'tcp-server', '127.0.0.1', '0', '--sink']);
    servers.add(server);
    const port = Number((await server.waitFor(/"event":"listening".*?"port":(\d+)/))[1]);
    server.proc.stdout.pause(); // from here the log fills the pipe, then the server's own queue
    const pid = server.proc.pid!;
    const rssBefore = rssBytes(pid);

    // Offers up to 256 MiB of printable bytes until the kernel takes nothing more for a second.
    const OFFERED = 256 * MiB;
    const pusher = connect(port);
    await connected(pusher);
    const { accepted, offered } = await pushUntilStalled(pusher, Buffer.alloc(64 * 1024, 'netnote '), OFFERED, 8000);
    const growth = rssBytes(pid) - rssBefore;
    const report = `kernel took ${(accepted / MiB).toFixed(1)} MiB of ${(offered / MiB).toFixed(1)} MiB offered; server RSS grew ${(growth / MiB).toFixed(1)} MiB`;
    // Without the pause the server reads at full speed (the kernel takes all 256 MiB) and queues
    // its log, about 2.4 bytes of JSON per byte read: over 600 MiB. With it, the server holds ~1 MiB
    // of log, and the rest waits in kernel socket buffers (~9 MiB here).
    expect(accepted, report).toBeLessThan(64 * MiB);
    expect(growth, report).toBeLessThan(48 * MiB);

    // Read again: everything the kernel took reaches the log, byte for byte.
    pusher.end();
    server.proc.stdout.resume();
    await server.waitFor(/"event":"closed","role":"server"/, 20_000);
    const { code, stdout } = await server.stop('SIGTERM');
    expect(code).toBe(143);
    const events = stdout.trim().split('\n').map((line) => JSON.parse(line) as { event: string; data?: { bytes: number }; summary?: { bytesIn: number } });
    const logged = events.filter((e) => e.event === 'recv').reduce((total, e) => total + e.data!.bytes, 0);
    expect(events.at(-1)!.summary!.bytesIn, report).toBe(offered);
    expect(logged).toBe(offered);
  }, 40_000);
});
