// Helpers for the http-get tests: the CLI with binary stdout, Python bytes literals read back,
// and a raw HTTP exchange with a plain socket (what the server really sends).
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { RequestListener } from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NETNOTE } from './cli.js';

export interface RawFinished {
  code: number | null;
  stdout: Buffer;
  stderr: string;
}

export interface RawOptions {
  /** Runs the CLI through this command, e.g. `ip netns exec NAME`. */
  prefix?: string[];
  /**
   * A slow reader: stdout is not read for this long after the start, so the pipe fills up and
   * netnote's writes have to wait; everything written must still arrive.
   */
  pauseMs?: number;
}

/** Runs `netnote ARGS` and keeps stdout as bytes (for --body-only, or large outputs). */
export function runCliRaw(args: string[], options: RawOptions = {}): Promise<RawFinished> {
  const [command, ...rest] = [...(options.prefix ?? []), process.execPath, NETNOTE, ...args];
  const proc = spawn(command!, rest, { env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
  const out: Buffer[] = [];
  let err = '';
  proc.stdout.on('data', (chunk: Buffer) => out.push(chunk));
  if (options.pauseMs) {
    proc.stdout.pause();
    setTimeout(() => proc.stdout.resume(), options.pauseMs);
  }
  proc.stderr.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
  return new Promise((resolve) => proc.on('close', (code) => resolve({ code, stdout: Buffer.concat(out), stderr: err })));
}

/**
 * Reads back a Python bytes literal (`b'…'` or `b"…"`), as Python's eval would: the inverse of
 * repr(bytes). Written here independently of netnote's encoder.
 */
export function fromPythonBytes(literal: string): Buffer {
  const match = /^b(['"])(.*)\1$/s.exec(literal);
  if (!match) throw new Error(`not a bytes literal: ${literal.slice(0, 80)}`);
  const body = match[2]!;
  const out: number[] = [];
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c.charCodeAt(0) > 0x7e || c.charCodeAt(0) < 0x20) throw new Error(`unescaped byte ${c.charCodeAt(0)} in a bytes literal`);
    if (c !== '\\') {
      out.push(c.charCodeAt(0));
      continue;
    }
    const next = body[++i];
    switch (next) {
      case 'n': out.push(0x0a); break;
      case 'r': out.push(0x0d); break;
      case 't': out.push(0x09); break;
      case '\\': out.push(0x5c); break;
      case "'": out.push(0x27); break;
      case '"': out.push(0x22); break;
      case 'x': {
        const hex = body.slice(i + 1, i + 3);
        if (!/^[0-9a-f]{2}$/.test(hex)) throw new Error(`bad \\x escape '${hex}'`);
        out.push(parseInt(hex, 16));
        i += 2;
        break;
      }
      default: throw new Error(`unexpected escape \\${next}`);
    }
  }
  return Buffer.from(out);
}

/** Sends `request` on a plain socket and returns everything the server sends until it closes. */
export function rawExchange(port: number, request: string | Buffer, host = '127.0.0.1'): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = net.connect(port, host, () => socket.write(request));
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => resolve(Buffer.concat(chunks)));
  });
}

export interface TlsServer {
  server: https.Server;
  port: number;
  close(): void;
}

/** A Node https server on 127.0.0.1 and a free port, with a fresh self-signed certificate for CN=localhost (openssl). */
export async function startSelfSignedServer(handler: RequestListener): Promise<TlsServer> {
  const dir = mkdtempSync(join(tmpdir(), 'netnote-tls-'));
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-days', '1',
      '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'pipe' });
    const server = https.createServer({ key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) }, handler);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return {
      server,
      port: (server.address() as net.AddressInfo).port,
      close() {
        server.closeAllConnections();
        server.close();
      },
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
