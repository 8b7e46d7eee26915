import { hostPort } from './endpoint.js';

// One error type for everything a user can cause or meet on the network. Its code is stable
// (scripts read it from --json) and maps to the documented exit code.

const EXIT_CODES = {
  assertion: 1,
  usage: 2,
  resolve: 3,
  unreachable: 4,
  // Not reachable securely: the same exit code as unreachable, its own code for scripts.
  tls: 4,
  timeout: 5,
  lost: 6,
  bind: 7,
  /** Output that cannot be written: stdout (but EPIPE), a file named on the command line. */
  output: 8,
  // A signal ended the run: 128 + the signal's number, as a shell reports it.
  hangup: 129,
  interrupted: 130,
  terminated: 143,
  /** A bug in netnote: not a network outcome, so outside the 0-7 range scripts branch on. */
  internal: 70,
} as const;

export type ErrorCode = keyof typeof EXIT_CODES;

/** The error that ended a run, as scripts see it. */
export interface ErrorInfo {
  code: ErrorCode;
  message: string;
  hint?: string;
}

export class NetnoteError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;

  constructor(code: ErrorCode, message: string, hint?: string) {
    super(message);
    this.name = 'NetnoteError';
    this.code = code;
    this.hint = hint;
  }

  get exitCode(): number {
    return EXIT_CODES[this.code];
  }

  get info(): ErrorInfo {
    return { code: this.code, message: this.message, ...(this.hint ? { hint: this.hint } : {}) };
  }
}

/**
 * A value a person typed that cannot be used: `invalid WHAT 'INPUT': REASON`, where the reason
 * says what to type instead. The command line names the option or argument it came from as WHAT.
 */
export class InvalidValueError extends NetnoteError {
  constructor(what: string, readonly input: string, readonly reason: string) {
    super('usage', `invalid ${what} '${input}': ${reason}`);
  }
}

const OUTPUT_REASONS: Record<string, string> = {
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EFBIG: 'the file is too large',
  EIO: 'input/output error',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  ENOENT: 'no such directory',
  ENOTDIR: 'a part of the path is not a directory',
  EISDIR: 'it is a directory',
  EBADF: 'it is closed',
  EPIPE: 'nobody reads it any more',
};

/**
 * Output that cannot be written (stdout, `--output`, `--report`…): `cannot write WHAT: REASON
 * (CODE)`. One code for every output, so a script tells a lost log from a failed test.
 */
export function outputError(what: string, err: unknown): NetnoteError {
  if (err instanceof NetnoteError) return err;
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const reason = (code && OUTPUT_REASONS[code]) ?? (err instanceof Error ? err.message : String(err));
  return new NetnoteError('output', `cannot write ${what}: ${reason}${code ? ` (${code})` : ''}`,
    code === 'ENOSPC' || code === 'EDQUOT' ? 'free some space, or write somewhere else' : undefined);
}

/**
 * A failure to connect that trying again may fix: nothing listening yet, no route yet, no answer,
 * a reset, a name not yet in DNS. A bad --bind, a refused certificate or Ctrl-C will not change.
 */
export function isTransient(error: NetnoteError): boolean {
  return error.code === 'unreachable' || error.code === 'timeout' || error.code === 'lost' || error.code === 'resolve';
}

/** Where a system error happened, so the message can name it. */
export interface ErrorPlace {
  host: string;
  port: number;
  /** What we were doing: shapes the wording for errors that can happen at several steps. */
  doing: 'connect' | 'bind' | 'listen' | 'io';
}

/** Turns a Node system error (errno codes) into a NetnoteError a person can act on. */
export function fromSystemError(err: unknown, place: ErrorPlace): NetnoteError {
  if (err instanceof NetnoteError) return err;
  const code = (err as NodeJS.ErrnoException | undefined)?.code ?? '';
  const where = hostPort(place.host, place.port);
  if (isTlsErrorCode(code)) {
    const { reason, hint } = tlsFailure(err as NodeJS.ErrnoException);
    return new NetnoteError('tls', `TLS with ${where} failed: ${reason} (${code})`, hint);
  }
  switch (code) {
    case 'ECONNREFUSED':
      return new NetnoteError('unreachable', `nothing listening on ${where} (connection refused)`,
        'check the port, or start a server there: netnote tcp-server HOST PORT');
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EHOSTDOWN':
    case 'ENETDOWN':
      return new NetnoteError('unreachable', `${where} is unreachable (${code})`,
        'check the route to the host: netnote interfaces');
    case 'ETIMEDOUT':
      return new NetnoteError('timeout', `${where} timed out (${code})`);
    case 'ECONNRESET':
    case 'EPIPE':
    case 'ECONNABORTED':
      return new NetnoteError('lost', `connection to ${where} lost (${code === 'EPIPE' ? 'broken pipe' : 'reset by peer'})`);
    case 'EADDRINUSE':
      return new NetnoteError('bind', `${where} is already in use`,
        place.doing === 'listen' ? 'pick another port, or stop the program holding it (ss -ltnp)' : undefined);
    case 'EMFILE':
    case 'ENFILE':
      return new NetnoteError('bind', `cannot open another socket: too many open files (${code})`,
        code === 'EMFILE' ? 'raise the limit (ulimit -n), or open fewer connections' : 'the whole system is out of file descriptors');
    case 'EADDRNOTAVAIL':
      return new NetnoteError('bind', `${place.host} is not an address of this host`,
        'bind an address this host has (see ip addr), or 127.0.0.1');
    case 'EACCES':
    case 'EPERM':
      return new NetnoteError(place.doing === 'connect' ? 'unreachable' : 'bind',
        `permission denied for ${where} (${code})`,
        place.port < 1024 && place.doing !== 'connect' ? 'ports below 1024 need root or CAP_NET_BIND_SERVICE' : undefined);
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_FAIL':
    case 'EAI_NONAME':
    case 'EAI_NODATA':
      return new NetnoteError('resolve', `cannot resolve ${place.host} (${code})`,
        'check the name and the DNS server in use');
    default: {
      const message = err instanceof Error ? err.message : String(err);
      return new NetnoteError('lost', `${place.doing} ${where} failed: ${message}`);
    }
  }
}

/** OpenSSL's errors (`ERR_SSL_…`: an alert, a protocol error) and Node's TLS errors. */
export function isTlsErrorCode(code: string): boolean {
  return /^ERR_(SSL|TLS)_/.test(code);
}

/** Whether a socket error ended its TLS (a handshake, or a certificate refused), without building the error a run ends with. */
export function isTlsFailure(err: unknown): boolean {
  return err instanceof NetnoteError ? err.code === 'tls' : isTlsErrorCode((err as NodeJS.ErrnoException | undefined)?.code ?? '');
}

// What a TLS error means for the person at either end, first match wins. An alert is what the
// peer said (`…_ALERT_…`); the others are what our own OpenSSL refused.
const TLS_FAILURES: Array<[RegExp, string, string?]> = [
  [/ALERT_CERTIFICATE_REQUIRED/, 'the server requires a client certificate', 'give one with --cert FILE --key FILE'],
  [/PEER_DID_NOT_RETURN_A_CERTIFICATE/, 'the client sent no certificate (--client-ca requires one)'],
  [/ALERT_UNKNOWN_CA/, 'the peer does not trust our certificate (unknown CA)', 'the peer needs the CA that issued our certificate'],
  [/ALERT_CERTIFICATE_EXPIRED/, 'the peer says our certificate expired'],
  [/ALERT_(BAD_CERTIFICATE|CERTIFICATE_UNKNOWN|UNSUPPORTED_CERTIFICATE|CERTIFICATE_REVOKED|ACCESS_DENIED)/, 'the peer refused our certificate'],
  [/ALERT_PROTOCOL_VERSION|UNSUPPORTED_PROTOCOL|NO_PROTOCOLS_AVAILABLE|VERSION_TOO_(LOW|HIGH)|WRONG_SSL_VERSION/, 'no TLS version in common', 'compare --tls-min/--tls-max with what the peer allows'],
  [/NO_APPLICATION_PROTOCOL/, 'no ALPN protocol in common', 'compare --alpn with what the peer offers'],
  [/NO_SHARED_CIPHER|NO_SUITABLE_SIGNATURE_ALGORITHM|NO_SHARED_SIGNATURE_ALGORITHMS/, 'no cipher or signature algorithm in common'],
  [/ALERT_HANDSHAKE_FAILURE|ALERT_INSUFFICIENT_SECURITY/, 'the peer refused the handshake (handshake failure alert)',
    'no cipher or key type in common, or (TLS 1.2) the peer requires a client certificate: --cert FILE --key FILE'],
  // An echo server sends our own hello back: an unexpected message.
  [/WRONG_VERSION_NUMBER|HTTP_REQUEST|HTTPS_PROXY_REQUEST|PACKET_LENGTH_TOO_LONG|UNKNOWN_PROTOCOL|RECORD_LAYER_FAILURE|UNEXPECTED_MESSAGE|UNEXPECTED_RECORD/, 'the peer does not speak TLS on this port',
    'check the port, or talk to it without --tls'],
  [/ALERT_DECRYPT_ERROR|BAD_SIGNATURE|DIGEST_CHECK_FAILED/, 'a handshake signature did not verify (wrong key for the certificate?)'],
];

/** The reason and hint of a TLS error, in words (without its code); OpenSSL's own reason when the table has none. */
export function tlsFailure(err: NodeJS.ErrnoException & { reason?: string }): { reason: string; hint?: string } {
  const known = TLS_FAILURES.find(([pattern]) => pattern.test(err.code ?? ''));
  if (known) return { reason: known[1], ...(known[2] ? { hint: known[2] } : {}) };
  return { reason: err.reason ?? err.message };
}
