import { hostPort } from '../core/endpoint.js';
import type { NetEvent, TrialSeen } from '../core/events.js';
import type { DirectionBracket, IdleTimeoutSummary } from '../core/measure/idle-timeout.js';
import { ms, plural, seconds } from './format.js';
import { secondsShort } from './link-lines.js';
import type { Symbols } from './symbols.js';

// The lines of `netnote idle-timeout`: the rounds, each trial, the bracket and the advice.

/** An idle time as a bracket end: tenths of a second below 10 s, whole seconds above; rounded outwards. */
function bracketEnd(milliseconds: number, up: boolean): string {
  const s = milliseconds / 1000;
  const round = up ? Math.ceil : Math.floor;
  return s < 10 ? `${Number(round(s * 10) / 10).toString()} s` : `${round(s)} s`;
}

export function idleStartLine(e: Extract<NetEvent, { event: 'idle-start' }>): string {
  const peer = e.downlink
    ? 'it echoes and answers after a delay (a netnote server)'
    : 'it echoes, but cannot answer after a delay (not a netnote server)';
  const what = e.verify
    ? `verifying a heartbeat every ${secondsShort(e.verify.everyMs)} for ${seconds(e.verify.holdMs)}, ${e.downlink ? 'each answered after its quiet gap (downlink)' : 'each echoed (uplink)'}`
    : e.downlink ? 'uplink and downlink trials' : 'uplink trials only';
  return `idle-timeout of ${hostPort(e.remote.address, e.remote.port)} over ${e.transport}: ${peer}: ${what}; round trip ${ms(e.rttMs)}`;
}

export function roundLine(e: Extract<NetEvent, { event: 'idle-round' }>): string {
  const first = e.idleMs[0]!;
  const last = e.idleMs.at(-1)!;
  return `round ${e.round}, ${e.direction}: ${plural(e.idleMs.length, 'connection')} idle ${e.idleMs.length === 1 ? seconds(first) : `${seconds(first)} to ${seconds(last)}`}`;
}

function seenWords(seen: TrialSeen, e: { lateMs?: number; endedAfterMs?: number }): string {
  switch (seen) {
    case 'echoed': return 'echoed';
    case 'answered': return `the server's answer came${e.lateMs === undefined ? '' : ` ${ms(Math.max(0, e.lateMs))} after`}`;
    case 'no-echo': return 'no echo';
    case 'no-answer': return "the server's answer never came";
    case 'reset': return `reset${e.endedAfterMs === undefined ? '' : ` after ${seconds(e.endedAfterMs)}`}`;
    case 'closed': return `closed by the peer${e.endedAfterMs === undefined ? '' : ` after ${seconds(e.endedAfterMs)}`}`;
  }
}

export function trialLine(e: Extract<NetEvent, { event: 'trial' }>): string {
  const verdict = e.survived ? 'survived' : 'did not survive';
  if (e.heartbeat !== undefined) return `verify: heartbeat ${e.heartbeat} after ${seconds(e.idleMs)} idle (${e.direction}): ${verdict} (${seenWords(e.seen, e)})`;
  return `${e.direction}, idle ${seconds(e.idleMs)}: ${verdict} (${seenWords(e.seen, e)})`;
}

function bracketLine(direction: string, b: DirectionBracket): string {
  const low = b.lowMs > 0 ? `${bracketEnd(b.lowMs, false)} survived` : 'nothing survived';
  const high = b.highMs !== null ? `${bracketEnd(b.highMs, true)} did not`
    : b.cappedMs !== null ? `nothing longer tried (the other direction did not survive ${bracketEnd(b.cappedMs, true)})`
      : b.finished ? 'everything up to --max did' : 'stopped before a longer trial ended';
  return `${direction}: ${low}, ${high} (${plural(b.rounds, 'round')}, ${plural(b.trials, 'trial')})`;
}

export function idleSummaryLines(s: IdleTimeoutSummary, symbols: Symbols): string[] {
  const where = s.remote ? hostPort(s.remote.address, s.remote.port) : s.target;
  const lines = [`--- idle-timeout of ${where} over ${s.transport} summary ---`];
  for (const [name, b] of [['uplink', s.uplink], ['downlink', s.downlink]] as const) {
    if (!b) continue;
    lines.push(bracketLine(name, b));
    if (b.inconsistent > 0) lines.push(`${name}: ${plural(b.inconsistent, 'trial')} longer than ${bracketEnd(b.highMs ?? 0, true)} survived all the same (a path that does not forget by idle time alone, or a lost datagram)`);
  }
  if (s.uplink && !s.downlink && s.transport === 'udp') {
    lines.push('uplink trials alone cannot see a NAT forget a UDP mapping (it makes a new one for the next datagram): run a netnote udp-server there for the downlink');
  }
  const proto = s.transport.toUpperCase();
  const heartbeat = s.transport === 'tcp' ? 'keepalive or heartbeat' : 'heartbeat';
  if (s.lowMs !== null) {
    if (s.highMs === null) {
      lines.push(`idle timeout of the path: ${proto} longer than ${bracketEnd(s.maxMs, false)} (--max): every idle time tried survived ${symbols.arrow} ${heartbeat} every ${symbols.atMost} ${(s.adviceMs ?? 0) / 1000} s`);
    } else if (s.lowMs === 0) {
      lines.push(`idle timeout of the path: ${proto} under ${bracketEnd(s.highMs, true)}: not even the shortest idle time survived ${symbols.arrow} keep the connection busy, or check the peer`);
    } else {
      const advice = s.adviceMs === null ? 'send something at least every second' : `${heartbeat} every ${symbols.atMost} ${s.adviceMs / 1000} s`;
      lines.push(`idle timeout of the path: ${proto} between ${bracketEnd(s.lowMs, false)} and ${bracketEnd(s.highMs, true)} ${symbols.arrow} ${advice}`);
    }
    if (s.adviceMs !== null && s.remote) lines.push(`check it: netnote idle-timeout ${s.target.replace(/:(\d+)$/, ' $1')}${s.transport === 'udp' ? ' --proto udp' : ''} --verify ${s.adviceMs / 1000}s --hold 10m`);
  }
  const v = s.verify;
  if (v) {
    lines.push(v.held
      ? `verify: a heartbeat every ${secondsShort(v.everyMs)} held the connection for ${seconds(v.heldMs)}: ${plural(v.heartbeats, 'heartbeat')}, each answered (${v.direction})`
      : `verify: a heartbeat every ${secondsShort(v.everyMs)} did not hold the connection: heartbeat ${v.heartbeats} got no answer (${seenWords(v.failure?.seen ?? 'no-answer', {})}) after ${seconds(v.failure?.atMs ?? v.heldMs)}`);
  }
  return lines;
}
