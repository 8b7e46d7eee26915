import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createNamespace, netnsUnavailable, nft, useResolvConf } from './support/netns.js';
import { needs } from './support/needs.js';
import { findPeers, freePort, ipv6LoopbackMissing, rawServer as rawServerOn, untilListening } from './support/peers.js';
import { maskPorts, runCli, startCli, startServer } from './support/cli.js';

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const clean of cleanups.splice(0)) clean();
});

const rawServer = (onConnection: (socket: net.Socket) => void) => rawServerOn(cleanups, onConnection);

const { missing } = findPeers();

/** Starts a real peer (socat, ncat) and waits until it accepts connections on `port`. */
async function startPeer(command: string, args: string[], port: number): Promise<ChildProcess> {
  const child = spawn(command, args, { stdio: 'ignore' });
  cleanups.push(() => child.kill('SIGKILL'));
  await untilListening(port, command);
  return child;
}


describe('tcp-client with no options is the note client loop', () => {
  it('sends 1234567890, prints send/recv with the RTT and the separator, against a netnote server', async () => {
    const server = await startServer('tcp-server');
    cleanups.push(() => server.proc.kill('SIGKILL'));
    const { code, stdout, stderr } = await runCli(['tcp-client', '127.0.0.1', String(server.port), '-c', '2', '-i', '100ms']);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const lines = maskPorts(stdout).split('\n');
    expect(lines.slice(0, 3)).toEqual(['[client] socket object created.', '[client] connecting: 127.0.0.1, PORT', expect.stringMatching(/^\[client\] connected\.( {2}\(.*\))?$/)]);
    expect(lines[3]).toBe("[client] send data: b'1234567890'");
    expect(lines[4]).toMatch(/^\[client\] recv data: b'1234567890' {2}\(\d+\.\d+ ms\)$/);
    expect(lines[5]).toBe('[client] -------------------------');
    expect(stdout).toMatch(/sent 2 \(20 B\), received 2 \(20 B\), 0 without reply/);
    expect(stdout).toMatch(/ended: completed/);
  });

  it('resolves a name first and prints the note DNS line', async () => {
    const port = await rawServer((s) => s.pipe(s));
    const { code, stdout } = await runCli(['tcp-client', 'localhost', String(port), '-c', '1']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^\[client\] socket object created\.\n\[client\] DNS for localhost: (127\.0\.0\.1|::1)\n/);
    // Whatever order the resolver gives, the client reaches the IPv4 listener.
    expect(maskPorts(stdout)).toContain('[client] connecting: 127.0.0.1, PORT');
  });

  it('runs until the server closes when no --count is given, and that is a success', async () => {
    let seen = 0;
    const port = await rawServer((socket) => socket.on('data', (d) => {
      socket.write(d);
      if (++seen === 3) socket.end();
    }));
    const { code, stdout } = await runCli(['tcp-client', '127.0.0.1', String(port), '-i', '0']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/ended: closed by peer/);
  });

  it('accepts service names for ports', async () => {
    const { code, stderr } = await runCli(['tcp-client', '127.0.0.1', 'echo', '-c', '1']);
    expect(code).toBe(4);
    expect(stderr).toContain('nothing listening on 127.0.0.1:7');
  });
});

describe('tcp-client against real peers', () => {
  it('verifies a 1 MiB binary payload echoed by socat', needs(missing.socat), async () => {
    const port = await freePort();
    await startPeer('socat', [`TCP-LISTEN:${port},bind=127.0.0.1,reuseaddr,fork`, 'EXEC:cat'], port);
    const file = join(mkdtempSync(join(tmpdir(), 'netnote-')), 'payload.bin');
    writeFileSync(file, randomBytes(1 << 20));
    const { code, stdout, stderr } = await runCli(['--quiet', 'tcp-client', '127.0.0.1', String(port), '--file', file, '-c', '2', '-i', '0', '--verify-echo']);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toMatch(/sent 2 \(2\.00 MiB\), received 2 \(2\.00 MiB\), 0 without reply/);
  });

  it('pipelines 200 messages with --no-wait through ncat --sh-exec cat', needs(missing.ncat), async () => {
    const port = await freePort();
    await startPeer('ncat', ['-l', '-k', '--sh-exec', 'cat', '127.0.0.1', String(port)], port);
    const { code, stdout } = await runCli(['--json', '--quiet', 'tcp-client', '127.0.0.1', String(port), '-c', '200', '-i', '0', '--no-wait', '--verify-echo', '-w', '5s']);
    expect(code).toBe(0);
    const summary = JSON.parse(stdout.trim().split('\n').at(-1)!);
    expect(summary.event).toBe('summary');
    expect(summary.summary.sent).toEqual({ messages: 200, bytes: 2000 });
    expect(summary.summary.received).toEqual({ messages: 200, bytes: 2000 });
    expect(summary.summary.rttMs.count).toBe(200);
  });
});

describe('payloads and assertions', () => {
  it('sends hex bytes and matches a device-style reply with --expect-hex; --hex-dump shows the bytes', async () => {
    const port = await rawServer((socket) => socket.on('data', () => socket.write(Buffer.from([0x01, 0x03, 0x02, 0x00, 0x2a]))));
    const { code, stdout } = await runCli(['--hex-dump', 'tcp-client', '127.0.0.1', String(port), '--hex', '01 03 00 00 00 01', '--expect-hex', '0103:02:002a', '-c', '2', '-i', '0']);
    expect(code).toBe(0);
    expect(stdout).toContain('[client] send data: 6 bytes\n  00000000  01 03 00 00 00 01                                 |......|\n');
    expect(stdout).toMatch(/\[client\] recv data: 5 bytes {2}\(.* ms\)\n {2}00000000 {2}01 03 02 00 2a/);
  });

  it('exits 1 and shows both sides when a reply differs from --expect', async () => {
    const port = await rawServer((socket) => socket.on('data', () => socket.write('ERR\n')));
    const { code, stdout, stderr } = await runCli(['tcp-client', '127.0.0.1', String(port), '--data', 'AT\r\n', '--expect', 'OK\r\n', '-c', '3', '-i', '0']);
    expect(code).toBe(1);
    expect(stdout).toContain("[client] mismatch on reply 1: expected b'OK\\r\\n' (expect), got b'ERR\\n'");
    expect(stderr).toMatch(/^netnote: reply to message 1 does not match --expect\n$/);
  });

  it('--expect-regex completes a reply as soon as it matches', async () => {
    const port = await rawServer((socket) => socket.on('data', () => {
      socket.write('+CSQ: ');
      setTimeout(() => socket.write('23,99\r\nOK\r\n'), 30);
    }));
    const { code, stdout } = await runCli(['tcp-client', '127.0.0.1', String(port), '--data', 'AT+CSQ\r\n', '--expect-regex', 'OK\\r\\n$', '-c', '2', '-i', '0', '-w', '2s']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/received 2/);
  });

  it('--verify-echo catches a peer that corrupts the echo', async () => {
    const port = await rawServer((socket) => socket.on('data', (d: Buffer) => socket.write(Buffer.from(d.toString().toUpperCase()))));
    const { code, stdout } = await runCli(['tcp-client', '127.0.0.1', String(port), '--data', 'abc', '--verify-echo', '-c', '1']);
    expect(code).toBe(1);
    expect(stdout).toContain("mismatch on reply 1: expected b'abc' (echo), got b'ABC'");
  });

  it('--size generates a payload of that many bytes; --quiet keeps only events and the summary', async () => {
    const server = await startServer('tcp-server', ['--quiet']);
    cleanups.push(() => server.proc.kill('SIGKILL'));
    const { code, stdout } = await runCli(['--quiet', 'tcp-client', '127.0.0.1', String(server.port), '--size', '100000', '-c', '3', '-i', '0', '--verify-echo']);
    expect(code).toBe(0);
    expect(stdout).not.toMatch(/send data|recv data|-----/);
    expect(stdout).toMatch(/sent 3 \(292\.97 KiB\), received 3 \(292\.97 KiB\), 0 without reply/);
  });

  it('reads the payload from stdin with --file -', async () => {
    const port = await rawServer((s) => s.pipe(s));
    const { code, stdout } = await runCli(['tcp-client', '127.0.0.1', String(port), '--file', '-', '-c', '1'], { input: Buffer.from([0x00, 0x27, 0xff]) });
    expect(code).toBe(0);
    expect(stdout).toContain("[client] send data: b\"\\x00'\\xff\"");
  });
});

describe('a payload too large to print', () => {
  // A log line shows 1 MiB of a payload at most: a 600 MB payload's repr once passed V8's longest string.
  const SIZE = 2_000_000;
  const LEFT_OUT = SIZE - 1024 * 1024;

  it('the send line shows the first MiB and says how much it left out; the echo is still verified whole', async () => {
    const server = await startServer('tcp-server', ['--quiet']);
    cleanups.push(() => void server.stop('SIGKILL'));
    const { code, stdout } = await runCli(['tcp-client', '127.0.0.1', String(server.port), '-c', '1', '--size', String(SIZE), '--verify-echo']);
    expect(code).toBe(0);
    const send = stdout.split('\n').find((line) => line.startsWith('[client] send data: '))!;
    expect(send).toBe(`[client] send data: b'${'1234567890'.repeat(104857)}123456'… (${LEFT_OUT} more bytes not shown)`);
    expect(stdout).toContain(`[client] sent 1 (1.91 MiB), received 1 (1.91 MiB), 0 without reply`);
  }, 20_000);

  it('--hex-dump stops after the first MiB too; --json carries the full length and what it shows', async () => {
    const server = await startServer('tcp-server', ['--quiet']);
    cleanups.push(() => void server.stop('SIGKILL'));
    const json = await runCli(['--json', 'tcp-client', '127.0.0.1', String(server.port), '-c', '1', '--size', String(SIZE), '--no-wait']);
    expect(json.code).toBe(0);
    const send = json.stdout.split('\n').map((line) => JSON.parse(line || '{}') as { event?: string; data?: { bytes: number; shown?: number; base64: string } }).find((e) => e.event === 'send')!;
    expect(send.data).toMatchObject({ bytes: SIZE, shown: 1024 * 1024 });
    expect(Buffer.from(send.data!.base64, 'base64').equals(Buffer.alloc(1024 * 1024, '1234567890'))).toBe(true);
    const dump = await runCli(['--hex-dump', 'tcp-client', '127.0.0.1', String(server.port), '-c', '1', '--size', String(SIZE), '--no-wait']);
    expect(dump.code).toBe(0);
    const lines = dump.stdout.split('\n');
    const at = lines.indexOf(`[client] send data: ${SIZE} bytes`);
    expect(at).toBeGreaterThanOrEqual(0);
    expect(lines[at + 1 + 65536]).toBe(`  … ${LEFT_OUT} more bytes not shown`);
    expect(lines[at + 65536]).toMatch(/^ {2}000ffff0 /);
  }, 30_000);
});

describe('failures end with one stderr line, a hint, and the documented exit code', () => {
  const noStack = (stderr: string) => expect(stderr).not.toMatch(/^\s+at /m);

  it.each([
    [['tcp-client', '127.0.0.1', '70000'], /^netnote: invalid port '70000': use 1-65535 or a service name such as http, mqtt, modbus, coap\nnetnote: hint: try 'netnote tcp-client --help'\n$/],
    [['tcp-client', '127.0.0.1', 'abc'], /invalid port 'abc'/],
    [['tcp-client', '127.0.0.1', '-1'], /unknown option '-1'|invalid port/],
    [['tcp-client'], /missing required argument 'host'/],
    [['tcp-client', '127.0.0.1'], /missing required argument 'port'/],
    [['tcp-client', '127.0.0.1', '80', '--bogus'], /unknown option '--bogus'/],
    [['tcp-client', '127.0.0.1', '80', '--hex', '31 3'], /^netnote: invalid --hex '31 3': expected pairs of hex digits/],
    [['tcp-client', '127.0.0.1', '80', '--interval', 'soon'], /^netnote: invalid --interval 'soon': use a duration such as 500ms, 1s, 2m or 1m30s\nnetnote: hint: try 'netnote tcp-client --help'\n$/],
    [['tcp-client', '127.0.0.1', '80', '--interval', '1m30'], /^netnote: invalid --interval '1m30': use a duration such as/],
    [['tcp-client', '127.0.0.1', '80', '--count', '0'], /at least 1/],
    [['tcp-client', '127.0.0.1', '80', '--data', 'a', '--hex', '61'], /cannot be used with/],
    [['tcp-client', '127.0.0.1', '80', '--expect-regex', 'x', '--no-wait'], /drop --no-wait/],
    [['tcp-client', '127.0.0.1', '80', '--expect-regex', '('], /invalid --expect-regex/],
    [['tcp-client', '127.0.0.1', '80', '--data', ''], /payload is empty/],
    [['tcp-client', 'bad host!', '80'], /invalid host/],
    [['tcp-client', '127.0.0.1', '80', '--size', String(256 * 1024 * 1024 + 1)], /^netnote: --size 268435457 is more than the 256 MiB one message may be\nnetnote: hint: to measure bulk throughput, use --stream\n$/],
    [['tcp-client', '127.0.0.1', '80', '--file', '/dev/zero'], /^netnote: --file \/dev\/zero is more than the 256 MiB one message may be\n/],
  ])('usage error %j → 2', async (args, message) => {
    const { code, stderr } = await runCli(args);
    expect(stderr).toMatch(message);
    expect(code).toBe(2);
    noStack(stderr);
  });

  it("unknown host → 3 (in a namespace whose resolver is this machine's loopback)", needs(netnsUnavailable), async () => {
    // The machine's own resolv.conf points off this host: no test may send it a query.
    const ns = createNamespace();
    cleanups.push(ns.remove);
    useResolvConf(ns, 'nameserver 127.0.0.1\n');
    const { code, stderr } = await runCli(['tcp-client', 'no-such-host.invalid', '80', '-c', '1'], { prefix: ns.prefix });
    expect(code).toBe(3);
    expect(stderr).toMatch(/^netnote: cannot resolve no-such-host\.invalid: .+\nnetnote: hint: /);
  });

  it('refused → 4, "nothing listening on H:P"', async () => {
    const port = await freePort();
    const { code, stderr, stdout } = await runCli(['tcp-client', '127.0.0.1', String(port)]);
    expect(code).toBe(4);
    expect(stderr).toContain(`netnote: nothing listening on 127.0.0.1:${port} (connection refused)`);
    expect(stdout).toBe(`[client] socket object created.\n[client] connecting: 127.0.0.1, ${port}\n`);
  });

  it('refused on IPv6 → 4 with the address in brackets', needs(ipv6LoopbackMissing), async () => {
    const port = await freePort();
    const { code, stderr } = await runCli(['tcp-client', '[::1]', String(port)]);
    expect(code).toBe(4);
    expect(stderr).toContain(`nothing listening on [::1]:${port}`);
  });

  it('reply timeout → 5 when the server never answers', async () => {
    const port = await rawServer(() => {});
    const { code, stderr } = await runCli(['tcp-client', '127.0.0.1', String(port), '-w', '300ms', '-c', '1']);
    expect(code).toBe(5);
    expect(stderr).toContain('no reply to message 1');
  });

  it('connect timeout → 5 when SYNs are dropped (nft, in a namespace)', needs(netnsUnavailable), async () => {
    const ns = createNamespace();
    cleanups.push(ns.remove);
    nft(ns, 'table inet netnote {\n chain input {\n  type filter hook input priority 0; policy accept;\n  tcp dport 9 drop\n }\n}\n');
    const started = Date.now();
    const { code, stderr } = await runCli(['tcp-client', '127.0.0.1', '9', '-w', '400ms'], { prefix: ns.prefix });
    expect(code).toBe(5);
    expect(stderr).toContain('no answer from 127.0.0.1:9 within 400 ms (connect timeout)');
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('reset mid-run → 6', async () => {
    const port = await rawServer((socket) => socket.once('data', () => socket.resetAndDestroy()));
    const { code, stderr, stdout } = await runCli(['tcp-client', '127.0.0.1', String(port), '-c', '3', '-i', '0']);
    expect(code).toBe(6);
    expect(stderr).toContain('reset by peer');
    expect(stdout).toMatch(/ended: reset by peer/);
  });

  it('closed before --count replies → 6', async () => {
    const port = await rawServer((socket) => socket.once('data', (d) => socket.end(d)));
    const { code, stderr } = await runCli(['tcp-client', '127.0.0.1', String(port), '-c', '3', '-i', '0']);
    expect(code).toBe(6);
    expect(stderr).toContain('closed the connection after 1 of 3 replies');
  });

  it('Ctrl-C prints the summary and exits 130', async () => {
    const port = await rawServer((s) => s.pipe(s));
    const client = startCli(['tcp-client', '127.0.0.1', String(port), '-i', '50ms']);
    await client.waitFor(/recv data:[^\n]*\n[^\n]*-----\n[\s\S]*recv data/);
    const { code, stdout, stderr } = await client.stop('SIGINT');
    expect(code).toBe(130);
    expect(stdout).toMatch(/--- tcp 127\.0\.0\.1:\d+ summary ---/);
    expect(stdout).toMatch(/ended: interrupted/);
    expect(stderr).toBe('netnote: interrupted\n');
  });

  it('--json ends with the summary, carrying the exit code and the error', async () => {
    const port = await freePort();
    const { code, stdout } = await runCli(['--json', 'tcp-client', '127.0.0.1', String(port)]);
    expect(code).toBe(4);
    const events = stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(events.map((e) => e.event)).toEqual(['created', 'connecting', 'summary']);
    expect(events[2].exitCode).toBe(4);
    expect(events[2].error).toMatchObject({ code: 'unreachable', message: expect.stringContaining('nothing listening') });
  });
});

describe('--no-wait: pipelining without waiting, bounded', () => {
  it('-i 0 into a peer that takes every write at once still hears Ctrl-C: summary and 130 at once', async () => {
    const sink = await startServer('tcp-server', ['--sink', '--quiet']);
    cleanups.push(() => void sink.stop('SIGKILL'));
    const client = startCli(['tcp-client', '127.0.0.1', String(sink.port), '--no-wait', '-i', '0', '--size', '16', '--quiet'], { timeoutMs: 20_000 });
    cleanups.push(() => void client.stop('SIGKILL'));
    await client.waitFor(/\] connected\. /);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const stopped = Date.now();
    const { code, stdout } = await client.stop('SIGINT');
    expect(Date.now() - stopped).toBeLessThan(3000);
    expect(code).toBe(130);
    expect(stdout).toMatch(/\[client\] sent \d+ \(.*\), received 0 \(0 B\), \d+ without reply\n/);
    expect(stdout).toContain('[client] ended: interrupted after');
  }, 30_000);

  it('a peer that reads and never answers: --max-in-flight 100 sends exactly 100, then -w ends it with 5', async () => {
    const port = await rawServer((socket) => socket.resume());
    const { code, stdout, stderr } = await runCli(['--json', '--quiet', 'tcp-client', '127.0.0.1', String(port), '--no-wait', '-i', '0', '--max-in-flight', '100', '-w', '500ms']);
    expect(code).toBe(5);
    const events = stdout.trim().split('\n').map((line) => JSON.parse(line) as { event: string; message?: string; summary?: { sent: { messages: number } } });
    expect(events.find((e) => e.event === 'warning')?.message).toBe('100 messages await their reply: each send now waits for one (--max-in-flight)');
    expect(events.at(-1)!.summary!.sent.messages).toBe(100);
    expect(stderr).toMatch(new RegExp(`^netnote: no reply from 127\\.0\\.0\\.1:${port} within 500 ms while 100 messages awaited theirs\\n`));
  }, 20_000);

  it('a slow echo never has more than --max-in-flight messages outstanding, and does reach it', async () => {
    const SIZE = 10;
    let received = 0;
    let echoed = 0;
    let deepest = 0;
    const port = await rawServer((socket) => socket.on('data', (data: Buffer) => {
      received += data.length;
      deepest = Math.max(deepest, Math.floor(received / SIZE) - echoed / SIZE);
      setTimeout(() => {
        echoed += data.length;
        socket.write(data);
      }, 20);
    }));
    const { code, stdout, stderr } = await runCli(['--quiet', 'tcp-client', '127.0.0.1', String(port), '--no-wait', '-i', '0', '-c', '200', '--size', String(SIZE), '--max-in-flight', '8', '--verify-echo', '-w', '5s']);
    expect(code).toBe(0);
    expect(stdout).toContain('[client] sent 200 (1.95 KiB), received 200 (1.95 KiB), 0 without reply');
    // The client says when it reached the limit; the peer never saw more than that outstanding.
    // (How deep the peer saw it depends on how the machine schedules the two processes.)
    expect(stderr).toBe('[client] warning: 8 messages await their reply: each send now waits for one (--max-in-flight)\n');
    expect(deepest).toBeGreaterThanOrEqual(2);
    expect(deepest).toBeLessThanOrEqual(8);
  }, 20_000);
});

describe('a stdout nobody reads', () => {
  it('does not turn into a reply timeout: -w 1s holds while stdout is full for 3 s, then all 3 echoes are verified', async () => {
    const server = await startServer('tcp-server', ['--quiet']);
    cleanups.push(() => void server.stop('SIGKILL'));
    // Each 2 MB send line alone is more than the 1 MiB of output netnote lets wait. -w 1s: long
    // enough for a loaded machine to echo 2 MB, far shorter than the time stdout stays full.
    const client = startCli(['tcp-client', '127.0.0.1', String(server.port), '--size', '2000000', '-c', '3', '-i', '0', '-w', '1s', '--verify-echo'], { timeoutMs: 30_000 });
    cleanups.push(() => void client.stop('SIGKILL'));
    client.proc.stdout.pause();
    await new Promise((resolve) => setTimeout(resolve, 3000));
    client.proc.stdout.resume();
    const { code, stdout, stderr } = await client.finished;
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toContain('[client] sent 3 (5.72 MiB), received 3 (5.72 MiB), 0 without reply');
  }, 30_000);

  it('stops the client reading a peer that floods it: the peer is slowed by TCP, not queued in memory', async () => {
    const MiB = 1024 * 1024;
    let offered = 0;
    let stalled!: () => void;
    const stall = new Promise<void>((resolve) => (stalled = resolve));
    const port = await rawServer((socket) => {
      socket.on('error', () => {});
      const chunk = Buffer.alloc(64 * 1024, 'netnote ');
      const pump = () => {
        // Writes until the kernel takes nothing more for a second (or 256 MiB were offered).
        while (offered < 256 * MiB && socket.write(chunk)) offered += chunk.length;
        if (offered >= 256 * MiB) return stalled();
        offered += chunk.length;
        const timer = setTimeout(stalled, 1000);
        socket.once('drain', () => {
          clearTimeout(timer);
          pump();
        });
      };
      pump();
    });
    const client = startCli(['tcp-client', '127.0.0.1', String(port)], { timeoutMs: 30_000 });
    cleanups.push(() => void client.stop('SIGKILL'));
    await client.waitFor(/\] connected\. /);
    client.proc.stdout.pause();
    await Promise.race([stall, new Promise((resolve) => setTimeout(resolve, 15_000))]);
    // Without the pause the client reads all 256 MiB and queues about 256 MiB of log.
    expect(offered, `the peer offered ${(offered / MiB).toFixed(1)} MiB before it stalled`).toBeLessThan(64 * MiB);
    client.proc.stdout.resume();
    await client.stop('SIGINT');
  }, 30_000);
});
