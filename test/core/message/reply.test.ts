// What counts as the reply to a message, and whether it passes: each rule against bytes chosen
// to tell the rules apart (binary, a quote, a byte over 0x7f that UTF-8 would not keep).
import { describe, expect, it } from 'vitest';
import type { EventSink, NetEvent } from '../../../src/core/events.js';
import { MAX_REGEX_REPLY, keepsReply, mismatch, regexComplete, replyLength, replyPasses, type ReplyRule } from '../../../src/core/message/reply.js';

const sent = Buffer.from('AT+CSQ\r\n');
const echo: ReplyRule = { kind: 'echo', verify: false };
const verifiedEcho: ReplyRule = { kind: 'echo', verify: true };
const expectBytes: ReplyRule = { kind: 'bytes', expected: Buffer.from([0x01, 0x03, 0x02, 0x00, 0x2a]) };
const expectRegex: ReplyRule = { kind: 'regex', pattern: /^\+CSQ: \d+,\d+\r\nOK\r\n$/ };

function recordingSink(): EventSink & { events: NetEvent[] } {
  const events: NetEvent[] = [];
  return { events, messages: true, emit: (event) => events.push(event), room: () => null };
}

describe('replyLength: how many bytes complete a reply on a TCP byte stream', () => {
  it('an echo is as long as what was sent, --expect as long as what is expected, a regex has no length', () => {
    expect(replyLength(echo, sent)).toBe(8);
    expect(replyLength(verifiedEcho, Buffer.alloc(3))).toBe(3);
    expect(replyLength(expectBytes, sent)).toBe(5);
    expect(replyLength(expectRegex, sent)).toBeNull();
  });

  it('a regex reply that never matches stops growing at 1 MiB', () => {
    expect(MAX_REGEX_REPLY).toBe(1024 * 1024);
  });
});

describe('keepsReply: only an unchecked echo is counted without being kept', () => {
  it.each([
    ['echo', echo, false],
    ['--verify-echo', verifiedEcho, true],
    ['--expect', expectBytes, true],
    ['--expect-regex', expectRegex, true],
  ] as const)('%s → %s', (_name, rule, kept) => {
    expect(keepsReply(rule)).toBe(kept);
  });
});

describe('regexComplete', () => {
  it('is true once the bytes so far match, read byte for byte (latin1), and never for another rule', () => {
    const partial = Buffer.from('+CSQ: 23,99\r\n');
    const whole = Buffer.from('+CSQ: 23,99\r\nOK\r\n');
    expect(regexComplete(expectRegex, partial)).toBe(false);
    expect(regexComplete(expectRegex, whole)).toBe(true);
    // 0xff is one character for the regex: UTF-8 decoding would turn it into U+FFFD.
    expect(regexComplete({ kind: 'regex', pattern: /^\x01\xff$/ }, Buffer.from([0x01, 0xff]))).toBe(true);
    expect(regexComplete(expectBytes, Buffer.from([0x01, 0x03, 0x02, 0x00, 0x2a]))).toBe(false);
    expect(regexComplete(verifiedEcho, whole)).toBe(false);
  });
});

describe('replyPasses', () => {
  it('an unchecked echo passes whatever came back', () => {
    expect(replyPasses(echo, Buffer.from('anything'), sent)).toBe(true);
  });

  it('--verify-echo passes only the exact bytes sent', () => {
    expect(replyPasses(verifiedEcho, Buffer.from('AT+CSQ\r\n'), sent)).toBe(true);
    expect(replyPasses(verifiedEcho, Buffer.from('at+csq\r\n'), sent)).toBe(false);
    expect(replyPasses(verifiedEcho, Buffer.from('AT+CSQ\r'), sent)).toBe(false);
  });

  it('--expect passes only the expected bytes, whatever was sent', () => {
    expect(replyPasses(expectBytes, Buffer.from([0x01, 0x03, 0x02, 0x00, 0x2a]), sent)).toBe(true);
    expect(replyPasses(expectBytes, Buffer.from([0x01, 0x03, 0x02, 0x00, 0x2b]), sent)).toBe(false);
    expect(replyPasses(expectBytes, sent, sent)).toBe(false);
  });

  it('--expect-regex passes a match over the bytes as latin1', () => {
    expect(replyPasses(expectRegex, Buffer.from('+CSQ: 23,99\r\nOK\r\n'), sent)).toBe(true);
    expect(replyPasses(expectRegex, Buffer.from('+CSQ: 23,99\r\nERROR\r\n'), sent)).toBe(false);
    expect(replyPasses({ kind: 'regex', pattern: /\xe9t\xe9/ }, Buffer.from([0x65, 0xe9, 0x74, 0xe9]), sent)).toBe(true);
  });
});

describe('mismatch: the event and the error that end the run', () => {
  it('an echo that differs: check "echo", expected what was sent, exit 1', () => {
    const sink = recordingSink();
    const got = Buffer.from('at+csq\r\n');
    const error = mismatch(sink, verifiedEcho, sent, 3, got, 'message');
    expect(sink.events).toEqual([{ event: 'mismatch', role: 'client', seq: 3, check: 'echo', expected: sent, got }]);
    expect(error.message).toBe('reply to message 3 is not the echo of what was sent');
    expect(error.code).toBe('assertion');
    expect(error.exitCode).toBe(1);
  });

  it('--expect: check "expect", expected the expected bytes', () => {
    const sink = recordingSink();
    const error = mismatch(sink, expectBytes, sent, 1, Buffer.from('ERR'), 'datagram');
    expect(sink.events).toEqual([{ event: 'mismatch', role: 'client', seq: 1, check: 'expect', expected: expectBytes.kind === 'bytes' && expectBytes.expected, got: Buffer.from('ERR') }]);
    expect(error.message).toBe('reply to datagram 1 does not match --expect');
    expect(error.exitCode).toBe(1);
  });

  it('--expect-regex: check "expect-regex", expected the pattern', () => {
    const sink = recordingSink();
    const error = mismatch(sink, expectRegex, sent, 12, Buffer.from('ERROR'), 'message');
    expect(sink.events).toEqual([{ event: 'mismatch', role: 'client', seq: 12, check: 'expect-regex', expected: expectRegex.kind === 'regex' && expectRegex.pattern, got: Buffer.from('ERROR') }]);
    expect(error.message).toBe('reply to message 12 does not match --expect-regex');
    expect(error.hint).toBeUndefined();
  });

  it('a mismatch without surplus bytes has no surplus field at all (not even an undefined one)', () => {
    const sink = recordingSink();
    mismatch(sink, verifiedEcho, sent, 3, Buffer.from('x'), 'message');
    expect(Object.keys(sink.events[0]!)).toEqual(['event', 'role', 'seq', 'check', 'expected', 'got']);
  });
});

describe('mismatch with surplus: bytes that came when no reply was awaited (TCP)', () => {
  it('bytes beyond a reply: the event carries the count, the error says which message they followed', () => {
    const sink = recordingSink();
    const got = Buffer.from('AT+CSQ\r\nOK\r');
    const error = mismatch(sink, verifiedEcho, sent, 4, got, 'message', 3);
    expect(sink.events).toStrictEqual([{ event: 'mismatch', role: 'client', seq: 4, check: 'echo', expected: sent, got, surplus: 3 }]);
    expect(error).toEqual(expect.objectContaining({ code: 'assertion', exitCode: 1, message: '3 more bytes arrived beyond the reply to message 4: no message awaited them' }));
    expect(error.hint).toBeUndefined();
  });

  it('one byte is "byte"; the unit is the one given', () => {
    const sink = recordingSink();
    const error = mismatch(sink, expectBytes, sent, 2, Buffer.from([0x01, 0x03, 0x02, 0x00, 0x2a, 0x0a]), 'datagram', 1);
    expect(sink.events).toStrictEqual([{ event: 'mismatch', role: 'client', seq: 2, check: 'expect', expected: Buffer.from([0x01, 0x03, 0x02, 0x00, 0x2a]), got: Buffer.from([0x01, 0x03, 0x02, 0x00, 0x2a, 0x0a]), surplus: 1 }]);
    expect(error.message).toBe('1 more byte arrived beyond the reply to datagram 2: no message awaited them');
  });

  it('bytes before the first message (seq 0): "before the first message was sent"', () => {
    const sink = recordingSink();
    const error = mismatch(sink, expectRegex, sent, 0, Buffer.from('220 ready\r\n'), 'message', 11);
    expect(sink.events).toStrictEqual([{ event: 'mismatch', role: 'client', seq: 0, check: 'expect-regex', expected: /^\+CSQ: \d+,\d+\r\nOK\r\n$/, got: Buffer.from('220 ready\r\n'), surplus: 11 }]);
    expect(error).toEqual(expect.objectContaining({ code: 'assertion', message: '11 more bytes arrived before the first message was sent: no message awaited them' }));
  });
});
