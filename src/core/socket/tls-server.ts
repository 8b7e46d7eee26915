import { writeFileSync } from 'node:fs';
import type net from 'node:net';
import { networkInterfaces } from 'node:os';
import type tls from 'node:tls';
import { elapsedMs } from '../clock.js';
import { endpoint, isAddress } from '../endpoint.js';
import { NetnoteError, tlsFailure, isTlsErrorCode } from '../errors.js';
import type { EventSink, ServerCertificate, VerifyFailure } from '../events.js';
import type { AskPassphrase, KeyPair, KeyPairFiles, TlsVersion } from './tls-files.js';
import type { Certificates } from './tls.js';

/** The server's TLS options (tcp-server --tls), files not yet read. */
export interface TlsServerSpec {
  /** --cert/--key, or null with selfSigned. */
  credentials: KeyPairFiles | null;
  /** --self-signed: a key and certificate made for the run, for these names (null: the defaults). */
  selfSigned: { san: string[] | null; keyType: 'ec' | 'rsa' } | null;
  saveCert: string | null;
  saveKey: string | null;
  /** --client-ca: client certificates are required and verified against this bundle. */
  clientCa: string | null;
  /** --request-cert: asked for, shown, not required. */
  requestCert: boolean;
  alpn: string[];
  minVersion: TlsVersion | null;
  maxVersion: TlsVersion | null;
}

export interface TlsServerStats {
  /** Handshakes completed (certificates accepted). */
  handshakes: number;
  /** Handshakes that failed, or client certificates refused. */
  failed: number;
  resumed: number;
}

/** The server side of the private API Node's own tls.Server uses to read OpenSSL's verdict. */
type VerifiedHandle = { _handle?: { verifyError?(): (Error & { code?: string }) | null } };

/**
 * One server's TLS: the secure context (and its session tickets) shared by every client, and each
 * accepted socket wrapped at once, so the flow reads and writes plaintext and never knows.
 */
export class TlsServer {
  private readonly counts: TlsServerStats = { handshakes: 0, failed: 0, resumed: 0 };

  private constructor(
    private readonly tls: typeof import('node:tls'),
    private readonly certificates: Certificates,
    private readonly spec: TlsServerSpec,
    private readonly context: tls.SecureContext,
    readonly certificate: ServerCertificate,
  ) {}

  /** Reads or makes the key and certificate; `host` is the bound address, for --self-signed's default names. */
  static async create(spec: TlsServerSpec, host: string, ask: AskPassphrase, signal?: AbortSignal): Promise<TlsServer> {
    // Only TLS runs pay for loading these.
    const [{ default: tls }, certificates, { readCertificates, readKeyPair }] = await Promise.all([
      import('node:tls'), import('./tls-certificate.js'), import('./tls-files.js'),
    ]);
    const { describeCertificate, keyTypeOf } = certificates;
    let pair: KeyPair;
    if (spec.selfSigned) {
      const { selfSignedPair } = await import('./self-signed.js');
      pair = await selfSignedPair(spec.selfSigned.san ?? defaultNames(host), spec.selfSigned.keyType);
    } else {
      pair = await readKeyPair(spec.credentials!, ask, signal);
    }
    save(spec.saveCert, pair.cert, '--save-cert', 0o644);
    save(spec.saveKey, pair.key, '--save-key', 0o600);
    const clientCa = spec.clientCa === null ? undefined : (await readCertificates(spec.clientCa, '--client-ca', signal)).map((c) => c.toString());
    const context = tls.createSecureContext({
      cert: pair.cert,
      key: pair.key,
      ...(clientCa ? { ca: clientCa } : {}),
      ...(spec.minVersion ? { minVersion: spec.minVersion } : {}),
      ...(spec.maxVersion ? { maxVersion: spec.maxVersion } : {}),
      // Resuming a session whose client certificate was verified needs an id context (OpenSSL).
      sessionIdContext: 'netnote',
    });
    const certificate: ServerCertificate = {
      ...describeCertificate(pair.leaf),
      keyType: keyTypeOf(pair.leaf),
      selfSigned: spec.selfSigned !== null,
      savedTo: spec.saveCert,
      keySavedTo: spec.saveKey,
    };
    return new TlsServer(tls, certificates, spec, context, certificate);
  }

  stats(): TlsServerStats {
    return { ...this.counts };
  }

  /**
   * Wraps an accepted connection and hands it to the flow at once; the handshake runs as the flow
   * starts reading and writing, and its outcome is reported here.
   */
  accept(raw: net.Socket, sink: EventSink, onConnection: (socket: net.Socket) => void): void {
    const requireCert = this.spec.clientCa !== null;
    const requestCert = requireCert || this.spec.requestCert;
    const remote = raw.remoteAddress === undefined ? null : endpoint(raw.remoteAddress, raw.remotePort, raw.remoteFamily);
    const started = performance.now();
    const socket = new this.tls.TLSSocket(raw, {
      isServer: true,
      secureContext: this.context,
      requestCert,
      // OpenSSL then refuses a client without a certificate, with the alert a device expects.
      rejectUnauthorized: requireCert,
      ...(this.spec.alpn.length ? { ALPNProtocols: this.spec.alpn } : {}),
    });
    // Listening before the flow does, so that a failed handshake is told before the disconnect.
    let settled = false;
    const failed = (message: string, code: string) => {
      settled = true;
      this.counts.failed++;
      if (remote) sink.emit({ event: 'tls-failed', role: 'server', remote, message, code, ms: elapsedMs(started) });
    };
    const { describeCertificate, failureWords, sessionInfo, verifyFailure } = this.certificates;
    socket.once('secure', () => {
      settled = true;
      const error = requestCert ? (socket as unknown as VerifiedHandle)._handle?.verifyError?.() ?? null : null;
      const peer = socket.getPeerX509Certificate();
      const certificate = peer ? describeCertificate(peer) : null;
      const code = requestCert && (error || !peer) ? String(error?.code ?? 'UNABLE_TO_GET_ISSUER_CERT') : null;
      const failure: VerifyFailure | null = code === null ? null : peer ? verifyFailure(code) : 'no-certificate';
      if (failure !== null && requireCert) {
        // Node's TLS cannot send the alert here: the client only sees the connection close.
        const message = `the client's certificate${certificate ? ` ${certificate.subject}` : ''} was refused: ${failureWords(failure, certificate)}`;
        failed(message, code!);
        socket.destroy(new NetnoteError('tls', message));
        return;
      }
      const info = sessionInfo(socket, certificate, {
        servername: (socket as tls.TLSSocket & { servername?: string | false }).servername || null,
        authorized: requestCert && failure === null,
        authorizationError: code,
        failure,
        enforced: requireCert,
      }, elapsedMs(started));
      this.counts.handshakes++;
      if (info.resumed) this.counts.resumed++;
      if (!remote) return;
      sink.emit({ event: 'tls', role: 'server', remote, ...info });
    });
    socket.once('error', (err: NodeJS.ErrnoException) => {
      if (settled) return;
      const code = err.code ?? '';
      failed(isTlsErrorCode(code) ? tlsFailure(err).reason : 'the client closed the connection during the handshake', code);
    });
    socket.once('close', () => {
      if (!settled) failed('the client closed the connection during the handshake', 'closed');
    });
    tcpSockets.set(socket, raw);
    onConnection(socket);
    settled ||= socket.destroyed; // turned away by the flow (a client limit): no handshake to report
  }
}

/** The TCP connection under each TLS socket accepted. */
const tcpSockets = new WeakMap<net.Socket, net.Socket>();

/**
 * Resets a connection (RST): socket.resetAndDestroy() works on a TCP socket only (a TLS socket's
 * handle is a TLSWrap, and Node throws), so a TLS client is reset through its TCP connection.
 */
export function resetConnection(socket: net.Socket): void {
  (tcpSockets.get(socket) ?? socket).resetAndDestroy();
}

/** --self-signed's names when --san is not given: the bound address, or for a wildcard every address of this host, and localhost. */
function defaultNames(host: string): string[] {
  const names = new Set<string>(['localhost']);
  if (host === '0.0.0.0' || host === '::') {
    for (const address of hostAddresses(host === '::' ? null : 'IPv4')) names.add(address);
  } else {
    names.add(host);
  }
  return [...names].sort((a, b) => Number(isAddress(a)) - Number(isAddress(b)));
}

function hostAddresses(family: 'IPv4' | null): string[] {
  return Object.values(networkInterfaces()).flat()
    .filter((a): a is NonNullable<typeof a> => a !== undefined && (family === null || a.family === family) && !a.address.startsWith('fe80:'))
    .map((a) => a.address);
}

function save(path: string | null, pem: string, option: string, mode: number): void {
  if (path === null) return;
  try {
    writeFileSync(path, pem, { mode });
  } catch (err) {
    throw new NetnoteError('usage', `cannot write ${option} ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}
