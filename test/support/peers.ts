// Peers a test writes or starts: raw TCP servers, and real programs (nc, socat, ncat) fed a payload;
// and, for needs(), why a program or ::1 is missing on this machine.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import net from 'node:net';

/** A port nothing listens on: bound, then released. */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Resolves once something accepts connections on 127.0.0.1:`port` (a peer that prints nothing when ready). */
export async function untilListening(port: number, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const up = await new Promise<boolean>((resolve) => {
      const probe = net.connect(port, '127.0.0.1', () => {
        probe.destroy();
        resolve(true);
      });
      probe.on('error', () => resolve(false));
    });
    if (up) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${what} did not start listening on ${port}`);
}

/** A raw loopback server whose behaviour the test writes; its closer goes to `cleanups`. */
export async function rawServer(cleanups: Array<() => void>, onConnection: (socket: net.Socket) => void): Promise<number> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
    onConnection(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => {
    for (const s of sockets) s.destroy();
    server.close();
  });
  return (server.address() as net.AddressInfo).port;
}

/** Kills a peer and whatever it forked (socat and ncat fork a child per client). */
export function killGroup(child: ChildProcess): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    child.kill('SIGKILL');
  }
}

export interface PeerRun {
  code: number | null;
  stdout: Buffer;
  stderr: string;
}

/**
 * Runs a peer program in a process group of its own with `input` on its stdin, to its exit; it
 * is added to `peers` so the test's cleanup can kill the group if the test ends first.
 */
export function runPeer(peers: Set<ChildProcess>, command: string, args: string[], input: Buffer, timeoutMs = 10_000): Promise<PeerRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    peers.add(child);
    const out: Buffer[] = [];
    let err = '';
    const timer = setTimeout(() => {
      killGroup(child);
      reject(new Error(`${command} ${args.join(' ')} still running after ${timeoutMs} ms; stderr: ${err}`));
    }, timeoutMs);
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: Buffer.concat(out), stderr: err });
    });
    child.stdin.on('error', () => {}); // a peer that exits early must fail the assertions, not crash the run
    child.stdin.end(input);
  });
}

export function hasCommand(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`]).status === 0;
}

/** Why `command` cannot be run here, naming the Debian package that has it; null when it can. */
export function commandMissing(command: string, debianPackage: string): string | null {
  return hasCommand(command) ? null : `${command} missing (apt-get install ${debianPackage})`;
}

/**
 * Why ::1 cannot be used here, or null when the loopback has it: the kernel's list of IPv6
 * addresses (absent when IPv6 is off) holds ::1 on lo.
 */
export const ipv6LoopbackMissing: string | null = (() => {
  const list = existsSync('/proc/net/if_inet6') ? readFileSync('/proc/net/if_inet6', 'utf8') : '';
  return /^0{31}1 .* lo$/m.test(list) ? null : '::1 is not configured on this host\'s loopback';
})();

function answers(command: string, args: string[], mustSay: RegExp): boolean {
  const result = spawnSync(command, args, { encoding: 'utf8', timeout: 5000 });
  return !result.error && mustSay.test(`${result.stdout}${result.stderr}`);
}

/**
 * The real peers found on this machine (CI installs them all); `missing` says for each absent one
 * why, with its package, for needs().
 */
export function findPeers(): {
  OPENBSD_NC: string | null; SOCAT: string | null; NCAT: string | null;
  missing: { nc: string | null; socat: string | null; ncat: string | null };
} {
  // OpenBSD netcat: only it has -N (shut down the write side after stdin EOF).
  const OPENBSD_NC = ['nc.openbsd', 'nc'].find((name) => answers(name, ['-h'], /OpenBSD netcat/)) ?? null;
  const SOCAT = answers('socat', ['-V'], /socat version/) ? 'socat' : null;
  const NCAT = answers('ncat', ['--version'], /Ncat/) ? 'ncat' : null;
  const missing = {
    nc: OPENBSD_NC ? null : 'OpenBSD netcat missing (apt-get install netcat-openbsd)',
    socat: SOCAT ? null : 'socat missing (apt-get install socat)',
    ncat: NCAT ? null : 'ncat missing (apt-get install ncat)',
  };
  return { OPENBSD_NC, SOCAT, NCAT, missing };
}
