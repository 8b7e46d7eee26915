// Files named on the command line may be FIFOs, pipes or devices (`--file <(…)`, `--script
// <(envsubst < t.yaml)`, `--ca <(vault read …)`): read as they come, by the event loop, so a
// signal still ends a run that waits on one (test/signals.test.ts). A FIFO nobody writes to is
// not read in a thread that would hold the process's exit.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli, startCli, startServer } from './support/cli.js';
import { trackResources } from './support/cleanup.js';

const { servers, peers } = trackResources();
const dir = mkdtempSync(join(tmpdir(), 'netnote-files-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A FIFO that a shell fills with `text` once someone opens it to read, as `<(printf …)` does. */
function fifoWith(name: string, text: string): string {
  const path = join(dir, name);
  execFileSync('mkfifo', [path]);
  const writer = spawn('sh', ['-c', `printf '%s' "$1" > "$0"`, path, text], { stdio: 'ignore', detached: true });
  peers.add(writer);
  return path;
}

describe('inputs that are FIFOs', () => {
  it('--file FIFO: the payload is what the writer wrote, sent once it closed', async () => {
    const echo = await startServer('tcp-server');
    servers.add(echo);
    const run = await runCli(['tcp-client', '127.0.0.1', String(echo.port), '-c', '1', '--verify-echo', '--file', fifoWith('payload', 'AT+CSQ')], { timeoutMs: 15_000 });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("[client] send data: b'AT+CSQ'\n");
  });

  it('--script FIFO (process substitution): the steps run', async () => {
    const echo = await startServer('tcp-server');
    servers.add(echo);
    const script = fifoWith('script.yaml', 'steps:\n  - send: {text: ping}\n  - expect: {text: ping}\n');
    const run = await runCli(['tcp-client', '127.0.0.1', String(echo.port), '--script', script], { timeoutMs: 15_000 });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/\[client\] step 2: expect met/);
  });

  it("a script's file: that is a FIFO is refused at once (it is read while the script compiles)", async () => {
    const fifo = join(dir, 'never-written');
    execFileSync('mkfifo', [fifo]);
    const script = join(dir, 'with-fifo.yaml');
    writeFileSync(script, `steps:\n  - send: {file: ${fifo}}\n`);
    const run = await runCli(['tcp-client', '127.0.0.1', '9', '--script', script], { timeoutMs: 10_000 });
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(`netnote: ${script}:2:11: steps[0].send: cannot read file ${fifo}: not a regular file\n`);
  });

  it('--file a directory: a usage error naming it', async () => {
    const run = await runCli(['tcp-client', '127.0.0.1', '9', '--file', dir]);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(`netnote: cannot read --file ${dir}: it is a directory\n`);
  });

  it('--file - with a stdin that never ends is stopped by Ctrl-C', async () => {
    const run = startCli(['--json', 'tcp-client', '127.0.0.1', '9', '--file', '-'], { timeoutMs: 15_000 });
    servers.add(run);
    run.proc.stdin.write('partial'); // and never closed
    await new Promise((resolve) => setTimeout(resolve, 500));
    const finished = await run.stop('SIGINT');
    expect(finished.code).toBe(130);
    expect(finished.stderr).toBe('netnote: interrupted while reading stdin\n');
  });
});
