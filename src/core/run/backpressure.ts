import type net from 'node:net';
import type { EventSink, NetEvent, Role } from '../events.js';

// When stdout is a pipe nobody reads, the log must not grow without bound. The note's print()
// blocks there and stops the loop reading; these do the same for each kind of source.

/** A TCP reader stops reading until the output has room: TCP flow control then slows the peer. */
export function pauseForOutput(sink: EventSink, socket: net.Socket): void {
  const room = sink.room();
  if (!room) return;
  socket.pause();
  void room.then(() => socket.resume());
}

/**
 * A UDP socket cannot stop reading in Node, so while the output is full its datagrams are
 * handled and counted as usual but not logged, and the log says how many it skipped.
 */
export class DatagramLog {
  private skipped = 0;

  constructor(private readonly sink: EventSink, private readonly role: Role) {}

  emit(event: NetEvent): void {
    if (this.skipped > 0) {
      this.skipped++;
      return;
    }
    const room = this.sink.room();
    if (!room) {
      this.sink.emit(event);
      return;
    }
    this.skipped = 1;
    void room.then(() => {
      const n = this.skipped;
      this.skipped = 0;
      this.sink.emit({
        event: 'warning', role: this.role,
        message: `${n} received ${n === 1 ? 'datagram was' : 'datagrams were'} not logged while the output was full (still handled and counted)`,
      });
    });
  }
}
