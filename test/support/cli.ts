// Spawns the built CLI exactly as a user or a CI script would, and reads what it prints.
import { execFileSync, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const NETNOTE = fileURLToPath(new URL('../../bin/netnote', import.meta.url));

export interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  input?: string | Buffer;
  env?: NodeJS.ProcessEnv;
  /** Kill the process after this long (the test then sees the signal). */
  timeoutMs?: number;
  /** Runs the CLI through this command, e.g. `ip netns exec NAME`. */
  prefix?: string[];
  /** An installed netnote executable to run instead of the checkout's (npm package, standalone). */
  netnote?: string;
  /** The working directory, where relative paths on the command line land. */
  cwd?: string;
}

/** Runs `netnote ARGS` to completion. */
export function runCli(args: string[], options: RunOptions = {}): Promise<Finished> {
  const running = startCli(args, options);
  if (options.input !== undefined) running.proc.stdin.end(options.input);
  else running.proc.stdin.end();
  return running.finished;
}

export interface Running {
  proc: ChildProcessWithoutNullStreams;
  /** stdout so far. */
  stdout(): string;
  stderr(): string;
  /** Resolves with the first match of `pattern` in stdout, waiting for it to appear. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  finished: Promise<Finished>;
  /** Sends a signal and waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<Finished>;
}

export function startCli(args: string[], options: RunOptions = {}): Running {
  const cli = options.netnote ? [options.netnote] : [process.execPath, NETNOTE];
  const [command, ...rest] = [...(options.prefix ?? []), ...cli, ...args];
  const proc = spawn(command!, rest, {
    // A UTF-8 locale, whatever the machine's: lines are asserted with their ≈ and … (symbols.ts).
    env: { ...process.env, NO_COLOR: '1', LC_ALL: 'C.UTF-8', ...options.env },
    stdio: ['pipe', 'pipe', 'pipe'],
    cwd: options.cwd,
  });
  let out = '';
  let err = '';
  const watchers = new Set<() => void>();
  proc.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    out += chunk;
    for (const check of watchers) check();
  });
  proc.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    err += chunk;
  });
  const killer = options.timeoutMs ? setTimeout(() => proc.kill('SIGKILL'), options.timeoutMs) : undefined;
  const finished = new Promise<Finished>((resolve) => {
    proc.on('close', (code, signal) => {
      clearTimeout(killer);
      for (const check of watchers) check();
      resolve({ code, signal, stdout: out, stderr: err });
    });
  });
  let exited = false;
  void finished.then(() => (exited = true));

  const waitFor = (pattern: RegExp, timeoutMs = 10_000) =>
    new Promise<RegExpMatchArray>((resolve, reject) => {
      const timer = setTimeout(() => {
        watchers.delete(check);
        reject(new Error(`timed out waiting for ${pattern} in stdout:\n${out}\nstderr:\n${err}`));
      }, timeoutMs);
      function check() {
        const match = out.match(pattern);
        if (match) {
          clearTimeout(timer);
          watchers.delete(check);
          resolve(match);
        } else if (exited) {
          clearTimeout(timer);
          watchers.delete(check);
          reject(new Error(`exited before ${pattern} appeared; stdout:\n${out}\nstderr:\n${err}`));
        }
      }
      watchers.add(check);
      check();
    });

  return {
    proc,
    stdout: () => out,
    stderr: () => err,
    waitFor,
    finished,
    stop(signal = 'SIGINT') {
      if (!exited) proc.kill(signal);
      return finished;
    },
  };
}

/** A netnote server on 127.0.0.1 (or `host`) and a free port; resolves once it listens (TCP) or is bound (UDP). */
export async function startServer(command: 'tcp-server' | 'udp-server', extra: string[] = [], host = '127.0.0.1', options: RunOptions = {}): Promise<Running & { port: number }> {
  const running = startCli([command, host, '0', ...extra], options);
  const match = await running.waitFor(/bind address: \S+, (\d+)\n/);
  return Object.assign(running, { port: Number(match[1]) });
}

/** Replaces port numbers in the note's `host, port` pairs and `host:port` forms with PORT. */
export function maskPorts(text: string): string {
  return text
    .replace(/(\d+\.\d+\.\d+\.\d+|::1|\[::1\]), \d+/g, '$1, PORT')
    .replace(/(\d+\.\d+\.\d+\.\d+|\[::1\]):\d+/g, '$1:PORT');
}

/** Runs `netnote --json ARGS` to a clean end and saves its NDJSON in `path`, as a host of a fleet would. */
export async function saveRun(path: string, args: string[]): Promise<string> {
  const run = await runCli(['--json', ...args], { timeoutMs: 30_000 });
  if (run.code !== 0) throw new Error(`netnote --json ${args.join(' ')}: exit ${run.code}\n${run.stderr}`);
  writeFileSync(path, run.stdout);
  return path;
}

/**
 * Runs `netnote ARGS` on a real pseudo-terminal (script(1)), as a person's shell would, and
 * returns what the terminal showed, lines ending in LF. NO_COLOR, FORCE_COLOR and CI are unset:
 * chalk and ora take a terminal under CI=true for a CI log and would draw no colour and no spinner.
 */
export function runOnTerminal(args: string[], { env = {}, columns = 100 }: { env?: NodeJS.ProcessEnv; columns?: number } = {}): string {
  const { NO_COLOR, FORCE_COLOR, CI, ...plain } = process.env;
  const command = [process.execPath, NETNOTE, ...args].map((word) => `'${word}'`).join(' ');
  return execFileSync('script', ['-qec', `stty cols ${columns} rows 30; ${command}`, '/dev/null'], {
    encoding: 'utf8', env: { ...plain, LC_ALL: 'C.UTF-8', ...env }, timeout: 30_000,
  }).replace(/\r\n/g, '\n');
}
