import { hostPort, type Endpoint } from '../endpoint.js';
import { NetnoteError } from '../errors.js';
import type { EventSink } from '../events.js';
import { HeartbeatClock, type HeartbeatSpec, type HeartbeatStats, type PendingHeartbeat } from '../message/heartbeat.js';
import type { UdpClientSocket } from '../socket/udp.js';

/**
 * udp-client --heartbeat: a datagram of its own whenever nothing was sent for the interval. Its
 * answer is the first datagram that equals it (--heartbeat-expect, or the echo when the exchange
 * echoes); that datagram is the heartbeat's, not a reply to a data datagram.
 */
export class UdpHeartbeats {
  private readonly clock: HeartbeatClock;
  private readonly waiting: Array<PendingHeartbeat & { timer: NodeJS.Timeout }> = [];

  constructor(
    spec: HeartbeatSpec,
    echoes: boolean,
    private readonly socket: Pick<UdpClientSocket, 'send'>,
    private readonly remote: Endpoint,
    private readonly sink: EventSink,
    /** A required answer did not come: the run ends with this error. */
    private readonly fail: (error: NetnoteError) => void,
  ) {
    this.clock = new HeartbeatClock(spec, echoes, this.due);
    this.clock.start();
  }

  get stats(): HeartbeatStats {
    return { ...this.clock.stats };
  }

  /** A data datagram went out: the next heartbeat is an interval away. */
  sent(): void {
    this.clock.sent();
  }

  /** Whether `datagram` answers a heartbeat (it is then counted here, and nowhere else). */
  claim(datagram: Buffer): boolean {
    const index = this.waiting.findIndex((h) => h.answer!.equals(datagram));
    if (index < 0) return false;
    const [h] = this.waiting.splice(index, 1);
    clearTimeout(h!.timer);
    this.clock.answered(datagram.length);
    if (this.sink.messages) this.sink.emit({ event: 'recv', role: 'client', data: datagram, remote: this.remote, heartbeat: h!.seq });
    return true;
  }

  stop(): void {
    this.clock.stop();
    for (const h of this.waiting.splice(0)) clearTimeout(h.timer);
  }

  private readonly due = (): void => {
    const h = this.clock.next();
    const { answerWithinMs, expect } = this.clock.spec;
    if (h.answer) {
      const timer = setTimeout(() => {
        const index = this.waiting.findIndex((w) => w.seq === h.seq);
        if (index < 0) return;
        this.waiting.splice(index, 1);
        if (!expect) {
          this.clock.stats.unanswered++;
          return;
        }
        this.fail(new NetnoteError('timeout', `no answer to heartbeat ${h.seq} from ${hostPort(this.remote.address, this.remote.port)} within ${answerWithinMs} ms`,
          'the peer or the path is gone; or the peer does not answer heartbeats (then drop --heartbeat-expect)'));
      }, answerWithinMs);
      this.waiting.push({ ...h, timer });
    }
    this.socket.send(h.data, () => {});
    this.clock.heartbeatSent(h);
    if (this.sink.messages) this.sink.emit({ event: 'send', role: 'client', seq: h.seq, data: h.data, heartbeat: true });
  };
}
