// Peers a test writes or starts: raw TCP servers, and real programs (nc, socat, ncat) fed a payload.
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';

/** A port nothing listens on: bound, then released. */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
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
