import type { Template } from './template.js';

// --heartbeat: an application message a device sends when it has sent nothing for a while, so
// that a NAT or a server's idle timeout does not forget the connection (the note's FAQ 8). Shared
// by the TCP and UDP clients: when one is due, what it says, what answers it, and its counts,
// kept apart from the data messages'.

export interface HeartbeatSpec {
  /** A heartbeat goes when nothing was sent for this long. */
  intervalMs: number;
  /** --heartbeat-data / --heartbeat-hex; `{seq}` is the heartbeat's own number (--template). */
  payload: Template;
  /** --heartbeat-expect / --heartbeat-expect-hex: its answer, required; null: none required. */
  expect: Buffer | null;
  /** An unanswered heartbeat is given up after this long (the reply timeout, else the interval). */
  answerWithinMs: number;
}

export interface HeartbeatStats {
  sent: number;
  /** Answers received (the expected bytes, or the echo when the exchange echoes). */
  answered: number;
  /** Given up after answerWithinMs (only counted when no answer was required). */
  unanswered: number;
  bytesOut: number;
  bytesIn: number;
}

/** A heartbeat sent and not answered yet. */
export interface PendingHeartbeat {
  seq: number;
  sentAt: number;
  data: Buffer;
  /** What will answer it: --heartbeat-expect, or the echo of `data` when the exchange echoes; null: nothing. */
  answer: Buffer | null;
}

/**
 * When heartbeats are due and what each says. The flow calls `sent()` on every data message and
 * `send` is called back when a heartbeat is due (nothing sent for the interval); the flow then
 * sends it and calls `heartbeatSent()`.
 */
export class HeartbeatClock {
  readonly stats: HeartbeatStats = { sent: 0, answered: 0, unanswered: 0, bytesOut: 0, bytesIn: 0 };
  private lastSentAt = performance.now();
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  /** `echoes`: the exchange waits for echoes, so the peer echoes a heartbeat too. */
  constructor(readonly spec: HeartbeatSpec, private readonly echoes: boolean, private readonly due: () => void) {}

  /** Starts the clock (again, on a new connection): the next heartbeat is an interval away. */
  start(): void {
    this.stopped = false;
    this.sent();
  }

  /** Something was sent: the next heartbeat is an interval from now. */
  sent(): void {
    this.lastSentAt = performance.now();
    if (!this.timer && !this.stopped) this.arm();
  }

  /** The next heartbeat: its bytes and what answers it. */
  next(): PendingHeartbeat {
    const seq = this.stats.sent + 1;
    const data = this.spec.payload.expand({ seq, captures: [] });
    return { seq, sentAt: performance.now(), data, answer: this.spec.expect ?? (this.echoes ? data : null) };
  }

  /** The flow sent heartbeat `h`. */
  heartbeatSent(h: PendingHeartbeat): void {
    this.stats.sent++;
    this.stats.bytesOut += h.data.length;
    this.sent();
  }

  answered(bytes: number): void {
    this.stats.answered++;
    this.stats.bytesIn += bytes;
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private arm(): void {
    const wait = Math.max(0, this.lastSentAt + this.spec.intervalMs - performance.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.stopped) return;
      const before = this.lastSentAt;
      if (performance.now() - before >= this.spec.intervalMs - 1) {
        this.due();
        // Not sent (the connection was busy or down): the next one is an interval away.
        if (this.lastSentAt === before) this.lastSentAt = performance.now();
      }
      if (!this.timer && !this.stopped) this.arm();
    }, wait);
  }
}
