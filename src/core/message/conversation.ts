import { NetnoteError } from '../errors.js';
import type { EventSink } from '../events.js';
import type { RttRecorder } from '../measure/rtt.js';
import { LoopTurns, type RunControl } from '../run/control.js';
import type { ReconnectPolicy } from '../run/reconnect.js';
import type { Keepalive } from '../socket/keepalive.js';
import type { LocalSpec } from '../socket/local.js';
import type { TlsClient } from '../socket/tls.js';
import type { Counter, ScriptStats } from './exchange.js';
import { FrameError, Framer, MAX_FRAME, frameName, type Frame, type FrameSpec } from './frame.js';
import { describeMatcher, matchMessage, type Matcher } from './match.js';
import type { Template } from './template.js';

// A client script's steps (send, expect, sleep, repeat, close) run on one connection (TCP) or
// socket (UDP). The flows own the socket and feed what arrives to receive(); this runs the steps.

interface StepBase {
  /** `3.1`: the first step inside step 3; logs, --json and errors name steps by it. */
  path: string;
  /** The script's `name:` for it, if any. */
  label: string | null;
}

export type Step = StepBase & (
  | { kind: 'send'; payload: Template }
  | { kind: 'expect'; match: Matcher; timeoutMs: number | null }
  | { kind: 'sleep'; ms: number }
  | { kind: 'repeat'; times: number | null; steps: Step[] }
  | { kind: 'close' }
);

export interface ClientScript {
  /** How TCP bytes are cut into messages; null: an expect reads the stream (see expectFromStream). */
  frame: FrameSpec | null;
  /** The file's `timeout:` for expects that give none. */
  timeoutMs: number | null;
  steps: Step[];
}

/** What `tcp-client --script` and `udp-client --script` are told. */
export interface ScriptRunConfig {
  host: string;
  port: number;
  local: LocalSpec | null;
  /** -w: the timeout of expects that give none (over the file's `timeout:`); TCP: the connect timeout too. */
  timeoutMs: number | null;
  script: ClientScript;
  /** tcp-client --tls: the connection is secured before the first step. */
  tls?: TlsClient | null;
  /** tcp-client --keepalive. */
  keepalive?: Keepalive | null;
  /** tcp-client --reconnect: after a lost connection, connect again and carry on the script. */
  reconnect?: ReconnectPolicy | null;
  /** tcp-client --wait-for. */
  waitForMs?: number | null;
  /** --report-every: an `interim` event this often. */
  reportEveryMs?: number | null;
}

/** What the engine needs of the flow's socket. */
interface ConversationLink {
  /** Resolves once the message is handed to the kernel; rejects with a NetnoteError. */
  send(data: Buffer): Promise<void>;
  /** The script's `close`: TCP half-closes; UDP has nothing to close. */
  close(): void;
  /** `host:port` of the peer, for messages. */
  where: string;
}

/** An expect that gives no timeout, when neither the file nor -w gives one: a script must not hang a CI job. */
export const EXPECT_TIMEOUT_MS = 5000;

type Outcome = { ok: true; message: Buffer; captures: Buffer[] } | { ok: false; got: Buffer };

/** Where a script is: at each depth, the step running and (inside a repeat) the repeat's pass. */
type Cursor = Array<{ index: number; pass: number }>;

export class Conversation {
  readonly sent: Counter = { messages: 0, bytes: 0 };
  /** `messages`: expectations met. */
  readonly received: Counter = { messages: 0, bytes: 0 };
  private framer: Framer | null;
  /** Messages not expected yet (framed TCP, UDP). */
  private readonly inbox: Frame[] = [];
  /** Bytes not expected yet (TCP without a frame). */
  private stream: Buffer = Buffer.alloc(0);
  private waiting = 0;
  private captures: Buffer[] = [];
  private lastSentAt: number | null = null;
  private steps = 0;
  private current: Step | null = null;
  private closed = false;
  private readonly turns = new LoopTurns();
  private cursor: Cursor = [];

  constructor(
    private readonly script: ClientScript,
    private readonly sink: EventSink,
    private readonly control: RunControl,
    private link: ConversationLink,
    private readonly rtt: RttRecorder,
    /** 'stream': TCP without --frame; 'messages': framed TCP, or UDP datagrams. */
    private readonly mode: 'stream' | 'messages',
    private readonly defaultTimeoutMs: number,
  ) {
    this.framer = mode === 'messages' && script.frame ? new Framer(script.frame) : null;
  }

  get stats(): ScriptStats {
    return { steps: this.steps, failedStep: this.control.ended?.error && this.current ? this.current.path : null };
  }

  /** The step a peer's close interrupted, for the flow's error; null once the script is done. */
  get unfinished(): Step | null {
    return this.closed ? null : this.current;
  }

  /** An expect was waiting when the run stopped: its message will never be answered. */
  get expecting(): boolean {
    return !this.closed && this.current?.kind === 'expect';
  }

  /**
   * --reconnect: the script carries on over `link`, a new connection, from the step that was
   * running; an expect goes back to the send before it (its message left on the lost connection).
   * What the lost connection delivered and nobody expected is dropped.
   */
  relink(link: ConversationLink): Cursor {
    this.link = link;
    this.framer = this.mode === 'messages' && this.script.frame ? new Framer(this.script.frame) : null;
    this.inbox.length = 0;
    this.stream = Buffer.alloc(0);
    this.waiting = 0;
    const cursor = this.cursor.map((c) => ({ ...c }));
    let steps = this.script.steps;
    for (const c of cursor.slice(0, -1)) steps = (steps[c.index] as Extract<Step, { kind: 'repeat' }>).steps;
    const last = cursor.at(-1);
    if (last && steps[last.index]?.kind === 'expect') {
      for (let i = last.index - 1; i >= 0; i--) {
        if (steps[i]!.kind === 'send') {
          last.index = i;
          break;
        }
      }
    }
    return cursor;
  }

  /** What the socket delivered: a chunk of the TCP stream, or one datagram. */
  receive(data: Buffer): void {
    this.received.bytes += data.length;
    if (this.mode === 'stream') {
      this.stream = this.stream.length === 0 ? data : Buffer.concat([this.stream, data]);
      this.waiting = this.stream.length;
    } else {
      let frames: Frame[];
      try {
        frames = this.framer ? this.framer.push(data) : [{ data, body: data }];
      } catch (err) {
        if (!(err instanceof FrameError)) throw err;
        const frame = frameName(this.script.frame!);
        this.sink.emit({ event: 'frame-error', role: 'client', frame, message: err.message, buffered: err.buffered });
        this.control.end('framing', new NetnoteError('assertion', `what ${this.link.where} sent is not a ${frame} message: ${err.message}`));
        return;
      }
      for (const frame of frames) {
        this.inbox.push(frame);
        this.waiting += frame.data.length;
      }
    }
    if (this.waiting > MAX_FRAME) {
      this.control.end('framing', new NetnoteError('assertion', `${this.waiting} bytes from ${this.link.where} arrived that no step expected (over ${MAX_FRAME})`));
    }
    this.control.wake();
  }

  /** Runs the script to its end, a failure, or Ctrl-C (`signal`); from `from` (relink()) after a reconnect. */
  async run(signal: AbortSignal, from: Cursor | null = null): Promise<void> {
    const stopListening = this.control.interruptOn(signal, () => new NetnoteError('interrupted', 'interrupted'));
    try {
      await this.runSteps(this.script.steps, null, 0, from);
    } finally {
      stopListening();
    }
    if (!this.control.ended) this.closed = true;
  }

  /** Runs `steps` in order (from the cursor `from` when resuming); false once the run ended or a `close` step ran. */
  private async runSteps(steps: Step[], pass: number | null, depth: number, from: Cursor | null): Promise<boolean> {
    for (let i = from?.[depth]?.index ?? 0; i < steps.length; i++) {
      const step = steps[i]!;
      await this.control.settle(this.sink.room());
      if (this.control.ended || this.closed) return false;
      await this.turns.take();
      this.current = step;
      this.cursor.length = depth;
      this.cursor.push({ index: i, pass: 0 });
      this.steps++;
      if (!(await this.runStep(step, pass, depth, from))) return false;
      from = null;
    }
    return true;
  }

  private async runStep(step: Step, pass: number | null, depth: number, from: Cursor | null): Promise<boolean> {
    const base = { event: 'step' as const, role: 'client' as const, step: step.path, name: step.kind, ...(step.label ? { label: step.label } : {}), ...(pass === null ? {} : { pass }) };
    switch (step.kind) {
      case 'send': {
        const data = step.payload.expand({ seq: this.sent.messages + 1, captures: this.captures });
        try {
          await this.link.send(data);
        } catch (err) {
          this.control.end('failed', err as NetnoteError);
          return false;
        }
        this.lastSentAt = performance.now();
        this.sent.messages++;
        this.sent.bytes += data.length;
        if (this.sink.messages) {
          this.sink.emit(base);
          this.sink.emit({ event: 'send', role: 'client', seq: this.sent.messages, data, step: step.path });
        }
        return true;
      }
      case 'expect': return this.expect(step, base);
      case 'sleep':
        if (this.sink.messages) this.sink.emit({ ...base, ms: step.ms });
        await this.control.until(() => false, step.ms);
        return !this.control.ended;
      case 'repeat': {
        // Resuming inside this repeat: at the pass and step it stopped at.
        const inside = from && from.length > depth + 1 ? from : null;
        for (let i = inside?.[depth]?.pass ?? 1; step.times === null || i <= step.times; i++) {
          this.cursor[depth]!.pass = i;
          if (this.sink.messages) this.sink.emit({ ...base, iteration: i, of: step.times });
          if (!(await this.runSteps(step.steps, i, depth + 1, i === inside?.[depth]?.pass ? inside : null))) return false;
        }
        return true;
      }
      case 'close':
        if (this.sink.messages) this.sink.emit(base);
        this.closed = true;
        this.link.close();
        return false;
    }
  }

  private async expect(step: Extract<Step, { kind: 'expect' }>, base: Extract<Parameters<EventSink['emit']>[0], { event: 'step' }>): Promise<boolean> {
    const timeoutMs = step.timeoutMs ?? this.defaultTimeoutMs;
    const started = performance.now();
    let outcome: Outcome | null = null;
    const met = await this.control.until(() => (outcome = this.take(step.match)) !== null, timeoutMs);
    const result = outcome as Outcome | null;
    const what = `step ${step.path}${step.label ? ` (${step.label})` : ''}, expect ${describeMatcher(step.match)}`;
    if (!met || !result) {
      if (this.control.ended) return false;
      const held = this.mode === 'stream' ? this.stream : this.framer?.buffered ?? Buffer.alloc(0);
      this.sink.emit({ ...base, timedOut: true, ms: timeoutMs, data: held });
      this.control.end('timeout', new NetnoteError('timeout',
        `${what}: nothing that matches came from ${this.link.where} within ${timeoutMs} ms (${held.length} bytes received and not matched)`,
        'give the step a longer timeout:, or check what the peer sent (the recv lines)'));
      return false;
    }
    if (!result.ok) {
      const { step: path, label, pass } = base;
      this.sink.emit({
        event: 'mismatch', role: 'client', seq: this.received.messages + 1, step: path, ...(label ? { label } : {}), ...(pass === undefined ? {} : { pass }),
        check: check(step.match), expected: expected(step.match), got: result.got,
      });
      this.control.end('mismatch', new NetnoteError('assertion', `${what}: ${this.link.where} sent something else (${result.got.length} bytes)`));
      return false;
    }
    this.received.messages++;
    if (result.captures.length > 0) this.captures = result.captures;
    const now = performance.now();
    if (this.lastSentAt !== null) this.rtt.record((now - this.lastSentAt) * 1e6);
    if (this.sink.messages) this.sink.emit({ ...base, ms: Math.round((now - started) * 1000) / 1000, data: result.message });
    return true;
  }

  /** The outcome of an expect over what has arrived; null while it cannot be told yet. */
  private take(matcher: Matcher): Outcome | null {
    if (this.mode === 'messages') {
      const frame = this.inbox.shift();
      if (!frame) return null;
      this.waiting -= frame.data.length;
      const captures = matchMessage(matcher, frame.body) ?? (frame.body !== frame.data ? matchMessage(matcher, frame.data) : null);
      return captures ? { ok: true, message: frame.data, captures } : { ok: false, got: frame.data };
    }
    return this.expectFromStream(matcher);
  }

  /**
   * Without a frame, an expect reads the TCP stream as expect(1) does: exact bytes wait for their
   * length, a prefix for its own, a regex until it matches (and takes the bytes through the match).
   */
  private expectFromStream(matcher: Matcher): Outcome | null {
    const data = this.stream;
    let used: number;
    let captures: Buffer[] = [];
    switch (matcher.kind) {
      case 'any':
        if (data.length === 0) return null;
        used = data.length;
        break;
      case 'bytes':
      case 'prefix': {
        const want = matcher.bytes.length;
        if (data.length < want) return null;
        if (!data.subarray(0, want).equals(matcher.bytes)) return this.consume(matcher.kind === 'bytes' ? want : data.length, false);
        used = matcher.kind === 'bytes' ? want : data.length;
        break;
      }
      case 'regex':
      case 'regex-hex': {
        const hex = matcher.kind === 'regex-hex';
        const found = matcher.pattern.exec(hex ? data.toString('hex') : data.toString('latin1'));
        if (!found) return null;
        const end = found.index + found[0].length;
        used = hex ? Math.ceil(end / 2) : end;
        captures = found.slice(1).map((g) => (hex ? Buffer.from((g ?? '').length % 2 ? '' : g ?? '', 'hex') : Buffer.from(g ?? '', 'latin1')));
        break;
      }
    }
    const outcome = this.consume(used, true);
    return outcome.ok ? { ...outcome, captures } : outcome;
  }

  private consume(used: number, ok: boolean): Outcome {
    const message = this.stream.subarray(0, used);
    this.stream = this.stream.subarray(used);
    this.waiting = this.stream.length;
    return ok ? { ok: true, message, captures: [] } : { ok: false, got: message };
  }
}

function check(matcher: Matcher): 'expect' | 'expect-prefix' | 'expect-regex' | 'expect-regex-hex' {
  switch (matcher.kind) {
    case 'prefix': return 'expect-prefix';
    case 'regex': return 'expect-regex';
    case 'regex-hex': return 'expect-regex-hex';
    default: return 'expect';
  }
}

function expected(matcher: Matcher): Buffer | RegExp {
  switch (matcher.kind) {
    case 'bytes':
    case 'prefix': return matcher.bytes;
    case 'regex':
    case 'regex-hex': return matcher.pattern;
    case 'any': return Buffer.alloc(0);
  }
}
