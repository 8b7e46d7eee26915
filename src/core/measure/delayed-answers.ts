import { answerTo, decodeAnswerAfter } from './probe.js';

/** Requests held at once by one server: a flood of them must not grow its memory without bound. */
const MAX_HELD = 10_000;
/** The longest delay honoured: longer than any idle timeout worth measuring (idle-timeout --max). */
export const MAX_DELAY_MS = 24 * 3_600_000;

/**
 * A netnote server's side of idle-timeout's downlink trials (measure/probe.ts): a request is
 * held for the delay it asks, then its answer is sent; Ctrl-C or SIGTERM cancels what is held.
 */
export class DelayedAnswers {
  private readonly held = new Set<NodeJS.Timeout>();

  /**
   * When `data` is a request (exactly one, nothing else): holds it, and `send`s its answer after
   * the delay asked. The server echoes it at once all the same, as it echoes everything.
   */
  hold(data: Buffer, send: (answer: Buffer, delayMs: number) => void): void {
    const request = decodeAnswerAfter(data);
    if (!request || request.answered || request.delayMs > MAX_DELAY_MS || this.held.size >= MAX_HELD) return;
    const answer = answerTo(data);
    const timer = setTimeout(() => {
      this.held.delete(timer);
      send(answer, request.delayMs);
    }, request.delayMs);
    this.held.add(timer);
  }

  /** The server stops: nothing held is answered. */
  cancel(): void {
    for (const timer of this.held) clearTimeout(timer);
    this.held.clear();
  }
}
