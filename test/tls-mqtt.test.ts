// tcp-client --tls against a real MQTT broker: mosquitto with a TLS listener on loopback, with
// and without require_certificate. The MQTT 3.1.1 CONNECT is sent as hex and the CONNACK
// (session not present, return code 0: accepted) checked with --expect-hex.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli.js';
import { mosquittoUnavailable, startMosquitto, type Mosquitto } from './support/mosquitto.js';
import { commandMissing } from './support/peers.js';
import { needs } from './support/needs.js';
import { makePki, type Issued, type Pki } from './support/pki.js';



/** CONNECT: protocol MQTT level 4, clean session, keepalive 60 s, client id `netnote`. */
const CONNECT = '10 13 00 04 4d 51 54 54 04 02 00 3c 00 07 6e 65 74 6e 6f 74 65';
const CONNACK_ACCEPTED = '20 02 00 00';

describe('tcp-client --tls against mosquitto', needs(mosquittoUnavailable, commandMissing('openssl', 'openssl')), () => {
  let pki: Pki;
  let broker: Issued;
  let device: Issued;
  const brokers: Mosquitto[] = [];

  beforeAll(() => {
    pki = makePki();
    broker = pki.issue('broker', 'mosquitto', { san: ['DNS:localhost', 'IP:127.0.0.1'] });
    device = pki.issue('device', 'device-7', { usage: 'client' });
  }, 15_000);
  afterEach(() => {
    for (const b of brokers.splice(0)) b.stop();
  });
  afterAll(() => pki?.remove());

  const start = async (requireCertificate: boolean) => {
    const b = await startMosquitto({ cafile: pki.ca.cert, certfile: broker.cert, keyfile: broker.key, requireCertificate });
    brokers.push(b);
    return b;
  };
  const mqtt = (port: number, ...extra: string[]) => runCli(['tcp-client', 'localhost', String(port), '--tls', '--ca', pki.ca.cert, ...extra,
    '--hex', CONNECT, '--expect-hex', CONNACK_ACCEPTED, '-c', '1', '-w', '5s']);

  it('a TLS listener: CONNECT over TLS, CONNACK accepted, the broker certificate verified by name', async () => {
    const b = await start(false);
    const { code, stdout, stderr } = await mqtt(b.port, '--alpn', 'mqtt');
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toMatch(/^\[client\] tls established: TLSv1\.3, \S+ {2}\(CN=mosquitto, issuer CN=netnote test CA, SAN DNS:localhost IP:127\.0\.0\.1, .*verified; /m);
    expect(stdout).toContain("[client] recv data: b' \\x02\\x00\\x00'");
    expect(b.log()).toMatch(/New client connected from 127\.0\.0\.1:\d+ as netnote/);
  }, 20_000);

  it('require_certificate true: with --cert/--key the CONNACK comes; without, exit 4 and the hint', async () => {
    const b = await start(true);
    const withCert = await mqtt(b.port, '--cert', device.cert, '--key', device.key);
    expect(withCert.stderr).toBe('');
    expect(withCert.code).toBe(0);
    expect(withCert.stdout).toContain("[client] recv data: b' \\x02\\x00\\x00'");
    const without = await mqtt(b.port);
    expect(without.code).toBe(4);
    expect(without.stderr).toMatch(/^netnote: TLS with localhost:\d+ failed: the server requires a client certificate \(ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED\)\nnetnote: hint: give one with --cert FILE --key FILE\n$/);
  }, 20_000);
});
