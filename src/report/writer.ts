/** Where human lines go: stdout or stderr (LineWriter), the --log file (LogFile), with or without a timestamp. */
export interface LineSink {
  write(line: string): void;
  /** null while the destination has room, else a promise of room (see EventSink.room). */
  room(): Promise<void> | null;
  flush(): void;
}

// Output Node holds because the reader (a pipe, usually) has not taken it yet; past this, readers
// of the network wait (EventSink.room), so a stdout nobody reads cannot fill memory.
const FULL = 1 << 20;

/**
 * Lines to a stream. A terminal gets each line at once; a pipe or a file gets them in batches, so
 * logging every message does not cost a write() per message. (The CLI waits for stdout to drain
 * before it exits: a full pipe queues what Node cannot write at once.)
 */
export class LineWriter implements LineSink {
  private buffered: string[] = [];
  private size = 0;
  private scheduled = false;
  private broken = false;
  private readonly immediate: boolean;
  private waiting: Promise<void> | null = null;

  constructor(private readonly stream: NodeJS.WritableStream & { isTTY?: boolean; writableLength?: number }) {
    this.immediate = stream.isTTY === true;
    // `netnote … | head` closes the pipe early: stop writing rather than crash on EPIPE.
    stream.on('error', () => {
      this.broken = true;
    });
  }

  write(line: string): void {
    if (this.broken) return;
    if (this.immediate) {
      this.stream.write(`${line}\n`);
      return;
    }
    this.buffered.push(line);
    this.size += line.length + 1;
    if (this.size >= 65536) this.flush();
    else if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.flush);
    }
  }

  /** null while little is queued; else resolves once the stream drains (or breaks). */
  room(): Promise<void> | null {
    if (this.broken || (this.stream.writableLength ?? 0) < FULL) return null;
    this.waiting ??= new Promise<void>((resolve) => {
      const done = () => {
        for (const event of ['drain', 'error', 'close']) this.stream.off(event, done);
        this.waiting = null;
        resolve();
      };
      for (const event of ['drain', 'error', 'close']) this.stream.on(event, done);
    });
    return this.waiting;
  }

  readonly flush = (): void => {
    this.scheduled = false;
    if (this.buffered.length === 0 || this.broken) return;
    this.buffered.push('');
    const text = this.buffered.join('\n');
    this.buffered = [];
    this.size = 0;
    this.stream.write(text);
  };
}
