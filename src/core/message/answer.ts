import type { Frame } from './frame.js';
import { matchMessage, type Matcher } from './match.js';
import type { Template } from './template.js';

// How a server answers: the rules of --script (or the one answer of --reply), its greeting and
// its pushes. The TCP and the UDP server both ask a Responder, one per client or peer.

export type Action = 'close' | 'reset' | 'silence';

export interface Rule {
  /** 1 for the first rule of the script: logs and --json name rules by it. */
  number: number;
  match: Matcher;
  /** What goes back; 'echo': the message itself (a Modbus write is acknowledged so). */
  reply: Template[] | 'echo';
  delayMs: number;
  action: Action | null;
}

export interface ServerPlan {
  /** Sent to each TCP client on accept. */
  greeting: Template[];
  rules: Rule[];
  /** When no rule matched: echo the message, answer nothing, or send these. */
  fallback: 'echo' | 'none' | Template[];
  /** Sent unsolicited to every client (TCP) or recent peer (UDP) every `intervalMs`. */
  push: { intervalMs: number; send: Template[] } | null;
}

export interface Answer {
  /** A reply (a rule's, or --reply), or the message sent back as it came. */
  kind: 'reply' | 'echo';
  /** The rule that matched; null for the fallback. */
  rule: number | null;
  replies: Buffer[];
  delayMs: number;
  action: Action | null;
}

/** One client's (or UDP peer's) side of the conversation: its counters, captures, silence. */
export class Responder {
  /** Messages answered so far: `{seq}` in a reply is this message's number. */
  private received = 0;
  private pushed = 0;
  private captures: readonly Buffer[] = [];
  /** After `action: silence`: nothing more is sent to this client. */
  silenced = false;

  constructor(private readonly plan: ServerPlan) {}

  greeting(): Buffer[] {
    return this.plan.greeting.map((t) => t.expand({ seq: 1, captures: this.captures }));
  }

  push(): Buffer[] {
    if (this.silenced || !this.plan.push) return [];
    const seq = ++this.pushed;
    return this.plan.push.send.map((t) => t.expand({ seq, captures: this.captures }));
  }

  /** What to do about `message`; null when nothing is to be done (silenced, or no answer). */
  answer(message: Frame): Answer | null {
    const seq = ++this.received;
    if (this.silenced) return null;
    for (const rule of this.plan.rules) {
      const captures = matchMessage(rule.match, message.body);
      if (!captures) continue;
      // A rule without groups keeps the last ones: `AT+CGDCONT?` can answer with what `AT+CGDCONT=…` set.
      if (captures.length > 0) this.captures = captures;
      if (rule.action === 'silence') this.silenced = true;
      const replies = rule.reply === 'echo' ? [message.data] : rule.reply.map((t) => t.expand({ seq, captures: this.captures }));
      return { kind: 'reply', rule: rule.number, replies, delayMs: rule.delayMs, action: rule.action };
    }
    const { fallback } = this.plan;
    if (fallback === 'none') return null;
    if (fallback === 'echo') return echoOf(message);
    return { kind: 'reply', rule: null, replies: fallback.map((t) => t.expand({ seq, captures: this.captures })), delayMs: 0, action: null };
  }
}

/** The message sent back as it came: the note's echo, one message at a time. */
export function echoOf(message: Frame): Answer {
  return { kind: 'echo', rule: null, replies: [message.data], delayMs: 0, action: null };
}
