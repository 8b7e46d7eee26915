// The bad-input campaign, as properties: for every command, generated command lines (test/fuzz/
// arbitraries.ts) must each end with a documented exit code, at most one `netnote:` error line
// (and a hint) on stderr, no stack trace, no `internal error`, no raw control character in a
// human line, and under --json only valid JSON lines, each valid against docs/netnote.schema.json,
// the last a `summary` or an `error` event carrying the process's exit code. A run still going
// after RUN_MS gets SIGINT, and must then end at once with its summary: signals are part of it.
//
// Everything runs in a network namespace of its own, whose resolver is a dnsmasq that knows
// gw.lan and refuses the rest: no generated name ever leaves the machine.
//
// npm test runs a short budget (FUZZ_RUNS per command, default 6, one fixed seed); `npm run
// fuzz` a long one (FUZZ_RUNS=400, a new seed each time: FUZZ_SEED=N repeats one), and prints how
// the runs ended per command (FUZZ_WHY=1: the first line of every usage error too).
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCli, type Finished, type Running } from '../support/cli.js';
import { dnsmasqUnavailable, startDnsmasq, type Dnsmasq } from '../support/dns.js';
import { needs } from '../support/needs.js';
import { createNamespace, netnsUnavailable, useResolvConf, type Namespace } from '../support/netns.js';
import { schemaErrors } from '../support/schema.js';
import { COMMANDS, commandLine, type Targets } from './arbitraries.js';

const RUNS = Number(process.env.FUZZ_RUNS ?? 6);
const SEED = process.env.FUZZ_SEED === undefined ? (process.env.FUZZ_RUNS ? Date.now() % 2 ** 31 : 14) : Number(process.env.FUZZ_SEED);
/** A run still going after this gets SIGINT; it must end within STOP_MS of it. */
const RUN_MS = 700;
const STOP_MS = 5000;
/** Processes at once: the machine has two cores and other work. */
const AT_ONCE = 4;

const DOCUMENTED = new Set([0, 1, 2, 3, 4, 5, 6, 7, 8, 129, 130, 143]);
/** A line's --timestamps stamp: iso or elapsed (report/stamp.ts). */
const STAMP = /^(\d{4}-\d\d-\d\dT[\d:.]+Z|\+\d+\.\d{3}s) /;

/** How the runs ended, per command: printed after a long budget, for the campaign's report. */
const tally = new Map<string, Map<string, number>>();
function count(name: string, finished: Finished & { interrupted: boolean }): void {
  const outcome = finished.signal ? `signal ${finished.signal}` : `exit ${finished.code}${finished.interrupted ? ' (SIGINT sent)' : ''}`;
  if (process.env.FUZZ_WHY && finished.code === 2) console.log(`why: ${finished.stderr.split('\n')[0]!.replace(/'[^']*'/g, "'…'").slice(0, 90)}`);
  const mine = tally.get(name) ?? new Map<string, number>();
  mine.set(outcome, (mine.get(outcome) ?? 0) + 1);
  tally.set(name, mine);
}

let ns: Namespace;
let dir: string;
let targets: Targets;
const peers: Running[] = [];
let dnsmasq: Dnsmasq | undefined;

/** At most AT_ONCE netnote processes at a time, across every property. */
let running = 0;
const queue: Array<() => void> = [];
async function slot<T>(work: () => Promise<T>): Promise<T> {
  if (running >= AT_ONCE) await new Promise<void>((resolve) => queue.push(resolve));
  running++;
  try {
    return await work();
  } finally {
    running--;
    queue.shift()?.();
  }
}

/** A netnote server inside the namespace, for the clients to talk to; its port. */
async function peer(args: string[]): Promise<number> {
  const server = startCli(args, { prefix: ns.prefix });
  peers.push(server);
  return Number((await server.waitFor(/bind address: \S+, (\d+)\n/))[1]);
}

/** Runs one generated command line; SIGINT if it is still going after RUN_MS. */
function run(argv: string[]): Promise<Finished & { interrupted: boolean }> {
  return slot(async () => {
    // In the campaign's own directory: a generated relative path (-o, --save-cert…) is written there.
    const cli = startCli(argv, { prefix: ns.prefix, timeoutMs: RUN_MS + STOP_MS, cwd: dir });
    cli.proc.stdin.end(); // `--file -` reads an empty stdin
    let interrupted = false;
    const timer = setTimeout(() => {
      interrupted = true;
      cli.proc.kill('SIGINT');
    }, RUN_MS);
    const finished = await cli.finished;
    clearTimeout(timer);
    return { ...finished, interrupted };
  });
}

/** Every property the campaign checks of one finished run of command `name`; the message says which failed. */
function check(name: string, argv: string[], finished: Finished & { interrupted: boolean }): void {
  const label = `netnote ${argv.map((a) => JSON.stringify(a)).join(' ')}\nexit ${finished.code} (signal ${finished.signal}${finished.interrupted ? ', sent SIGINT' : ''})\nstdout:\n${finished.stdout.slice(-3000)}\nstderr:\n${finished.stderr}`;
  // A SIGINT while Node itself starts, before netnote runs at all, ends it as Node does.
  if (finished.interrupted && finished.signal === 'SIGINT' && finished.stdout === '' && finished.stderr === '') return;
  expect(finished.signal, `ended by a signal, not on its own: ${label}`).toBeNull();
  expect(DOCUMENTED.has(finished.code!), `undocumented exit code: ${label}`).toBe(true);
  expect(finished.stderr, `internal error: ${label}`).not.toMatch(/internal error|^\s+at |TimeoutOverflowWarning|\(node:\d+\)/m);
  // --timestamps stamps the final lines too: the line is what follows the stamp.
  const stderr = finished.stderr.split('\n').map((line) => line.replace(STAMP, ''));
  const errors = stderr.filter((line) => line.startsWith('netnote: ') && !line.startsWith('netnote: hint: '));
  // A file that could not be written while the run had failed anyway is said too (README: Exit codes).
  expect(errors.filter((line) => !/^netnote: cannot write --(report|junit|log) /.test(line)).length, `more than one error line: ${label}`).toBeLessThanOrEqual(1);
  expect(stderr.filter((line) => line.startsWith('netnote: hint: ')).length, `more than one hint: ${label}`).toBeLessThanOrEqual(errors.length);
  if (finished.code !== 0 && !finished.stderr.startsWith('Usage:')) expect(errors.length, `no error line for exit ${finished.code}: ${label}`).toBeGreaterThanOrEqual(1);
  // --json is asked for among the global options, before the command's name; help and completion
  // are not runs, but a command line they cannot take still ends with its error event.
  const notRun = (name === 'help' || name === 'completion') && finished.code === 0;
  const json = argv.slice(0, argv.indexOf(name)).includes('--json') && !notRun && !finished.stdout.startsWith('Usage:');
  if (!json) {
    // Human lines: control characters escaped, whatever a peer or the command line held.
    expect(finished.stdout, `a raw control character on stdout: ${label}`).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/);
    return;
  }
  // report writes its file and has no summary: a success says nothing.
  if (name === 'report' && finished.code === 0 && finished.stdout === '') return;
  const lines = finished.stdout.split('\n');
  expect(lines.pop(), `stdout does not end with a newline: ${label}`).toBe('');
  const events = lines.map((line) => {
    let event: Record<string, unknown>;
    expect(() => (event = JSON.parse(line)), `not JSON: ${line}\n${label}`).not.toThrow();
    expect(schemaErrors(event!), `against the schema: ${line}\n${label}`).toBeNull();
    return event!;
  });
  const last = events.at(-1);
  expect(last?.event === 'summary' || last?.event === 'error', `the stream does not end with a summary or an error: ${label}`).toBe(true);
  expect(last!.exitCode, `the last event's exit code is not the process's: ${label}`).toBe(finished.code);
}

describe('generated command lines, for every command', needs(netnsUnavailable, dnsmasqUnavailable), () => {
  beforeAll(async () => {
    ns = createNamespace();
    useResolvConf(ns, 'nameserver 127.0.0.1\n');
    dnsmasq = await startDnsmasq(ns, '127.0.0.1', ['--host-record=gw.lan,127.0.0.1', '--address=/nx.lan/']);
    dir = mkdtempSync(join(tmpdir(), 'netnote-fuzz-'));
    const file = (name: string, content: string) => {
      const path = join(dir, name);
      writeFileSync(path, content);
      return path;
    };
    const fifo = join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    mkdirSync(join(dir, 'a-dir'));
    const httpScript = file('http.yaml', 'rules:\n  - match: any\n    reply: "HTTP/1.1 200 OK\\r\\nContent-Length: 2\\r\\n\\r\\nok"\n    action: close\n');
    const [echoTcp, echoUdp, sinkTcp, httpTcp] = await Promise.all([
      peer(['--quiet', 'tcp-server', '127.0.0.1', '0']),
      peer(['--quiet', 'udp-server', '127.0.0.1', '0']),
      peer(['--quiet', 'tcp-server', '127.0.0.1', '0', '--sink']),
      peer(['--quiet', 'tcp-server', '127.0.0.1', '0', '--script', httpScript]),
    ]);
    const saved = join(dir, 'run.ndjson');
    const demo = startCli(['--json', 'demo', '-c', '2', '-i', '0'], { prefix: ns.prefix });
    writeFileSync(saved, (await demo.finished).stdout);
    targets = {
      echoTcp: echoTcp!, echoUdp: echoUdp!, sinkTcp: sinkTcp!, httpTcp: httpTcp!, closedPort: 9,
      files: {
        payload: file('payload.bin', 'AT+CSQ\r\n'),
        run: saved,
        clientScript: file('client.yaml', 'steps:\n  - send: {text: ping}\n  - expect: {text: ping, timeout: 200ms}\n'),
        serverScript: file('server.yaml', 'rules:\n  - match: {text: PING}\n    reply: PONG\ndefault: echo\n'),
        badScript: file('bad.yaml', 'steps:\n  - sned: {text: x}\n  - sleep: 600h\n'),
        fifo,
        dir: join(dir, 'a-dir'),
        out: join(dir, 'out.file'),
      },
    };
  }, 30_000);
  afterAll(async () => {
    if (process.env.FUZZ_RUNS) {
      for (const [name, outcomes] of tally) console.log(`${name}: ${[...outcomes].sort((a, b) => b[1] - a[1]).map(([o, n]) => `${o} ×${n}`).join(', ')}`);
      console.log(`seed ${SEED}`);
    }
    await Promise.all(peers.map((p) => p.stop('SIGKILL')));
    dnsmasq?.stop();
    ns?.remove();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  // Every command at once (each property's runs one after another), within AT_ONCE processes.
  it.concurrent.each(COMMANDS)('%s', async (name) => {
    await fc.assert(fc.asyncProperty(commandLine(targets, name), async (argv) => {
      const finished = await run(argv);
      count(name, finished);
      check(name, argv, finished);
    }), { numRuns: RUNS, seed: SEED, endOnFailure: process.env.FUZZ_RUNS === undefined, interruptAfterTimeLimit: process.env.FUZZ_RUNS ? undefined : 60_000 });
  }, process.env.FUZZ_RUNS ? 24 * 3600_000 : 120_000);
});
