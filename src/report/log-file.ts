import { writeSync } from 'node:fs';
import { outputError, type NetnoteError } from '../core/errors.js';
import { openOutput } from '../core/files.js';
import type { LineSink } from './writer.js';

/**
 * --log FILE: human lines appended to a file, each written to the kernel as it comes (no buffer of
 * ours), so that a soak's log holds every line up to the moment it was stopped, by Ctrl-C, by
 * SIGTERM, or by a kill nothing can catch. The file stays open until the process exits.
 */
export class LogFile implements LineSink {
  /** The first write that failed (a full disk): the run's error when it has none. */
  failure: NetnoteError | null = null;

  private constructor(private readonly path: string, private readonly fd: number) {}

  /** Opens FILE to append to (a FIFO waits for its reader until `signal`); exit 8 when it cannot be. */
  static async open(path: string, signal: AbortSignal): Promise<LogFile> {
    return new LogFile(path, await openOutput(path, `--log ${path}`, signal, 'a'));
  }

  write(line: string): void {
    if (this.failure) return;
    try {
      writeSync(this.fd, `${line}\n`);
    } catch (err) {
      this.failure = this.error(err);
    }
  }

  /** A file takes what it is given at once. */
  room(): null {
    return null;
  }

  flush(): void {}

  private error(err: unknown): NetnoteError {
    return outputError(`--log ${this.path}`, err);
  }
}
