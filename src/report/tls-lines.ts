import type { CertificateInfo, NetEvent, ServerCertificate, VerifyFailure } from '../core/events.js';
import type { TlsServerStats } from '../core/socket/tls-server.js';
import { ms, plural } from './format.js';

// The TLS lines: what a device developer compares with the module's own log (version, cipher,
// certificate names, dates, fingerprint) and why a certificate was or was not accepted.

type TlsEvent = Extract<NetEvent, { event: 'tls' }>;

const FAILURES: Record<VerifyFailure, string> = {
  expired: 'expired',
  'not-yet-valid': 'not yet valid',
  'wrong-name': 'wrong name',
  'unknown-issuer': 'unknown issuer',
  'self-signed': 'self-signed',
  'pin-mismatch': 'pin mismatch',
  'no-certificate': 'no certificate',
  untrusted: 'untrusted',
};

/** Certificates hold whole seconds: `2026-11-30T15:41:44Z`. */
function date(iso: string | null): string {
  return iso === null ? '?' : iso.replace(/\.000Z$/, 'Z');
}

type Described = Pick<CertificateInfo, 'subject' | 'issuer' | 'san' | 'fingerprint256'> & { validFrom: string | null; validTo: string | null };

function certificateText(c: Described): string {
  return `${c.subject}, issuer ${c.issuer}${c.san.length ? `, SAN ${c.san.join(' ')}` : ''}, valid ${date(c.validFrom)} to ${date(c.validTo)}, sha256 ${c.fingerprint256}`;
}

/** The `tls established:` line: the text the note's line style puts first, and what goes in `  (…)`. */
export function tlsLine(e: TlsEvent): { text: string; extra: string } {
  const text = `tls established: ${e.protocol}, ${e.cipher}${e.alpn ? `, ${e.alpn}` : ''}`;
  const parts: string[] = [];
  if (e.role === 'server' && e.servername) parts.push(`SNI ${e.servername}`);
  const { subject, issuer, validFrom, validTo, fingerprint256 } = e;
  if (subject !== null && issuer !== null && fingerprint256 !== null) {
    parts.push(`${e.role === 'server' ? 'client ' : ''}${certificateText({ subject, issuer, san: e.san, validFrom, validTo, fingerprint256 })}`);
    parts.push(verdict(e));
  } else {
    parts.push(e.role === 'server' ? 'no client certificate' : 'no certificate');
    if (e.role === 'client') parts.push(verdict(e));
  }
  if (e.resumed) parts.push('session resumed');
  return { text, extra: `${parts.join(', ')}; ${ms(e.ms)}` };
}

function verdict(e: TlsEvent): string {
  if (e.failure === null) return 'verified';
  const why = `not verified: ${FAILURES[e.failure]}${e.authorizationError && e.failure !== 'no-certificate' ? ` (${e.authorizationError})` : ''}`;
  if (e.enforced) return why;
  return `${why}, ${e.role === 'client' ? 'accepted: --insecure' : 'not required'}`;
}

/** A TLS server's own certificate, at start: what a device must trust or pin. */
export function certificateLine(c: ServerCertificate): { text: string; extra: string } {
  const saved = [c.savedTo ? `saved to ${c.savedTo}` : '', c.keySavedTo ? `key to ${c.keySavedTo}` : ''].filter(Boolean).join(', ');
  return {
    text: `tls certificate: ${certificateText(c)}, pin ${c.pin}`,
    extra: `${c.selfSigned ? 'self-signed ' : ''}${c.keyType}${saved ? `; ${saved}` : ''}`,
  };
}

export function tlsStatsLine(s: TlsServerStats): string {
  return `tls: ${plural(s.handshakes, 'handshake')}, ${s.failed} failed, ${s.resumed} resumed`;
}
