import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startCli, type Finished, type Running } from './support/cli.js';
import { startSelfSignedServer, type TlsServer } from './support/http.js';
import { freePort, hasCommand } from './support/peers.js';

// docs/netnote.schema.json is the contract of --json: every line of real output of every command
// and mode must validate against it, and every event and summary it defines must show up in that
// output (a definition nothing produces is a documentation bug too).

interface Schema {
  properties: { event: { enum: string[] } };
  $defs: Record<string, unknown>;
}

const schema = JSON.parse(readFileSync(new URL('../docs/netnote.schema.json', import.meta.url), 'utf8')) as Schema;
const ajv = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true });
const validate = ajv.compile(schema);
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

async function server(args: string[]): Promise<Running & { port: number }> {
  const running = startCli(['--json', ...args], { timeoutMs: 60_000 });
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
    expect(stopped.code).toBe(0);
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
    expect((await echo.stop('SIGTERM')).code).toBe(0);

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

  describe.skipIf(!hasCommand('openssl'))(`http-get over https (Node https, self-signed certificate)${hasCommand('openssl') ? '' : ': skipped, openssl missing'}`, () => {
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
    expect([...seenEvents].sort()).toEqual([...schema.properties.event.enum].sort());
    expect([...seenSummaries].sort()).toEqual([...SUMMARY_KINDS].sort());
  });
});
