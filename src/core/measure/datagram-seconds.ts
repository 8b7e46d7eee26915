/** What happened to a UDP client's datagrams in one second of its run (the report's loss chart, merge's series). */
export interface DatagramSecond {
  /** Seconds since the run started: this entry covers [second, second + 1). */
  second: number;
  /** Datagrams sent in this second. */
  sent: number;
  /** Of those, never answered. */
  lost: number;
  /** Of those, answered after their timeout. */
  late: number;
  /** Replies that arrived in this second and answered a datagram already answered. */
  duplicated: number;
  /** Replies that arrived in this second after an answer to a later datagram (--probe). */
  reordered: number;
  /** The RFC 3550 jitter at the end of this second (--probe), or null. */
  jitterMs: number | null;
}

/**
 * Loss, lateness, duplicates and jitter second by second. A datagram's loss and lateness count in
 * the second it was sent (known only later); duplicates and reordering in the second they arrived.
 */
export class DatagramSeconds {
  private readonly seconds: DatagramSecond[] = [];

  constructor(private readonly started: number) {}

  sent(at: number): void {
    this.at(at).sent++;
  }

  late(sentAt: number): void {
    this.at(sentAt).late++;
  }

  lost(sentAt: number): void {
    this.at(sentAt).lost++;
  }

  duplicated(at: number): void {
    this.at(at).duplicated++;
  }

  reordered(at: number): void {
    this.at(at).reordered++;
  }

  jitter(at: number, jitterMs: number): void {
    this.at(at).jitterMs = Math.round(jitterMs * 1000) / 1000;
  }

  /** Every second from the start to the last one with something in it; quiet seconds are zeros. */
  list(): DatagramSecond[] {
    return Array.from({ length: this.seconds.length }, (_, second) => this.seconds[second] ?? empty(second));
  }

  private at(time: number): DatagramSecond {
    const second = Math.max(0, Math.floor((time - this.started) / 1000));
    return (this.seconds[second] ??= empty(second));
  }
}

const empty = (second: number): DatagramSecond => ({ second, sent: 0, lost: 0, late: 0, duplicated: 0, reordered: 0, jitterMs: null });
