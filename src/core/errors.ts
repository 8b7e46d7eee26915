import { hostPort } from './endpoint.js';

// One error type for everything a user can cause or meet on the network. Its code is stable
// (scripts read it from --json) and maps to the documented exit code.

const EXIT_CODES = {
  assertion: 1,
  usage: 2,
  resolve: 3,
  unreachable: 4,
  timeout: 5,
  lost: 6,
  bind: 7,
  interrupted: 130,
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
