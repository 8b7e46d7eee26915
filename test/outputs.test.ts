// Output that cannot be written is an error of its own (exit 8), named, whatever the output:
// stdout, --output, --report, --junit, --log. The failures are real: /dev/full (ENOSPC), a write to
// /proc/version (EIO, even as root), a directory of nobody's that root without CAP_DAC_OVERRIDE
// may not write (EACCES). Only EPIPE on stdout (`| head`) is a quiet stop; a FIFO waits for its
// reader, as long as no signal comes.
import { chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli, saveRun, startCli } from './support/cli.js';
import { trackResources } from './support/cleanup.js';
import { needs } from './support/needs.js';
import { nginxUnavailable, startNginx } from './support/nginx.js';
import { commandMissing } from './support/peers.js';

const { servers, cleanups } = trackResources();
const dir = mkdtempSync(join(tmpdir(), 'netnote-outputs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs netnote with its stdout sent to `target` by the shell, as `netnote … > target` would. */
const into = (target: string) => ({ prefix: ['sh', '-c', `exec "$0" "$@" > ${target}`], timeoutMs: 20_000 });

const FULL = 'netnote: cannot write stdout: no space left on the device (ENOSPC)\nnetnote: hint: free some space, or write somewhere else\n';

describe('stdout that cannot be written: exit 8, said on stderr', () => {
  it('netnote --json demo -c 1 -i 0 > /dev/full', async () => {
    const run = await runCli(['--json', 'demo', '-c', '1', '-i', '0'], into('/dev/full'));
    expect(run.stderr).toBe(FULL);
    expect(run.code).toBe(8);
  });

  it('the human lines, --version and help too', async () => {
    for (const args of [['demo', '-c', '1', '-i', '0'], ['--version'], ['help', 'json'], ['completion', 'bash']]) {
      const run = await runCli(args, into('/dev/full'));
      expect(run.stderr, args.join(' ')).toBe(FULL);
      expect(run.code, args.join(' ')).toBe(8);
    }
  });

  it('a server whose log cannot be written stops at once instead of serving unseen', async () => {
    const run = await runCli(['tcp-server', '127.0.0.1', '0'], into('/dev/full'));
    expect(run.stderr).toBe(FULL);
    expect(run.code).toBe(8);
  });

  it('its --junit file says so too: the summary it records carries exit 8', async () => {
    const junit = join(dir, 'full.xml');
    const run = await runCli(['--junit', junit, 'demo', '-c', '1', '-i', '0'], into('/dev/full'));
    expect(run.code).toBe(8);
    expect(readFileSync(junit, 'utf8')).toMatch(/<error type="output" message="cannot write stdout: no space left on the device \(ENOSPC\)">/);
  });

  it('EPIPE is a quiet stop: a reader that took what it wanted leaves the run its own exit code', async () => {
    const run = startCli(['--json', 'demo', '-c', '3', '-i', '100ms'], { timeoutMs: 20_000 });
    servers.add(run);
    await run.waitFor(/"event":"created"/);
    run.proc.stdout.destroy();
    const finished = await run.finished;
    expect(finished.stderr).toBe('');
    expect(finished.code).toBe(0);
  });
});

describe('files named on the command line: exit 8, the file and the reason named', () => {
  it('--junit on /proc/version: EIO when the run has its summary; the --json summary carries 8', async () => {
    const run = await runCli(['--json', '--junit', '/proc/version', 'demo', '-c', '1', '-i', '0'], { timeoutMs: 20_000 });
    expect(run.stderr).toBe('netnote: cannot write --junit /proc/version: input/output error (EIO)\n');
    expect(run.code).toBe(8);
    const summaries = run.stdout.trim().split('\n').map((line) => JSON.parse(line)).filter((e) => e.event === 'summary');
    expect(summaries.map((s) => s.exitCode)).toEqual([8, 8]);
    expect(summaries[0].error).toEqual({ code: 'output', message: 'cannot write --junit /proc/version: input/output error (EIO)' });
  });

  it('--log on /dev/full: the run goes on to its summary on stdout, then exit 8 with the log named', async () => {
    const run = await runCli(['--json', '--log', '/dev/full', 'demo', '-c', '2', '-i', '0']);
    expect(run.stderr).toBe('netnote: cannot write --log /dev/full: no space left on the device (ENOSPC)\nnetnote: hint: free some space, or write somewhere else\n');
    expect(run.code).toBe(8);
    const summaries = run.stdout.trim().split('\n').map((line) => JSON.parse(line)).filter((e) => e.event === 'summary');
    expect(summaries.length).toBeGreaterThan(0);
    for (const summary of summaries) expect(summary).toMatchObject({ exitCode: 8, error: { code: 'output' } });
  });

  it('--report on /dev/full: ENOSPC', async () => {
    const run = await runCli(['--report', '/dev/full', 'demo', '-c', '1', '-i', '0'], { timeoutMs: 20_000 });
    expect(run.stderr).toBe('netnote: cannot write --report /dev/full: no space left on the device (ENOSPC)\nnetnote: hint: free some space, or write somewhere else\n');
    expect(run.code).toBe(8);
  });

  it('a directory the user may not write: EACCES, before the run starts, and an error event under --json', needs(commandMissing('setpriv', 'util-linux')), async () => {
    const locked = join(dir, 'locked');
    mkdirSync(locked, { mode: 0o755 });
    chownSync(locked, 65534, 65534);
    // Root without the capabilities that let it ignore permissions: the directory is nobody's.
    // (Running as nobody would need the checkout, which mktemp -d makes private, to be readable.)
    const run = await runCli(['--json', '--junit', join(locked, 'run.xml'), 'demo', '-c', '1', '-i', '0'], { prefix: ['setpriv', '--bounding-set=-dac_override,-dac_read_search', '--'] });
    expect(run.stderr).toBe(`netnote: cannot write --junit ${locked}/run.xml: permission denied (EACCES)\n`);
    expect(run.code).toBe(8);
    expect(JSON.parse(run.stdout)).toMatchObject({ event: 'error', code: 'output', exitCode: 8 });
  });

  it('a FIFO: the run waits for its reader, as `> fifo` does, and a signal stops the wait', async () => {
    const fifo = join(dir, 'nobody-reads');
    execFileSync('mkfifo', [fifo]);
    const waiting = startCli(['--json', '--report', fifo, 'demo', '-c', '1', '-i', '0'], { timeoutMs: 10_000 });
    servers.add(waiting);
    // Long enough for many tries at the FIFO: each must leave no listener behind (Node warns past 10).
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(waiting.stdout()).toBe('');
    const stopped = await waiting.stop('SIGTERM');
    expect(stopped.stderr).toBe(`netnote: terminated (SIGTERM) while waiting for a reader of --report ${fifo}\n`);
    expect(stopped.code).toBe(143);
    expect(JSON.parse(stopped.stdout)).toMatchObject({ event: 'error', code: 'terminated', exitCode: 143 });
  });

  it('--log FIFO whose reader (cat) opened first: every run\'s lines reach it, 40 runs, 10 at a time', async () => {
    // netnote tries the FIFO without blocking before it opens it: the reader must never see that
    // try close (an end of stream for cat, then a run that blocks in open() or writes into EPIPE).
    const failed: string[] = [];
    for (let batch = 0; batch < 4; batch++) {
      await Promise.all(Array.from({ length: 10 }, async (_, i) => {
        const fifo = join(dir, `reader-first-${batch}-${i}`);
        execFileSync('mkfifo', [fifo]);
        const reader = promisify(execFile)('cat', [fifo], { encoding: 'utf8', timeout: 20_000 });
        await new Promise((resolve) => setTimeout(resolve, 100)); // cat is in its open() by now
        const run = await runCli(['--log', fifo, 'demo', '-c', '1', '-i', '0'], { timeoutMs: 15_000 });
        const { stdout } = await reader.catch((err: { stdout: string }) => err);
        if (run.code !== 0 || !stdout.includes('[client] ended: completed')) failed.push(`${fifo}: exit ${run.code}, ${run.stderr.trim()}, cat read ${stdout.length} bytes`);
      }));
    }
    expect(failed).toEqual([]);
  }, 120_000);

  it('--log FIFO: the run waits for its reader too, then the log gets every line (appended, as --log does)', async () => {
    const fifo = join(dir, 'log-fifo');
    execFileSync('mkfifo', [fifo]);
    const waiting = startCli(['--log', fifo, 'demo', '-c', '1', '-i', '0'], { timeoutMs: 10_000 });
    servers.add(waiting);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(waiting.stdout()).toBe('');
    // cat opens the FIFO: the run starts, and what it logs comes out of cat.
    const { stdout: reader } = await promisify(execFile)('cat', [fifo], { encoding: 'utf8', timeout: 10_000 });
    const finished = await waiting.finished;
    expect(finished.code).toBe(0);
    expect(reader).toMatch(/^\S+Z \[server\] socket object created\.\n/);
    expect(reader).toContain('[client] ended: completed');

    const stopped = startCli(['--log', fifo, 'demo', '-c', '1', '-i', '0'], { timeoutMs: 10_000 });
    servers.add(stopped);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const interrupted = await stopped.stop('SIGINT');
    expect(interrupted.stderr).toBe(`netnote: interrupted while waiting for a reader of --log ${fifo}\n`);
    expect(interrupted.code).toBe(130);
  });

  it('report -o /dev/full', async () => {
    const saved = await saveRun(join(dir, 'demo.ndjson'), ['demo', '-c', '1', '-i', '0']);
    const run = await runCli(['report', saved, '-o', '/dev/full']);
    expect(run.stderr).toMatch(/^netnote: cannot write --output \/dev\/full: no space left on the device \(ENOSPC\)\n/);
    expect(run.code).toBe(8);
  });

  it('http-get -o /dev/full of a small body: the failed write after the download settled still counts', needs(nginxUnavailable), async () => {
    const nginx = await startNginx({ files: { 'small.txt': 'hello\n' } });
    cleanups.push(() => nginx.stop());
    const run = await runCli(['--json', 'http-get', `http://127.0.0.1:${nginx.port}/small.txt`, '-o', '/dev/full'], { timeoutMs: 20_000 });
    expect(run.stderr).toMatch(/^netnote: cannot write --output \/dev\/full: no space left on the device \(ENOSPC\)\n/);
    expect(run.code).toBe(8);
    expect(JSON.parse(run.stdout.trim().split('\n').at(-1)!)).toMatchObject({ event: 'summary', exitCode: 8, error: { code: 'output' } });
    const saved = join(dir, 'small.txt');
    writeFileSync(saved, '');
    expect((await runCli(['http-get', `http://127.0.0.1:${nginx.port}/small.txt`, '-o', saved])).code).toBe(0);
    expect(readFileSync(saved, 'utf8')).toBe('hello\n');
  });
});
