// http-get against real servers on this machine: nginx (nginx-light) for static files, chunked,
// keep-alive, HEAD and 404; small Node http/https servers where the test must see or shape the
// exchange; raw sockets that misbehave. Names other than localhost are resolved only inside a
// namespace whose resolver is a dnsmasq the test starts there.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createReadStream, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startCli } from './support/cli.js';
import { dnsmasqUnavailable, startDnsmasq } from './support/dns.js';
import { fromPythonBytes, rawExchange, runCliRaw, startSelfSignedServer, type TlsServer } from './support/http.js';
import { needs } from './support/needs.js';
import { commandMissing, freePort, rawServer as rawServerOn } from './support/peers.js';
import { createNamespace, netnsUnavailable, useResolvConf } from './support/netns.js';
import { nginxUnavailable, startNginx, type Nginx } from './support/nginx.js';
import { makePki, type Pki } from './support/pki.js';

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const clean of cleanups.splice(0).reverse()) clean();
});

const rawServer = (onConnection: (socket: net.Socket) => void) => rawServerOn(cleanups, onConnection);

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'netnote-http-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Reads one request head (up to the blank line) and calls `answer` with its bytes. */
function onRequest(answer: (socket: net.Socket, request: Buffer) => void): (socket: net.Socket) => void {
  return (socket) => {
    let head = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk]);
      if (head.includes('\r\n\r\n')) {
        socket.off('data', onData);
        answer(socket, head);
      }
    };
    socket.on('data', onData);
  };
}

async function nodeServer(handler: http.RequestListener): Promise<number> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => {
    server.closeAllConnections();
    server.close();
  });
  return (server.address() as net.AddressInfo).port;
}

/** The blocks the note prints: the request after `<-- send data:`, the received pieces after `--> recv data:`. */
function noteBlocks(stdout: string): { sent: Buffer; pieces: Buffer[] } {
  const lines = stdout.split('\n');
  const send = lines.indexOf('<-- send data:');
  const recv = lines.indexOf('--> recv data:');
  expect(send).toBeGreaterThanOrEqual(0);
  const end = lines.findIndex((line, i) => i > recv && !line.startsWith('b'));
  return { sent: fromPythonBytes(lines[send + 1]!), pieces: recv < 0 ? [] : lines.slice(recv + 1, end).map(fromPythonBytes) };
}

const noDate = (response: Buffer | string) => response.toString('latin1').replace(/^Date: .*\r$/m, 'Date: D\r');

describe('http-get against nginx', needs(nginxUnavailable), () => {
  let nginx: Nginx;
  // Text over several recv(1024) pieces; a binary file of about 1 MB; text nginx rewrites (and so chunks).
  const index = Buffer.from(Array.from({ length: 250 }, (_, i) => `netnote index line ${String(i).padStart(4, '0')}\n`).join(''));
  const firmware = randomBytes(1_000_003);
  const text = 'hello world\n'.repeat(500);

  beforeAll(async () => {
    nginx = await startNginx({
      files: { 'index.html': index, 'fw.bin': firmware, 'text/t.txt': text },
      http: 'chunked_transfer_encoding on; gzip off; keepalive_timeout 30s;',
      // sub_filter drops Content-Length: nginx then sends the body chunked (HTTP/1.1).
      server: "location /sub/ { alias ROOT/text/; sub_filter_types *; sub_filter 'world' 'there'; sub_filter_once off; }",
    });
  }, 10_000);
  afterAll(() => nginx?.stop());

  it("is the note's experiment: the request as built, every recv(1024) piece, tcp disconnected, then the summary", async () => {
    const { port } = nginx;
    const { code, stdout, stderr } = await runCli(['http-get', '127.0.0.1', String(port)]);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const lines = stdout.split('\n');
    const request = `GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n\r\n`;
    expect(lines.slice(0, 5)).toEqual([
      'socket object created.',
      `tcp link established: 127.0.0.1, ${port}`,
      '<-- send data:',
      `b'GET / HTTP/1.1\\r\\nHost: 127.0.0.1:${port}\\r\\nConnection: close\\r\\n\\r\\n'`,
      '--> recv data:',
    ]);
    const end = lines.indexOf('tcp disconnected.');
    expect(end).toBeGreaterThan(5);
    const pieces = lines.slice(5, end).map(fromPythonBytes);
    expect(pieces.length).toBeGreaterThanOrEqual(6); // 6 000 bytes of body: at least six recv(1024)
    for (const piece of pieces) {
      expect(piece.length).toBeGreaterThan(0);
      expect(piece.length).toBeLessThanOrEqual(1024);
    }
    // The pieces are the server's response byte for byte: what a plain socket gets for the same request.
    const raw = await rawExchange(port, request);
    expect(noDate(Buffer.concat(pieces))).toBe(noDate(raw));

    // The summary: status line and headers as received, then body, bytes, timings.
    const head = raw.toString('latin1').split('\r\n\r\n')[0]!.split('\r\n');
    const summary = lines.slice(end + 1, end + 2 + head.length).join('\n');
    expect(summary.replace(/Date: .*/, 'Date: D')).toBe([
      `[client] --- http://127.0.0.1:${port}/ summary ---`,
      ...head.map((line) => `[client] ${line}`),
    ].join('\n').replace(/Date: .*/, 'Date: D'));
    const rest = lines.slice(end + 2 + head.length);
    expect(rest[0]).toBe(`[client] body 5.86 KiB; received ${(raw.length / 1024).toFixed(2)} KiB, sent ${request.length} B`);
    expect(rest[1]).toMatch(/^\[client\] time connect [\d.]+ ms, first byte [\d.]+ ms, total [\d.]+ m?s$/);
    expect(rest[2]).toBe('[client] ended: closed by peer');
    expect(rest.slice(3)).toEqual(['']);
  }, 15_000);

  it('writes a 1 MB binary file byte for byte with --output, and to stdout with --body-only', async () => {
    const url = `http://127.0.0.1:${nginx.port}/fw.bin`;
    const file = join(tempDir(), 'fw.bin');
    const saved = await runCli(['--quiet', 'http-get', url, '--output', file]);
    expect(saved.stderr).toBe('');
    expect(saved.code).toBe(0);
    expect(readFileSync(file).equals(firmware)).toBe(true);
    expect(saved.stdout).toContain('[client] Content-Length: 1000003');

    // `--body-only > fw.bin` or `| sha256sum`: a reader slower than the download gets every byte.
    const piped = await runCliRaw(['http-get', url, '--body-only'], { pauseMs: 1000 });
    expect(piped.stderr).toBe('');
    expect(piped.code).toBe(0);
    expect(piped.stdout.length).toBe(firmware.length);
    expect(piped.stdout.equals(firmware)).toBe(true);
  }, 20_000);

  it('shows the whole 1 MB response through a pipe, read slowly: every piece, tcp disconnected, the summary', async () => {
    const { port } = nginx;
    const { code, stdout: out } = await runCliRaw(['http-get', '127.0.0.1', String(port), '--path', '/fw.bin'], { pauseMs: 1000 });
    expect(code).toBe(0);
    const stdout = out.toString('latin1');
    const lines = stdout.split('\n');
    const end = lines.indexOf('tcp disconnected.');
    expect(end, `${out.length} bytes of output, ending with: ${stdout.slice(-120)}`).toBeGreaterThan(0);
    const pieces = lines.slice(lines.indexOf('--> recv data:') + 1, end).map(fromPythonBytes);
    expect(pieces.every((piece) => piece.length > 0 && piece.length <= 1024)).toBe(true);
    const received = Buffer.concat(pieces);
    expect(received.subarray(received.indexOf('\r\n\r\n') + 4).equals(firmware)).toBe(true);
    expect(stdout).toMatch(/\[client\] body 976\.57 KiB; received [\d.]+ KiB, sent \d+ B\n/);
    expect(stdout.endsWith('[client] ended: closed by peer\n')).toBe(true);
  }, 20_000);

  it('undoes the chunked encoding nginx applies (sub_filter): raw chunks shown, decoded body saved', async () => {
    const file = join(tempDir(), 't.txt');
    const { code, stdout, stderr } = await runCli(['http-get', `http://127.0.0.1:${nginx.port}/sub/t.txt`, '--output', file]);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toContain('[client] Transfer-Encoding: chunked');
    expect(stdout).not.toContain('[client] Content-Length');
    const body = text.replaceAll('world', 'there');
    expect(readFileSync(file, 'latin1')).toBe(body);
    expect(stdout).toContain(`[client] body 5.86 KiB;`);
    // On the wire: chunk-size lines and the last chunk, as received.
    const raw = Buffer.concat(noteBlocks(stdout).pieces).toString('latin1');
    const wireBody = raw.slice(raw.indexOf('\r\n\r\n') + 4);
    expect(wireBody).toMatch(/^[0-9a-fA-F]+\r\n/);
    expect(wireBody.endsWith('\r\n0\r\n\r\n')).toBe(true);
  }, 15_000);

  it('--keep-alive: no Connection: close, nginx keeps the connection, the response ends by Content-Length and we close', async () => {
    const { code, stdout, stderr } = await runCli(['http-get', `http://127.0.0.1:${nginx.port}/`, '--keep-alive', '-m', '5s']);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    // nginx keeps a connection open for keepalive_timeout (30 s) unless asked to close it.
    expect(stdout).toContain('[client] Connection: keep-alive');
    expect(stdout).toContain('[client] Content-Length: 6000');
    expect(stdout).toContain('[client] body 5.86 KiB;');
    expect(stdout).toContain('[client] ended: completed');
  }, 15_000);

  it('--keep-alive with a chunked response ends at the last chunk', async () => {
    const file = join(tempDir(), 't.txt');
    const { code, stdout } = await runCli(['http-get', `http://127.0.0.1:${nginx.port}/sub/t.txt`, '--keep-alive', '-o', file, '-m', '5s']);
    expect(code).toBe(0);
    expect(stdout).toContain('[client] Transfer-Encoding: chunked');
    expect(readFileSync(file, 'latin1')).toBe(text.replaceAll('world', 'there'));
    expect(stdout).toContain('[client] ended: completed');
  }, 15_000);

  it('--method HEAD: headers only, Content-Length announced, no body', async () => {
    const { code, stdout, stderr } = await runCli(['http-get', `http://127.0.0.1:${nginx.port}/fw.bin`, '--method', 'HEAD']);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(noteBlocks(stdout).sent.toString('latin1')).toMatch(/^HEAD \/fw\.bin HTTP\/1\.1\r\n/);
    expect(stdout).toContain('[client] Content-Length: 1000003');
    expect(stdout).toMatch(/\[client\] body 0 B; received \d+ B, sent \d+ B/);
  }, 15_000);

  it('404: exit 1 with --fail, exit 0 without; --path picks the resource', async () => {
    const url = `http://127.0.0.1:${nginx.port}/`;
    const failed = await runCli(['http-get', url, '--path', '/missing.html', '--fail']);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(/^netnote: the server answered 404 Not Found \(--fail\)\n/);
    expect(failed.stdout).toContain("b'GET /missing.html HTTP/1.1\\r\\n");
    expect(failed.stdout).toContain('[client] HTTP/1.1 404 Not Found');

    const shown = await runCli(['http-get', url, '--path', '/missing.html']);
    expect(shown.code).toBe(0);
    expect(shown.stderr).toBe('');
    expect(shown.stdout).toContain('[client] HTTP/1.1 404 Not Found');

    const found = await runCli(['http-get', url, '--path', '/text/t.txt', '--fail']);
    expect(found.code).toBe(0);
    expect(found.stdout).toContain('[client] HTTP/1.1 200 OK');
  }, 20_000);
});

describe('http-get against small Node servers', () => {
  it('--header reaches the server in order after Host; --path overrides the URL path', async () => {
    const port = await nodeServer((req, res) => res.end(JSON.stringify({ url: req.url, method: req.method, headers: req.rawHeaders })));
    const { code, stdout } = await runCliRaw(['http-get', `http://127.0.0.1:${port}/ignored`, '--path', '/echo?x=1', '-H', 'X-Test: 1', '--header', 'X-Device:  meter-7 ', '--body-only']);
    expect(code).toBe(0);
    const seen = JSON.parse(stdout.toString());
    expect(seen.url).toBe('/echo?x=1');
    expect(seen.method).toBe('GET');
    expect(seen.headers).toEqual(['Host', `127.0.0.1:${port}`, 'X-Test', '1', 'X-Device', 'meter-7', 'Connection', 'close']);
  }, 10_000);

  it('decodes a chunked response a Node server writes in pieces over time', async () => {
    const port = await nodeServer((_req, res) => {
      res.write('alpha-');
      setTimeout(() => res.write('beta-'), 30);
      setTimeout(() => res.end('gamma'), 60);
    });
    const { code, stdout } = await runCliRaw(['http-get', `http://127.0.0.1:${port}/`, '--body-only']);
    expect(code).toBe(0);
    expect(stdout.toString()).toBe('alpha-beta-gamma');
    const shown = await runCli(['http-get', `http://127.0.0.1:${port}/`]);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain('[client] Transfer-Encoding: chunked');
    expect(Buffer.concat(noteBlocks(shown.stdout).pieces).toString()).toMatch(/\r\n\r\n6\r\nalpha-\r\n5\r\nbeta-\r\n5\r\ngamma\r\n0\r\n\r\n$/);
  }, 10_000);

  it.each([
    ['the note request', []],
    ['--path and --header', ['--path', '/a/b?c=d', '-H', 'X-Test: 1', '-H', 'Accept: */*']],
    ['--method HEAD', ['--method', 'HEAD']],
    ['--keep-alive', ['--keep-alive']],
  ])('the request the server receives is the one shown: %s', async (_name, extra) => {
    let received: Buffer | null = null;
    const port = await rawServer(onRequest((socket, request) => {
      received = request;
      socket.end('HTTP/1.1 204 No Content\r\n\r\n');
    }));
    const { code, stdout } = await runCli(['http-get', '127.0.0.1', String(port), ...extra]);
    expect(code).toBe(0);
    expect(received).not.toBeNull();
    expect(received!.toString('latin1')).toBe(noteBlocks(stdout).sent.toString('latin1'));
  }, 10_000);

  it("shows what it receives in the note's recv(1024) pieces: every piece 1 024 bytes but the last; --chunk-size changes that size", async () => {
    // One 5 000-byte write on loopback is one segment and arrives in one read: the cut is netnote's, not TCP's.
    const head = 'HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n\r\n';
    const response = Buffer.concat([Buffer.from(head), randomBytes(5000 - head.length)]);
    const port = await rawServer(onRequest((socket) => socket.end(response)));
    const note = await runCli(['http-get', '127.0.0.1', String(port)]);
    expect(note.code, note.stderr).toBe(0);
    const { pieces } = noteBlocks(note.stdout);
    expect(pieces.map((piece) => piece.length)).toEqual([1024, 1024, 1024, 1024, 904]);
    expect(Buffer.concat(pieces).equals(response)).toBe(true);
    const small = await runCli(['--json', 'http-get', '127.0.0.1', String(port), '--chunk-size', '300']);
    expect(small.code, small.stderr).toBe(0);
    const received = small.stdout.trim().split('\n').map((line) => JSON.parse(line) as { event: string; data?: { bytes: number } }).filter((e) => e.event === 'recv');
    expect(received.map((e) => e.data!.bytes)).toEqual([...new Array<number>(16).fill(300), 200]);
  }, 10_000);

  it('--keep-alive against a server that never closes: done when Content-Length is reached, we close', async () => {
    let clientClosed = false;
    const port = await rawServer(onRequest((socket) => {
      socket.on('end', () => (clientClosed = true));
      socket.on('close', () => (clientClosed = true));
      socket.write('HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: keep-alive\r\n\r\nhello');
    }));
    // Waiting for a close that never comes would end in exit 5 at --max-time.
    const { code, stdout, stderr } = await runCli(['http-get', '127.0.0.1', String(port), '--keep-alive', '-m', '5s']);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toContain('[client] body 5 B;');
    expect(stdout).toContain('[client] ended: completed');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(clientClosed).toBe(true);
  }, 10_000);

  it('--method HEAD --keep-alive: Content-Length announces a body that never comes, and the response still ends', async () => {
    const port = await rawServer(onRequest((socket) => socket.write('HTTP/1.1 200 OK\r\nContent-Length: 3600\r\n\r\n')));
    const { code, stdout } = await runCli(['http-get', '127.0.0.1', String(port), '--method', 'HEAD', '--keep-alive', '-m', '5s']);
    expect(code).toBe(0);
    expect(stdout).toContain('[client] Content-Length: 3600');
    expect(stdout).toContain('[client] body 0 B;');
  }, 10_000);

  it('a close-delimited body (no Content-Length, no chunks) ends when the server closes', async () => {
    const port = await rawServer(onRequest((socket) => socket.end('HTTP/1.1 200 OK\r\n\r\nuntil close')));
    const { code, stdout } = await runCliRaw(['http-get', '127.0.0.1', String(port), '--body-only']);
    expect(code).toBe(0);
    expect(stdout.toString()).toBe('until close');
  }, 10_000);
});

describe('http-get over TLS (Node https, self-signed certificate)', needs(commandMissing('openssl', 'openssl')), () => {
  let port: number;
  let tls: TlsServer | undefined;

  beforeAll(async () => {
    tls = await startSelfSignedServer((req, res) => {
      res.end(JSON.stringify({ sni: (req.socket as TLSSocket).servername || null, url: req.url }));
    });
    port = tls.port;
  }, 15_000);
  afterAll(() => tls?.close());

  it('an untrusted certificate → 4 with the reason and the --insecure hint; nothing is sent', async () => {
    const { code, stdout, stderr } = await runCli(['http-get', `https://127.0.0.1:${port}/`]);
    expect(code).toBe(4);
    expect(stderr).toMatch(new RegExp(`^netnote: TLS with 127\\.0\\.0\\.1:${port} failed: the certificate CN=localhost was refused: it is self-signed and not trusted here \\(DEPTH_ZERO_SELF_SIGNED_CERT\\)\\n`));
    expect(stderr).toMatch(/\nnetnote: hint: .*--insecure/);
    // The certificate refused is still shown, for the person to compare.
    expect(stdout).toMatch(/^\[client\] tls established: TLSv1\.3, TLS_\w+, http\/1\.1 {2}\(CN=localhost, issuer CN=localhost, valid .* to .*, sha256 [0-9A-F:]{95}, not verified: self-signed \(DEPTH_ZERO_SELF_SIGNED_CERT\); [\d.]+ ms\)$/m);
    expect(stderr).not.toMatch(/^\s+at /m);
    expect(stdout).toContain(`tcp link established: 127.0.0.1, ${port}`);
    expect(stdout).not.toContain('<-- send data:');
    expect(stdout).toContain('[client] ended: TLS failed');
  }, 10_000);

  it('--insecure: the exchange completes and the certificate is in the summary', async () => {
    const { code, stdout, stderr } = await runCli(['http-get', `https://127.0.0.1:${port}/status`, '--insecure']);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toMatch(/^\[client\] tls established: TLSv1\.3, TLS_\w+, http\/1\.1 {2}\(CN=localhost, issuer CN=localhost, valid \S+ to \S+, sha256 [0-9A-F:]{95}, not verified: self-signed \(DEPTH_ZERO_SELF_SIGNED_CERT\), accepted: --insecure; [\d.]+ ms\)$/m);
    expect(stdout).toContain(`b'GET /status HTTP/1.1\\r\\nHost: 127.0.0.1:${port}\\r\\nConnection: close\\r\\n\\r\\n'`);
    expect(stdout).toContain(`[client] --- https://127.0.0.1:${port}/status summary ---`);
    expect(stdout).toMatch(/^\[client\] tls TLSv1\.3, CN=localhost, issuer CN=localhost, expires \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/m);
    expect(stdout).toMatch(/^\[client\] time connect [\d.]+ ms, tls [\d.]+ ms, first byte [\d.]+ ms, total [\d.]+ m?s$/m);
    // The raw bytes shown are the decrypted response; no SNI for an address.
    const body = Buffer.concat(noteBlocks(stdout).pieces).toString();
    expect(body).toMatch(/\r\n\r\n\{"sni":null,"url":"\/status"\}$/);
  }, 10_000);

  it('https://localhost: the name resolves through /etc/hosts, SNI carries it', async () => {
    const { code, stdout } = await runCli(['http-get', `https://localhost:${port}/`, '-k']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^socket object created\.\nDNS for localhost: (127\.0\.0\.1|::1)\ntcp link established\.\n/);
    expect(stdout).toContain(`Host: localhost:${port}\\r\\n`);
    expect(stdout).toMatch(/^\[client\] time dns [\d.]+ ms, connect/m);
    expect(Buffer.concat(noteBlocks(stdout).pieces).toString()).toContain('{"sni":"localhost","url":"/"}');
  }, 10_000);
});

describe("https: an address is checked against the certificate's IP SANs, a name against its DNS SANs", needs(commandMissing('openssl', 'openssl')), () => {
  let pki: Pki;
  const servers: https.Server[] = [];
  /** An https server on 127.0.0.1 presenting a certificate for exactly these SANs, issued by the test CA. */
  let serve: (san: string[]) => Promise<number>;

  beforeAll(() => {
    pki = makePki();
    serve = async (san) => {
      const issued = pki.issue(san.join('_').replace(/\W/g, '-'), 'netnote device', { san });
      const server = https.createServer({ key: readFileSync(issued.key), cert: readFileSync(issued.cert) }, (_req, res) => res.end('ok'));
      servers.push(server);
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      return (server.address() as net.AddressInfo).port;
    };
  }, 15_000);
  afterAll(() => {
    for (const server of servers) {
      server.closeAllConnections();
      server.close();
    }
    pki?.remove();
  });
  // The test CA is trusted through Node's own NODE_EXTRA_CA_CERTS: the default roots plus it.
  const get = (url: string) => runCli(['http-get', url], { env: { NODE_EXTRA_CA_CERTS: pki.ca.cert } });

  it('a certificate for IP:127.0.0.1 only is accepted for https://127.0.0.1 and refused for https://localhost', async () => {
    const port = await serve(['IP:127.0.0.1']);
    const byAddress = await get(`https://127.0.0.1:${port}/`);
    expect(byAddress.stderr).toBe('');
    expect(byAddress.code).toBe(0);
    const byName = await get(`https://localhost:${port}/`);
    expect(byName.code).toBe(4);
    expect(byName.stderr).toMatch(/localhost/);
    expect(byName.stdout).not.toContain('<-- send data:');
  }, 15_000);

  it('a certificate for DNS:localhost only is accepted for https://localhost and refused for https://127.0.0.1', async () => {
    const port = await serve(['DNS:localhost']);
    const byName = await get(`https://localhost:${port}/`);
    expect(byName.stderr).toBe('');
    expect(byName.code).toBe(0);
    const byAddress = await get(`https://127.0.0.1:${port}/`);
    expect(byAddress.code).toBe(4);
    expect(byAddress.stderr).toMatch(/127\.0\.0\.1/);
    expect(byAddress.stdout).not.toContain('<-- send data:');
  }, 15_000);

  it('--ca names the CA instead (the same TLS options as tcp-client): --json shows the certificate and that it verified', async () => {
    const port = await serve(['IP:127.0.0.1', 'DNS:localhost']);
    const { code, stdout, stderr } = await runCli(['--json', 'http-get', `https://127.0.0.1:${port}/`, '--ca', pki.ca.cert]);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const events = stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(events.find((e) => e.event === 'tls')).toMatchObject({ alpn: 'http/1.1', authorized: true, failure: null, subject: 'CN=netnote device', san: ['IP:127.0.0.1', 'DNS:localhost'] });
    expect(events.at(-1)).toMatchObject({ event: 'summary', summary: { proto: 'https', tls: { authorized: true, issuer: 'CN=netnote test CA' } } });
    const untrusted = await runCli(['http-get', `https://127.0.0.1:${port}/`]);
    expect(untrusted.code).toBe(4);
    expect(untrusted.stderr).toMatch(/its issuer \(CN=netnote test CA\) is not trusted here/);
  }, 15_000);
});

describe('http-get: where the body goes sets the pace', () => {
  const MiB = 1024 * 1024;
  /** A server offering `total` bytes as fast as its socket drains; `written()` is what it got rid of. */
  async function bigBody(total: number): Promise<{ port: number; written: () => number }> {
    const chunk = Buffer.alloc(MiB, 'netnote ');
    let written = 0;
    const port = await nodeServer((_req, res) => {
      res.writeHead(200, { 'content-length': String(total) });
      const pump = () => {
        while (written < total) {
          written += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        res.end();
      };
      pump();
    });
    return { port, written: () => written };
  }

  it('--body-only into a stdout nobody reads: the download waits (memory stays bounded), then completes byte for byte', async () => {
    const TOTAL = 1024 * MiB;
    const server = await bigBody(TOTAL);
    const client = startCli(['http-get', `http://127.0.0.1:${server.port}/`, '--body-only'], { timeoutMs: 60_000 });
    cleanups.push(() => void client.stop('SIGKILL'));
    client.proc.stdout.pause();
    await new Promise((resolve) => setTimeout(resolve, 2000));
    // Without the pause the client reads all of it at loopback speed and queues it for stdout.
    expect(server.written(), 'bytes the server could send while nobody read the body').toBeLessThan(128 * MiB);
    let received = 0;
    client.proc.stdout.removeAllListeners('data');
    client.proc.stdout.on('data', (chunk: Buffer) => (received += chunk.length));
    client.proc.stdout.resume();
    const { code, stderr } = await client.finished;
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(received).toBe(TOTAL);
  }, 60_000);

  it('--body-only | head: when the reader goes away the download stops, quietly, exit 0', async () => {
    const server = await bigBody(1024 * MiB);
    const client = startCli(['http-get', `http://127.0.0.1:${server.port}/`, '--body-only'], { timeoutMs: 30_000 });
    cleanups.push(() => void client.stop('SIGKILL'));
    await new Promise<void>((resolve) => client.proc.stdout.once('data', () => resolve()));
    client.proc.stdout.destroy();
    const { code, stderr } = await client.finished;
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(server.written()).toBeLessThan(1024 * MiB);
  }, 30_000);

  it('-o into a slow reader (a FIFO): the server closing while the body still waits for it is not an incomplete response', async () => {
    const body = randomBytes(2 * MiB);
    const port = await nodeServer((_req, res) => {
      res.writeHead(200, { 'content-length': String(body.length) });
      res.end(body); // and closes: the request said Connection: close
    });
    const fifo = join(tempDir(), 'body');
    execFileSync('mkfifo', [fifo]);
    const client = runCli(['--quiet', 'http-get', `http://127.0.0.1:${port}/`, '-o', fifo], { timeoutMs: 20_000 });
    // 64 KiB every 20 ms: about 3 MB/s, far slower than loopback.
    const received: Buffer[] = [];
    const reader = createReadStream(fifo, { highWaterMark: 64 * 1024 });
    reader.on('data', (chunk) => {
      received.push(chunk as Buffer);
      reader.pause();
      setTimeout(() => reader.resume(), 20);
    });
    const { code, stderr } = await client;
    await new Promise((resolve) => reader.once('close', resolve));
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(Buffer.concat(received).equals(body)).toBe(true);
  }, 30_000);

  it('-o to a full disk (/dev/full): exit 8, the file and ENOSPC named', async () => {
    const server = await bigBody(4 * MiB);
    const { code, stderr } = await runCli(['--quiet', 'http-get', `http://127.0.0.1:${server.port}/`, '-o', '/dev/full']);
    expect(stderr).toBe('netnote: cannot write --output /dev/full: no space left on the device (ENOSPC)\nnetnote: hint: free some space, or write somewhere else\n');
    expect(code).toBe(8);
  }, 20_000);
});

describe('http-get: bad input ends in one clear line and the documented exit code', () => {
  it('a server that closes before any byte → 6, empty reply', async () => {
    const port = await rawServer(onRequest((socket) => socket.end()));
    const { code, stdout, stderr } = await runCli(['http-get', '127.0.0.1', String(port)]);
    expect(code).toBe(6);
    expect(stderr).toMatch(/^netnote: empty reply from server/);
    expect(stdout).not.toContain('--> recv data:');
  }, 10_000);

  it('a malformed status line → 6, malformed HTTP response, the raw bytes still shown', async () => {
    const port = await rawServer(onRequest((socket) => socket.end('HELLO\r\n\r\n')));
    const { code, stdout, stderr } = await runCli(['http-get', '127.0.0.1', String(port)]);
    expect(code).toBe(6);
    expect(stderr).toMatch(/^netnote: malformed HTTP response/);
    expect(stderr).not.toMatch(/^\s+at /m);
    expect(stdout).toContain("--> recv data:\nb'HELLO\\r\\n\\r\\n'\n");
  }, 10_000);

  it('a malformed header line → 6, malformed HTTP response', async () => {
    const port = await rawServer(onRequest((socket) => socket.end('HTTP/1.1 200 OK\r\nthis is no header\r\n\r\nbody')));
    const { code, stdout, stderr } = await runCli(['http-get', '127.0.0.1', String(port)]);
    expect(code).toBe(6);
    expect(stderr).toMatch(/^netnote: malformed HTTP response/);
    expect(stdout).toContain("b'HTTP/1.1 200 OK\\r\\nthis is no header\\r\\n\\r\\nbody'");
  }, 10_000);

  it('a body cut short of its Content-Length → 6', async () => {
    const port = await rawServer(onRequest((socket) => socket.end('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly ten!!')));
    const { code, stderr } = await runCli(['http-get', '127.0.0.1', String(port)]);
    expect(code).toBe(6);
    expect(stderr).toMatch(/^netnote: the server closed the connection before the response was complete \(\d+ bytes received\)/);
  }, 10_000);

  it('a server that never answers → 5 after --max-time', async () => {
    const port = await rawServer(() => {});
    const started = Date.now();
    const { code, stdout, stderr } = await runCli(['http-get', '127.0.0.1', String(port), '--max-time', '500ms']);
    expect(code).toBe(5);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(stderr).toContain(`no complete response from 127.0.0.1:${port} within --max-time 500 ms`);
    expect(stdout).toContain('[client] ended: timed out');
  }, 10_000);

  it('an unsupported scheme → 2', async () => {
    const { code, stderr, stdout } = await runCli(['http-get', 'ftp://127.0.0.1/file']);
    expect(code).toBe(2);
    expect(stderr).toMatch(/^netnote: unsupported scheme 'ftp'/);
    expect(stdout).toBe('');
  }, 10_000);

  it('nothing listening → 4', async () => {
    const port = await freePort();
    const { code, stderr } = await runCli(['http-get', '127.0.0.1', String(port)]);
    expect(code).toBe(4);
    expect(stderr).toContain(`nothing listening on 127.0.0.1:${port}`);
  }, 10_000);

  it('Ctrl-C while the server says nothing → 130, the summary still printed', async () => {
    const port = await rawServer(() => {});
    const client = startCli(['http-get', '127.0.0.1', String(port)]);
    await client.waitFor(/<-- send data:\n.*\n/);
    const { code, stdout, stderr } = await client.stop('SIGINT');
    expect(code).toBe(130);
    expect(stderr).toBe('netnote: interrupted\n');
    expect(stdout).toContain(`[client] --- http://127.0.0.1:${port}/ summary ---`);
    expect(stdout).toContain('[client] ended: interrupted');
  }, 10_000);
});

describe('http-get with a name (namespace, dnsmasq resolver, nginx)', needs(netnsUnavailable, dnsmasqUnavailable, nginxUnavailable), () => {
  it("resolves through the namespace's dnsmasq: DNS for NAME, tcp link established., Host NAME:PORT", async () => {
    const ns = createNamespace();
    cleanups.push(ns.remove);
    useResolvConf(ns, 'nameserver 127.0.0.1\n');
    const dns = await startDnsmasq(ns, '127.0.0.1', ['--host-record=www.netnote.test,127.0.0.1', '--address=/nx.netnote.test/']);
    cleanups.push(dns.stop);
    const nginx = await startNginx({ files: { 'index.html': 'inside the namespace\n' }, prefix: ns.prefix, port: 8080 });
    cleanups.push(nginx.stop);

    const { code, stdout, stderr } = await runCli(['http-get', 'www.netnote.test', '8080'], { prefix: ns.prefix });
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout.split('\n').slice(0, 6)).toEqual([
      'socket object created.',
      'DNS for www.netnote.test: 127.0.0.1',
      'tcp link established.',
      '<-- send data:',
      "b'GET / HTTP/1.1\\r\\nHost: www.netnote.test:8080\\r\\nConnection: close\\r\\n\\r\\n'",
      '--> recv data:',
    ]);
    expect(stdout).toMatch(/\\r\\n\\r\\ninside the namespace\\n'\ntcp disconnected\.\n/);
    expect(stdout).toContain('[client] --- http://www.netnote.test:8080/ summary ---');
    expect(stdout).toMatch(/^\[client\] time dns [\d.]+ ms, connect [\d.]+ ms, first byte/m);

    const missing = await runCli(['http-get', 'http://nx.netnote.test:8080/'], { prefix: ns.prefix });
    expect(missing.code).toBe(3);
    expect(missing.stderr).toMatch(/^netnote: cannot resolve nx\.netnote\.test: no such host\n/);
  }, 20_000);
});
