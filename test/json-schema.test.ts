import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ValidateFunction } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startCli, type Finished, type Running } from './support/cli.js';
import { trackResources } from './support/cleanup.js';
import { startSelfSignedServer, type TlsServer } from './support/http.js';
import { createNamespace, netnsUnavailable } from './support/netns.js';
import { commandMissing, freePort } from './support/peers.js';
import { needs } from './support/needs.js';
import { ajv, schema, validate } from './support/schema.js';

// docs/netnote.schema.json is the contract of --json: every line of real output of every command
// and mode must validate against it, and every event and summary it defines must show up in that
// output (a definition nothing produces is a documentation bug too).

const SUMMARY_KINDS = Object.keys(schema.$defs).filter((name) => name.startsWith('summary-'));
const summaryValidators = new Map<string, ValidateFunction>(SUMMARY_KINDS.map((kind) => [kind, ajv.getSchema(`urn:netnote:events:1#/$defs/${kind}`)!]));

const seenEvents = new Set<string>();
const seenSummaries = new Set<string>();

/** Validates every NDJSON line of a run and notes which events and summaries it had. */
function check(label: string, run: Pick<Finished, 'stdout'>): Array<Record<string, unknown>> {
  const lines = run.stdout.split('\n').filter(Boolean);
  expect(lines.length, label).toBeGreaterThan(0);
  return lines.map((line) => {
    const value = JSON.parse(line) as Record<string, unknown>;
    expect(validate(value), `${label}: ${line}\n${ajv.errorsText(validate.errors, { separator: '\n' })}`).toBe(true);
    seenEvents.add(value.event as string);
    if (value.event === 'summary') {
      const kinds = SUMMARY_KINDS.filter((kind) => summaryValidators.get(kind)!(value.summary));
      expect(kinds, `${label}: ${line}`).toHaveLength(1);
      seenSummaries.add(kinds[0]!);
    }
    return value;
  });
}

const { servers } = trackResources();
const dir = mkdtempSync(join(tmpdir(), 'netnote-json-schema-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A file in this test's temp dir, e.g. a script. */
function file(name: string, text = ''): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

/** Events of one kind in a run's output. */
function named(events: Array<Record<string, unknown>>, event: string): Array<Record<string, unknown>> {
  return events.filter((e) => e.event === event);
}

async function server(args: string[]): Promise<Running & { port: number }> {
  const running = startCli(['--json', ...args], { timeoutMs: 60_000 });
  servers.add(running);
  const match = await running.waitFor(/"event":"(?:listening|bound)".*?"port":(\d+)/);
  return Object.assign(running, { port: Number(match[1]) });
}

describe('--json output validates against docs/netnote.schema.json', () => {
  it('tcp-server and tcp-client: the note loop (by name, bound), a mismatch, --connections against --max-clients', async () => {
    const echo = await server(['tcp-server', '127.0.0.1', '0', '--max-clients', '1']);
    const port = String(echo.port);
    const loop = await runCli(['--json', 'tcp-client', 'localhost', port, '-c', '2', '-i', '0', '--bind', '127.0.0.1', '--verify-echo']);
    expect(loop.code).toBe(0);
    const loopEvents = check('tcp-client loop', loop);
    const events = loopEvents.map((e) => e.event);
    // The schema is exact: a field too many, one missing or an unknown event fails.
    const summary = loopEvents.at(-1) as { summary: { rttMs: Record<string, unknown> } };
    expect(validate(JSON.parse(JSON.stringify({ ...summary, summary: { ...summary.summary, rttMs: { ...summary.summary.rttMs, p999: undefined } } })))).toBe(false);
    expect(validate({ ...summary, extra: 1 })).toBe(false);
    expect(validate({ ...summary, event: 'bogus' })).toBe(false);
    expect(events).toEqual(expect.arrayContaining(['created', 'resolved', 'connecting', 'bound', 'connected', 'send', 'recv', 'round', 'closed', 'summary']));
    const mismatch = await runCli(['--json', 'tcp-client', '127.0.0.1', port, '-c', '1', '--data', 'AT', '--expect', 'OK']);
    expect(mismatch.code).toBe(1);
    expect(check('tcp-client --expect', mismatch).map((e) => e.event)).toContain('mismatch');
    const capacity = await runCli(['--json', 'tcp-client', '127.0.0.1', port, '--connections', '2', '--hold', '200ms']);
    expect(capacity.code).toBe(0);
    check('tcp-client --connections', capacity);
    // The port is held: a second server there ends with an error event (exit 7).
    const taken = await runCli(['--json', 'tcp-server', '127.0.0.1', port]);
    expect(taken.code).toBe(7);
    expect(check('tcp-server on a taken port', taken).at(-1)).toMatchObject({ event: 'error', code: 'bind', exitCode: 7 });
    const stopped = await echo.stop('SIGTERM');
    expect(stopped.code).toBe(143);
    expect(check('tcp-server', stopped).map((e) => e.event)).toEqual(expect.arrayContaining(['listening', 'accepted', 'rejected', 'recv', 'closed', 'summary']));
  }, 60_000);

  it('tcp-server --sink with --stream (intervals on both sides), and --max-in-flight warning then timing out', async () => {
    const sink = await server(['tcp-server', '127.0.0.1', '0', '--sink']);
    const port = String(sink.port);
    const stream = await runCli(['--json', 'tcp-client', '127.0.0.1', port, '--stream', '--duration', '1s']);
    expect(stream.code).toBe(0);
    expect(check('tcp-client --stream', stream).map((e) => e.event)).toContain('interval');
    const stalled = await runCli(['--json', 'tcp-client', '127.0.0.1', port, '--no-wait', '-i', '0', '-c', '5', '--max-in-flight', '2', '-w', '300ms']);
    expect(stalled.code).toBe(5);
    expect(check('tcp-client --max-in-flight', stalled).map((e) => e.event)).toContain('warning');
    const stopped = await sink.stop('SIGINT');
    expect(stopped.code).toBe(130);
    expect(check('tcp-server --sink', stopped).filter((e) => e.event === 'interval').length).toBeGreaterThan(0);
  }, 60_000);

  it('udp-server --max-size (truncated), udp-client --probe, and a datagram nobody answers', async () => {
    const echo = await server(['udp-server', '127.0.0.1', '0']);
    const probe = await runCli(['--json', 'udp-client', '127.0.0.1', String(echo.port), '--probe', '-c', '2', '-i', '0']);
    expect(probe.code).toBe(0);
    expect(check('udp-client --probe', probe).at(-1)).toMatchObject({ summary: { proto: 'udp', datagrams: { lost: 0 } } });
    expect((await echo.stop('SIGTERM')).code).toBe(143);

    const cutting = await server(['udp-server', '127.0.0.1', '0', '--max-size', '4']);
    const cut = await runCli(['--json', 'udp-client', '127.0.0.1', String(cutting.port), '-c', '1', '--data', '1234567890']);
    check('udp-client, reply cut by the server', cut);
    const stopped = await cutting.stop('SIGTERM');
    expect(check('udp-server --max-size', stopped).some((e) => e.event === 'recv' && e.truncatedFrom === 10)).toBe(true);

    const silent = createSocket('udp4');
    await new Promise<void>((resolve) => silent.bind(0, '127.0.0.1', resolve));
    try {
      const lost = await runCli(['--json', 'udp-client', '127.0.0.1', String(silent.address().port), '-c', '1', '-w', '100ms']);
      expect(lost.code).toBe(5);
      expect(check('udp-client, no reply', lost).map((e) => e.event)).toContain('no-reply');
    } finally {
      silent.close();
    }
  }, 60_000);

  it('UDP on a LAN: a wildcard udp-server (its sockets, the address each datagram went to), a broadcast and its responders, --one-way, --reverse, --stream --bidir', async () => {
    const wildcard = await server(['udp-server', '0.0.0.0', '0']);
    const port = String(wildcard.port);
    const broadcast = await runCli(['--json', 'udp-client', '127.255.255.255', port, '--broadcast', '-w', '300ms']);
    expect(broadcast.code, broadcast.stderr).toBe(0);
    expect(check('udp-client --broadcast', broadcast).at(-1)).toMatchObject({ summary: { cast: 'broadcast', responders: [{ replies: 1 }] } });
    const oneWay = await runCli(['--json', 'udp-client', '127.0.0.1', port, '--one-way', '-c', '3', '-i', '0']);
    expect(oneWay.code, oneWay.stderr).toBe(0);
    expect(check('udp-client --one-way', oneWay).at(-1)).toMatchObject({ summary: { oneWay: { direction: 'send', received: 3 } } });
    const reverse = await runCli(['--json', 'udp-client', '127.0.0.1', port, '--reverse', '-c', '3', '--rate', '100']);
    expect(reverse.code, reverse.stderr).toBe(0);
    expect(check('udp-client --reverse', reverse).at(-1)).toMatchObject({ summary: { oneWay: { direction: 'receive', received: 3 } } });
    await wildcard.waitFor(/"action":"reverse-end"/);
    const stopped = await wildcard.stop('SIGTERM');
    const served = check('udp-server 0.0.0.0', stopped);
    expect(served.some((e) => e.event === 'bound' && e.cast === 'broadcast')).toBe(true);
    expect(served.some((e) => e.event === 'recv' && e.cast === 'broadcast')).toBe(true);
    expect(served.map((e) => e.action).filter(Boolean)).toEqual(['report', 'reverse-start', 'reverse-end']);

    const echo = await server(['tcp-server', '127.0.0.1', '0']);
    const bidir = await runCli(['--json', 'tcp-client', '127.0.0.1', String(echo.port), '--stream', '--bidir', '--duration', '1200ms', '--bitrate', '8M']);
    expect(bidir.code, bidir.stderr).toBe(0);
    expect(check('tcp-client --stream --bidir', bidir).filter((e) => e.event === 'interval').map((e) => e.direction)).toEqual(['send', 'receive']);
    await echo.stop('SIGTERM');
  }, 60_000);

  it('a wildcard udp-server whose address comes and goes: bound (added), unbound (a namespace)', needs(netnsUnavailable), async () => {
    const ns = createNamespace();
    try {
      const running = startCli(['--json', 'udp-server', '0.0.0.0', '0'], { prefix: ns.prefix, timeoutMs: 30_000 });
      await running.waitFor(/"event":"bound"/);
      ns.run('ip', ['addr', 'add', '192.0.2.7/32', 'dev', 'lo']);
      await running.waitFor(/"added":true/);
      ns.run('ip', ['addr', 'del', '192.0.2.7/32', 'dev', 'lo']);
      await running.waitFor(/"event":"unbound"/);
      expect(check('udp-server 0.0.0.0, an address added and removed', await running.stop('SIGTERM')).map((e) => e.event)).toContain('unbound');
    } finally {
      ns.remove();
    }
  }, 30_000);

  it('demo tcp and demo udp: the client summary, then the server summary', async () => {
    for (const proto of ['tcp', 'udp']) {
      const demo = await runCli(['--json', 'demo', proto, '-c', '1', '-i', '0']);
      expect(demo.code).toBe(0);
      expect(check(`demo ${proto}`, demo).filter((e) => e.event === 'summary').map((e) => e.role)).toEqual(['client', 'server']);
    }
  }, 30_000);

  it('resolve, interfaces and route', async () => {
    for (const args of [['resolve', 'localhost', '80'], ['interfaces'], ['route', '127.0.0.1', '80']]) {
      const run = await runCli(['--json', ...args]);
      expect(run.code, run.stderr).toBe(0);
      check(args.join(' '), run);
    }
  });

  it('scripts: tcp-client --script against tcp-server --script (greeting, rule replies, echo, close by rule), a mismatch and a timeout at a step, a push, framing errors', async () => {
    const scripted = await server(['tcp-server', '127.0.0.1', '0', '--script', file('server.yaml', [
      'frame: line',
      'greeting: "HELLO\\n"',
      'rules:',
      '  - match: { regex: "^PING (\\\\d+)$" }',
      '    reply: "PONG {1}\\n"',
      '  - match: "BYE"',
      '    reply: "BYE\\n"',
      '    action: close',
      'default: echo',
    ].join('\n'))]);
    const port = String(scripted.port);
    const steps = await runCli(['--json', 'tcp-client', '127.0.0.1', port, '--script', file('client.yaml', [
      'frame: line',
      'steps:',
      '  - expect: "HELLO"',
      '    name: greeting',
      '  - repeat: 2',
      '    steps:',
      '      - send: "PING {seq}\\n"',
      '      - expect: { regex: "^PONG \\\\d+$" }',
      '  - send: "anything\\n"',
      '  - expect: { prefix: "any" }',
      '  - sleep: 10ms',
      '  - close',
    ].join('\n'))]);
    expect(steps.code, steps.stderr).toBe(0);
    const stepEvents = check('tcp-client --script', steps);
    expect(named(stepEvents, 'step').map((e) => `${e.step} ${e.name}${e.pass ? ` pass ${e.pass}` : ''}`)).toEqual([
      '1 expect', '2 repeat', '2.1 send pass 1', '2.2 expect pass 1', '2 repeat', '2.1 send pass 2', '2.2 expect pass 2', '3 send', '4 expect', '5 sleep', '6 close',
    ]);
    expect(named(stepEvents, 'step')[0]).toMatchObject({ label: 'greeting', data: { text: "b'HELLO\\n'" } });
    expect(named(stepEvents, 'send').map((e) => e.step)).toEqual(['2.1', '2.1', '3']);
    expect(stepEvents.at(-1)).toMatchObject({ summary: { rounds: null, received: { messages: 4 }, tls: null, script: { steps: 10, failedStep: null } } });

    const mismatch = await runCli(['--json', 'tcp-client', '127.0.0.1', port, '--script', file('wrong.yaml', [
      'frame: line',
      'steps:',
      '  - repeat: 1',
      '    steps:',
      '      - expect: { prefix: "WELCOME" }',
      '        name: banner',
    ].join('\n'))]);
    expect(mismatch.code).toBe(1);
    expect(named(check('tcp-client --script, a mismatch', mismatch), 'mismatch')).toEqual([expect.objectContaining({
      step: '1.1', label: 'banner', pass: 1, check: 'expect-prefix', got: expect.objectContaining({ text: "b'HELLO\\n'" }),
    })]);

    const timeout = await runCli(['--json', 'tcp-client', '127.0.0.1', port, '--script', file('silent.yaml', 'frame: line\nsteps:\n  - expect: "HELLO"\n  - expect: { text: "NEVER", timeout: 150ms }\n')]);
    expect(timeout.code).toBe(5);
    const timedOut = check('tcp-client --script, an expect timing out', timeout);
    expect(named(timedOut, 'step').at(-1)).toMatchObject({ step: '2', name: 'expect', timedOut: true, ms: 150 });
    expect(timedOut.at(-1)).toMatchObject({ summary: { ended: 'timeout', script: { failedStep: '2' } }, error: { code: 'timeout' } });

    // A rule that closes the connection; a reply the client's length framing never completes.
    const bye = await runCli(['--json', 'tcp-client', '127.0.0.1', port, '--script', file('bye.yaml', 'frame: line\nsteps:\n  - expect: "HELLO"\n  - send: "BYE\\n"\n  - expect: "BYE"\n')]);
    expect(bye.code, bye.stderr).toBe(0);
    check('tcp-client --script, closed by a rule with action: close', bye);
    const partial = await runCli(['--json', 'tcp-client', '127.0.0.1', port, '--hex', '0005610a', '--frame', 'length:u16be', '-c', '1', '-w', '300ms']);
    expect(partial.code).toBe(5);
    expect(named(check('tcp-client --frame, a reply never complete', partial), 'frame-error')).toEqual([expect.objectContaining({ role: 'client', frame: 'length:u16be', remote: expect.anything() })]);

    const stopped = check('tcp-server --script', await scripted.stop('SIGTERM'));
    const answers = named(stopped, 'send');
    expect(answers.map((e) => e.answer)).toEqual(expect.arrayContaining(['greeting', 'reply', 'echo']));
    const reply = answers.find((e) => e.answer === 'reply')!;
    expect(reply).toMatchObject({ rule: 1, client: 1, remote: expect.anything() });
    // Exact here too: a server's answer says why it was sent, a client's send does not.
    const without = (e: Record<string, unknown>, ...fields: string[]) => Object.fromEntries(Object.entries(e).filter(([key]) => !fields.includes(key)));
    expect(validate(without({ ...reply, role: 'client' }, 'answer', 'rule', 'client'))).toBe(true);
    expect(validate(without(reply, 'answer'))).toBe(false);
    expect(validate({ ...reply, role: 'client' })).toBe(false);
    expect(named(stopped, 'closed').map((e) => e.reason)).toContain('script-close');

    const pushing = await server(['tcp-server', '127.0.0.1', '0', '--frame', 'line', '--push-hex', '5449434b0a', '--every', '100ms']);
    const pushed = await runCli(['--json', 'tcp-client', '127.0.0.1', String(pushing.port), '--script', file('push.yaml', 'frame: line\nsteps:\n  - expect: "TICK"\n  - close\n')]);
    expect(pushed.code, pushed.stderr).toBe(0);
    check('tcp-client --script, a push', pushed);
    expect(named(check('tcp-server --push', await pushing.stop('SIGTERM')), 'send')[0]).toMatchObject({ answer: 'push', client: 1 });

    const framed = await server(['tcp-server', '127.0.0.1', '0', '--frame', 'length:u32be']);
    const tooLong = await runCli(['--json', 'tcp-client', '127.0.0.1', String(framed.port), '--hex', 'ffffffff0102', '-c', '1', '-w', '2s']);
    check('tcp-client, its message refused by the server', tooLong);
    const framing = check('tcp-server --frame, a length over the limit', await framed.stop('SIGTERM'));
    expect(named(framing, 'frame-error')).toEqual([expect.objectContaining({ role: 'server', client: 1, frame: 'length:u32be', buffered: expect.objectContaining({ bytes: 6 }) })]);
    expect(named(framing, 'closed').map((e) => e.reason)).toEqual(['framing']);
  }, 60_000);

  it('udp-client --script against udp-server --reply', async () => {
    const replying = await server(['udp-server', '127.0.0.1', '0', '--reply', 'OK']);
    const run = await runCli(['--json', 'udp-client', '127.0.0.1', String(replying.port), '--script', file('udp.yaml', 'steps:\n  - send: "AT"\n  - expect: "OK"\n')]);
    expect(run.code, run.stderr).toBe(0);
    expect(check('udp-client --script', run).at(-1)).toMatchObject({ summary: { proto: 'udp', datagrams: null, tls: null, script: { steps: 2, failedStep: null } } });
    const answers = named(check('udp-server --reply', await replying.stop('SIGTERM')), 'send');
    expect(answers).toEqual([expect.objectContaining({ answer: 'reply', remote: expect.anything() })]);
    expect(answers[0]).not.toHaveProperty('rule');
  }, 30_000);

  it('TLS: tcp-server --tls --self-signed (its certificate, each client\'s session, a plain client failing), tcp-client --tls trusting it or not, --stream over TLS', async () => {
    const saved = join(dir, 'server.pem');
    const secure = await server(['tcp-server', '127.0.0.1', '0', '--tls', '--self-signed', '--save-cert', saved]);
    const port = String(secure.port);
    const trusted = await runCli(['--json', 'tcp-client', '127.0.0.1', port, '--tls', '--ca', saved, '-c', '1']);
    expect(trusted.code, trusted.stderr).toBe(0);
    const trustedEvents = check('tcp-client --tls --ca', trusted);
    expect(named(trustedEvents, 'tls')).toEqual([expect.objectContaining({ role: 'client', authorized: true, failure: null, enforced: true, san: expect.arrayContaining(['IP:127.0.0.1']) })]);
    expect(trustedEvents.at(-1)).toMatchObject({ summary: { tls: { authorized: true, resumed: false } } });
    const refused = await runCli(['--json', 'tcp-client', '127.0.0.1', port, '--tls', '-c', '1']);
    expect(refused.code).toBe(4);
    expect(check('tcp-client --tls, the certificate refused', refused).at(-1)).toMatchObject({ summary: { ended: 'tls-failed' }, error: { code: 'tls' } });
    const plain = await runCli(['--json', 'tcp-client', '127.0.0.1', port, '-c', '1', '-w', '2s']);
    expect(plain.code).not.toBe(0);
    check('tcp-client without TLS against a TLS server', plain);
    await secure.waitFor(/"event":"tls-failed"/);
    const served = check('tcp-server --tls', await secure.stop('SIGTERM'));
    expect(named(served, 'certificate')).toEqual([expect.objectContaining({ selfSigned: true, keyType: 'ECDSA P-256', savedTo: saved, keySavedTo: null })]);
    expect(named(served, 'tls')[0]).toMatchObject({ role: 'server', remote: { address: '127.0.0.1' }, subject: null, enforced: false });
    // The client that refused the certificate may close before its Finished reached the server.
    const failed = named(served, 'tls-failed');
    expect(failed.at(-1)).toMatchObject({ role: 'server', remote: { address: '127.0.0.1' }, code: expect.stringMatching(/^ERR_SSL_/) });
    const { tls } = (served.at(-1) as { summary: { tls: { handshakes: number; failed: number; resumed: number } } }).summary;
    expect({ ...tls, total: tls.handshakes + tls.failed }).toEqual({ handshakes: 3 - failed.length, failed: failed.length, resumed: 0, total: 3 });

    const sink = await server(['tcp-server', '127.0.0.1', '0', '--tls', '--self-signed', '--sink']);
    const stream = await runCli(['--json', '--quiet', 'tcp-client', '127.0.0.1', String(sink.port), '--tls', '-k', '--stream', '--duration', '300ms']);
    expect(stream.code, stream.stderr).toBe(0);
    expect(check('tcp-client --tls --stream', stream).at(-1)).toMatchObject({ summary: { proto: 'tcp-stream', tls: { failure: 'self-signed', enforced: false } } });
    check('tcp-server --tls --sink', await sink.stop('SIGTERM'));
  }, 60_000);

  describe('http-get over https (Node https, self-signed certificate)', needs(commandMissing('openssl', 'openssl')), () => {
    let tls: TlsServer | undefined;

    beforeAll(async () => {
      tls = await startSelfSignedServer((_req, res) => res.end('netnote\n'));
    }, 15_000);
    afterAll(() => tls?.close());

    it('tls, response and the http summary', async () => {
      const run = await runCli(['--json', 'http-get', `https://127.0.0.1:${tls!.port}/`, '-k']);
      expect(run.code).toBe(0);
      expect(check('http-get https', run).map((e) => e.event)).toEqual(expect.arrayContaining(['tls', 'response', 'summary']));
    });
  });

  it('links that live for days: --keepalive, --heartbeat, --reconnect against --drop-after, --wait-for', async () => {
    const echo = await server(['tcp-server', '127.0.0.1', '0', '--keepalive', '30s', '--drop-after', '700ms', '--drop-mode', 'reset']);
    const late = await freePort();
    const waiting = startCli(['--json', 'tcp-client', '127.0.0.1', String(late), '-c', '1', '--wait-for', '10s'], { timeoutMs: 20_000 });
    let lateServer: Awaited<ReturnType<typeof server>> | undefined;
    try {
      const port = String(echo.port);
      const client = await runCli(['--json', 'tcp-client', '127.0.0.1', port, '-c', '4', '-i', '400ms', '--keepalive', '60s', '--heartbeat', '250ms',
        '--heartbeat-data', 'HB', '--heartbeat-expect', 'HB', '--reconnect', '--backoff', '100ms'], { timeoutMs: 20_000 });
      expect(client.code, client.stderr).toBe(0);
      expect(check('tcp-client --keepalive --heartbeat --reconnect', client).map((e) => e.event)).toEqual(expect.arrayContaining(['keepalive', 'lost', 'reconnecting', 'reconnected']));
      const wrong = await runCli(['--json', 'tcp-client', '127.0.0.1', port, '-c', '2', '-i', '400ms', '--heartbeat', '250ms', '--heartbeat-data', 'HB', '--heartbeat-expect', 'OK']);
      expect(wrong.code).toBe(1);
      expect(check('tcp-client --heartbeat-expect, a wrong answer', wrong).find((e) => e.event === 'mismatch')).toMatchObject({ check: 'heartbeat-expect' });
      const gaveUp = await runCli(['--json', 'tcp-client', '127.0.0.1', String(await freePort()), '-c', '1', '--wait-for', '600ms']);
      expect(gaveUp.code).toBe(5);
      expect(check('tcp-client --wait-for, nothing there', gaveUp).map((e) => e.event)).toContain('waiting');
      const stopped = await echo.stop('SIGTERM');
      expect(check('tcp-server --keepalive --drop-after', stopped).map((e) => e.event)).toEqual(expect.arrayContaining(['keepalive', 'dropped', 'lost']));
      // A server that comes up late: waited.
      await waiting.waitFor(/"event":"waiting"/);
      lateServer = await server(['tcp-server', '127.0.0.1', String(late)]);
      const answered = await waiting.finished;
      expect(answered.code).toBe(0);
      expect(check('tcp-client --wait-for, a server started late', answered).map((e) => e.event)).toContain('waited');
    } finally {
      await Promise.all([echo.stop('SIGKILL'), waiting.stop('SIGKILL'), lateServer?.stop('SIGTERM')]);
    }
  }, 40_000);

  it('idle-timeout (the search and --verify) against a netnote server; --report-every on a server and a client', async () => {
    const echo = await server(['tcp-server', '127.0.0.1', '0', '--report-every', '300ms']);
    try {
      const port = String(echo.port);
      const search = await runCli(['--json', 'idle-timeout', '127.0.0.1', port, '--max', '2s', '-w', '500ms'], { timeoutMs: 20_000 });
      expect(search.code, search.stderr).toBe(0);
      expect(check('idle-timeout', search).map((e) => e.event)).toEqual(expect.arrayContaining(['idle-start', 'idle-round', 'trial', 'summary']));
      const verify = await runCli(['--json', 'idle-timeout', '127.0.0.1', port, '--verify', '500ms', '--hold', '1s', '-w', '500ms'], { timeoutMs: 20_000 });
      expect(verify.code, verify.stderr).toBe(0);
      check('idle-timeout --verify', verify);
      const interim = await runCli(['--json', 'tcp-client', '127.0.0.1', port, '-c', '3', '-i', '250ms', '--report-every', '300ms'], { timeoutMs: 20_000 });
      expect(check('tcp-client --report-every', interim).map((e) => e.event)).toContain('interim');
      const stopped = await echo.stop('SIGTERM');
      expect(check('tcp-server --report-every', stopped).map((e) => e.event)).toContain('interim');
    } finally {
      await echo.stop('SIGKILL');
    }
  }, 40_000);

  it('every event and every summary the schema defines came up in the output above', () => {
    // Without namespaces no address can come and go here.
    const expected = schema.properties.event.enum.filter((event) => netnsUnavailable === null || event !== 'unbound');
    expect([...seenEvents].sort()).toEqual([...expected].sort());
    expect([...seenSummaries].sort()).toEqual([...SUMMARY_KINDS].sort());
  });
});
