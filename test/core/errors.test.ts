// Exit codes and error wording, against the table scripts rely on (README "Exit codes", DESIGN §4)
// and the exact lines a person reads: each errno Node reports, in each place it can happen.
import { describe, expect, it } from 'vitest';
import { NetnoteError, fromSystemError, type ErrorCode, type ErrorPlace } from '../../src/core/errors.js';

const README_EXIT_CODES: Record<ErrorCode, number> = {
  assertion: 1, usage: 2, resolve: 3, unreachable: 4, timeout: 5, lost: 6, bind: 7, interrupted: 130,
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
