// The real OpenSSL peers of the TLS tests: `openssl s_server` on a free loopback port (its -rev
// mode answers each line reversed), and `openssl s_client` run to its end with some input.
import { spawn, type ChildProcess } from 'node:child_process';
import { freePort, killGroup, runPeer, type PeerRun } from './peers.js';

export interface SServer {
  port: number;
  /** What s_server printed so far (stdout and stderr). */
  output(): string;
  stop(): void;
}

/** `openssl s_server -accept 127.0.0.1:PORT ARGS`; resolves once it accepts connections. */
export async function startSServer(args: string[]): Promise<SServer> {
  const port = await freePort();
  const child: ChildProcess = spawn('openssl', ['s_server', '-accept', `127.0.0.1:${port}`, ...args], { stdio: ['pipe', 'pipe', 'pipe'], detached: true });
  let output = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const stop = () => killGroup(child);
  for (let i = 0; !/^ACCEPT$/m.test(output); i++) {
    if (child.exitCode !== null || i > 200) {
      stop();
      throw new Error(`openssl s_server did not start: ${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return { port, output: () => output, stop };
}

/** `openssl s_client -connect HOST:PORT ARGS` with `input` on stdin, to its end. */
export function sClient(peers: Set<ChildProcess>, target: string, args: string[], input = ''): Promise<PeerRun> {
  return runPeer(peers, 'openssl', ['s_client', '-connect', target, ...args], Buffer.from(input));
}
