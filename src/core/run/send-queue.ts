/**
 * Datagrams handed to a socket without waiting for each one's callback, so a paced or unbounded
 * stream is not held to one event-loop turn per datagram. libuv queues what the kernel cannot take
 * yet (a full send buffer), so the queue is bounded: past `limit` unconfirmed sends, the next one
 * waits for a confirmation, and a sender faster than its link is slowed, not grown in memory.
 */
export class SendQueue {
  private queued = 0;
  private waiting: Array<() => void> = [];

  constructor(
    private readonly send: (data: Buffer, done: (err: Error | null) => void) => void,
    private readonly limit = 256,
  ) {}

  /** Resolves once `data` is handed to the socket; `done` runs when the socket is through with it. */
  async push(data: Buffer, done: (err: Error | null) => void): Promise<void> {
    while (this.queued >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.queued++;
    this.send(data, (err) => {
      this.queued--;
      this.waiting.shift()?.();
      done(err);
    });
  }

  /** Resolves when every send has been confirmed. */
  async drained(): Promise<void> {
    while (this.queued > 0) await new Promise<void>((resolve) => this.waiting.push(resolve));
  }
}
