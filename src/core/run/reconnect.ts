import { NetnoteError, isTransient } from '../errors.js';
import type { EventSink, LossCause, Role } from '../events.js';
import { backoffWait, type Backoff } from './backoff.js';

// The note's FAQ 2: TCP has no automatic reconnection, a device's firmware must do it. --reconnect
// does it as firmware should (back-off with jitter), and counts what it cost: how long the link
// was down, how long each reconnection took, what was lost in the gaps.

export interface ReconnectPolicy {
  /** Attempts to connect again, over the whole run; null: until the run ends. */
  attempts: number | null;
  backoff: Backoff;
}

/** A connection lost, as the flow saw it. */
export interface Loss {
  cause: LossCause;
  /** performance.now() when the loss was noticed. */
  noticedAt: number;
  /** performance.now() until which the connection worked: the reset or FIN that ended it, else the last byte received. */
  lastAliveAt: number;
  /** Messages in flight, never to be answered. */
  lost: number;
}

/** One time without a connection. */
export interface Gap {
  /** When the loss was noticed, since the run started. */
  atMs: number;
  cause: LossCause;
  /** From when the lost connection last worked (its reset or FIN, else its last byte received) to the next connection (to the run's end if none came). */
  downMs: number;
  /** From the loss noticed to the next connection: the back-off waits and the attempts; null if none came. */
  reconnectMs: number | null;
  /** Attempts it took (failed ones included). */
  attempts: number;
  /** Messages in flight when it was lost. */
  lost: number;
  /** Whether the new connection resumed the TLS session; null without TLS or without a new connection. */
  resumed: boolean | null;
}

export interface ReconnectSummary {
  /** Connections made again. */
  reconnects: number;
  /** Attempts to connect again, failed ones included. */
  attempts: number;
  longestDownMs: number;
  totalDownMs: number;
  /** Time to reconnect (Gap.reconnectMs) over the gaps that ended in a connection. */
  reconnectMs: { p50: number; max: number } | null;
  /** Messages in flight when a connection was lost (never answered). */
  lostMessages: number;
  /** Reconnections over TLS that resumed the session (no full handshake). */
  tlsResumed: number;
  /** The latest gaps, oldest first; `olderGaps` counts the ones left out. */
  gaps: Gap[];
  olderGaps: number;
}

/** Gaps a summary lists: a week of a reconnect every ten minutes. */
export const SUMMARY_GAPS = 1000;

const round = (ms: number): number => Math.round(ms * 1000) / 1000;

/** The median and the largest of some durations, null when there are none. */
export function medianAndMax(values: number[]): { p50: number; max: number } | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return { p50: sorted[Math.ceil(sorted.length / 2) - 1]!, max: sorted.at(-1)! };
}

/** A summary of gaps, whatever runs they came from (`merge` adds runs up with it too). */
export function reconnectSummary(gaps: Gap[], attempts: number, olderGaps = 0): ReconnectSummary {
  const listed = gaps.slice(-SUMMARY_GAPS);
  const ended = gaps.flatMap((g) => (g.reconnectMs === null ? [] : [g.reconnectMs]));
  return {
    reconnects: ended.length,
    attempts,
    longestDownMs: round(Math.max(0, ...gaps.map((g) => g.downMs))),
    totalDownMs: round(gaps.reduce((t, g) => t + g.downMs, 0)),
    reconnectMs: medianAndMax(ended),
    lostMessages: gaps.reduce((t, g) => t + g.lost, 0),
    tlsResumed: gaps.filter((g) => g.resumed === true).length,
    gaps: listed,
    olderGaps: olderGaps + gaps.length - listed.length,
  };
}

/**
 * Connects again after each loss: waits as --backoff says, tries, and again, until it connects,
 * the attempts run out or the run ends. Every gap is kept for the summary.
 */
export class Reconnector {
  private readonly gaps: Gap[] = [];
  private attempts = 0;
  private open: { loss: Loss; attempts: number } | null = null;

  constructor(
    private readonly policy: ReconnectPolicy,
    private readonly started: number,
    private readonly sink: EventSink,
    private readonly role: Role = 'client',
  ) {}

  /**
   * After `loss`: `connect` until it gives a connection (returned with whether it resumed TLS),
   * or null when the attempts ran out, an error is not worth retrying, or `wait` says the run
   * ended (it resolves false then). The last attempt's error is `lastError`.
   */
  async again<T>(
    loss: Loss,
    connect: () => Promise<{ value: T; resumed: boolean | null }>,
    wait: (ms: number) => Promise<boolean>,
  ): Promise<{ value: T } | { error: NetnoteError | null }> {
    const open = { loss, attempts: 0 };
    this.open = open;
    let lastError: NetnoteError | null = null;
    for (let attempt = 1; ; attempt++) {
      if (this.policy.attempts !== null && this.attempts >= this.policy.attempts) return { error: lastError };
      const waitMs = backoffWait(this.policy.backoff, attempt);
      this.sink.emit({ event: 'reconnecting', role: this.role, attempt, waitMs, ...(lastError ? { previous: lastError.message } : {}) });
      if (!(await wait(waitMs))) return { error: null };
      this.attempts++;
      open.attempts++;
      try {
        const { value, resumed } = await connect();
        const now = performance.now();
        const gap: Gap = {
          atMs: round(loss.noticedAt - this.started), cause: loss.cause,
          downMs: round(now - loss.lastAliveAt), reconnectMs: round(now - loss.noticedAt),
          attempts: attempt, lost: loss.lost, resumed,
        };
        this.gaps.push(gap);
        this.open = null;
        this.sink.emit({ event: 'reconnected', role: this.role, attempts: attempt, downMs: gap.downMs, reconnectMs: gap.reconnectMs!, lost: loss.lost, ...(resumed === null ? {} : { resumed }) });
        return { value };
      } catch (err) {
        lastError = err instanceof NetnoteError ? err : new NetnoteError('lost', String(err));
        if (!isTransient(lastError)) return { error: lastError };
      }
    }
  }

  /** The gaps so far; one still open at the end counts until now. */
  summary(): ReconnectSummary {
    const gaps = [...this.gaps];
    if (this.open) {
      const { loss, attempts } = this.open;
      gaps.push({
        atMs: round(loss.noticedAt - this.started), cause: loss.cause, downMs: round(performance.now() - loss.lastAliveAt),
        reconnectMs: null, attempts, lost: loss.lost, resumed: null,
      });
    }
    return reconnectSummary(gaps, this.attempts);
  }
}
