import { setMaxListeners } from 'node:events';
import { elapsedMs } from '../clock.js';
import { hostPort, type Endpoint } from '../endpoint.js';
import { NetnoteError, fromSystemError } from '../errors.js';
import type { Direction, EndReason, EventSink } from '../events.js';
import type { LocalSpec } from '../socket/local.js';
import { resolveAndSay } from '../socket/lookup.js';
import { preflight, runTrial, type TrialResult, type TrialTarget } from './idle-trial.js';
import { verifyHold, type VerifySummary } from './idle-verify.js';

// `netnote idle-timeout HOST PORT`: the longest a connection (TCP) or a mapping (UDP) survives idle
// on the path, in both directions. Connections are opened in parallel, each left idle for a
// different time; the first round spreads them from 1 s to --max (finely at first, then
// geometrically), each next round fills the bracket between the longest idle time that survived
// and the shortest that did not, until it is within --resolution.

export interface IdleTimeoutConfig {
  host: string;
  port: number;
  proto: 'tcp' | 'udp';
  local: LocalSpec | null;
  /** Longest idle time tried. */
  maxMs: number;
  /** The bracket is fine enough when its width is at most the larger of these (5 % of its low end, 1 s). */
  resolution: { percent: number; ms: number };
  /** Connections (trials) per direction and round. */
  parallel: number;
  /** How long an echo or an answer may take beyond its idle time (-w). */
  graceMs: number;
  /** --verify DUR --hold DUR: instead of the search, hold one connection with a heartbeat every DUR. */
  verify: { everyMs: number; holdMs: number } | null;
}

export interface IdleTrial extends TrialResult {
  round: number;
  /** When it started and ended, since the run started. */
  startedAtMs: number;
  endedAtMs: number;
}

/** What one direction found: the longest idle time that survived and the shortest that did not (null: none did not, up to --max). */
export interface DirectionBracket {
  lowMs: number;
  highMs: number | null;
  rounds: number;
  trials: number;
  /** Trials longer than highMs that survived all the same: a path that does not forget by idle time alone. */
  inconsistent: number;
  /**
   * Nothing longer was tried: the other direction had already died at this idle time, and the
   * path's idle timeout is the shorter of the two (a NAT makes a new UDP mapping for an uplink
   * datagram: its uplink survives any idle time). null: not capped.
   */
  cappedMs: number | null;
  /** false: the run stopped (Ctrl-C, an error) before this direction's bracket was decided. */
  finished: boolean;
}

export interface IdleTimeoutSummary {
  proto: 'idle-timeout';
  transport: 'tcp' | 'udp';
  /** HOST:PORT as asked. */
  target: string;
  remote: Endpoint | null;
  maxMs: number;
  resolution: { percent: number; ms: number };
  parallel: number;
  graceMs: number;
  /** The first exchange's round trip. */
  rttMs: number | null;
  /** null: not searched (--verify). */
  uplink: DirectionBracket | null;
  /** null: not searched, or the peer cannot answer after a delay (not a netnote server). */
  downlink: DirectionBracket | null;
  /** The path's idle timeout lies in (lowMs, highMs]: the lower of the directions. */
  lowMs: number | null;
  highMs: number | null;
  /** A keepalive or heartbeat interval safely under it (90 % of lowMs, whole seconds). */
  adviceMs: number | null;
  trials: IdleTrial[];
  verify: VerifySummary | null;
  durationMs: number;
  ended: EndReason;
}

export interface IdleTimeoutResult {
  summary: IdleTimeoutSummary;
  error: NetnoteError | null;
}

/** Trials connecting at once (the note's server listens with a backlog of 10). */
const CONNECTS_AT_ONCE = 8;

/** The advice leaves this margin under the shortest idle time that survived. */
const ADVICE_SHARE = 0.9;

export async function runIdleTimeout(config: IdleTimeoutConfig, sink: EventSink, signal: AbortSignal): Promise<IdleTimeoutResult> {
  const started = performance.now();
  const summary: IdleTimeoutSummary = {
    proto: 'idle-timeout', transport: config.proto, target: hostPort(config.host, config.port), remote: null,
    maxMs: config.maxMs, resolution: config.resolution, parallel: config.parallel, graceMs: config.graceMs, rttMs: null,
    uplink: null, downlink: null, lowMs: null, highMs: null, adviceMs: null, trials: [], verify: null, durationMs: 0, ended: 'completed',
  };
  const end = (error: NetnoteError | null): IdleTimeoutResult => {
    summary.durationMs = elapsedMs(started);
    summary.ended = error === null ? 'completed' : error.code === 'interrupted' ? 'interrupted' : error.code === 'assertion' ? 'mismatch' : error.code === 'timeout' ? 'timeout' : 'failed';
    return { summary, error };
  };
  let target: TrialTarget;
  let downlink: boolean;
  try {
    sink.emit({ event: 'created', role: 'client', proto: config.proto });
    const [address] = await resolveAndSay(config.host, 'client', sink);
    summary.remote = { address: address!.address, port: config.port, family: address!.family };
    sink.emit({ event: 'connecting', role: 'client', remote: summary.remote });
    target = { proto: config.proto, remote: summary.remote, local: config.local, graceMs: config.graceMs };
    const first = await preflight(target, signal);
    downlink = first.downlink;
    summary.rttMs = first.rttMs;
  } catch (err) {
    return end(signal.aborted ? new NetnoteError('interrupted', 'interrupted') : fromSystemError(err, { host: config.host, port: config.port, doing: 'connect' }));
  }
  sink.emit({ event: 'idle-start', role: 'client', transport: config.proto, remote: summary.remote, downlink, rttMs: summary.rttMs, verify: config.verify });
  try {
    if (config.verify) {
      summary.verify = await verifyHold(target, config.verify, downlink, sink, signal);
      if (signal.aborted) return end(new NetnoteError('interrupted', 'interrupted'));
      const v = summary.verify;
      return end(v.held ? null : new NetnoteError('assertion',
        `a heartbeat every ${v.everyMs / 1000} s did not hold the connection to ${summary.target}: heartbeat ${v.heartbeats} got no answer after ${v.everyMs / 1000} s idle (${v.direction})`,
        `heartbeat more often: measure the path with netnote idle-timeout ${config.host} ${config.port}`));
    }
    const search = new Search(config, target, sink, started, summary.trials, signal);
    [summary.uplink, summary.downlink] = await Promise.all([search.direction('uplink'), downlink ? search.direction('downlink') : Promise.resolve(null)]);
    if (search.failure) return end(search.failure);
  } catch (err) {
    return end(signal.aborted ? new NetnoteError('interrupted', 'interrupted') : fromSystemError(err, { host: config.host, port: config.port, doing: 'connect' }));
  }
  summary.trials.sort((a, b) => a.direction.localeCompare(b.direction) || a.idleMs - b.idleMs);
  // Stopped before the bracket was decided: what survived is known, the path's timeout is not.
  if (signal.aborted) return end(new NetnoteError('interrupted', 'interrupted'));
  const found = [summary.uplink, summary.downlink].filter((d): d is DirectionBracket => d !== null);
  summary.lowMs = Math.min(...found.map((d) => d.lowMs));
  const highs = found.flatMap((d) => (d.highMs === null ? [] : [d.highMs]));
  summary.highMs = highs.length > 0 ? Math.min(...highs) : null;
  const advice = Math.floor((summary.lowMs * ADVICE_SHARE) / 1000) * 1000;
  summary.adviceMs = advice >= 1000 ? advice : null;
  return end(null);
}

/** The search, direction by direction; both run at once, each on its own connections. */
class Search {
  /** A trial that could not even connect: the run's error. */
  failure: NetnoteError | null = null;
  private seq = 0;
  /** The rounds running: each looks again whenever a trial of either direction ends. */
  private readonly checks = new Set<() => void>();
  /** Every direction's bracket: the other direction's failures cap a direction's search. */
  private readonly brackets: DirectionBracket[] = [];
  /** Connects a few at a time: a round's SYNs all at once would overflow a server's accept queue. */
  private readonly slots = new Slots(CONNECTS_AT_ONCE);

  constructor(
    private readonly config: IdleTimeoutConfig,
    private readonly target: TrialTarget,
    private readonly sink: EventSink,
    private readonly started: number,
    private readonly trials: IdleTrial[],
    private readonly signal: AbortSignal,
  ) {}

  /** The bracket for one direction: rounds until it is fine enough, or nothing died up to --max. */
  async direction(direction: Direction): Promise<DirectionBracket> {
    const bracket: DirectionBracket = { lowMs: 0, highMs: null, rounds: 0, trials: 0, inconsistent: 0, cappedMs: null, finished: false };
    this.brackets.push(bracket);
    const outcomes: TrialResult[] = [];
    while (!this.signal.aborted && !this.failure) {
      const points = roundPoints({ lowMs: bracket.lowMs, highMs: this.ceiling(bracket) }, this.config);
      if (points.length === 0) break;
      bracket.rounds++;
      this.sink.emit({ event: 'idle-round', role: 'client', transport: this.config.proto, direction, round: bracket.rounds, idleMs: points });
      await this.round(direction, bracket, outcomes, points);
    }
    const ceiling = this.ceiling(bracket);
    if (bracket.highMs === null && ceiling !== null) bracket.cappedMs = ceiling;
    bracket.finished = !this.signal.aborted && !this.failure;
    return bracket;
  }

  /** The shortest idle time known not to survive, in this direction or the other. */
  private ceiling(bracket: DirectionBracket): number | null {
    const highs = [bracket.highMs, ...this.brackets.map((b) => b.highMs)].filter((h): h is number => h !== null);
    return highs.length > 0 ? Math.min(...highs) : null;
  }

  /**
   * Runs a round's trials at once. As soon as every trial shorter than the shortest that died has
   * its outcome, the round is decided: the longer ones are cancelled.
   */
  private round(direction: Direction, bracket: DirectionBracket, outcomes: TrialResult[], points: number[]): Promise<void> {
    const cancel = new AbortController();
    // Every trial of the round listens to it.
    setMaxListeners(0, cancel.signal);
    const stop = () => cancel.abort();
    this.signal.addEventListener('abort', stop, { once: true });
    const done = new Set<number>();
    // Decided once every trial shorter than the shortest failure (here or in the other direction) has its outcome.
    const check = () => {
      const high = this.ceiling(bracket);
      if (high !== null && points.every((p) => p >= high || done.has(p))) cancel.abort();
    };
    this.checks.add(check);
    return new Promise<void>((resolve) => {
      let open = points.length;
      const settle = () => {
        for (const recheck of this.checks) recheck();
        if (--open > 0) return;
        this.checks.delete(check);
        this.signal.removeEventListener('abort', stop);
        resolve();
      };
      for (const idleMs of points) {
        const startedAt = performance.now();
        this.slots.run((connected) => runTrial(this.target, direction, idleMs, ++this.seq, cancel.signal, connected)).then((result) => {
          if (result) {
            done.add(idleMs);
            outcomes.push(result);
            const trial: IdleTrial = { ...result, round: bracket.rounds, startedAtMs: since(this.started, startedAt), endedAtMs: since(this.started, performance.now()) };
            this.trials.push(trial);
            this.sink.emit({ event: 'trial', role: 'client', transport: this.config.proto, ...trial });
            Object.assign(bracket, bracketOf(outcomes));
          }
          settle();
        }, (err: unknown) => {
          this.failure ??= err instanceof NetnoteError ? err : fromSystemError(err, { host: this.target.remote.address, port: this.target.remote.port, doing: 'connect' });
          cancel.abort();
          settle();
        });
      }
    });
  }
}

/**
 * The bracket the outcomes so far give: the shortest idle time that did not survive, the longest
 * shorter one that did; longer survivors are counted as inconsistent (the path did not forget by
 * idle time alone, or a datagram was lost).
 */
export function bracketOf(outcomes: TrialResult[]): Pick<DirectionBracket, 'lowMs' | 'highMs' | 'trials' | 'inconsistent'> {
  const died = outcomes.filter((o) => !o.survived).map((o) => o.idleMs);
  const highMs = died.length > 0 ? Math.min(...died) : null;
  const survived = outcomes.filter((o) => o.survived).map((o) => o.idleMs);
  const below = survived.filter((t) => highMs === null || t < highMs);
  return { lowMs: Math.max(0, ...below), highMs, trials: outcomes.length, inconsistent: survived.length - below.length };
}

const since = (start: number, at: number): number => Math.round((at - start) * 1000) / 1000;

/** --resolution at an idle time: the larger of its share and its floor. */
function resolutionAt(ms: number, config: IdleTimeoutConfig): number {
  return Math.max(config.resolution.ms, (ms * config.resolution.percent) / 100);
}

/**
 * The idle times of the next round: points `resolution` apart above the low end while that fits
 * the round, the rest (when nothing has died yet) spread geometrically up to --max, or (inside a
 * bracket) evenly across it.
 */
export function roundPoints(bracket: Pick<DirectionBracket, 'lowMs' | 'highMs'>, config: IdleTimeoutConfig): number[] {
  const top = bracket.highMs ?? config.maxMs;
  if (bracket.highMs !== null && bracket.highMs - bracket.lowMs <= resolutionAt(bracket.lowMs, config)) return [];
  if (bracket.highMs === null && bracket.lowMs >= config.maxMs) return [];
  const fine: number[] = [];
  for (let t = bracket.lowMs + resolutionAt(bracket.lowMs, config); t < top; t += resolutionAt(t, config)) {
    fine.push(Math.round(t));
    if (fine.length > config.parallel) break;
  }
  const last = bracket.highMs === null ? [config.maxMs] : [];
  if (fine.length + last.length <= config.parallel) return [...fine, ...last];
  if (bracket.highMs !== null) {
    const step = (top - bracket.lowMs) / (config.parallel + 1);
    return Array.from({ length: config.parallel }, (_, i) => Math.round(bracket.lowMs + step * (i + 1)));
  }
  const near = fine.slice(0, Math.ceil(config.parallel / 2));
  const from = near.at(-1)!;
  const far = config.parallel - near.length;
  const ratio = (config.maxMs / from) ** (1 / far);
  return [...near, ...Array.from({ length: far }, (_, i) => Math.round(from * ratio ** (i + 1)))];
}

/**
 * At most `size` trials connecting at once: a trial holds its slot until it is connected (the
 * idle time starts then), so the round's trials start a few milliseconds apart.
 */
class Slots {
  private busy = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly size: number) {}

  async run<T>(task: (connected: () => void) => Promise<T>): Promise<T> {
    if (this.busy >= this.size) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.busy++;
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      this.busy--;
      this.waiting.shift()?.();
    };
    try {
      return await task(release);
    } finally {
      release();
    }
  }
}
