import { Option, type Command } from 'commander';
import { parseHost, parseRemotePort } from '../core/socket/address.js';
import { NetnoteError } from '../core/errors.js';
import type { FrameSpec } from '../core/message/frame.js';
import { loadPayload } from '../core/message/payload.js';
import { runTcpScript } from '../core/tcp/script.js';
import { runCapacity } from '../core/measure/capacity.js';
import { runStream } from '../core/measure/stream.js';
import { parseBitrate } from '../core/measure/pacer.js';
import type { Keepalive } from '../core/socket/keepalive.js';
import { TlsClient } from '../core/socket/tls.js';
import { runTcpClient } from '../core/tcp/client.js';
import type { Execute } from './context.js';
import {
  addExchangeOptions, addLocalOptions, addPayloadOptions, addScriptOption, addTemplateOption, loadScriptFile, countArg, durationArg, frameArg, keepaliveArg, localSpec, payloadSpec,
  KEEPALIVE_HELP,
  payloadTemplate, replyChecks, replyRule, scriptChecks, PAYLOAD_OPTIONS, REPLY_OPTIONS,
  type ExchangeOptions, type LocalOptions, type PayloadOptions,
} from './options.js';
import { needs } from '../shell/usage.js';
import {
  addHeartbeatOptions, addReconnectOptions, addReportEveryOption, addWaitForOption, heartbeatSpec, reconnectPolicy, type HeartbeatOptions, type ReconnectOptions,
} from './link-options.js';
import { addTlsClientOptions, terminalPassphrase, tlsClientSpec, type TlsClientOptions } from './tls-options.js';

interface TcpClientOptions extends PayloadOptions, ExchangeOptions, LocalOptions, TlsClientOptions, HeartbeatOptions, ReconnectOptions {
  ping?: boolean;
  stream?: boolean;
  duration: number;
  parallel: number;
  reverse?: boolean;
  bidir?: boolean;
  bitrate?: number;
  burst?: number;
  connections?: number;
  rate?: number;
  hold: number;
  maxInFlight: number;
  frame?: FrameSpec;
  template?: boolean;
  script?: string;
  keepalive?: Keepalive;
  waitFor?: number;
  reportEvery?: number;
}

const PING_COUNT = 100;
/** iperf3's default block for TCP. */
const STREAM_BLOCK = 128 * 1024;
/** With --bitrate and no --size: blocks small enough for about this many writes a second (and at least 1 KiB). */
const PACED_WRITES_PER_SECOND = 100;
const CAPACITY_CONNECT_TIMEOUT_MS = 5000;
/** About 64 MB of bookkeeping: deep enough for any pipeline a kernel buffer holds. */
const MAX_IN_FLIGHT = 1 << 20;

export function registerTcpClient(program: Command, execute: Execute): void {
  const command = program
    .command('tcp-client')
    .description("the note's TCP client: connect, send a message every interval, print each reply")
    .argument('<host>', 'server name or address (IPv6 as ::1 or [::1])', parseHost)
    .argument('<port>', 'port number or service name (http, echo…)', parseRemotePort);
  addPayloadOptions(command);
  addTemplateOption(command, '--data', '--hex', '--heartbeat-data', '--heartbeat-hex');
  addScriptOption(command);
  addLocalOptions(command);
  addExchangeOptions(command, {
    count: 'messages to send (default: until the peer closes)',
    timeout: 'connect timeout, and how long to wait for each reply (default: no limit)',
  });
  addTlsClientOptions(command, { tlsFlag: true });
  command
    .addOption(new Option('--frame <mode>', 'what a reply is: raw, line, delimiter:HEX, fixed:N, length:u16be[@OFF][+ADJ], mqtt (default: as many bytes as expected)').argParser(frameArg))
    .addOption(needs(new Option('--max-in-flight <n>', 'with --no-wait: at most this many messages awaiting their reply; then each send waits for one').argParser(countArg).default(MAX_IN_FLIGHT), '--no-wait'))
    // The modes: each takes the options of its own kind of run, and no option of another.
    .addOption(new Option('--ping', `latency: one message in flight, back to back (-i 0), ${PING_COUNT} messages unless -c`).conflicts(['stream', 'connections', 'wait', 'script']))
    .addOption(new Option('--stream', 'throughput: send as fast as TCP allows for --duration, report each second')
      .conflicts(['connections', 'script', 'count', 'interval', 'wait', ...REPLY_OPTIONS, 'template', 'frame', 'chart']))
    .addOption(needs(new Option('--duration <duration>', 'how long --stream runs; 0 = until Ctrl-C (iperf3 -t 0)').argParser(durationArg).default(10_000, '10s'), '--stream'))
    .addOption(needs(new Option('--parallel <n>', '--stream over this many connections at once').argParser(countArg).default(1), '--stream'))
    .addOption(needs(new Option('--reverse', '--stream: receive what the peer sends instead').conflicts([...PAYLOAD_OPTIONS, 'bidir', 'bitrate']), '--stream'))
    .addOption(needs(new Option('--bidir', '--stream: send and receive at once on each connection, each way reported apart'), '--stream'))
    .addOption(needs(new Option('--bitrate <rate>', '--stream: send at most this many bits a second per connection, as iperf3 -b: 512k, 10M').argParser(parseBitrate), '--stream'))
    .addOption(needs(new Option('--burst <n>', '--stream --bitrate: write n blocks back to back, then wait for the schedule').argParser(countArg), '--bitrate'))
    .addOption(new Option('--connections <n>', 'capacity: open this many connections, count how many are held').argParser(countArg)
      .conflicts(['script', ...PAYLOAD_OPTIONS, 'template', 'count', 'interval', 'wait', ...REPLY_OPTIONS, 'frame', 'chart']))
    .addOption(needs(new Option('--rate <per-second>', '--connections: open this many a second (default: all at once)').argParser(countArg), '--connections'))
    .addOption(needs(new Option('--hold <duration>', '--connections: keep them this long, then count the ones alive').argParser(durationArg).default(1000, '1s'), '--connections'))
    .addOption(new Option('--keepalive <duration>', KEEPALIVE_HELP).argParser(keepaliveArg).conflicts(['stream', 'connections']));
  addHeartbeatOptions(command);
  addReconnectOptions(command);
  addWaitForOption(command);
  addReportEveryOption(command)
    .addHelpText('after', `
Each reply is framed by length: as many bytes as were sent (an echo), or as --expect holds.

Examples:
  $ netnote tcp-client 127.0.0.1 8080                      the note's loop, until the server closes
  $ netnote tcp-client localhost 8080 -c 5 --verify-echo   5 rounds, exit 1 if an echo differs
  $ netnote tcp-client ::1 7 --hex '01 03 00 00 00 0a' --expect-hex '01 03 14' -w 2s
  $ netnote tcp-client 127.0.0.1 8080 --size 65536 -i 0 -c 1000 --quiet --json
  $ netnote tcp-client 127.0.0.1 8080 --ping -c 1000 --size 64 --quiet     (the RTT chart on a terminal)
  $ netnote tcp-client 127.0.0.1 9000 --stream --duration 5s --parallel 4      (against tcp-server --sink)
  $ netnote tcp-client 127.0.0.1 9000 --stream --bitrate 10M --duration 10s     paced, as iperf3 -b 10M
  $ netnote tcp-client 127.0.0.1 8080 --stream --bidir --duration 5s            both ways at once (against the echo server)
  $ netnote tcp-client 127.0.0.1 8080 --connections 64 --hold 2s
  $ netnote tcp-client 127.0.0.1 8080 --data $'AT+CSQ\\r\\n' --frame line --expect-regex '^\\+CSQ: \\d+,\\d+$'
  $ netnote tcp-client 127.0.0.1 1883 --script mqtt-login.yaml        steps: send, expect, sleep, repeat (docs/scripts.md)
  $ netnote tcp-client 127.0.0.1 502 --template --hex '{seq:u16be} 0000 0006 01 03 0000 000a' --frame length:u16be@4 -c 10
  $ netnote tcp-client localhost 8883 --tls --ca ca.pem --cert dev.pem --key dev.key --hex 101300044d5154540402003c00076e65746e6f7465 --expect-hex 20020000 -c 1
  $ netnote tcp-client 127.0.0.1 8443 --tls -k --ping -c 100      TLS round trips, any certificate
  $ netnote tcp-client 127.0.0.1 8443 --tls --pin sha256//AbC…= --servername device.local
  $ netnote tcp-client 192.0.2.10 8080 -i 5m --keepalive 60s --reconnect     a device's link: kept up, reconnected (docs/long-lived.md)
  $ netnote tcp-client 127.0.0.1 8080 -i 30s --heartbeat 10s --heartbeat-data PING --heartbeat-expect PONG
  $ netnote tcp-client 127.0.0.1 8080 -c 1 --wait-for 30s            wait for the server to come up (CI)
  $ netnote --timestamps --log soak.log tcp-client 127.0.0.1 8080 -i 1m --reconnect --report-every 1h --quiet`)
    .action((host: string, port: number, options: TcpClientOptions, cmd: Command) =>
      execute(cmd, 'client', async ({ reporter, signal, finish }) => {
        const local = localSpec(options);
        const reconnect = reconnectPolicy(options);
        const heartbeat = heartbeatSpec(options, options.timeout ?? null, 'tcp');
        const waitForMs = options.waitFor ?? null;
        const tlsSpec = tlsClientSpec(options, options.tls === true, '--tls');
        const tls = tlsSpec ? await TlsClient.create(tlsSpec, terminalPassphrase(), signal) : null;
        if (options.connections !== undefined) {
          const result = await runCapacity({
            host, port, local, tls, connections: options.connections, ratePerSecond: options.rate ?? null,
            holdMs: options.hold, timeoutMs: options.timeout ?? CAPACITY_CONNECT_TIMEOUT_MS,
          }, reporter, signal);
          return finish([{ role: 'client', summary: result.summary }], result.error);
        }
        if (options.script !== undefined) {
          const script = await (await loadScriptFile()).loadClientScript(options.script, signal);
          const result = await runTcpScript({
            host, port, local, tls, timeoutMs: options.timeout ?? null, script: { ...script, frame: options.frame ?? script.frame }, keepalive: options.keepalive ?? null,
            reconnect, waitForMs, reportEveryMs: options.reportEvery ?? null,
          }, reporter, signal);
          return finish([{ role: 'client', summary: result.summary }], result.error);
        }
        if (options.stream) {
          const given = options.size !== undefined || options.data !== undefined || options.hex !== undefined || options.file !== undefined;
          const paced = options.bitrate === undefined ? STREAM_BLOCK : Math.min(STREAM_BLOCK, Math.max(1024, Math.round(options.bitrate / 8 / PACED_WRITES_PER_SECOND)));
          const blockSize = given ? (await loadPayload(payloadSpec(options), signal)).length || STREAM_BLOCK : paced;
          const result = await runStream({
            host, port, local, tls, timeoutMs: options.timeout ?? null, durationMs: options.duration, parallel: options.parallel,
            reverse: options.reverse === true, bidir: options.bidir === true, blockSize,
            pace: options.bitrate === undefined ? null : { perSecond: options.bitrate / 8 / blockSize, burst: options.burst ?? 1 },
          }, reporter, signal);
          return finish([{ role: 'client', summary: result.summary }], result.error);
        }
        const ping = options.ping === true;
        const reply = replyRule(options);
        // A stream has no message boundaries: only a reply in flight can be matched to a regex.
        if (reply.kind === 'regex' && !options.wait && !options.frame) throw new NetnoteError('usage', '--expect-regex needs each reply matched to its message: drop --no-wait');
        const template = payloadTemplate(options);
        const payload = template ? template.expand({ seq: 1, captures: [] }) : await loadPayload(payloadSpec(options), signal);
        if (payload.length === 0) throw new NetnoteError('usage', 'the payload is empty: TCP cannot send 0 bytes');
        const result = await runTcpClient({
          host, port, payload, template, reply, local, tls,
          frame: options.frame ?? null,
          count: options.count ?? (ping ? PING_COUNT : null),
          intervalMs: ping && cmd.getOptionValueSource('interval') === 'default' ? 0 : options.interval,
          timeoutMs: options.timeout ?? null,
          wait: options.wait,
          maxInFlight: options.maxInFlight,
          keepalive: options.keepalive ?? null,
          heartbeat, reconnect, waitForMs, reportEveryMs: options.reportEvery ?? null,
        }, reporter, signal);
        finish([{ role: 'client', summary: result.summary }], result.error);
      }, { checks: [...replyChecks(options), ...scriptChecks(options)], chart: options.chart ? 'always' : options.ping ? 'terminal' : undefined }));
}
