// TLS on tcp-client and tcp-server, against the real OpenSSL on both ends (openssl s_server as
// the server a client meets, openssl s_client and curl as the clients a server meets), with
// certificates the openssl command issues in the test: TLS 1.2 and 1.3, ALPN, client certificates
// required and missing, wrong CA, expired and not yet valid, address and name certificates.
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { NETNOTE, runCli, startCli, type Running } from './support/cli.js';
import { sClient, startSServer, type SServer } from './support/openssl.js';
import { commandMissing, killGroup, rawServer, runPeer } from './support/peers.js';
import { needs } from './support/needs.js';
import { certDate, makePki, type Issued, type Pki } from './support/pki.js';

const opensslMissing = commandMissing('openssl', 'openssl');

const servers = new Set<Running>();
const opensslServers = new Set<SServer>();
const peers = new Set<ChildProcess>();
const cleanups: Array<() => void> = [];

afterEach(async () => {
  for (const server of opensslServers) server.stop();
  opensslServers.clear();
  for (const peer of peers) killGroup(peer);
  peers.clear();
  for (const clean of cleanups.splice(0).reverse()) clean();
  await Promise.all([...servers].map((server) => server.stop('SIGKILL')));
  servers.clear();
});

let pki: Pki;
let other: Pki;
const certs: Record<string, Issued> = {};

beforeAll(() => {
  if (opensslMissing) return;
  pki = makePki();
  other = makePki('other CA');
  certs.server = pki.issue('server', 'broker', { san: ['DNS:localhost', 'IP:127.0.0.1'] });
  certs.ipOnly = pki.issue('ip-only', 'device by address', { san: ['IP:127.0.0.1'] });
  certs.dnsOnly = pki.issue('dns-only', 'device by name', { san: ['DNS:localhost'] });
  certs.expired = pki.issue('expired', 'expired broker', { san: ['IP:127.0.0.1'], notBefore: certDate(-30), notAfter: certDate(-2) });
  certs.notYet = pki.issue('not-yet', 'future broker', { san: ['IP:127.0.0.1'], notBefore: certDate(2), notAfter: certDate(30) });
  certs.rsa = pki.issue('rsa', 'rsa broker', { san: ['IP:127.0.0.1'], keyType: 'rsa' });
  certs.client = pki.issue('client', 'device-1', { usage: 'client' });
  certs.clientExpired = pki.issue('client-expired', 'device-old', { usage: 'client', notBefore: certDate(-30), notAfter: certDate(-2) });
  certs.clientEncrypted = pki.issue('client-encrypted', 'device-2', { usage: 'client', passphrase: 'sesame' });
  certs.intruder = other.issue('intruder', 'intruder', { usage: 'client' });
  certs.selfSignedClient = pki.selfSigned('self-client', 'lone device', { usage: 'client' });
}, 30_000);

afterAll(() => {
  pki?.remove();
  other?.remove();
});

async function sServer(cert: Issued, extra: string[] = []): Promise<SServer> {
  const server = await startSServer(['-cert', cert.cert, '-key', cert.key, '-rev', ...extra]);
  opensslServers.add(server);
  return server;
}

/** `netnote tcp-server 127.0.0.1 0 EXTRA…`, resolved once it listens; killed after the test. */
async function serve(extra: string[], json = false): Promise<Running & { port: number }> {
  const server = startCli([...(json ? ['--json'] : []), 'tcp-server', '127.0.0.1', '0', ...extra]);
  servers.add(server);
  const match = await server.waitFor(json ? /"event":"listening".*"port":(\d+)/ : /bind address: \S+, (\d+)\n/);
  return Object.assign(server, { port: Number(match[1]) });
}

/** The s_server -rev exchange: a line out, the line reversed back. */
const REV = ['--data', 'hello\n', '--expect', 'olleh\n'];

function jsonEvents(stdout: string): Array<Record<string, unknown>> {
  return stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('tcp-client --tls against openssl s_server', needs(opensslMissing), () => {
  it("TLS 1.3 by default, TLS 1.2 where the server allows only it: the note's loop over TLS, one tls line after connected.", async () => {
    const v13 = await sServer(certs.server!);
    const run13 = await runCli(['tcp-client', '127.0.0.1', String(v13.port), '--tls', '--ca', pki.ca.cert, ...REV, '-c', '2', '-i', '0']);
    expect(run13.stderr).toBe('');
    expect(run13.code).toBe(0);
    const lines = run13.stdout.split('\n');
    const connected = lines.findIndex((l) => l.startsWith('[client] connected.'));
    expect(lines[connected + 1]).toMatch(/^\[client\] tls established: TLSv1\.3, TLS_AES_256_GCM_SHA384 {2}\(CN=broker, issuer CN=netnote test CA, SAN DNS:localhost IP:127\.0\.0\.1, valid \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ to \d{4}-\S+Z, sha256 [0-9A-F:]{95}, verified; [\d.]+ ms\)$/);
    expect(lines[connected + 2]).toBe("[client] send data: b'hello\\n'");
    expect(run13.stdout).toContain("[client] recv data: b'olleh\\n'");
    expect(run13.stdout).toContain('[client] sent 2 (12 B), received 2 (12 B), 0 without reply');
    // The fingerprint is the one openssl computes.
    const fingerprint = /sha256 ([0-9A-F:]{95})/.exec(run13.stdout)![1];
    const openssl = await runPeer(peers, 'openssl', ['x509', '-in', certs.server!.cert, '-noout', '-fingerprint', '-sha256'], Buffer.alloc(0));
    expect(openssl.stdout.toString()).toContain(`=${fingerprint}`);

    const v12 = await sServer(certs.server!, ['-tls1_2']);
    const run12 = await runCli(['tcp-client', '127.0.0.1', String(v12.port), '--tls', '--ca', pki.ca.cert, ...REV, '-c', '1']);
    expect(run12.code).toBe(0);
    expect(run12.stdout).toMatch(/^\[client\] tls established: TLSv1\.2, ECDHE-ECDSA-AES\d+-GCM-SHA\d+ {2}\(CN=broker, .*, verified; /m);
    // Asking for 1.3 only of a 1.2-only server: no version in common, exit 4.
    const refused = await runCli(['tcp-client', '127.0.0.1', String(v12.port), '--tls', '--ca', pki.ca.cert, '--tls-min', '1.3', ...REV, '-c', '1']);
    expect(refused.code).toBe(4);
    expect(refused.stderr).toMatch(/^netnote: TLS with 127\.0\.0\.1:\d+ failed: no TLS version in common \(ERR_SSL_\w+\)\nnetnote: hint: .*--tls-min/);
  }, 20_000);

  it('--alpn: the protocol the server picks is on the line and in --json', async () => {
    const server = await sServer(certs.server!, ['-alpn', 'mqtt,http/1.1']);
    const { code, stdout } = await runCli(['--json', 'tcp-client', '127.0.0.1', String(server.port), '--tls', '--ca', pki.ca.cert, '--alpn', 'x-amzn-mqtt-ca,mqtt', ...REV, '-c', '1']);
    expect(code).toBe(0);
    const tls = jsonEvents(stdout).find((e) => e.event === 'tls')!;
    expect(tls).toMatchObject({ role: 'client', protocol: 'TLSv1.3', alpn: 'mqtt', authorized: true, failure: null, enforced: true, subject: 'CN=broker', issuer: 'CN=netnote test CA', san: ['DNS:localhost', 'IP:127.0.0.1'], resumed: false, servername: null });
    expect(tls.pin).toMatch(/^sha256\/\/[A-Za-z0-9+/]{43}=$/);
    expect(jsonEvents(stdout).at(-1)).toMatchObject({ event: 'summary', exitCode: 0, summary: { tls: { alpn: 'mqtt', protocol: 'TLSv1.3' } } });
  }, 15_000);

  it('a client certificate the server requires: missing → 4 with the hint (TLS 1.3 and 1.2), given → the exchange; an encrypted key opens with --pass', async () => {
    const server = await sServer(certs.server!, ['-Verify', '1', '-CAfile', pki.ca.cert]);
    const target = ['127.0.0.1', String(server.port), '--tls', '--ca', pki.ca.cert];
    const missing = await runCli(['tcp-client', ...target, ...REV, '-c', '1']);
    expect(missing.code).toBe(4);
    expect(missing.stderr).toMatch(/failed: the server requires a client certificate \(ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED\)\nnetnote: hint: give one with --cert FILE --key FILE\n$/);
    expect(missing.stdout).toContain('[client] ended: TLS failed');
    const missing12 = await runCli(['tcp-client', ...target, '--tls-max', '1.2', ...REV, '-c', '1']);
    expect(missing12.code).toBe(4);
    expect(missing12.stderr).toMatch(/handshake failure alert.*\nnetnote: hint: .*requires a client certificate: --cert FILE --key FILE/);

    const given = await runCli(['tcp-client', ...target, '--cert', certs.client!.cert, '--key', certs.client!.key, ...REV, '-c', '1']);
    expect(given.stderr).toBe('');
    expect(given.code).toBe(0);
    expect(server.output()).toContain('CN = device-1');

    const encrypted = ['--cert', certs.clientEncrypted!.cert, '--key', certs.clientEncrypted!.key];
    const withPass = await runCli(['tcp-client', ...target, ...encrypted, '--pass', 'sesame', ...REV, '-c', '1']);
    expect(withPass.code).toBe(0);
    const noPass = await runCli(['tcp-client', ...target, ...encrypted, ...REV, '-c', '1']);
    expect(noPass.code).toBe(2);
    expect(noPass.stderr).toMatch(/^netnote: --key \S+ is encrypted: give its passphrase with --pass\n$/);
    const wrongPass = await runCli(['tcp-client', ...target, ...encrypted, '--pass', 'open', ...REV, '-c', '1']);
    expect(wrongPass.code).toBe(2);
    expect(wrongPass.stderr).toMatch(/^netnote: wrong passphrase for --key /);
  }, 30_000);

  it('an encrypted key without --pass: asked for on a terminal (script gives it one), not echoed', needs(commandMissing('script', 'bsdutils')), async () => {
    const server = await sServer(certs.server!, ['-Verify', '1', '-CAfile', pki.ca.cert]);
    const command = [process.execPath, NETNOTE, 'tcp-client', '127.0.0.1', String(server.port), '--tls', '--ca', pki.ca.cert,
      '--cert', certs.clientEncrypted!.cert, '--key', certs.clientEncrypted!.key, ...REV, '-c', '1'].map((arg) => `'${arg.replaceAll("'", "'\\''")}'`).join(' ');
    const terminal = spawn('script', ['-q', '-e', '-c', command, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'], detached: true, env: { ...process.env, NO_COLOR: '1' } });
    peers.add(terminal);
    let screen = '';
    terminal.stdout!.setEncoding('utf8').on('data', (chunk: string) => (screen += chunk));
    for (let i = 0; i < 200 && !screen.includes('passphrase for'); i++) await new Promise((resolve) => setTimeout(resolve, 25));
    expect(screen).toMatch(/passphrase for \S+client-encrypted\.key: $/);
    terminal.stdin!.write('sesame\r');
    const code = await new Promise<number | null>((resolve) => terminal.on('close', resolve));
    expect(code).toBe(0);
    expect(screen).toContain("[client] recv data: b'olleh\\n'");
    expect(screen).not.toContain('sesame');
  }, 15_000);

  it('a server certificate from another CA → 4, unknown issuer, with the CA named and the --ca hint', async () => {
    const server = await sServer(certs.server!);
    const { code, stdout, stderr } = await runCli(['tcp-client', '127.0.0.1', String(server.port), '--tls', '--ca', other.ca.cert, '--ca-only', ...REV, '-c', '1']);
    expect(code).toBe(4);
    expect(stdout).toMatch(/tls established: .*not verified: unknown issuer \(UNABLE_TO_(GET_ISSUER_CERT_LOCALLY|VERIFY_LEAF_SIGNATURE)\); /);
    expect(stdout).not.toContain('send data');
    expect(stderr).toMatch(/was refused: its issuer \(CN=netnote test CA\) is not trusted here .*\nnetnote: hint: give the CA that issued it with --ca FILE/);
  }, 15_000);

  it('expired and not yet valid certificates → 4 with the dates; --insecure talks anyway and says so', async () => {
    const expired = await sServer(certs.expired!);
    const old = await runCli(['--json', 'tcp-client', '127.0.0.1', String(expired.port), '--tls', '--ca', pki.ca.cert, ...REV, '-c', '1']);
    expect(old.code).toBe(4);
    expect(jsonEvents(old.stdout).find((e) => e.event === 'tls')).toMatchObject({ authorized: false, failure: 'expired', authorizationError: 'CERT_HAS_EXPIRED', enforced: true });
    expect(old.stderr).toMatch(/the certificate CN=expired broker was refused: it expired on \d{4}-\d\d-\d\dT.*\(CERT_HAS_EXPIRED\)\nnetnote: hint: renew it, or check this machine's clock/);
    const future = await sServer(certs.notYet!);
    const early = await runCli(['tcp-client', '127.0.0.1', String(future.port), '--tls', '--ca', pki.ca.cert, ...REV, '-c', '1']);
    expect(early.code).toBe(4);
    expect(early.stdout).toContain('not verified: not yet valid (CERT_NOT_YET_VALID)');
    expect(early.stderr).toMatch(/it is not valid before \d{4}/);
    const anyway = await runCli(['tcp-client', '127.0.0.1', String(future.port), '--tls', '-k', ...REV, '-c', '1']);
    expect(anyway.code).toBe(0);
    expect(anyway.stdout).toMatch(/not verified: (not yet valid|unknown issuer) \(\w+\), accepted: --insecure; /);
  }, 20_000);

  it("an address is checked against the certificate's IP SANs and a name against its DNS SANs, never one for the other; --servername names it", async () => {
    const byAddress = await sServer(certs.ipOnly!);
    const byName = await sServer(certs.dnsOnly!);
    const run = (host: string, port: number, ...extra: string[]) => runCli(['tcp-client', host, String(port), '--tls', '--ca', pki.ca.cert, ...extra, ...REV, '-c', '1']);
    expect((await run('127.0.0.1', byAddress.port)).code).toBe(0);
    const nameForAddressCert = await run('localhost', byAddress.port);
    expect(nameForAddressCert.code).toBe(4);
    expect(nameForAddressCert.stdout).toContain('not verified: wrong name (ERR_TLS_CERT_ALTNAME_INVALID)');
    expect(nameForAddressCert.stderr).toMatch(/it is not for localhost \(its names: IP:127\.0\.0\.1\)/);
    expect((await run('localhost', byName.port)).code).toBe(0);
    const addressForNameCert = await run('127.0.0.1', byName.port);
    expect(addressForNameCert.code).toBe(4);
    expect(addressForNameCert.stderr).toMatch(/it is not for 127\.0\.0\.1 \(its names: DNS:localhost\)/);
    // Reaching a device by its address while checking (and sending SNI for) the name it holds.
    const named = await runCli(['--json', 'tcp-client', '127.0.0.1', String(byName.port), '--tls', '--ca', pki.ca.cert, '--servername', 'localhost', ...REV, '-c', '1']);
    expect(named.code).toBe(0);
    expect(jsonEvents(named.stdout).find((e) => e.event === 'tls')).toMatchObject({ servername: 'localhost', authorized: true });
  }, 20_000);

  it('--pin: the right key passes, another is refused (exit 4) even with --insecure', async () => {
    const server = await sServer(certs.server!);
    const probe = await runCli(['--json', 'tcp-client', '127.0.0.1', String(server.port), '--tls', '--ca', pki.ca.cert, ...REV, '-c', '1']);
    const pin = jsonEvents(probe.stdout).find((e) => e.event === 'tls')!.pin as string;
    const good = await runCli(['tcp-client', '127.0.0.1', String(server.port), '--tls', '--ca', pki.ca.cert, '--pin', `sha256//${'A'.repeat(43)}=;${pin}`, ...REV, '-c', '1']);
    expect(good.code).toBe(0);
    const bad = await runCli(['tcp-client', '127.0.0.1', String(server.port), '--tls', '-k', '--pin', `sha256//${'A'.repeat(43)}=`, ...REV, '-c', '1']);
    expect(bad.code).toBe(4);
    expect(bad.stdout).toContain('not verified: pin mismatch (PIN_MISMATCH)');
    expect(bad.stderr).toContain(`its public key (${pin}) does not match --pin`);
  }, 15_000);
});

describe('tcp-server --tls against openssl s_client', needs(opensslMissing), () => {
  const verifyingClient = (port: number, ...extra: string[]) => sClient(peers, `127.0.0.1:${port}`, ['-CAfile', pki.ca.cert, '-verify_return_error', ...extra], 'hello\n');

  it('--cert/--key: s_client verifies it over TLS 1.3 and 1.2; each client gets its tls line and its echo', async () => {
    const server = await serve(['--tls', '--cert', certs.server!.cert, '--key', certs.server!.key]);
    expect(server.stdout()).toMatch(/^\[server\] tls certificate: CN=broker, issuer CN=netnote test CA, SAN DNS:localhost IP:127\.0\.0\.1, valid .* pin sha256\/\/\S+ {2}\(ECDSA P-256\)$/m);
    const v13 = await verifyingClient(server.port, '-tls1_3', '-verify_ip', '127.0.0.1');
    expect(v13.stdout.toString()).toContain('Verify return code: 0 (ok)');
    const v12 = await verifyingClient(server.port, '-tls1_2', '-servername', 'localhost', '-verify_hostname', 'localhost');
    expect(v12.stdout.toString()).toContain('Verify return code: 0 (ok)');
    await server.waitFor(/TLSv1\.2[\s\S]*recv data: b'hello\\n'/);
    expect(server.stdout()).toMatch(/\[client addr: 127\.0\.0\.1, \d+\] tls established: TLSv1\.3, TLS_AES_256_GCM_SHA384 {2}\(no client certificate; [\d.]+ ms\)/);
    expect(server.stdout()).toMatch(/\[client addr: 127\.0\.0\.1, \d+\] tls established: TLSv1\.2, ECDHE-ECDSA-\S+ {2}\(SNI localhost, no client certificate; [\d.]+ ms\)/);
    const finished = await server.stop('SIGINT');
    expect(finished.stdout).toMatch(/^\[server\] tls: 2 handshakes, 0 failed, 0 resumed$/m);
  }, 20_000);

  it('--client-ca: a certificate it issued is shown and verified; none, another CA, or an expired one is refused, each with its reason', async () => {
    const server = await serve(['--tls', '--cert', certs.server!.cert, '--key', certs.server!.key, '--client-ca', pki.ca.cert]);
    const good = await verifyingClient(server.port, '-cert', certs.client!.cert, '-key', certs.client!.key);
    expect(good.stdout.toString()).toContain('Verify return code: 0 (ok)');
    await server.waitFor(/recv data: b'hello\\n'/);
    expect(server.stdout()).toMatch(/tls established: TLSv1\.3, \S+ {2}\(client CN=device-1, issuer CN=netnote test CA, valid \S+ to \S+, sha256 [0-9A-F:]{95}, verified; /);

    await verifyingClient(server.port);
    await server.waitFor(/tls failed: the client sent no certificate \(--client-ca requires one\) {2}\(ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE; [\d.]+ ms\)\n.*disconnected {2}\(TLS failed; /);
    await verifyingClient(server.port, '-cert', certs.intruder!.cert, '-key', certs.intruder!.key);
    await server.waitFor(/tls failed: the client's certificate CN=intruder was refused: its issuer \(CN=other CA\) is not trusted here {2}\(UNABLE_TO_\w+; /);
    await verifyingClient(server.port, '-cert', certs.clientExpired!.cert, '-key', certs.clientExpired!.key);
    await server.waitFor(/tls failed: the client's certificate CN=device-old was refused: it expired on \S+ {2}\(CERT_HAS_EXPIRED; /);
    expect(server.stdout().match(/recv data/g)).toHaveLength(1);
    expect(server.stdout()).toMatch(/disconnected {2}\(TLS failed; in 0 B, out 0 B/);
    const finished = await server.stop('SIGINT');
    expect(finished.stdout).toMatch(/^\[server\] tls: 1 handshake, 3 failed, 0 resumed$/m);
    expect(finished.code).toBe(130);
  }, 20_000);

  it('--request-cert: a certificate that does not verify is shown and served anyway; none is fine', async () => {
    const server = await serve(['--tls', '--cert', certs.server!.cert, '--key', certs.server!.key, '--request-cert']);
    await verifyingClient(server.port, '-cert', certs.selfSignedClient!.cert, '-key', certs.selfSignedClient!.key);
    await server.waitFor(/recv data: b'hello\\n'/);
    expect(server.stdout()).toMatch(/\(client CN=lone device, issuer CN=lone device, .*not verified: self-signed \(DEPTH_ZERO_SELF_SIGNED_CERT\), not required; /);
  }, 15_000);

  it('--alpn: the server picks from what the client offers; nothing in common → both sides say so, exit 4', async () => {
    const server = await serve(['--tls', '--cert', certs.server!.cert, '--key', certs.server!.key, '--alpn', 'mqtt']);
    const offered = await verifyingClient(server.port, '-alpn', 'h2,mqtt');
    expect(offered.stdout.toString()).toContain('ALPN protocol: mqtt');
    await server.waitFor(/tls established: TLSv1\.3, \S+, mqtt {2}\(/);
    const client = await runCli(['tcp-client', '127.0.0.1', String(server.port), '--tls', '--ca', pki.ca.cert, '--alpn', 'h2', '-c', '1']);
    expect(client.code).toBe(4);
    expect(client.stderr).toMatch(/failed: no ALPN protocol in common \(ERR_SSL_TLSV1_ALERT_NO_APPLICATION_PROTOCOL\)\nnetnote: hint: compare --alpn/);
    await server.waitFor(/tls failed: no ALPN protocol in common/);
  }, 15_000);

  it("--json: the server's certificate once, each client's tls event with its address, a failed handshake as tls-failed, the counts in the summary", async () => {
    const server = await serve(['--tls', '--cert', certs.server!.cert, '--key', certs.server!.key, '--client-ca', pki.ca.cert], true);
    await verifyingClient(server.port, '-cert', certs.client!.cert, '-key', certs.client!.key);
    await verifyingClient(server.port);
    await server.waitFor(/"event":"tls-failed"/);
    const finished = await server.stop('SIGTERM');
    expect(finished.code).toBe(143);
    const events = jsonEvents(finished.stdout);
    expect(events.filter((e) => e.event === 'certificate')).toEqual([expect.objectContaining({
      role: 'server', subject: 'CN=broker', issuer: 'CN=netnote test CA', san: ['DNS:localhost', 'IP:127.0.0.1'], keyType: 'ECDSA P-256', selfSigned: false, savedTo: null, keySavedTo: null,
    })]);
    expect(events.find((e) => e.event === 'tls')).toMatchObject({
      role: 'server', remote: { address: '127.0.0.1', family: 'IPv4' }, protocol: 'TLSv1.3', subject: 'CN=device-1', authorized: true, failure: null, enforced: true,
    });
    expect(events.find((e) => e.event === 'tls-failed')).toMatchObject({ role: 'server', remote: { address: '127.0.0.1' }, code: 'ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE' });
    expect(events.filter((e) => e.event === 'closed').map((e) => e.reason)).toEqual(['peer-closed', 'tls-failed']);
    expect(events.at(-1)).toMatchObject({ event: 'summary', exitCode: 143, summary: { tls: { handshakes: 1, failed: 1, resumed: 0 } } });
  }, 15_000);

  it('a client that does not speak TLS is logged and closed; the server serves the next one', async () => {
    const server = await serve(['--tls', '--cert', certs.server!.cert, '--key', certs.server!.key]);
    await new Promise<void>((resolve) => {
      const socket = net.connect(server.port, '127.0.0.1', () => socket.write('GET / HTTP/1.1\r\n\r\n'));
      socket.on('error', () => {});
      socket.on('close', () => resolve());
    });
    await server.waitFor(/tls failed: the peer does not speak TLS on this port {2}\(ERR_SSL_HTTP_REQUEST; [\d.]+ ms\)/);
    const next = await runCli(['tcp-client', '127.0.0.1', String(server.port), '--tls', '--ca', pki.ca.cert, '-c', '1']);
    expect(next.code).toBe(0);
  }, 15_000);
});

describe('--self-signed: the saved certificate verifies for each of its names with curl and openssl', needs(opensslMissing), () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'netnote-self-signed-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('curl --cacert and s_client -verify_return_error accept it for localhost, 127.0.0.1 and ::1, and refuse another address', needs(commandMissing('curl', 'curl')), async () => {
    const saved = join(dir, 'ec.pem');
    // --idle-timeout: the echo server closes curl's connection soon after echoing its request.
    const server = startCli(['tcp-server', '::', '0', '--tls', '--self-signed', '--san', 'localhost,127.0.0.1,::1', '--save-cert', saved, '--idle-timeout', '300ms']);
    servers.add(server);
    const port = Number((await server.waitFor(/bind address: ::, (\d+)\n/))[1]);
    await server.waitFor(/tls certificate: CN=localhost, issuer CN=localhost, SAN DNS:localhost IP:127\.0\.0\.1 IP:0:0:0:0:0:0:0:1, .* {2}\(self-signed ECDSA P-256; saved to /);
    // curl speaks HTTP; the echo server answers with curl's own request, which curl takes as an
    // HTTP/0.9 body ending when the server closes: what matters is that the TLS verification passed
    // (exit 60 when it does not).
    const curl = (url: string) => runPeer(peers, 'curl', ['-sS', '--http0.9', '--max-time', '8', '--cacert', saved, '-o', '/dev/null', '-w', '%{ssl_verify_result}', url], Buffer.alloc(0));
    for (const url of [`https://localhost:${port}/`, `https://127.0.0.1:${port}/`, `https://[::1]:${port}/`]) {
      const result = await curl(url);
      expect(result.code, `${url}: ${result.stderr}`).toBe(0);
      expect(result.stdout.toString()).toBe('0');
    }
    const stranger = await curl(`https://127.0.0.2:${port}/`);
    expect(stranger.code).toBe(60);
    expect(stranger.stderr).toMatch(/127\.0\.0\.2/);

    const verify = (...check: string[]) => sClient(peers, `127.0.0.1:${port}`, ['-CAfile', saved, '-verify_return_error', ...check]);
    for (const check of [['-verify_hostname', 'localhost'], ['-verify_ip', '127.0.0.1'], ['-verify_ip', '::1']]) {
      const result = await verify(...check);
      expect(result.code, check.join(' ')).toBe(0);
      expect(result.stdout.toString()).toContain('Verify return code: 0 (ok)');
    }
    const wrong = await verify('-verify_ip', '127.0.0.2');
    expect(wrong.code).toBe(1);
    expect(wrong.stdout.toString() + wrong.stderr).toMatch(/verify error|IP address mismatch/);
  }, 30_000);

  it('--key-type rsa, default names (the bound address and localhost); --save-key serves the same certificate again with --cert/--key', async () => {
    const cert = join(dir, 'rsa.pem');
    const key = join(dir, 'rsa.key');
    const first = await serve(['--tls', '--self-signed', '--key-type', 'rsa', '--save-cert', cert, '--save-key', key]);
    const line = (await first.waitFor(/tls certificate: CN=localhost, issuer CN=localhost, SAN DNS:localhost IP:127\.0\.0\.1, .*sha256 ([0-9A-F:]{95}).* {2}\(self-signed RSA 2048; saved to \S+, key to \S+\)/));
    const shown = await sClient(peers, `127.0.0.1:${first.port}`, ['-CAfile', cert, '-verify_return_error', '-verify_ip', '127.0.0.1']);
    expect(shown.code).toBe(0);
    expect(shown.stdout.toString()).toMatch(/Server public key is 2048 bit/);
    await first.stop('SIGTERM');
    const again = await serve(['--tls', '--cert', cert, '--key', key]);
    await again.waitFor(new RegExp(`sha256 ${line[1]}, pin .* {2}\\(RSA 2048\\)`));
  }, 30_000);
});

describe('every tcp-client mode over TLS, against tcp-server --tls', needs(opensslMissing), () => {
  const tlsServer = (extra: string[] = []) => serve(['--tls', '--cert', certs.server!.cert, '--key', certs.server!.key, ...extra]);
  const client = (port: number, extra: string[]) => runCli(['tcp-client', '127.0.0.1', String(port), '--tls', '--ca', pki.ca.cert, ...extra]);

  it('--ping: TLS round trips; --stream: the sink counts every payload byte the client sent', async () => {
    const echo = await tlsServer(['--quiet']);
    const ping = await client(echo.port, ['--ping', '-c', '20', '--quiet']);
    expect(ping.code).toBe(0);
    expect(ping.stdout).toContain('[client] sent 20 (200 B), received 20 (200 B), 0 without reply');
    expect(ping.stdout).toMatch(/tls established: TLSv1\.3/);

    const sink = await tlsServer(['--sink', '--quiet']);
    const stream = await runCli(['--json', 'tcp-client', '127.0.0.1', String(sink.port), '--tls', '--ca', pki.ca.cert, '--stream', '--duration', '1s', '--quiet']);
    expect(stream.code).toBe(0);
    const summary = jsonEvents(stream.stdout).at(-1)!.summary as { bytes: number; tls: { protocol: string } };
    expect(summary.tls.protocol).toBe('TLSv1.3');
    expect(summary.bytes).toBeGreaterThan(1_000_000);
    const finished = await sink.stop('SIGTERM');
    const received = /\[server\] 1 client served, 0 rejected, 0 still connected; in ([\d.]+) (MiB|GiB)/.exec(finished.stdout)!;
    const bytes = Number(received[1]) * (received[2] === 'GiB' ? 1024 ** 3 : 1024 ** 2);
    expect(Math.abs(bytes - summary.bytes) / summary.bytes).toBeLessThan(0.01);
  }, 30_000);

  it('--connections: handshakes held up to --max-clients; a session ticket resumes the later ones', async () => {
    const server = await tlsServer(['--max-clients', '3', '--quiet']);
    // 200 ms apart: time for the first connection's session ticket to reach the client.
    const held = await client(server.port, ['--connections', '5', '--rate', '5', '--hold', '500ms']);
    expect(held.code).toBe(0);
    expect(held.stdout).toMatch(/5 attempted: 3 established in [\d.]+ m?s, 0 refused, 2 reset, 0 timed out/);
    const finished = await server.stop('SIGINT');
    expect(finished.stdout).toContain('[server] 3 clients served, 2 rejected');
    const resumed = /^\[server\] tls: 3 handshakes, 0 failed, (\d) resumed$/m.exec(finished.stdout);
    expect(Number(resumed?.[1])).toBeGreaterThanOrEqual(1);
  }, 20_000);

  it('--idle-timeout closes a TLS client that handshakes and says nothing', async () => {
    const server = await tlsServer(['--idle-timeout', '500ms']);
    const silent = spawn('openssl', ['s_client', '-connect', `127.0.0.1:${server.port}`, '-CAfile', pki.ca.cert], { stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    peers.add(silent);
    await server.waitFor(/disconnected {2}\(idle timeout; in 0 B, out 0 B/);
  }, 15_000);

  it('Ctrl-C during the handshake → 130, and the summary says so', async () => {
    const silent = await rawServer(cleanups, () => {});
    const running = startCli(['--json', 'tcp-client', '127.0.0.1', String(silent), '--tls', '-c', '1']);
    servers.add(running);
    await running.waitFor(/"event":"connected"/);
    const { code, stdout, stderr } = await running.stop('SIGINT');
    expect(code).toBe(130);
    expect(jsonEvents(stdout).at(-1)).toMatchObject({ event: 'summary', exitCode: 130, summary: { ended: 'interrupted', connected: false, tls: null } });
    expect(stderr).toBe('netnote: interrupted during the TLS handshake\n');
  }, 15_000);

  it('a port that does not speak TLS: an echo → 4, a silent one → 5 after -w, one that closes at once → 6', async () => {
    const plain = await serve([]);
    const echoed = await client(plain.port, ['-c', '1']);
    expect(echoed.code).toBe(4);
    expect(echoed.stderr).toMatch(/failed: the peer does not speak TLS on this port \(ERR_SSL_\w+\)\nnetnote: hint: check the port, or talk to it without --tls/);
    const silent = await rawServer(cleanups, () => {});
    const waited = await client(silent, ['-c', '1', '-w', '500ms']);
    expect(waited.code).toBe(5);
    expect(waited.stderr).toMatch(/^netnote: no TLS handshake with 127\.0\.0\.1:\d+ within 500 ms/);
    const closing = await rawServer(cleanups, (socket) => socket.end());
    const lost = await client(closing, ['-c', '1']);
    expect(lost.code).toBe(6);
    expect(lost.stderr).toMatch(/the peer closed the connection during the handshake/);
  }, 20_000);
});

describe('TLS options: bad input is exit 2, and TLS costs nothing when it is not asked for', needs(opensslMissing), () => {
  it.each([
    [['tcp-client', '127.0.0.1', '9', '--ca', 'ca.pem'], /^netnote: --ca needs --tls\n/],
    [['tcp-client', '127.0.0.1', '9', '--tls', '--tls-min', '1.3', '--tls-max', '1.2'], /^netnote: --tls-min 1\.3 is above --tls-max 1\.2\n/],
    [['tcp-client', '127.0.0.1', '9', '--tls', '--tls-min', '1.1'], /invalid --tls-min '1\.1': use 1\.2 or 1\.3/],
    [['tcp-client', '127.0.0.1', '9', '--tls', '--pin', 'sha1//abc'], /invalid --pin 'sha1\/\/abc'/],
    [['tcp-client', '127.0.0.1', '9', '--tls', '--servername', '192.0.2.1'], /--servername must be a name, not an address/],
    [['tcp-client', '127.0.0.1', '9', '--tls', '--ca', '/nonexistent/ca.pem'], /^netnote: cannot read --ca \/nonexistent\/ca\.pem: ENOENT\n/],
    [['tcp-client', '127.0.0.1', '9', '--tls', '--cert', 'x.pem'], /^netnote: --cert and --key go together\n/],
    [['http-get', 'http://127.0.0.1:9/', '--ca', 'ca.pem'], /^netnote: --ca needs an https:\/\/ URL\n/],
    [['tcp-client', '127.0.0.1', '9', '-k'], /^netnote: --insecure needs --tls\n/],
    [['tcp-server', '127.0.0.1', '0', '--tls'], /^netnote: --tls needs a certificate: --cert FILE --key FILE, or --self-signed\n/],
    [['tcp-server', '127.0.0.1', '0', '--self-signed'], /^netnote: --self-signed needs --tls\n/],
    [['tcp-server', '127.0.0.1', '0', '--tls', '--self-signed', '--san', 'not a name'], /invalid --san entry 'not a name'/],
  ])('%j → 2', async (args, message) => {
    const { code, stderr } = await runCli(args);
    expect(stderr).toMatch(message);
    expect(code).toBe(2);
  }, 10_000);

  it('a --key that is not the key of --cert → 2, before anything listens', async () => {
    const { code, stderr, stdout } = await runCli(['tcp-server', '127.0.0.1', '0', '--tls', '--cert', certs.server!.cert, '--key', certs.client!.key]);
    expect(code).toBe(2);
    expect(stderr).toMatch(/^netnote: --key \S+ is not the key of --cert \S+ \(CN=broker\)\n$/);
    expect(stdout).toBe('');
  }, 10_000);

  it('a plain run loads neither node:tls nor the certificate library; --tls loads node:tls, --self-signed the library', async () => {
    // Reports at exit what the process loaded: node:tls, and the reflection polyfill the certificate library needs.
    const probe = `process.on('exit', () => process.stderr.write('loaded: ' + JSON.stringify({ tls: process.moduleLoadList.includes('NativeModule tls'), certificates: typeof Reflect.getMetadata === 'function' }) + '\\n')); require(${JSON.stringify(NETNOTE)})`;
    // (commander takes the arguments after -e's code as the command line)
    const probed = (args: string[]) => spawn(process.execPath, ['-e', probe, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const loaded = (child: ChildProcess) => new Promise<string>((resolve) => {
      let err = '';
      child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
      child.on('close', (code) => resolve(`${code} ${/loaded: (.*)/.exec(err)?.[1] ?? err}`));
    });
    const server = await serve([]);
    expect(await loaded(probed(['tcp-client', '127.0.0.1', String(server.port), '-c', '1']))).toBe('0 {"tls":false,"certificates":false}');
    const selfSigned = probed(['tcp-server', '127.0.0.1', '0', '--tls', '--self-signed']);
    peers.add(selfSigned);
    const report = loaded(selfSigned);
    let out = '';
    selfSigned.stdout!.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    for (let i = 0; i < 200 && !/bind address: 127\.0\.0\.1, (\d+)/.test(out); i++) await new Promise((resolve) => setTimeout(resolve, 25));
    const port = /bind address: 127\.0\.0\.1, (\d+)/.exec(out)![1]!;
    expect(await loaded(probed(['tcp-client', '127.0.0.1', port, '--tls', '-k', '-c', '1']))).toBe('0 {"tls":true,"certificates":false}');
    selfSigned.kill('SIGINT');
    expect(await report).toBe('130 {"tls":true,"certificates":true}');
  }, 20_000);
});
