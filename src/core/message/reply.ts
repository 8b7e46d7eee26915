import { NetnoteError } from '../errors.js';
import type { EventSink } from '../events.js';

/**
 * What counts as the reply to one message, and whether it passes. TCP is a byte stream, so a
 * reply is framed by length: as many bytes as were sent (an echo) or as --expect holds; with
 * --expect-regex the reply is complete as soon as the bytes received so far match.
 */
export type ReplyRule =
  | { kind: 'echo'; verify: boolean }
  | { kind: 'bytes'; expected: Buffer }
  | { kind: 'regex'; pattern: RegExp };

/** A reply that never matches a regex stops growing here and fails. */
export const MAX_REGEX_REPLY = 1 << 20;

/** Bytes a complete reply takes, or null when only a regex match completes it. */
export function replyLength(rule: ReplyRule, sent: Buffer): number | null {
  switch (rule.kind) {
    case 'echo': return sent.length;
    case 'bytes': return rule.expected.length;
    case 'regex': return null;
  }
}

/** Whether the reply must be kept to be checked (an unchecked echo is only counted). */
export function keepsReply(rule: ReplyRule): boolean {
  return rule.kind !== 'echo' || rule.verify;
}

export function regexComplete(rule: ReplyRule, reply: Buffer): boolean {
  // latin1 maps each byte to one code point, so a regex sees the bytes as they are.
  return rule.kind === 'regex' && rule.pattern.test(reply.toString('latin1'));
}

export function replyPasses(rule: ReplyRule, reply: Buffer, sent: Buffer): boolean {
  switch (rule.kind) {
    case 'echo': return !rule.verify || reply.equals(sent);
    case 'bytes': return reply.equals(rule.expected);
    case 'regex': return rule.pattern.test(reply.toString('latin1'));
  }
}

/**
 * Reports a reply that fails its check (the `mismatch` event) and returns the error that ends the
 * run. `surplus`: the last `surplus` bytes of `got` came beyond the reply (TCP), or before any.
 */
export function mismatch(sink: EventSink, rule: ReplyRule, sent: Buffer, seq: number, got: Buffer, unit: 'message' | 'datagram', surplus?: number): NetnoteError {
  const described = rule.kind === 'echo'
    ? { check: 'echo' as const, expected: sent as Buffer | RegExp }
    : rule.kind === 'bytes' ? { check: 'expect' as const, expected: rule.expected } : { check: 'expect-regex' as const, expected: rule.pattern };
  sink.emit({ event: 'mismatch', role: 'client', seq, ...described, got, ...(surplus === undefined ? {} : { surplus }) });
  if (surplus !== undefined) {
    const after = seq === 0 ? 'before the first message was sent' : `beyond the reply to ${unit} ${seq}`;
    return new NetnoteError('assertion', `${surplus} more ${surplus === 1 ? 'byte' : 'bytes'} arrived ${after}: no message awaited them`);
  }
  const what = described.check === 'echo' ? 'is not the echo of what was sent' : `does not match --${described.check}`;
  return new NetnoteError('assertion', `reply to ${unit} ${seq} ${what}`);
}
