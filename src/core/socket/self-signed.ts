// Imported only by --self-signed: the certificate library and its reflection polyfill (tsyringe,
// which @peculiar/x509 uses inside, needs one) load with it and no sooner.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { KeyObject, X509Certificate, randomBytes, webcrypto } from 'node:crypto';
import { isAddress } from '../endpoint.js';
import type { KeyPair } from './tls-files.js';

/** Validity reaches back an hour: a module whose clock lags a little must not see "not yet valid". */
const BACKDATE_MS = 3_600_000;
const VALID_MS = 365 * 86_400_000;

const ALGORITHMS = {
  ec: { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' },
  rsa: { name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' },
} as const;

/**
 * A new key and a self-signed server certificate for `names` (each an IP or a DNS SAN; the first
 * name is also the CN, for TLS stacks that still look there), made with WebCrypto and @peculiar/x509.
 */
export async function selfSignedPair(names: string[], keyType: 'ec' | 'rsa'): Promise<KeyPair> {
  x509.cryptoProvider.set(webcrypto);
  const algorithm = ALGORITHMS[keyType];
  const keys = await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify']) as webcrypto.CryptoKeyPair;
  const serial = randomBytes(16);
  serial[0]! &= 0x7f; // a positive serial number (RFC 5280), 128 random bits
  const now = Date.now();
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial.toString('hex'),
    name: [{ CN: [names[0]!] }],
    notBefore: new Date(now - BACKDATE_MS),
    notAfter: new Date(now + VALID_MS),
    signingAlgorithm: algorithm,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | (keyType === 'rsa' ? x509.KeyUsageFlags.keyEncipherment : 0), true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension(names.map((name) => ({ type: isAddress(name) ? 'ip' : 'dns', value: name }))),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  const cert = `${certificate.toString('pem')}\n`;
  const key = KeyObject.from(keys.privateKey).export({ type: 'pkcs8', format: 'pem' }) as string;
  return { cert, key, leaf: new X509Certificate(cert) };
}
