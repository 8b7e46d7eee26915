// Scripts, answers, framing and templates end to end, against the real implementations of the
// protocols they speak: mbpoll and mosquitto_pub against `tcp-server --script`, `tcp-client
// --script` against a mosquitto broker and a pymodbus server, and netnote's own halves against
// each other over TCP and UDP. Every port is picked at run time; every peer is killed after its test.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runCli, startCli, type Running } from './support/cli.js';
import { trackResources } from './support/cleanup.js';
import { rawServer, runPeer as runPeerIn } from './support/peers.js';
import { protocolPeersMissing, startMosquitto, startPymodbus } from './support/protocol-peers.js';
import { needs } from './support/needs.js';

const FIXTURES = fileURLToPath(new URL('./fixtures/scripts/', import.meta.url));
const missing = protocolPeersMissing();
const withPeers = (name: string, fn: () => Promise<void>) => it(name, needs(missing.length ? `missing ${missing.join('; ')}` : null), fn);

const { servers, peers, sockets, cleanups } = trackResources();

async function serve(command: 'tcp-server' | 'udp-server', extra: string[], global: string[] = []): Promise<Running & { port: number }> {
  const server = startCli([...global, command, '127.0.0.1', '0', ...extra]);
  servers.add(server);
  const match = await server.waitFor(global.includes('--json') ? /"event":"bound".*?"port":(\d+)/ : /bind address: \S+, (\d+)\n/);
  return Object.assign(server, { port: Number(match[1]) });
}

const runPeer = (command: string, args: string[], timeoutMs?: number) => runPeerIn(peers, command, args, Buffer.alloc(0), timeoutMs);

/** A script file written for one test. */
function scriptFile(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'netnote-script-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'script.yaml');
  writeFileSync(path, text);
  return path;
}

function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => resolve(socket));
    sockets.add(socket);
    socket.once('error', reject);
  });
}

/** Everything a socket receives until it has `bytes` bytes, closes, or `timeoutMs` passes. */
function collect(socket: net.Socket, bytes: number, timeoutMs = 5000): Promise<{ data: Buffer; closed: boolean; error?: string }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let error: string | undefined;
    const done = (closed: boolean) => {
      clearTimeout(timer);
      socket.off('data', onData);
      resolve({ data: Buffer.concat(chunks), closed, ...(error ? { error } : {}) });
    };
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
      if (size >= bytes) done(false);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.on('data', onData);
    socket.once('error', (err: NodeJS.ErrnoException) => (error = err.code));
    socket.once('close', () => done(true));
  });
}

const json = (stdout: string) => stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);

describe('tcp-server --script against real clients', () => {
  withPeers('mbpoll reads the scripted holding registers (the issue\'s server example, as written)', async () => {
    const server = await serve('tcp-server', ['--script', join(FIXTURES, 'issue-server.yaml')]);
    const run = await runPeer('mbpoll', ['-m', 'tcp', '-a', '1', '-r', '1', '-c', '10', '-t', '4', '-1', '-p', String(server.port), '127.0.0.1']);
    const values = [...run.stdout.toString().matchAll(/^\[(\d+)\]:\s+(-?\d+)$/gm)].map((m) => [Number(m[1]), Number(m[2])]);
    expect(values).toEqual(Array.from({ length: 10 }, (_, i) => [i + 1, i + 1]));
    expect(run.code).toBe(0);
    await server.waitFor(/send data: b'\\x00\\x01\\x00\\x00\\x00\\x17\\x01\\x03\\x14\\x00\\x01.*'  \(rule 2\)\n/);
  });

  withPeers('mosquitto_pub publishes successfully against the scripted CONNACK', async () => {
    const server = await serve('tcp-server', ['--script', join(FIXTURES, 'issue-server.yaml')]);
    const run = await runPeer('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(server.port), '-t', 'a/b', '-m', 'hello', '-d']);
    expect(run.code).toBe(0);
    expect(run.stdout.toString()).toContain('received CONNACK (0)');
    await server.waitFor(/send data: b' \\x02\\x00\\x00'  \(rule 1\)\n/);
  });

  withPeers('mosquitto_pub against an MQTT-framed script: CONNECT, PUBLISH and DISCONNECT come as three messages', async () => {
    const script = scriptFile(`frame: mqtt
rules:
  - match: { hex-prefix: "10" }
    reply: { hex: "20 02 00 00" }
  - match: { hex-prefix: "e0" }
    action: close
default: none
`);
    const server = await serve('tcp-server', ['--script', script]);
    const run = await runPeer('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(server.port), '-t', 'x', '-m', 'one two', '-d']);
    expect(run.code).toBe(0);
    await server.waitFor(/disconnected  \(closed by script;/);
    const recvs = server.stdout().split('\n').filter((line) => line.includes('recv data:'));
    expect(recvs).toHaveLength(3);
    expect(recvs[1]).toContain("recv data: b'0\\n\\x00\\x01xone two'");
    expect(recvs[2]).toContain("recv data: b'\\xe0\\x00'");
  });
});

describe('tcp-client --script against real servers', () => {
  withPeers('the issue\'s client example, as written, logs in to mosquitto and gets three PINGRESPs', async () => {
    const broker = await startMosquitto(peers, cleanups);
    const { code, stdout, stderr } = await runCli(['tcp-client', '127.0.0.1', String(broker.port), '--script', join(FIXTURES, 'issue-client.yaml')], { timeoutMs: 20_000 });
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout.match(/step 3\.2: expect met/g)).toHaveLength(3);
    expect(stdout).toContain('[client] sent 4 (20 B), received 10 B; 4 expects met, 12 steps run');
  });

  withPeers('MQTT against mosquitto: CONNECT, CONNACK, SUBSCRIBE, PUBLISH QoS 0, and the message comes back', async () => {
    const broker = await startMosquitto(peers, cleanups);
    const { code, stdout, stderr } = await runCli(['--json', 'tcp-client', '127.0.0.1', String(broker.port), '--script', join(FIXTURES, 'mqtt-pubsub.yaml')], { timeoutMs: 20_000 });
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const events = json(stdout);
    const met = events.filter((e) => e.event === 'step' && e.name === 'expect').map((e) => [e.label, (e.data as { text: string }).text]);
    expect(met).toEqual([
      ['connack', "b' \\x02\\x00\\x00'"],
      ['suback', "b'\\x90\\x03\\x00\\x01\\x00'"],
      ['message back', "b'0\\n\\x00\\x03a/bhello'"],
    ]);
    // {len:u8} filled in the remaining length of every packet.
    const sent = events.filter((e) => e.event === 'send').map((e) => Buffer.from((e.data as { base64: string }).base64, 'base64').toString('hex'));
    expect(sent[0]).toBe('100e00044d5154540402003c00026e6e');
    const summary = events.at(-1)!;
    expect(summary).toMatchObject({ event: 'summary', exitCode: 0, summary: { script: { steps: 8, failedStep: null } } });
    expect(broker.log()).toMatch(/Received PUBLISH from \S+ \(d0, q0, r0, m0, 'a\/b'/);
  });

  withPeers('Modbus TCP against pymodbus: two polls, framed by the MBAP length, transaction ids 1 and 2', async () => {
    const modbus = await startPymodbus(peers);
    const { code, stdout, stderr } = await runCli(['tcp-client', '127.0.0.1', String(modbus.port), '--script', join(FIXTURES, 'modbus-poll.yaml')], { timeoutMs: 20_000 });
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toContain("send data: b'\\x00\\x01\\x00\\x00\\x00\\x06\\x01\\x03\\x00\\x00\\x00\\n'  (step 1.1)");
    expect(stdout).toContain("send data: b'\\x00\\x02\\x00\\x00\\x00\\x06\\x01\\x03\\x00\\x00\\x00\\n'  (step 1.1)");
    expect(stdout.match(/step 1\.2: expect met/g)).toHaveLength(2);
  });
});

describe('netnote against netnote: rules, captures, actions', () => {
  it('a login, then heartbeats carrying a sequence number and a CRC; the server copies the number back (captures)', async () => {
    const server = await serve('tcp-server', ['--script', scriptFile(`frame: line
rules:
  - match: { regex: "^LOGIN (\\\\w+)$" }
    reply: { text: "WELCOME {1}\\r\\n" }
  - match: { regex: "^HB (\\\\d+)" }
    reply: { text: "ACK {1}\\r\\n" }
default: none
`)]);
    const client = scriptFile(`frame: line
steps:
  - send: "LOGIN meter7\\r\\n"
  - expect: { regex: "^WELCOME (\\\\w+)$" }
  - repeat: 3
    steps:
      - send: { text: "HB {seq} {crc16-modbus:hex}\\r\\n" }
      - expect: { regex: "^ACK \\\\d+$", timeout: 1s }
`);
    const { code, stdout, stderr } = await runCli(['tcp-client', '127.0.0.1', String(server.port), '--script', client]);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    // {seq} counts sends: the login was 1.
    expect(stdout).toContain("recv data: b'WELCOME meter7\\r\\n'");
    expect(stdout).toMatch(/send data: b'HB 4 [0-9A-F]{4}\\r\\n'  \(step 3\.1\)/);
    expect(stdout).toContain("recv data: b'ACK 4\\r\\n'");
  });

  it('a failed expect is exit 1 naming the step and showing the bytes; a timeout is exit 5', async () => {
    const server = await serve('tcp-server', ['--reply', 'NO']);
    const mismatch = await runCli(['tcp-client', '127.0.0.1', String(server.port), '--script', scriptFile('steps:\n  - send: "hi"\n  - name: answer\n    expect: "OK"\n')]);
    expect(mismatch.code).toBe(1);
    expect(mismatch.stdout).toContain("[client] mismatch at step 2: expected b'OK' (expect), got b'NO'");
    expect(mismatch.stderr).toMatch(/^netnote: step 2 \(answer\), expect bytes 4f4b: 127\.0\.0\.1:\d+ sent something else \(2 bytes\)\n$/);

    const timeout = await runCli(['--json', 'tcp-client', '127.0.0.1', String(server.port), '--script',
      scriptFile('steps:\n  - send: "hi"\n  - expect: { regex: "^OK", timeout: 300ms }\n')]);
    expect(timeout.code).toBe(5);
    const events = json(timeout.stdout);
    expect(events.find((e) => e.event === 'step' && e.timedOut)).toMatchObject({ step: '2', name: 'expect', ms: 300, data: { text: "b'NO'" } });
    expect(events.at(-1)).toMatchObject({ exitCode: 5, summary: { script: { failedStep: '2' } }, error: { code: 'timeout' } });
    expect(timeout.stderr).toMatch(/step 2, expect regex \/\^OK\/: nothing that matches came from 127\.0\.0\.1:\d+ within 300 ms \(2 bytes received and not matched\)/);
  });

  it('close ends the client politely, reset sends RST, silence stops answering, delay waits', async () => {
    const server = await serve('tcp-server', ['--script', scriptFile(`frame: line
rules:
  - match: { text: "QUIT" }
    reply: "BYE\\n"
    action: close
  - match: { text: "KILL" }
    action: reset
  - match: { text: "HUSH" }
    action: silence
  - match: { prefix: "SLOW" }
    reply: "SLOW\\n"
    delay: 300ms
`)]);
    const quitter = await connect(server.port);
    quitter.write('QUIT\n');
    expect(await collect(quitter, 100)).toEqual({ data: Buffer.from('BYE\n'), closed: true });

    const killed = await connect(server.port);
    killed.write('KILL\n');
    expect(await collect(killed, 100)).toMatchObject({ closed: true, error: 'ECONNRESET' });

    const hushed = await connect(server.port);
    hushed.write('a\nHUSH\nb\n');
    expect((await collect(hushed, 100, 500)).data.toString()).toBe('a\n');

    const slow = await connect(server.port);
    const sentAt = performance.now();
    slow.write('SLOW\nfast\n');
    const got = await collect(slow, 10);
    expect(got.data.toString()).toBe('SLOW\nfast\n'); // the echo of "fast" waits behind the delayed reply
    expect(performance.now() - sentAt).toBeGreaterThanOrEqual(290);

    await server.waitFor(/disconnected  \(reset by script;/);
    expect(server.stdout()).toMatch(/disconnected  \(closed by script;/);
  });

  it('--greeting on accept, --push every interval to each client with its own {seq}, --reply with --template', async () => {
    const server = await serve('tcp-server', ['--greeting', 'HELLO\n', '--push', 'PING {seq}\n', '--every', '100ms', '--reply', 'R{seq}\n', '--template']);
    const a = await connect(server.port);
    const b = await connect(server.port);
    a.write('x');
    const fromA = (await collect(a, 40, 1000)).data.toString();
    const fromB = (await collect(b, 20, 1000)).data.toString();
    expect(fromA).toMatch(/^HELLO\n(PING \d\n)*R1\n(PING \d\n)*/);
    expect(fromB).toMatch(/^HELLO\nPING 1\nPING 2\n/);
    await server.waitFor(/\[client addr: 127\.0\.0\.1, \d+\] send data: b'PING 2\\n'  \(push\)/);
    expect(server.stdout()).toMatch(/send data: b'HELLO\\n'  \(greeting\)/);
  });

  it('udp-server --script answers each datagram by its rules; udp-client --script converses with it', async () => {
    const server = await serve('udp-server', ['--script', scriptFile(`rules:
  - match: { hex-prefix: "01" }
    reply: { hex: "81 {seq:u8} {crc16-ccitt}" }
default: none
`)]);
    const { code, stdout, stderr } = await runCli(['udp-client', '127.0.0.1', String(server.port), '--script', scriptFile(`steps:
  - repeat: 2
    steps:
      - send: { hex: "01 aa" }
      - expect: { hex-prefix: "81" }
  - send: { hex: "02" }
  - expect: { hex: "ff", timeout: 200ms }
`)]);
    expect(code).toBe(5);
    expect(stdout.match(/step 1\.2: expect met/g)).toHaveLength(2);
    expect(stderr).toContain('step 3, expect bytes ff: nothing that matches came from');
    await server.waitFor(/\[client addr: \('127\.0\.0\.1', \d+\)\] send data: b'\\x81\\x02[^']*'  \(rule 1\)/);
  });

  it('udp-client --template: each datagram gets its own {seq}, and --verify-echo checks each against its own', async () => {
    const server = await serve('udp-server', []);
    const { code, stdout } = await runCli(['udp-client', '127.0.0.1', String(server.port), '--template', '--data', 'n={seq} {crc32:hex}', '--verify-echo', '-c', '3', '-i', '0']);
    expect(code).toBe(0);
    expect(stdout.match(/send data: b'n=\d [0-9A-F]{8}'/g)).toEqual([expect.stringContaining("n=1 "), expect.stringContaining("n=2 "), expect.stringContaining("n=3 ")]);
  });

  it('udp-server --push reaches the peers heard within --peer-ttl, and not the others', async () => {
    const server = await serve('udp-server', ['--push-hex', '55', '--every', '100ms', '--peer-ttl', '400ms', '--reply-hex', '06']);
    const { default: dgram } = await import('node:dgram');
    const socket = dgram.createSocket('udp4');
    cleanups.push(() => socket.close());
    const got: string[] = [];
    socket.on('message', (m) => got.push(m.toString('hex')));
    socket.send(Buffer.from('01', 'hex'), server.port, '127.0.0.1');
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(got[0]).toBe('06');
    const pushes = got.filter((g) => g === '55').length;
    // Heard once: pushed for about 400 ms, then forgotten.
    expect(pushes).toBeGreaterThanOrEqual(2);
    expect(pushes).toBeLessThanOrEqual(5);
  });

  it('--json: every answer is a send event with the client, the answer kind and the rule', async () => {
    const server = await serve('tcp-server', ['--frame', 'line', '--script', scriptFile('rules:\n  - match: { text: "A" }\n    reply: "1\\n"\n')], ['--json']);
    const socket = await connect(server.port);
    socket.write('A\nB\n');
    await collect(socket, 4);
    await server.waitFor(/"event":"send".*"answer":"echo"/);
    const sends = json(server.stdout()).filter((e) => e.event === 'send');
    expect(sends).toMatchObject([
      { role: 'server', seq: 1, client: 1, answer: 'reply', rule: 1, data: { text: "b'1\\n'" } },
      { role: 'server', seq: 2, client: 1, answer: 'echo', data: { text: "b'B\\n'" } },
    ]);
  });
});

describe('framing end to end', () => {
  it('tcp-server --frame line: ten lines in one write get ten answers; a line one byte per write gets one', async () => {
    const server = await serve('tcp-server', ['--frame', 'line', '--reply', 'ok\n']);
    const socket = await connect(server.port);
    socket.write(Array.from({ length: 10 }, (_, i) => `line ${i}\n`).join(''));
    expect((await collect(socket, 30)).data.toString()).toBe('ok\n'.repeat(10));
    for (const byte of 'one byte at a time\r\n') {
      socket.write(byte);
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect((await collect(socket, 3)).data.toString()).toBe('ok\n');
  });

  it('a 4 GB length prefix closes that client with a framing error; the server serves the next one', async () => {
    const server = await serve('tcp-server', ['--frame', 'length:u32be']);
    const bad = await connect(server.port);
    bad.write(Buffer.from('ffffffff0102', 'hex'));
    expect((await collect(bad, 1)).closed).toBe(true);
    await server.waitFor(/framing error \(length:u32be\): length 4294967295: a 4294967299-byte message is over the 16777216-byte limit; buffered b'\\xff\\xff\\xff\\xff\\x01\\x02'/);
    await server.waitFor(/disconnected  \(framing error;/);
    const good = await connect(server.port);
    good.write(Buffer.from('00000002abcd', 'hex'));
    expect((await collect(good, 6)).data.toString('hex')).toBe('00000002abcd');
  });

  it('tcp-server --timeout: a message that never completes is reported with what was buffered', async () => {
    const server = await serve('tcp-server', ['--frame', 'line', '--timeout', '200ms']);
    const socket = await connect(server.port);
    socket.write('no newline');
    expect((await collect(socket, 100, 3000)).closed).toBe(true);
    await server.waitFor(/framing error \(line\): the message was still incomplete after 200 ms \(--timeout\); buffered b'no newline'/);
  });

  it('tcp-client --frame with --verify-echo and a template: each echo is checked against its own message', async () => {
    const server = await serve('tcp-server', ['--frame', 'length:u16be']);
    const { code, stdout } = await runCli(['tcp-client', '127.0.0.1', String(server.port), '--frame', 'length:u16be', '--template',
      '--hex', '{len:u16be} {seq:u32be} {rand:4} {crc32}', '--verify-echo', '-c', '5', '-i', '0', '--no-wait', '-w', '2s']);
    expect(code).toBe(0);
    expect(stdout).toContain('sent 5 (70 B), received 5 (70 B), 0 without reply');
  });

  it('tcp-client --frame: a reply written one byte at a time is one reply; two replies in one write are two', async () => {
    const reply = Buffer.from('0003616263', 'hex');
    const port = await rawServer(cleanups, (socket) => {
      let requests = 0;
      let writing = Promise.resolve();
      socket.on('data', (chunk: Buffer) => {
        for (let i = 0; i < chunk.length; i++) {
          requests++;
          if (requests === 1) {
            writing = (async () => {
              for (const byte of reply) {
                socket.write(Buffer.from([byte]));
                await new Promise((resolve) => setTimeout(resolve, 5));
              }
            })();
          } else if (requests === 3) {
            void writing.then(() => socket.write(Buffer.concat([reply, reply])));
          }
        }
      });
    });
    const { code, stdout } = await runCli(['tcp-client', '127.0.0.1', String(port), '--frame', 'length:u16be', '--data', 'x',
      '--expect-hex', '0003616263', '-c', '3', '-i', '0', '--no-wait', '-w', '2s']);
    expect(code).toBe(0);
    expect(stdout).toContain('sent 3 (3 B), received 3 (15 B), 0 without reply');
  });

  it('tcp-client: a reply that never completes its frame times out (5) and shows what was buffered', async () => {
    const server = await serve('tcp-server', ['--reply-hex', '0005 6162']);
    const { code, stdout, stderr } = await runCli(['tcp-client', '127.0.0.1', String(server.port), '--frame', 'length:u16be', '-c', '1', '-w', '300ms']);
    expect(code).toBe(5);
    expect(stdout).toContain("[client] framing error (length:u16be): the message was still incomplete after 4 bytes; buffered b'\\x00\\x05ab'");
    expect(stderr).toMatch(/no reply to message 1/);
  });
});

describe('bad scripts and templates are usage errors (exit 2) with file:line:column', () => {
  it.each([
    ['malformed YAML', 'steps:\n  - send: [unclosed\n', /script\.yaml:\d+:\d+: /],
    ['an unknown step', 'steps:\n  - send: "a"\n  - sned: "b"\n', /script\.yaml:3:5: steps\[1\]: unknown key 'sned'/],
    ['a step with two actions', 'steps:\n  - send: "a"\n    sleep: 1s\n', /script\.yaml:2:5: steps\[0\]: a step takes one of send, sleep, not several/],
    ['repeat without steps', 'steps:\n  - repeat: 2\n', /script\.yaml:2:13: steps\[0\]\.repeat: repeat needs its steps:/],
    ['a regex that cannot compile', 'steps:\n  - expect: { regex: "(" }\n', /script\.yaml:2:22: steps\[0\]\.expect\.regex: the regex cannot compile: Invalid regular expression/],
    ['an unknown placeholder', 'steps:\n  - send: { hex: "01 {foo}" }\n', /script\.yaml:2:11: steps\[0\]\.send: invalid template in send '01 \{foo\}': \{foo\}: unknown placeholder \{foo\}/],
    ['a wrong type', 'steps:\n  - sleep: true\n', /script\.yaml:2:12: steps\[0\]\.sleep: /],
    ['a bad duration', 'steps:\n  - sleep: soon\n', /script\.yaml:2:12: steps\[0\]\.sleep: invalid duration 'soon'/],
    ['a server script given to a client', 'rules: []\n', /script\.yaml:1:1: unknown key 'rules'/],
  ])('tcp-client --script with %s', async (_what, text, message) => {
    const { code, stdout, stderr } = await runCli(['tcp-client', '127.0.0.1', '9', '--script', scriptFile(text)]);
    expect(stderr).toMatch(message);
    expect(code).toBe(2);
    expect(stdout).toBe('');
  });

  it('a server script with an unknown action names its line', async () => {
    const { code, stderr } = await runCli(['tcp-server', '127.0.0.1', '0', '--script', scriptFile('rules:\n  - match: "a"\n    action: explode\n')]);
    expect(code).toBe(2);
    expect(stderr).toMatch(/script\.yaml:3:13: rules\[0\]\.action: /);
  });

  it.each([
    [['tcp-client', '127.0.0.1', '9', '--template', '--data', 'x{foo}'], /invalid template in --data 'x\{foo\}': \{foo\}: unknown placeholder \{foo\}/],
    [['udp-client', '127.0.0.1', '9', '--template', '--hex', '01 {crc99}'], /\{crc99\}: unknown placeholder/],
    [['tcp-server', '127.0.0.1', '0', '--template', '--reply', '{seq:u24}'], /\{seq:u24\}: 'u24' is not one of u8/],
    [['tcp-server', '127.0.0.1', '0', '--push', 'x'], /--push needs --every/],
    [['tcp-client', '127.0.0.1', '9', '--frame', 'length:u24'], /invalid frame 'length:u24'/],
  ])('%j', async (args, message) => {
    const { code, stderr } = await runCli(args);
    expect(stderr).toMatch(message);
    expect(code).toBe(2);
  });
});

describe('docs/examples work as docs/scripts.md shows them', () => {
  const EXAMPLES = fileURLToPath(new URL('../docs/examples/', import.meta.url));

  it('at-client.yaml against at-modem.yaml: the APN set is read back, the signal is read, ATH closes', async () => {
    const server = await serve('tcp-server', ['--script', join(EXAMPLES, 'at-modem.yaml')]);
    const { code, stdout, stderr } = await runCli(['tcp-client', '127.0.0.1', String(server.port), '--script', join(EXAMPLES, 'at-client.yaml')]);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toContain(`recv data: b'\\r\\n+CGDCONT: 1,"IP","iot.example"\\r\\n\\r\\nOK\\r\\n'`);
    expect(stdout).toContain('[client] sent 5 (58 B), received 86 B; 6 expects met, 11 steps run');
    await server.waitFor(/disconnected  \(closed by script;/);
  });

  it('login-heartbeat.yaml against heartbeat-server.yaml; anything else gets ERR and a close', async () => {
    const server = await serve('tcp-server', ['--script', join(EXAMPLES, 'heartbeat-server.yaml')]);
    const { code, stdout } = await runCli(['tcp-client', '127.0.0.1', String(server.port), '--script', join(EXAMPLES, 'login-heartbeat.yaml')]);
    expect(code).toBe(0);
    expect(stdout).toContain("send data: b'HB 2 C504\\n'  (step 3.1)");
    expect(stdout).toContain('[client] sent 4 (43 B), received 33 B; 4 expects met, 13 steps run');
    const socket = await connect(server.port);
    socket.write('LOGIN x\nHELLO\n');
    expect(await collect(socket, 100)).toEqual({ data: Buffer.from('WELCOME x\nERR\n'), closed: true });
  });

  withPeers('modbus-server.yaml: mbpoll reads 1..10, writes a register, and gets exception 02 elsewhere', async () => {
    const server = await serve('tcp-server', ['--script', join(EXAMPLES, 'modbus-server.yaml')]);
    const base = ['-m', 'tcp', '-a', '1', '-t', '4', '-p', String(server.port), '127.0.0.1'];
    const read = await runPeer('mbpoll', ['-r', '1', '-c', '10', '-1', ...base]);
    expect(read.stdout.toString()).toMatch(/\[10\]:\s+10\n/);
    const write = await runPeer('mbpoll', ['-r', '1', ...base, '1234']);
    expect(write.stdout.toString()).toContain('Written 1 references.');
    const outside = await runPeer('mbpoll', ['-r', '50', '-c', '2', '-1', ...base]);
    expect(outside.code).not.toBe(0);
    expect(outside.stderr).toContain('Illegal data address');
  });

  withPeers('modbus-poll.yaml against pymodbus: five polls', async () => {
    const modbus = await startPymodbus(peers);
    const { code, stdout } = await runCli(['tcp-client', '127.0.0.1', String(modbus.port), '--script', join(EXAMPLES, 'modbus-poll.yaml')], { timeoutMs: 20_000 });
    expect(code).toBe(0);
    expect(stdout).toContain('5 expects met, 16 steps run');
  });

  withPeers('mqtt-broker-stub.yaml: mosquitto_pub connects and publishes; the issue\'s client gets its PINGRESPs', async () => {
    const server = await serve('tcp-server', ['--script', join(EXAMPLES, 'mqtt-broker-stub.yaml')]);
    const pub = await runPeer('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(server.port), '-t', 'a', '-m', 'b', '-d']);
    expect(pub.code).toBe(0);
    const { code } = await runCli(['tcp-client', '127.0.0.1', String(server.port), '--script', join(FIXTURES, 'issue-client.yaml')]);
    expect(code).toBe(0);
  });
});
