import type net from 'node:net';
import type tls from 'node:tls';
import { elapsedMs } from '../clock.js';
import { hostPort, isAddress } from '../endpoint.js';
import { NetnoteError, fromSystemError } from '../errors.js';
import type { EventSink, Role, TlsInfo, VerifyFailure } from '../events.js';
import type { AskPassphrase, KeyPairFiles, TlsVersion } from './tls-files.js';

/** The certificate helpers, loaded with node:tls (they need node:crypto, which a plain run never loads). */
export type Certificates = typeof import('./tls-certificate.js');

/** The client's TLS options (tcp-client --tls, https:// for http-get), files not yet read. */
export interface TlsClientSpec {
  /** SNI, and the name the certificate must hold; null: the host when it is a name. */
  servername: string | null;
  /** PEM bundle added to Node's roots, or with caOnly instead of them. */
  ca: string | null;
  caOnly: boolean;
  /** A client certificate (mutual TLS). */
  credentials: KeyPairFiles | null;
  /** Accept a certificate that does not verify (the pins are still checked). */
  insecure: boolean;
  alpn: string[];
  minVersion: TlsVersion | null;
  maxVersion: TlsVersion | null;
  /** `sha256//BASE64` public-key pins; any one must match. */
  pins: string[];
}

export interface SecureTarget {
  /** As the user gave it: a name is sent as SNI and checked against DNS SANs, an address against IP SANs. */
  host: string;
  port: number;
  /** The handshake's own bound; null waits as long as the peer does. */
  timeoutMs: number | null;
  signal: AbortSignal;
  role: Role;
}

const sessions = new WeakMap<net.Socket, TlsInfo>();

/** The TLS session of a socket connectTcp secured, as its `tls` line showed it; null for plain TCP. */
export function tlsSession(socket: net.Socket): TlsInfo | null {
  return sessions.get(socket) ?? null;
}

/**
 * One run's TLS client: the secure context built once from the files, and the last session,
 * offered again on the next connection so that a reconnect can resume instead of a full handshake.
 */
export class TlsClient {
  private session: Buffer | null = null;

  private constructor(
    private readonly tls: typeof import('node:tls'),
    private readonly certificates: Certificates,
    private readonly spec: TlsClientSpec,
    private readonly context: tls.SecureContext,
  ) {}

  /** `signal` stops reading the PEM files (a FIFO nobody writes to). */
  static async create(spec: TlsClientSpec, ask: AskPassphrase, signal?: AbortSignal): Promise<TlsClient> {
    // Only TLS runs pay for loading these.
    const [{ default: tls }, certificates, { readCertificates, readKeyPair }] = await Promise.all([
      import('node:tls'), import('./tls-certificate.js'), import('./tls-files.js'),
    ]);
    const ca = spec.ca === null ? undefined : (await readCertificates(spec.ca, '--ca', signal)).map((c) => c.toString());
    const credentials = spec.credentials ? await readKeyPair(spec.credentials, ask, signal) : null;
    const context = tls.createSecureContext({
      // Node's `ca` replaces its roots: --ca adds to them unless --ca-only.
      ...(ca ? { ca: spec.caOnly ? ca : [...tls.rootCertificates, ...ca] } : {}),
      ...(credentials ? { cert: credentials.cert, key: credentials.key } : {}),
      ...(spec.minVersion ? { minVersion: spec.minVersion } : {}),
      ...(spec.maxVersion ? { maxVersion: spec.maxVersion } : {}),
    });
    return new TlsClient(tls, certificates, spec, context);
  }

  /**
   * The handshake over a connected socket; then the `tls` line, and the certificate checked: a
   * refused one ends here (exit 4) after its line showed what it was.
   */
  async secure(socket: net.Socket, target: SecureTarget, sink: EventSink): Promise<tls.TLSSocket> {
    const where = hostPort(target.host, target.port);
    const identity = this.spec.servername ?? target.host.split('%')[0]!; // no zone in a certificate
    const servername = this.spec.servername ?? (isAddress(target.host) ? null : target.host);
    const started = performance.now();
    const secured = this.tls.connect({
      socket,
      secureContext: this.context,
      // Node checks the certificate against `servername`, else `host` (else 'localhost'): an
      // address against the IP SANs, a name against the DNS SANs.
      host: identity,
      ...(servername ? { servername } : {}),
      ...(this.spec.alpn.length ? { ALPNProtocols: this.spec.alpn } : {}),
      ...(this.session ? { session: this.session } : {}),
      // Verified below, so that a refused certificate is still shown before the run ends.
      rejectUnauthorized: false,
    });
    secured.on('session', (session: Buffer) => (this.session = session));
    await handshake(secured, where, target);
    const { describeCertificate, failureWords, sessionInfo, verifyFailure } = this.certificates;
    const peer = secured.getPeerX509Certificate();
    const certificate = peer ? describeCertificate(peer) : null;
    let code = secured.authorized ? null : String(secured.authorizationError ?? 'UNABLE_TO_GET_ISSUER_CERT');
    if (certificate && this.spec.pins.length > 0 && !this.spec.pins.includes(certificate.pin) && (code === null || this.spec.insecure)) code = 'PIN_MISMATCH';
    const failure: VerifyFailure | null = code === null ? null : certificate ? verifyFailure(code) : 'no-certificate';
    const enforced = !this.spec.insecure || failure === 'pin-mismatch';
    const info = sessionInfo(secured, certificate, { servername, authorized: failure === null, authorizationError: code, failure, enforced }, elapsedMs(started));
    sink.emit({ event: 'tls', role: target.role, ...info });
    sessions.set(secured, info);
    if (failure !== null && enforced) {
      secured.destroy();
      throw new NetnoteError('tls', `TLS with ${where} failed: the certificate${certificate ? ` ${certificate.subject}` : ''} was refused: ${failureWords(failure, certificate, identity)} (${code})`, REFUSED_HINTS[failure]);
    }
    return secured;
  }
}

const REFUSED_HINTS: Record<VerifyFailure, string> = {
  expired: "renew it, or check this machine's clock; --insecure to talk anyway",
  'not-yet-valid': 'check the clocks here and where it was issued (a module without NTP starts in the past); --insecure to talk anyway',
  'wrong-name': 'connect by a name or address it holds, or name one with --servername; --insecure to talk anyway',
  'unknown-issuer': 'give the CA that issued it with --ca FILE, or --insecure',
  'self-signed': 'trust it with --ca FILE (tcp-server --save-cert writes one), or --insecure',
  'pin-mismatch': 'the server presents another key than the one pinned: check --pin (curl --pinnedpubkey form)',
  'no-certificate': 'the server sent no certificate: --insecure to talk anyway',
  untrusted: 'give the CA that issued it with --ca FILE, or --insecure',
};

/** Resolves once the handshake is done; a timeout, Ctrl-C or a failure rejects, the socket destroyed. */
function handshake(secured: tls.TLSSocket, where: string, target: SecureTarget): Promise<void> {
  return new Promise((resolve, reject) => {
    const fail = (error: NetnoteError) => {
      cleanup();
      secured.destroy();
      reject(error);
    };
    const onError = (err: NodeJS.ErrnoException) => {
      const error = fromSystemError(err, { host: target.host, port: target.port, doing: 'connect' });
      // Closed without an alert: nothing said why, as for any connection closed early.
      fail(error.code === 'tls' ? error : new NetnoteError('lost', `TLS with ${where} failed: the peer closed the connection during the handshake`,
        'the port may not speak TLS, or the server turned this client away (a client limit?)'));
    };
    const onAbort = () => fail(new NetnoteError('interrupted', 'interrupted during the TLS handshake'));
    const timer = target.timeoutMs === null ? undefined : setTimeout(() => fail(new NetnoteError('timeout',
      `no TLS handshake with ${where} within ${target.timeoutMs} ms`, 'the port may not speak TLS: a plain server waits for data that never comes')), target.timeoutMs);
    const cleanup = () => {
      clearTimeout(timer);
      secured.off('error', onError);
      target.signal.removeEventListener('abort', onAbort);
    };
    if (target.signal.aborted) return onAbort();
    target.signal.addEventListener('abort', onAbort, { once: true });
    secured.once('error', onError);
    secured.once('secureConnect', () => {
      cleanup();
      resolve();
    });
  });
}
