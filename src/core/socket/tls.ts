import type net from 'node:net';
import type tls from 'node:tls';
import { elapsedMs } from '../clock.js';
import { hostPort, isAddress } from '../endpoint.js';
import { NetnoteError } from '../errors.js';
import type { TlsInfo } from '../events.js';

export interface TlsClientOptions {
  /** As the user gave it: a name is sent as SNI, an address is not. */
  host: string;
  port: number;
  /** Skip certificate verification (--insecure). */
  insecure: boolean;
  alpn: string[];
}

/** TLS over a connected socket: SNI from the host name, the certificate described either way. */
export async function secureClient(socket: net.Socket, options: TlsClientOptions, stop: AbortSignal): Promise<{ socket: tls.TLSSocket; info: TlsInfo }> {
  const { default: tls } = await import('node:tls'); // only TLS runs pay for loading it
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const secured = tls.connect({
      socket,
      // The name or address the certificate must be for: an address is checked against the
      // certificate's IP SANs, a name against its DNS SANs (without `host`, Node checks 'localhost').
      host: options.host,
      servername: isAddress(options.host) ? undefined : options.host,
      rejectUnauthorized: !options.insecure,
      ALPNProtocols: options.alpn,
    });
    const onAbort = () => secured.destroy();
    stop.addEventListener('abort', onAbort, { once: true });
    secured.once('error', (err: NodeJS.ErrnoException) => {
      stop.removeEventListener('abort', onAbort);
      const certificate = describeCertificate(secured);
      reject(new NetnoteError('unreachable', `TLS with ${hostPort(options.host, options.port)} failed: ${err.code ?? ''} ${err.message}`.trim(),
        err.code && /CERT|SELF_SIGNED|UNABLE_TO/.test(err.code) ? `the certificate${certificate ? ` (${certificate})` : ''} is not trusted here: --insecure skips the check` : undefined));
    });
    secured.once('secureConnect', () => {
      stop.removeEventListener('abort', onAbort);
      const peer = secured.getPeerCertificate();
      resolve({
        socket: secured,
        info: {
          protocol: secured.getProtocol() ?? '',
          cipher: secured.getCipher()?.name ?? '',
          alpn: secured.alpnProtocol || null,
          authorized: secured.authorized,
          authorizationError: secured.authorizationError ? String(secured.authorizationError) : null,
          subject: peer?.subject ? distinguishedName(peer.subject) : null,
          issuer: peer?.issuer ? distinguishedName(peer.issuer) : null,
          validTo: peer?.valid_to ? new Date(peer.valid_to).toISOString() : null,
          ms: elapsedMs(started),
        },
      });
    });
  });
}

function distinguishedName(name: tls.Certificate): string {
  return Object.entries(name).map(([k, v]) => `${k}=${Array.isArray(v) ? v.join('+') : v}`).join(', ');
}

function describeCertificate(socket: tls.TLSSocket): string {
  const peer = socket.getPeerCertificate();
  return peer?.subject ? `subject ${distinguishedName(peer.subject)}, issuer ${peer.issuer ? distinguishedName(peer.issuer) : '?'}` : '';
}
