import { elapsedMs } from '../clock.js';
import type { Direction, EventSink, TrialSeen } from '../events.js';
import { openChannel, type TrialTarget } from './idle-trial.js';
import { decodeAnswerAfter, encodeAnswerAfter, encodeProbe } from './probe.js';

/** What `idle-timeout --verify` found: whether a heartbeat every `everyMs` held one connection for `holdMs`. */
export interface VerifySummary {
  everyMs: number;
  holdMs: number;
  /** downlink: each heartbeat asks the server to answer after `everyMs` (a netnote server); uplink: each is echoed at once. */
  direction: Direction;
  heartbeats: number;
  answered: number;
  held: boolean;
  /** The heartbeat that got no answer: what was seen, and when since the start. */
  failure: { seen: TrialSeen; atMs: number } | null;
  /** How long the connection was held. */
  heldMs: number;
}

/**
 * Holds one connection (or UDP socket) for `holdMs`, quiet but for a heartbeat every `everyMs`,
 * as a device keeping a link up would. Against a netnote server each heartbeat asks for its answer
 * after `everyMs`: the answer then crosses the path at the end of each quiet gap, when a NAT that
 * forgets faster than the heartbeat would already have dropped the mapping (what an uplink echo
 * alone cannot see for UDP). Against an echo peer each heartbeat goes after `everyMs` of quiet and
 * must be echoed.
 */
export async function verifyHold(target: TrialTarget, plan: { everyMs: number; holdMs: number }, downlink: boolean, sink: EventSink, signal: AbortSignal): Promise<VerifySummary> {
  const started = performance.now();
  const direction: Direction = downlink ? 'downlink' : 'uplink';
  const summary: VerifySummary = { everyMs: plan.everyMs, holdMs: plan.holdMs, direction, heartbeats: 0, answered: 0, held: false, failure: null, heldMs: 0 };
  const channel = await openChannel(target, signal);
  const since = (at: number) => Math.round((at - started) * 1000) / 1000;
  try {
    while (!signal.aborted && performance.now() - started < plan.holdMs) {
      const seq = ++summary.heartbeats;
      const startedAt = performance.now();
      let seen: TrialSeen;
      let lateMs: number | undefined;
      if (downlink) {
        channel.send(encodeAnswerAfter(seq, plan.everyMs));
        for (;;) {
          const message = await channel.next(startedAt + plan.everyMs + target.graceMs, signal);
          const answer = message ? decodeAnswerAfter(message) : null;
          if (message && !(answer?.answered && answer.seq === seq)) continue;
          seen = answer ? 'answered' : channel.ended?.how ?? 'no-answer';
          if (answer) lateMs = Math.round((performance.now() - startedAt - plan.everyMs) * 1000) / 1000;
          break;
        }
      } else {
        await channel.next(startedAt + plan.everyMs, signal);
        const sentAt = performance.now();
        const probe = encodeProbe(seq, sentAt, Buffer.alloc(0));
        channel.send(probe);
        const echo = await channel.next(sentAt + target.graceMs, signal);
        seen = echo?.equals(probe) ? 'echoed' : channel.ended?.how ?? 'no-echo';
      }
      if (signal.aborted) break;
      const survived = seen === 'answered' || seen === 'echoed';
      sink.emit({
        event: 'trial', role: 'client', transport: target.proto, direction, idleMs: plan.everyMs, survived, seen, heartbeat: seq,
        ...(lateMs === undefined ? {} : { lateMs }), startedAtMs: since(startedAt), endedAtMs: since(performance.now()),
      });
      if (!survived) {
        summary.failure = { seen, atMs: since(performance.now()) };
        break;
      }
      summary.answered++;
    }
  } finally {
    channel.close();
  }
  summary.heldMs = elapsedMs(started);
  summary.held = summary.failure === null && !signal.aborted;
  return summary;
}
