import { NetnoteError } from '../errors.js';
import type { EndReason } from '../events.js';

/**
 * For a loop that may never have to wait (the kernel takes every write at once): without a turn
 * of the event loop now and then, timers, replies and Ctrl-C would never get in.
 */
export class LoopTurns {
  private last = performance.now();

  /** Yields to the event loop if a millisecond has passed since the last turn. */
  async take(): Promise<void> {
    if (performance.now() - this.last < 1) return;
    await new Promise((resolve) => setImmediate(resolve));
    this.last = performance.now();
  }
}

/**
 * How a client run waits and stops. Socket handlers call `end()` or `wake()`; the run's loop
 * awaits `until()`, which returns as soon as its condition holds, its time is up, or the run ended.
 */
export class RunControl {
  ended: { reason: EndReason; error: NetnoteError | null } | null = null;
  private waiting: (() => void) | null = null;

  /** The first end wins: a reset after a mismatch does not hide the mismatch. */
  end(reason: EndReason, error: NetnoteError | null): void {
    if (!this.ended) this.ended = { reason, error };
    this.wake();
  }

  /** After a lost connection was replaced (--reconnect): the run carries on. */
  resume(): void {
    this.ended = null;
  }

  /** Something changed: let the loop look again. */
  wake(): void {
    this.waiting?.();
  }

  /** Waits until `done()` holds (true), or the time runs out or the run ends (false). */
  async until(done: () => boolean, timeoutMs: number | null): Promise<boolean> {
    const deadline = timeoutMs === null ? Infinity : performance.now() + timeoutMs;
    while (!done()) {
      if (this.ended) return false;
      const left = deadline - performance.now();
      if (left <= 0) return false;
      await new Promise<void>((resolve) => {
        const timer = left === Infinity ? undefined : setTimeout(resolve, left);
        this.waiting = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.waiting = null;
    }
    return true;
  }

  /** Waits for `ready` (none: returns at once), unless the run ends first. */
  async settle(ready: Promise<void> | null): Promise<void> {
    if (!ready) return;
    let settled = false;
    void ready.then(() => {
      settled = true;
      this.wake();
    });
    await this.until(() => settled, null);
  }

  /** Runs `body` while Ctrl-C (`signal`) ends the run as interrupted. */
  async whileInterruptible(signal: AbortSignal, body: () => Promise<void>): Promise<void> {
    const stopListening = this.interruptOn(signal, () => new NetnoteError('interrupted', 'interrupted'));
    try {
      await body();
    } finally {
      stopListening();
    }
  }

  /** Ends the run as interrupted when `signal` fires; returns the function that stops listening. */
  interruptOn(signal: AbortSignal, interrupted: () => NetnoteError): () => void {
    const onAbort = () => this.end('interrupted', interrupted());
    if (signal.aborted) onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    return () => signal.removeEventListener('abort', onAbort);
  }
}
