import { createHash, type X509Certificate } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import type { CertificateInfo, TlsInfo, VerifyFailure } from '../events.js';

// A certificate described the way a device developer compares it with what a module holds, and
// OpenSSL's verification codes turned into the few reasons a person acts on.

export function describeCertificate(certificate: X509Certificate): CertificateInfo {
  return {
    subject: distinguishedName(certificate.subject),
    issuer: distinguishedName(certificate.issuer),
    san: alternativeNames(certificate.subjectAltName),
    validFrom: new Date(certificate.validFrom).toISOString(),
    validTo: new Date(certificate.validTo).toISOString(),
    fingerprint256: certificate.fingerprint256,
    pin: publicKeyPin(certificate),
  };
}

/** A session whose handshake is done, as its `tls` line shows it, with the verdict on the peer's certificate. */
export function sessionInfo(
  socket: TLSSocket,
  certificate: CertificateInfo | null,
  verdict: Pick<TlsInfo, 'servername' | 'authorized' | 'authorizationError' | 'failure' | 'enforced'>,
  ms: number,
): TlsInfo {
  return {
    protocol: socket.getProtocol() ?? '',
    cipher: socket.getCipher()?.name ?? '',
    alpn: socket.alpnProtocol || null,
    ...verdict,
    subject: certificate?.subject ?? null,
    issuer: certificate?.issuer ?? null,
    san: certificate?.san ?? [],
    validFrom: certificate?.validFrom ?? null,
    validTo: certificate?.validTo ?? null,
    fingerprint256: certificate?.fingerprint256 ?? null,
    pin: certificate?.pin ?? null,
    resumed: socket.isSessionReused(),
    ms,
  };
}

/** curl's --pinnedpubkey form: the SHA-256 of the DER SubjectPublicKeyInfo, base64. */
export function publicKeyPin(certificate: X509Certificate): string {
  const spki = certificate.publicKey.export({ type: 'spki', format: 'der' });
  return `sha256//${createHash('sha256').update(spki).digest('base64')}`;
}

/** `ECDSA P-256`, `RSA 2048`: what a module's TLS stack must support to talk to this key. */
export function keyTypeOf(certificate: X509Certificate): string {
  const key = certificate.publicKey;
  const details = key.asymmetricKeyDetails ?? {};
  switch (key.asymmetricKeyType) {
    case 'ec': return `ECDSA ${CURVES[details.namedCurve ?? ''] ?? details.namedCurve ?? ''}`.trim();
    case 'rsa': return `RSA ${details.modulusLength ?? ''}`.trim();
    default: return (key.asymmetricKeyType ?? 'unknown').toUpperCase();
  }
}

const CURVES: Record<string, string> = { prime256v1: 'P-256', secp384r1: 'P-384', secp521r1: 'P-521' };

/** Node prints a name one attribute a line (`CN=x\nO=y`); a log line wants `CN=x, O=y`. */
function distinguishedName(name: string): string {
  return name.split('\n').filter(Boolean).join(', ');
}

/** `DNS:localhost, IP Address:127.0.0.1` → [`DNS:localhost`, `IP:127.0.0.1`] (openssl -addext's spelling). */
function alternativeNames(names: string | undefined): string[] {
  if (!names) return [];
  return names.split(', ').map((name) => name.replace(/^IP Address:/, 'IP:'));
}

/** OpenSSL's verification codes (and Node's name check) grouped into what a person acts on. */
export function verifyFailure(code: string): VerifyFailure {
  switch (code) {
    case 'CERT_HAS_EXPIRED': return 'expired';
    case 'CERT_NOT_YET_VALID': return 'not-yet-valid';
    case 'ERR_TLS_CERT_ALTNAME_INVALID': return 'wrong-name';
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
    case 'SELF_SIGNED_CERT_IN_CHAIN': return 'self-signed';
    case 'UNABLE_TO_GET_ISSUER_CERT':
    case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY':
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE': return 'unknown-issuer';
    case 'PIN_MISMATCH': return 'pin-mismatch';
    default: return 'untrusted';
  }
}

/** The reason a certificate was refused, as a sentence; `checked` is the name or address it had to hold. */
export function failureWords(failure: VerifyFailure, certificate: CertificateInfo | null, checked?: string): string {
  switch (failure) {
    case 'expired': return `it expired on ${certificate?.validTo ?? '?'}`;
    case 'not-yet-valid': return `it is not valid before ${certificate?.validFrom ?? '?'}`;
    case 'wrong-name': return `it is not for ${checked ?? 'that name'} (its names: ${certificate?.san.join(' ') || certificate?.subject || 'none'})`;
    case 'unknown-issuer': return `its issuer (${certificate?.issuer ?? '?'}) is not trusted here`;
    case 'self-signed': return 'it is self-signed and not trusted here';
    case 'pin-mismatch': return `its public key (${certificate?.pin ?? '?'}) does not match --pin`;
    case 'no-certificate': return 'none was sent';
    case 'untrusted': return 'it is not trusted';
  }
}
