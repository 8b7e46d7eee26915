// A command line means what it says, or it is refused before anything connects: exit 2, one
// `netnote:` line naming the option, a hint, and under --json an `error` event too. Options that
// would do nothing (repeated, or of another mode), durations past Node's timer range, port 0 as a
// destination, control characters where a request line or a header goes. And what peers and
// people send is shown, never obeyed: control characters are escaped in every human line.
import net from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startCli, startServer } from './support/cli.js';
import { trackResources } from './support/cleanup.js';
import { rawServer } from './support/peers.js';
import { schemaErrors } from './support/schema.js';

const { servers, cleanups } = trackResources();
const dir = mkdtempSync(join(tmpdir(), 'netnote-usage-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A TCP port that counts the connections made to it: a usage error must make none. */
const counting: { port: number; connections: number; close: () => void } = { port: 0, connections: 0, close: () => {} };
beforeAll(async () => {
  const closers: Array<() => void> = [];
  counting.port = await rawServer(closers, (socket) => {
    counting.connections++;
    socket.pipe(socket);
  });
  counting.close = () => closers.forEach((close) => close());
});
afterAll(() => counting.close());

/**
 * Runs a command line that must be refused, and checks the refusal's shape (one error line, an
 * optional hint, nothing on stdout but an error event under --json); returns the error line.
 */
async function refused(args: string[]): Promise<string> {
  const before = counting.connections;
  const run = await runCli(args, { timeoutMs: 15_000 });
  expect(run.code, `${args.join(' ')}\n${run.stderr}`).toBe(2);
  if (args.includes('--json')) expect(JSON.parse(run.stdout)).toMatchObject({ event: 'error', code: 'usage', exitCode: 2 });
  else expect(run.stdout).toBe('');
  const [error, ...rest] = run.stderr.split('\n');
  expect(rest.length === 1 || (rest.length === 2 && rest[0]!.startsWith('netnote: hint: ')), run.stderr).toBe(true);
  expect(rest.at(-1)).toBe('');
  expect(counting.connections, 'nothing connected').toBe(before);
  return error!;
}

const port = () => String(counting.port);

describe('options that would do nothing are refused', () => {
  it.each([
    [['--data', 'a', '--data', 'b'], 'netnote: --data given twice: give it once'],
    [['-c', '1', '--count', '2'], 'netnote: --count given twice: give it once'],
    [['-c', '1', '-w', '1s', '-w', '2s'], 'netnote: --timeout given twice: give it once'],
    [['--duration', '5s'], 'netnote: --duration needs --stream: without it, --duration does nothing'],
    [['--parallel', '4'], 'netnote: --parallel needs --stream: without it, --parallel does nothing'],
    [['--hold', '2s'], 'netnote: --hold needs --connections: without it, --hold does nothing'],
    [['--max-in-flight', '10'], 'netnote: --max-in-flight needs --no-wait: without it, --max-in-flight does nothing'],
    [['--template', '--size', '10'], 'netnote: --template needs --data, --hex, --heartbeat-data or --heartbeat-hex: without it, --template does nothing'],
    [['--stream', '-c', '3'], "netnote: option '--stream' cannot be used with option '-c, --count <n>'"],
    [['--stream', '--chart'], "netnote: option '--stream' cannot be used with option '--chart'"],
    [['--stream', '--frame', 'line'], "netnote: option '--stream' cannot be used with option '--frame <mode>'"],
    [['--stream', '--reverse', '--data', 'x'], "netnote: option '--reverse' cannot be used with option '--data <text>'"],
    [['--connections', '3', '--verify-echo'], "netnote: option '--connections <n>' cannot be used with option '--verify-echo'"],
    [['--chart', '-c', '1'], 'netnote: --chart does nothing with --json: drop one of them', ['--json']],
    [['--bidir'], 'netnote: --bidir needs --stream: without it, --bidir does nothing'],
    [['--stream', '--burst', '4'], 'netnote: --burst needs --bitrate: without it, --burst does nothing'],
    [['--heartbeat-data', 'PING'], 'netnote: --heartbeat-data needs --heartbeat: without it, --heartbeat-data does nothing'],
    [['--backoff', '1s,5s'], 'netnote: --backoff needs --reconnect: without it, --backoff does nothing'],
  ])('tcp-client %j', async (extra, message, globals: string[] = []) => {
    expect(await refused([...globals, 'tcp-client', '127.0.0.1', port(), ...extra])).toBe(message);
  });

  it.each([
    [['tcp-server', '127.0.0.1', '0', '-w', '1s'], 'netnote: --timeout needs --frame or --script: without it, --timeout does nothing'],
    [['tcp-server', '127.0.0.1', '0', '--every', '1s'], 'netnote: --every needs --push or --push-hex: without it, --every does nothing'],
    [['tcp-server', '127.0.0.1', '0', '--push', 'x'], 'netnote: --push needs --every: without it, --push does nothing'],
    [['tcp-server', '127.0.0.1', '0', '--template', '--sink'], 'netnote: --template needs --reply, --reply-hex, --greeting, --greeting-hex, --push or --push-hex: without it, --template does nothing'],
    [['udp-server', '127.0.0.1', '0', '--peer-ttl', '5s'], 'netnote: --peer-ttl needs --push, --push-hex or --script: without it, --peer-ttl does nothing'],
    [['udp-client', '127.0.0.1', '9', '--script', 'x.yaml', '--max-loss', '1'], "netnote: option '--max-loss <percent>' cannot be used with option '--script <file>'"],
    [['resolve', '192.0.2.1', '-t', 'MX'], 'netnote: --type needs --server or --all-servers: without it, --type does nothing'],
    [['http-get', '127.0.0.1', '9', '-o', 'x', '--body-only'], "netnote: option '-o, --output <file>' cannot be used with option '--body-only'"],
    [['--hex-dump', '--json', 'demo'], "netnote: option '--hex-dump' cannot be used with option '--json'"],
    [['--report', 'a.html', '--report', 'b.html', 'demo'], 'netnote: --report given twice: give it once'],
    [['tcp-server', '127.0.0.1', '0', '--drop-mode', 'reset'], 'netnote: --drop-mode needs --drop-after or --drop-every: without it, --drop-mode does nothing'],
    [['udp-client', '127.0.0.1', '9', '--burst', '3'], 'netnote: --burst needs --rate or --bitrate: without it, --burst does nothing'],
    [['idle-timeout', '127.0.0.1', '9', '--hold', '1m'], 'netnote: --hold needs --verify: without it, --hold does nothing'],
    [['idle-timeout', '127.0.0.1', '9', '--verify', '1s', '--max', '10s'], "netnote: option '--verify <duration>' cannot be used with option '--max <duration>'"],
    [['idle-timeout', '127.0.0.1', '9', '--max', '25h'], 'netnote: --max must be at most 24h: the longest a netnote server holds a downlink answer'],
    [['idle-timeout', '127.0.0.1', '9', '--max', '24h', '-w', '580h'], 'netnote: --max and --timeout add up to more than 596h31m23s, the longest a timer can wait'],
  ])('%j', async (args, message) => {
    expect(await refused(args)).toBe(message);
  });

  it('--join is repeatable: udp-server joins both groups', async () => {
    const server = startCli(['--json', 'udp-server', '0.0.0.0', '0', '--join', '239.255.7.1@lo', '--join', '239.255.7.2@lo'], { timeoutMs: 20_000 });
    servers.add(server);
    await server.waitFor(/"joined":"239\.255\.7\.2"/);
    const stopped = await server.stop('SIGINT');
    expect(stopped.code, stopped.stderr).toBe(130);
    expect(stopped.stdout).toContain('"joined":"239.255.7.1"');
  });

  it('repeatable options add up: -H twice sends both headers', async () => {
    let request = '';
    const http = await rawServer(cleanups, (socket) => socket.on('data', (chunk: Buffer) => {
      request += chunk.toString('latin1');
      if (request.includes('\r\n\r\n')) socket.end('HTTP/1.1 204 No Content\r\n\r\n');
    }));
    const run = await runCli(['http-get', '127.0.0.1', String(http), '-H', 'X-A: 1', '-H', 'X-B: 2']);
    expect(run.code, run.stderr).toBe(0);
    expect(request).toContain('X-A: 1\r\nX-B: 2\r\n');
  });
});

describe('--stream --reverse that receives nothing is a failure, not a measurement of nothing', () => {
  it('from an echo server, which sends nothing unasked: exit 5 after --duration', async () => {
    const echo = await startServer('tcp-server');
    servers.add(echo);
    const run = await runCli(['tcp-client', '127.0.0.1', String(echo.port), '--stream', '--reverse', '--duration', '500ms'], { timeoutMs: 15_000 });
    expect(run.stderr).toMatch(/^netnote: 127\.0\.0\.1:\d+ sent nothing in 500 ms \(--stream --reverse\)\nnetnote: hint: the peer must send on its own/);
    expect(run.code).toBe(5);
  });

  it('from a peer that closes at once: exit 6', async () => {
    const closing = await rawServer(cleanups, (socket) => socket.end());
    const run = await runCli(['--json', 'tcp-client', '127.0.0.1', String(closing), '--stream', '--reverse', '--duration', '5s'], { timeoutMs: 15_000 });
    expect(run.code).toBe(6);
    expect(JSON.parse(run.stdout.trim().split('\n').at(-1)!)).toMatchObject({ summary: { bytes: 0, ended: 'peer-closed' }, exitCode: 6, error: { code: 'lost' } });
  });
});

describe('durations: at most 596h31m23s (2^31-1 ms), for every option and in script files', () => {
  const MAX = "at most 596h31m23s (2^31-1 ms, about 24.8 days): the longest a timer can wait";

  it.each([
    [['tcp-client', '127.0.0.1', '9', '-w', '99999999999999s'], `netnote: invalid --timeout '99999999999999s': ${MAX}`],
    [['tcp-client', '127.0.0.1', '9', '--stream', '--duration', '2147484s'], `netnote: invalid --duration '2147484s': ${MAX}`],
    [['udp-client', '127.0.0.1', '9', '-i', '2147484s'], `netnote: invalid --interval '2147484s': ${MAX}`],
    [['tcp-server', '127.0.0.1', '0', '--idle-timeout', '600h'], `netnote: invalid --idle-timeout '600h': ${MAX}`],
    [['http-get', '127.0.0.1', '9', '-m', '1e3s'], "netnote: invalid --max-time '1e3s': use a duration such as 500ms, 1s, 2m or 1m30s"],
  ])('%j', async (args, message) => {
    expect(await refused(args)).toBe(message);
  });

  it('the longest is taken, and waits: -w 596h31m23s to a closed port is refused (4), not timed out at once (5)', async () => {
    const run = await runCli(['tcp-client', '127.0.0.1', '9', '-w', '596h31m23s', '-c', '1'], { timeoutMs: 15_000 });
    expect(run.code).toBe(4);
    expect(run.stderr).not.toContain('TimeoutOverflowWarning');
  });

  it('a script file: a number of seconds or a duration string, refused with its line and column', async () => {
    for (const sleep of ['2147484', '600h']) {
      const script = join(dir, `sleep-${sleep}.yaml`);
      writeFileSync(script, `steps:\n  - send: {text: hi}\n  - sleep: ${sleep}\n`);
      const line = await refused(['tcp-client', '127.0.0.1', port(), '--script', script]);
      expect(line).toContain(`${script}:3:12`);
      expect(line).toContain(MAX);
    }
  });
});

describe('port 0 is never a destination', () => {
  it('resolve --server 127.0.0.1:0: a usage error, not an internal one', async () => {
    expect(await refused(['resolve', '192.0.2.1', '-t', 'PTR', '--server', '127.0.0.1:0']))
      .toBe("netnote: invalid --server '127.0.0.1:0': port 0 cannot be asked: give the port the server listens on (53 when none is given)");
  });
});

describe('--json: a command line that cannot run still ends the stream with its error event', () => {
  it.each([
    [['tcp-client', '127.0.0.1', 'abc'], 'client'],
    [['tcp-client', '127.0.0.1', '9', '-w', '1x'], 'client'],
    [['tcp-client', '127.0.0.1', '9', '--hex', 'zz'], 'client'],
    [['tcp-client', '127.0.0.1', '9', '--cout', '3'], 'client'],
    [['udp-client', '127.0.0.1'], 'client'],
    [['tcp-server', '127.0.0.1', 'nope'], 'server'],
    [['udp-server', '127.0.0.1', '0', '--every', '1s'], 'server'],
    [['resolve', '192.0.2.1', '--server', '127.0.0.1:0'], 'client'],
    [['bogus-command'], 'client'],
    [[], 'client'],
  ])('%j: one error event, valid against the schema, exit code 2 in it', async (args, role) => {
    const run = await runCli(['--json', ...args]);
    expect(run.code).toBe(2);
    const lines = run.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const event = JSON.parse(lines[0]!);
    expect(schemaErrors(event)).toBeNull();
    expect(event).toMatchObject({ event: 'error', role, code: 'usage', exitCode: 2 });
    expect(run.stderr).toContain(`netnote: ${event.message}\n`);
  });
});

describe('http-get: CR, LF and other control characters never reach the request', () => {
  it.each([
    [['--path', '/x\r\nInjected: 1'], "netnote: invalid --path '/x\\r\\nInjected: 1': a request path holds visible ASCII only: percent-encode the rest (%20 for a space, %0D%0A for CR LF)"],
    [['--path', '/a b'], "netnote: invalid --path '/a b': a request path holds visible ASCII only: percent-encode the rest (%20 for a space, %0D%0A for CR LF)"],
    [['-H', 'X-A: 1\r\nB: 2'], "netnote: invalid --header 'X-A: 1\\r\\nB: 2': a header holds no control characters (CR, LF…) and only latin1"],
    [['-H', 'X-A: \u0001'], "netnote: invalid --header 'X-A: \\x01': a header holds no control characters (CR, LF…) and only latin1"],
  ])('%j → exit 2 before connecting, the characters shown escaped', async (extra, message) => {
    expect(await refused(['http-get', '127.0.0.1', port(), ...extra])).toBe(message);
  });
});

describe('control characters are shown escaped in human lines, never sent to the terminal', () => {
  it('a bad value with a newline in it is still one error line', async () => {
    expect(await refused(['tcp-client', '127.0.0.1', '9', '-w', '1\n2'])).toBe("netnote: invalid --timeout '1\\n2': use a duration such as 500ms, 1s, 2m or 1m30s");
  });

  it("a server's status line and headers with C1 controls (CSI, NEL) and DEL", async () => {
    const evil = await rawServer(cleanups, (socket) => socket.once('data', () => {
      // obs-text (0x80-0xff) is legal in a reason phrase and a field value: node:http passes it on.
      socket.end(Buffer.from('HTTP/1.1 200 O\x9b31mK\r\nX-Evil: a\x85b\x9b2J\r\nContent-Length: 0\r\n\r\n', 'latin1'));
    }));
    const run = await runCli(['http-get', '127.0.0.1', String(evil)]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('[client] HTTP/1.1 200 O\\x9b31mK\n');
    expect(run.stdout).toContain('[client] X-Evil: a\\x85b\\x9b2J\n');
    expect(run.stdout).not.toMatch(/[\u0080-\u009f\u001b]/);
  });

  it('a regex with an ESC in it, in the mismatch line', async () => {
    const run = await runCli(['tcp-client', '127.0.0.1', port(), '-c', '1', '--data', 'OK\n', '--frame', 'line', '--expect-regex', '^\u001b\\[31m$', '-w', '1s']);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain("mismatch on reply 1: expected /^\\x1b\\[31m$/ (expect-regex), got b'OK\\n'");
    expect(run.stdout).not.toContain('\u001b');
  });
});

describe('a connection', () => {
  it('(the counting peer) took none of the refused command lines above', () => {
    // Each refusal checked it on its own; this only proves the peer counts: one real client.
    const before = counting.connections;
    return new Promise<void>((resolve) => {
      const socket = net.connect(counting.port, '127.0.0.1', () => {
        socket.destroy();
        setTimeout(() => {
          expect(counting.connections).toBe(before + 1);
          resolve();
        }, 100);
      });
    });
  });
});
