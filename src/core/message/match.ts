// What a server rule or a client expectation looks for in a message, and the groups it captures.

export type Matcher =
  | { kind: 'any' }
  /** Exactly these bytes (`text:` or `hex:`). */
  | { kind: 'bytes'; bytes: Buffer }
  /** Starts with these bytes (`hex-prefix:`, `prefix:`). */
  | { kind: 'prefix'; bytes: Buffer }
  /** A regex over the bytes as latin1 (one character per byte). */
  | { kind: 'regex'; pattern: RegExp }
  /** A regex over the lower-case hex of the bytes; each group is whole bytes of hex. */
  | { kind: 'regex-hex'; pattern: RegExp };

const NONE: Buffer[] = [];

/** The groups `matcher` captured in `message` (none for a plain match), or null when it does not match. */
export function matchMessage(matcher: Matcher, message: Buffer): Buffer[] | null {
  switch (matcher.kind) {
    case 'any': return NONE;
    case 'bytes': return message.equals(matcher.bytes) ? NONE : null;
    case 'prefix': return message.length >= matcher.bytes.length && message.subarray(0, matcher.bytes.length).equals(matcher.bytes) ? NONE : null;
    case 'regex': {
      const found = matcher.pattern.exec(message.toString('latin1'));
      return found ? found.slice(1).map((group) => Buffer.from(group ?? '', 'latin1')) : null;
    }
    case 'regex-hex': {
      const found = matcher.pattern.exec(message.toString('hex'));
      if (!found) return null;
      const groups = found.slice(1).map((group) => group ?? '');
      // A group that splits a byte cannot go back into a message: the rule does not match.
      return groups.every((group) => group.length % 2 === 0) ? groups.map((group) => Buffer.from(group, 'hex')) : null;
    }
  }
}

/** A matcher as a person wrote it, for log lines and errors. */
export function describeMatcher(matcher: Matcher): string {
  switch (matcher.kind) {
    case 'any': return 'any message';
    case 'bytes': return `bytes ${matcher.bytes.toString('hex')}`;
    case 'prefix': return `prefix ${matcher.bytes.toString('hex')}`;
    case 'regex': return `regex /${matcher.pattern.source}/`;
    case 'regex-hex': return `regex-hex /${matcher.pattern.source}/`;
  }
}
