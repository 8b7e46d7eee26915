import { Option, type Command } from 'commander';
import { parseDuration } from '../core/clock.js';
import { InvalidValueError, NetnoteError } from '../core/errors.js';
import type { HeartbeatSpec } from '../core/message/heartbeat.js';
import { parseHex } from '../core/message/payload.js';
import { compileTemplate, literal } from '../core/message/template.js';
import { DEFAULT_BACKOFF, parseBackoff, type Backoff } from '../core/run/backoff.js';
import type { ReconnectPolicy } from '../core/run/reconnect.js';
import { needs } from '../shell/usage.js';
import { countArg, durationArg } from './options.js';

// The options of a link kept up for days (docs/long-lived.md): heartbeats, reconnects, waiting
// for a port to answer. Parsed here into the core's specs.

export interface HeartbeatOptions {
  heartbeat?: number;
  heartbeatData?: string;
  heartbeatHex?: string;
  heartbeatExpect?: string;
  heartbeatExpectHex?: Buffer;
  template?: boolean;
}

export function addHeartbeatOptions(command: Command): Command {
  const modes = ['stream', 'connections', 'script'];
  return command
    .addOption(new Option('--heartbeat <duration>', 'send a heartbeat whenever nothing was sent for this long (counted apart from the messages)').argParser(durationArg).conflicts(modes))
    .addOption(needs(new Option('--heartbeat-data <text>', 'what a heartbeat says (placeholders such as {seq} with --template)').conflicts(['heartbeatHex']), '--heartbeat'))
    .addOption(needs(new Option('--heartbeat-hex <hex>', 'what a heartbeat says, as hex bytes'), '--heartbeat'))
    .addOption(needs(new Option('--heartbeat-expect <text>', "each heartbeat's answer must be this text, within --timeout (else the heartbeat interval): a missing answer ends the connection").conflicts(['heartbeatExpectHex']), '--heartbeat'))
    .addOption(needs(new Option('--heartbeat-expect-hex <hex>', "each heartbeat's answer must be these bytes").argParser(parseHex), '--heartbeat'));
}

/** --heartbeat as the core takes it; null without it. `timeoutMs`: -w, how long an answer may take. */
export function heartbeatSpec(options: HeartbeatOptions, timeoutMs: number | null, proto: 'tcp' | 'udp'): HeartbeatSpec | null {
  if (options.heartbeat === undefined) return null;
  if (options.heartbeat <= 0) throw new NetnoteError('usage', '--heartbeat must be more than 0');
  if (options.heartbeatData === undefined && options.heartbeatHex === undefined) {
    throw new NetnoteError('usage', '--heartbeat needs --heartbeat-data TEXT or --heartbeat-hex HEX: what a heartbeat says');
  }
  const payload = options.heartbeatHex !== undefined
    ? (options.template ? compileTemplate(options.heartbeatHex, 'hex', '--heartbeat-hex') : literal(parseHex(options.heartbeatHex)))
    : (options.template ? compileTemplate(options.heartbeatData!, 'text', '--heartbeat-data') : literal(Buffer.from(options.heartbeatData!, 'utf8')));
  if (proto === 'tcp' && payload.fixed?.length === 0) throw new NetnoteError('usage', 'the heartbeat is empty: TCP cannot send 0 bytes');
  const expect = options.heartbeatExpectHex ?? (options.heartbeatExpect === undefined ? null : Buffer.from(options.heartbeatExpect, 'utf8'));
  return { intervalMs: options.heartbeat, payload, expect, answerWithinMs: timeoutMs ?? options.heartbeat };
}

export interface ReconnectOptions {
  /** true: --reconnect without a count. */
  reconnect?: number | true;
  backoff?: Backoff;
}

export function addReconnectOptions(command: Command, when = 'after a lost connection (reset, closed, no reply, keepalive or heartbeat timeout), connect again and carry on'): Command {
  const modes = ['stream', 'connections'];
  return command
    .addOption(new Option('--reconnect [attempts]', `${when}; at most this many attempts in all (default: no limit)`).argParser(countArg).conflicts(modes))
    .addOption(needs(new Option('--backoff <min[,max]>', 'wait before each attempt: doubling from MIN up to MAX, up to 25 % longer at random').argParser(backoffArg).default(DEFAULT_BACKOFF, '1s,30s'), '--reconnect'));
}

function backoffArg(input: string): Backoff {
  return parseBackoff(input, parseDuration);
}

export function reconnectPolicy(options: ReconnectOptions): ReconnectPolicy | null {
  if (options.reconnect === undefined) return null;
  return { attempts: options.reconnect === true ? null : options.reconnect, backoff: options.backoff ?? DEFAULT_BACKOFF };
}

export function addWaitForOption(command: Command): Command {
  return command.addOption(new Option('--wait-for <duration>', 'keep trying to connect (every 250 ms) until the port answers, for at most this long (then exit 5)').argParser(durationArg).conflicts(['stream', 'connections']));
}

export function addReportEveryOption(command: Command): Command {
  return command.addOption(new Option('--report-every <duration>', 'for long runs: a line of the figures so far (and an interim --json event) every DURATION').argParser(positiveDuration));
}

function positiveDuration(input: string): number {
  const ms = durationArg(input);
  if (ms <= 0) throw new InvalidValueError('duration', input, 'must be more than 0, e.g. 1m');
  return ms;
}
