// Exit codes and error wording, against the table scripts rely on (README "Exit codes", DESIGN §4)
// and the exact lines a person reads: each errno Node reports, in each place it can happen; each
// TLS failure as OpenSSL names it, and one real failed handshake.
import net from 'node:net';
import tls from 'node:tls';
import { describe, expect, it } from 'vitest';
import {
  InvalidValueError, NetnoteError, fromSystemError, isTlsFailure, isTransient, outputError, tlsFailure, type ErrorCode, type ErrorPlace,
} from '../../src/core/errors.js';
import { trackResources } from '../support/cleanup.js';

const tracked = trackResources();

// README "Exit codes"; `tls` is 4 as its TLS table says ("like unreachable"), `internal` the 70 of a
// bug, and a signal's 128 + its number, as a shell reports it.
const README_EXIT_CODES: Record<ErrorCode, number> = {
  assertion: 1, usage: 2, resolve: 3, unreachable: 4, tls: 4, timeout: 5, lost: 6, bind: 7, output: 8,
  hangup: 129, interrupted: 130, terminated: 143, internal: 70,
};

function systemError(code: string, message = `${code} from the kernel`): NodeJS.ErrnoException {
  return Object.assign(new Error(message), { code });
}

const connect: ErrorPlace = { host: '192.0.2.7', port: 8080, doing: 'connect' };
const listen: ErrorPlace = { host: '::1', port: 80, doing: 'listen' };

describe('NetnoteError', () => {
  it.each(Object.entries(README_EXIT_CODES))('%s exits with %i', (code, exit) => {
    const error = new NetnoteError(code as ErrorCode, 'what happened');
    expect(error.exitCode).toBe(exit);
    expect(error.code).toBe(code);
  });

  it('is an Error named NetnoteError; info carries code, message and the hint only when there is one', () => {
    const plain = new NetnoteError('timeout', 'no reply');
    expect(plain).toBeInstanceOf(Error);
    expect(plain.name).toBe('NetnoteError');
    expect(plain.message).toBe('no reply');
    expect(plain.hint).toBeUndefined();
    expect(plain.info).toStrictEqual({ code: 'timeout', message: 'no reply' });
    expect(new NetnoteError('usage', 'bad port', 'use 1-65535').info).toStrictEqual({ code: 'usage', message: 'bad port', hint: 'use 1-65535' });
  });

  it("InvalidValueError is a usage error worded as README's example: invalid WHAT 'INPUT': REASON", () => {
    const error = new InvalidValueError('--interval', '1m30', 'use a duration such as 500ms, 1s, 2m or 1m30s');
    expect(error).toBeInstanceOf(NetnoteError);
    expect({ code: error.code, exitCode: error.exitCode, message: error.message, input: error.input, reason: error.reason }).toStrictEqual({
      code: 'usage', exitCode: 2, message: "invalid --interval '1m30': use a duration such as 500ms, 1s, 2m or 1m30s",
      input: '1m30', reason: 'use a duration such as 500ms, 1s, 2m or 1m30s',
    });
  });
});

describe('fromSystemError: errno → exit code, message and hint', () => {
  it.each([
    ['ECONNREFUSED', connect, 'unreachable', 'nothing listening on 192.0.2.7:8080 (connection refused)', 'check the port, or start a server there: netnote tcp-server HOST PORT'],
    ['EHOSTUNREACH', connect, 'unreachable', '192.0.2.7:8080 is unreachable (EHOSTUNREACH)', 'check the route to the host: netnote interfaces'],
    ['ENETUNREACH', connect, 'unreachable', '192.0.2.7:8080 is unreachable (ENETUNREACH)', 'check the route to the host: netnote interfaces'],
    ['EHOSTDOWN', connect, 'unreachable', '192.0.2.7:8080 is unreachable (EHOSTDOWN)', 'check the route to the host: netnote interfaces'],
    ['ENETDOWN', connect, 'unreachable', '192.0.2.7:8080 is unreachable (ENETDOWN)', 'check the route to the host: netnote interfaces'],
    ['ETIMEDOUT', connect, 'timeout', '192.0.2.7:8080 timed out (ETIMEDOUT)', undefined],
    ['ECONNRESET', connect, 'lost', 'connection to 192.0.2.7:8080 lost (reset by peer)', undefined],
    ['ECONNABORTED', connect, 'lost', 'connection to 192.0.2.7:8080 lost (reset by peer)', undefined],
    ['EPIPE', connect, 'lost', 'connection to 192.0.2.7:8080 lost (broken pipe)', undefined],
    ['EADDRINUSE', listen, 'bind', '[::1]:80 is already in use', 'pick another port, or stop the program holding it (ss -ltnp)'],
    ['EADDRINUSE', { ...connect, doing: 'bind' }, 'bind', '192.0.2.7:8080 is already in use', undefined],
    ['EMFILE', connect, 'bind', 'cannot open another socket: too many open files (EMFILE)', 'raise the limit (ulimit -n), or open fewer connections'],
    ['ENFILE', connect, 'bind', 'cannot open another socket: too many open files (ENFILE)', 'the whole system is out of file descriptors'],
    ['EADDRNOTAVAIL', { ...connect, doing: 'bind' }, 'bind', '192.0.2.7 is not an address of this host', 'bind an address this host has (see ip addr), or 127.0.0.1'],
    ['EACCES', listen, 'bind', 'permission denied for [::1]:80 (EACCES)', 'ports below 1024 need root or CAP_NET_BIND_SERVICE'],
    ['EPERM', { host: '127.0.0.1', port: 1023, doing: 'bind' }, 'bind', 'permission denied for 127.0.0.1:1023 (EPERM)', 'ports below 1024 need root or CAP_NET_BIND_SERVICE'],
    ['EACCES', { host: '127.0.0.1', port: 1024, doing: 'listen' }, 'bind', 'permission denied for 127.0.0.1:1024 (EACCES)', undefined],
    // A firewall refusing an outgoing connection (nft reject, EPERM) is the peer being unreachable.
    ['EPERM', { host: '127.0.0.1', port: 80, doing: 'connect' }, 'unreachable', 'permission denied for 127.0.0.1:80 (EPERM)', undefined],
    ['ENOTFOUND', { ...connect, host: 'meter.invalid' }, 'resolve', 'cannot resolve meter.invalid (ENOTFOUND)', 'check the name and the DNS server in use'],
    ['EAI_AGAIN', { ...connect, host: 'meter.invalid' }, 'resolve', 'cannot resolve meter.invalid (EAI_AGAIN)', 'check the name and the DNS server in use'],
    ['EAI_FAIL', { ...connect, host: 'meter.invalid' }, 'resolve', 'cannot resolve meter.invalid (EAI_FAIL)', 'check the name and the DNS server in use'],
    ['EAI_NONAME', { ...connect, host: 'meter.invalid' }, 'resolve', 'cannot resolve meter.invalid (EAI_NONAME)', 'check the name and the DNS server in use'],
    ['EAI_NODATA', { ...connect, host: 'meter.invalid' }, 'resolve', 'cannot resolve meter.invalid (EAI_NODATA)', 'check the name and the DNS server in use'],
  ] as Array<[string, ErrorPlace, ErrorCode, string, string | undefined]>)('%s while %o → %s', (errno, place, code, message, hint) => {
    const error = fromSystemError(systemError(errno), place);
    expect(error).toBeInstanceOf(NetnoteError);
    expect({ code: error.code, exitCode: error.exitCode, message: error.message, hint: error.hint })
      .toStrictEqual({ code, exitCode: README_EXIT_CODES[code], message, hint });
  });

  it('any other failure is a lost connection that says what we were doing and what Node said', () => {
    const error = fromSystemError(systemError('EPROTO', 'write EPROTO'), { host: '::1', port: 443, doing: 'io' });
    expect({ code: error.code, message: error.message, hint: error.hint }).toStrictEqual({ code: 'lost', message: 'io [::1]:443 failed: write EPROTO', hint: undefined });
    expect(fromSystemError('not an Error at all', connect).message).toBe('connect 192.0.2.7:8080 failed: not an Error at all');
    expect(fromSystemError(undefined, listen).message).toBe('listen [::1]:80 failed: undefined');
  });

  it('a NetnoteError passes through unchanged', () => {
    const original = new NetnoteError('timeout', 'no answer within 400 ms', 'raise -w');
    expect(fromSystemError(original, connect)).toBe(original);
  });
});

/**
 * An OpenSSL failure as Node reports it: the code is the reason string in capitals, spaces as
 * underscores, after ERR_SSL_ (the real handshake below checks that rule on Node's own error).
 */
function openSslError(reason: string): NodeJS.ErrnoException & { reason: string } {
  return Object.assign(new Error(`error:0A000000:SSL routines::${reason}`), { code: `ERR_SSL_${reason.toUpperCase().replaceAll(' ', '_')}`, reason });
}

describe('outputError: output that cannot be written, exit 8', () => {
  it.each([
    ['ENOSPC', 'no space left on the device', 'free some space, or write somewhere else'],
    ['EDQUOT', 'disk quota exceeded', 'free some space, or write somewhere else'],
    ['EFBIG', 'the file is too large', undefined],
    ['EIO', 'input/output error', undefined],
    ['EACCES', 'permission denied', undefined],
    ['EPERM', 'operation not permitted', undefined],
    ['EROFS', 'read-only file system', undefined],
    ['ENOENT', 'no such directory', undefined],
    ['ENOTDIR', 'a part of the path is not a directory', undefined],
    ['EISDIR', 'it is a directory', undefined],
    ['EBADF', 'it is closed', undefined],
    ['EPIPE', 'nobody reads it any more', undefined],
  ])('%s: cannot write WHAT: %s (%s)', (code, reason, hint) => {
    const error = outputError('--report r.html', systemError(code));
    expect(error.exitCode).toBe(8);
    expect(error.info).toStrictEqual({ code: 'output', message: `cannot write --report r.html: ${reason} (${code})`, ...(hint ? { hint } : {}) });
  });

  it("an errno the table does not know reads as Node's message with its code; an error without a code, as its message", () => {
    expect(outputError('stdout', systemError('ENXIO', 'no such device or address')).message).toBe('cannot write stdout: no such device or address (ENXIO)');
    expect(outputError('stdout', new Error('stream destroyed')).message).toBe('cannot write stdout: stream destroyed');
    expect(outputError('stdout', 'odd').message).toBe('cannot write stdout: odd');
  });

  it('a stream that fails with no error at all (undefined or null) is still an output error, exit 8', () => {
    expect(outputError('stdout', undefined).info).toStrictEqual({ code: 'output', message: 'cannot write stdout: undefined' });
    expect(outputError('--output o.ndjson', null).info).toStrictEqual({ code: 'output', message: 'cannot write --output o.ndjson: null' });
  });

  it('a NetnoteError passes through unchanged (a signal that stopped the wait for a FIFO reader)', () => {
    const stop = new NetnoteError('interrupted', 'interrupted while waiting for a reader of --log x');
    expect(outputError('--log x', stop)).toBe(stop);
  });
});

describe('isTransient: what --reconnect and --wait-for try again', () => {
  it.each(Object.keys(README_EXIT_CODES))('%s', (code) => {
    expect(isTransient(new NetnoteError(code as ErrorCode, 'x'))).toBe(['unreachable', 'timeout', 'lost', 'resolve'].includes(code));
  });
});

describe('TLS failures in words', () => {
  const noTls = ['the peer does not speak TLS on this port', 'check the port, or talk to it without --tls'];
  const versions = ['no TLS version in common', 'compare --tls-min/--tls-max with what the peer allows'];
  const alpn = ['no ALPN protocol in common', 'compare --alpn with what the peer offers'];
  const refused = ['the peer refused our certificate', undefined];
  const cipher = ['no cipher or signature algorithm in common', undefined];
  const handshake = ['the peer refused the handshake (handshake failure alert)', 'no cipher or key type in common, or (TLS 1.2) the peer requires a client certificate: --cert FILE --key FILE'];
  const signature = ['a handshake signature did not verify (wrong key for the certificate?)', undefined];
  // OpenSSL's reason strings (every one is in the OpenSSL 3.0 Node 20 ships, except record layer
  // failure: 3.2 and later), with what a person reads for each.
  it.each([
    ['tlsv13 alert certificate required', 'the server requires a client certificate', 'give one with --cert FILE --key FILE'],
    ['peer did not return a certificate', 'the client sent no certificate (--client-ca requires one)', undefined],
    ['tlsv1 alert unknown ca', 'the peer does not trust our certificate (unknown CA)', 'the peer needs the CA that issued our certificate'],
    ['sslv3 alert certificate expired', 'the peer says our certificate expired', undefined],
    ['sslv3 alert bad certificate', ...refused],
    ['sslv3 alert certificate unknown', ...refused],
    ['sslv3 alert unsupported certificate', ...refused],
    ['sslv3 alert certificate revoked', ...refused],
    ['tlsv1 alert access denied', ...refused],
    ['tlsv1 alert protocol version', ...versions],
    ['unsupported protocol', ...versions],
    ['no protocols available', ...versions],
    ['version too low', ...versions],
    ['version too high', ...versions],
    ['wrong ssl version', ...versions],
    ['tlsv1 alert no application protocol', ...alpn],
    ['no application protocol', ...alpn],
    ['no shared cipher', ...cipher],
    ['no suitable signature algorithm', ...cipher],
    ['no shared signature algorithms', ...cipher],
    ['sslv3 alert handshake failure', ...handshake],
    ['tlsv1 alert insufficient security', ...handshake],
    ['wrong version number', ...noTls],
    ['http request', ...noTls],
    ['https proxy request', ...noTls],
    ['packet length too long', ...noTls],
    ['unknown protocol', ...noTls],
    ['record layer failure', ...noTls],
    ['unexpected message', ...noTls],
    ['unexpected record', ...noTls],
    ['tlsv1 alert decrypt error', ...signature],
    ['bad signature', ...signature],
    ['digest check failed', ...signature],
  ] as Array<[string, string, string | undefined]>)('%s: %s', (openSsl, reason, hint) => {
    expect(tlsFailure(openSslError(openSsl))).toStrictEqual(hint === undefined ? { reason } : { reason, hint });
  });

  it("a failure the table does not know reads as OpenSSL's reason, or Node's message when there is none", () => {
    expect(tlsFailure(openSslError('sslv3 alert bad record mac'))).toStrictEqual({ reason: 'sslv3 alert bad record mac' });
    const handshakeTimeout = Object.assign(new Error('TLS handshake timeout'), { code: 'ERR_TLS_HANDSHAKE_TIMEOUT' });
    expect(tlsFailure(handshakeTimeout)).toStrictEqual({ reason: 'TLS handshake timeout' });
  });

  it("ends a run with code tls, exit 4, and README's line and hint", () => {
    const error = fromSystemError(openSslError('tlsv13 alert certificate required'), { host: 'localhost', port: 8883, doing: 'io' });
    expect({ code: error.code, exitCode: error.exitCode, message: error.message, hint: error.hint }).toStrictEqual({
      code: 'tls', exitCode: 4,
      message: 'TLS with localhost:8883 failed: the server requires a client certificate (ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED)',
      hint: 'give one with --cert FILE --key FILE',
    });
  });

  it('isTlsFailure: a tls NetnoteError or an OpenSSL/Node TLS code, nothing else', () => {
    expect(isTlsFailure(new NetnoteError('tls', 'TLS with localhost:8883 failed'))).toBe(true);
    expect(isTlsFailure(new NetnoteError('lost', 'connection to localhost:8883 lost (reset by peer)'))).toBe(false);
    expect(isTlsFailure(openSslError('wrong version number'))).toBe(true);
    expect(isTlsFailure(Object.assign(new Error('Client network socket disconnected before secure TLS connection was established'), { code: 'ECONNRESET' }))).toBe(false);
    expect(isTlsFailure(new Error('no code'))).toBe(false);
    expect(isTlsFailure(undefined)).toBe(false);
  });

  it("a real handshake against a plain echo server: Node's code is OpenSSL's reason, and the words say there is no TLS there", async () => {
    const echo = net.createServer((socket) => {
      tracked.sockets.add(socket);
      socket.pipe(socket);
    });
    tracked.cleanups.push(() => echo.close());
    await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
    const { port } = echo.address() as net.AddressInfo;
    const failure = await new Promise<NodeJS.ErrnoException & { reason?: string }>((resolve, reject) => {
      const client = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false });
      tracked.sockets.add(client);
      client.on('secureConnect', () => reject(new Error('a TLS handshake with an echo server completed')));
      client.on('error', resolve);
    });
    expect(failure.code).toBe(`ERR_SSL_${failure.reason!.toUpperCase().replaceAll(' ', '_')}`);
    expect(isTlsFailure(failure)).toBe(true);
    const error = fromSystemError(failure, { host: '127.0.0.1', port, doing: 'connect' });
    expect({ code: error.code, exitCode: error.exitCode, message: error.message, hint: error.hint }).toStrictEqual({
      code: 'tls', exitCode: 4,
      message: `TLS with 127.0.0.1:${port} failed: the peer does not speak TLS on this port (${failure.code})`,
      hint: 'check the port, or talk to it without --tls',
    });
  }, 10_000);
});
