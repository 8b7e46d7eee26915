import { Option, type Command } from 'commander';
import { MAX_DURATION_MS, parseDuration } from '../core/clock.js';
import { InvalidValueError, NetnoteError } from '../core/errors.js';
import { MAX_DELAY_MS } from '../core/measure/delayed-answers.js';
import { runIdleTimeout } from '../core/measure/idle-timeout.js';
import { parseHost, parseRemotePort } from '../core/socket/address.js';
import { needs } from '../shell/usage.js';
import type { Execute } from './context.js';
import { addLocalOptions, countArg, durationArg, localSpec, type LocalOptions } from './options.js';

interface IdleTimeoutOptions extends LocalOptions {
  proto: 'tcp' | 'udp';
  max: number;
  resolution: { percent: number; ms: number };
  parallel: number;
  timeout: number;
  verify?: number;
  hold?: number;
}

/** The default resolution: 5 % of the idle time, and never finer than a second. */
const RESOLUTION = { percent: 5, ms: 1000 };

/** `5%`, `2s`, `5%,1s`: a share of the idle time, a duration, or both (the larger wins). */
function resolutionArg(input: string): { percent: number; ms: number } {
  let percent: number | null = null;
  let ms: number | null = null;
  for (const part of input.split(',').map((p) => p.trim())) {
    const share = /^(\d+(?:\.\d+)?)%$/.exec(part);
    if (share && percent === null && Number(share[1]) > 0 && Number(share[1]) < 100) percent = Number(share[1]);
    else if (!share && ms === null) ms = parseDuration(part);
    else throw new InvalidValueError('resolution', input, 'expected a share, a duration or both, e.g. 5%, 2s or 5%,1s');
  }
  if (ms === 0 && !percent) throw new InvalidValueError('resolution', input, 'must be more than 0');
  // A share alone keeps the one-second floor; a duration alone is the resolution.
  return { percent: percent ?? 0, ms: ms ?? (percent !== null ? RESOLUTION.ms : 0) };
}

export function registerIdleTimeout(program: Command, execute: Execute): void {
  const command = program
    .command('idle-timeout')
    .description("find how long the path keeps an idle connection (TCP) or mapping (UDP), both ways: the note's FAQ 8 as a measurement")
    .argument('<host>', 'a netnote server (tcp-server, udp-server: uplink and downlink), or any echo server (uplink only)', parseHost)
    .argument('<port>', 'port number or service name', parseRemotePort)
    .addOption(new Option('--proto <proto>', 'what to keep idle: a TCP connection, or a UDP mapping').choices(['tcp', 'udp']).default('tcp'))
    .addOption(new Option('--max <duration>', 'the longest idle time tried').argParser(durationArg).default(30 * 60_000, '30m'))
    .addOption(new Option('--resolution <share,duration>', 'stop when the bracket is this fine: a share of the idle time, a duration, or both (the larger)').argParser(resolutionArg).default(RESOLUTION, '5%,1s'))
    .addOption(new Option('--parallel <n>', 'connections per direction and round, each idle for its own time').argParser(countArg).default(32))
    .addOption(new Option('-w, --timeout <duration>', 'how long an echo or an answer may take beyond its idle time').argParser(durationArg).default(3000, '3s'))
    .addOption(new Option('--verify <duration>', 'instead of the search: hold one connection with a heartbeat every DURATION, for --hold, and check it survives (exit 1 if not)')
      .argParser(durationArg).conflicts(['max', 'resolution', 'parallel']))
    .addOption(needs(new Option('--hold <duration>', 'how long --verify holds the connection (default: 5 heartbeats)').argParser(durationArg), '--verify'));
  addLocalOptions(command)
    .addHelpText('after', `
Each trial is a connection of its own, left idle for its time, then tested. Uplink: the client
sends and the peer must echo (any echo server). Downlink: before going quiet, the client asks a
netnote server to answer after that time (a 16-byte request, docs/long-lived.md); the answer must
arrive. A NAT that forgot a UDP mapping makes a new one for the next uplink datagram: only the
downlink shows that it forgot. Ends with the bracket and a keepalive or heartbeat interval under it.

Examples:
  $ netnote idle-timeout 198.51.100.7 8080                 against netnote tcp-server 0.0.0.0 8080 on the far side
  $ netnote idle-timeout 198.51.100.7 5683 --proto udp --max 10m
  $ netnote idle-timeout 198.51.100.7 8080 --verify 270s --hold 1h     does a heartbeat every 270 s hold it?
  $ netnote --json idle-timeout 198.51.100.7 8080 > trials.ndjson     every trial, and the result`)
    .action((host: string, port: number, options: IdleTimeoutOptions, cmd: Command) =>
      execute(cmd, 'client', async ({ reporter, signal, finish }) => {
        if (options.max < 1000) throw new NetnoteError('usage', '--max must be at least 1s');
        // The longest idle time asked (or a heartbeat's interval): a netnote server holds a downlink
        // answer that long at most, and a trial waits it and then --timeout, in one timer.
        const [flag, idleMs] = options.verify === undefined ? ['--max', options.max] : ['--verify', options.verify];
        if (idleMs > MAX_DELAY_MS) throw new NetnoteError('usage', `${flag} must be at most 24h: the longest a netnote server holds a downlink answer`);
        if (idleMs + options.timeout > MAX_DURATION_MS) throw new NetnoteError('usage', `${flag} and --timeout add up to more than 596h31m23s, the longest a timer can wait`);
        if (options.verify !== undefined && options.verify < 1) throw new NetnoteError('usage', '--verify must be more than 0');
        const result = await runIdleTimeout({
          host, port, proto: options.proto, local: localSpec(options),
          maxMs: options.max, resolution: options.resolution, parallel: options.parallel, graceMs: options.timeout,
          verify: options.verify === undefined ? null : { everyMs: options.verify, holdMs: options.hold ?? Math.min(options.verify * 5, MAX_DURATION_MS) },
        }, reporter, signal);
        finish([{ role: 'client', summary: result.summary }], result.error);
      }, { checks: options.verify === undefined ? [] : [{ name: `--verify ${options.verify / 1000}s`, decidedBy: 'reply' }] }));
}
