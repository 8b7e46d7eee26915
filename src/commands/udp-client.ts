import { Option, type Command } from 'commander';
import { parseHost, parseRemotePort } from '../core/socket/address.js';
import { InvalidValueError, NetnoteError } from '../core/errors.js';
import { parseBitrate, parseRate } from '../core/measure/pacer.js';
import { loadPayload } from '../core/message/payload.js';
import { runUdpScript } from '../core/udp/script.js';
import { runUdpClient } from '../core/udp/client.js';
import { UDP_DEFAULT_TIMEOUT_MS, type UdpClientConfig } from '../core/udp/client-config.js';
import { runOneWay } from '../core/udp/one-way.js';
import type { Execute } from './context.js';
import { needs } from '../shell/usage.js';
import { addHeartbeatOptions, addReportEveryOption, heartbeatSpec, type HeartbeatOptions } from './link-options.js';
import {
  addExchangeOptions, addLocalOptions, addPayloadOptions, addScriptOption, addTemplateOption, countArg, durationArg, loadScriptFile, localSpec, payloadSpec, payloadTemplate, percentArg,
  replyChecks, replyRule, scriptChecks,
  type ExchangeOptions, type LocalOptions, type PayloadOptions,
} from './options.js';

interface UdpClientOptions extends PayloadOptions, ExchangeOptions, LocalOptions, HeartbeatOptions {
  probe?: boolean;
  maxLoss?: number;
  template?: boolean;
  script?: string;
  strictSource?: boolean;
  broadcast?: boolean;
  ttl?: number;
  multicastInterface?: string;
  loopback?: 'on' | 'off';
  rate?: number;
  bitrate?: number;
  burst?: number;
  duration?: number;
  oneWay?: boolean;
  reverse?: boolean;
  reportEvery?: number;
}

/** --ttl: hops, 0 to 255 (0 keeps a group's datagrams on this host). */
function ttlArg(input: string): number {
  if (!/^\d+$/.test(input.trim()) || Number(input) > 255) throw new InvalidValueError('TTL', input, 'use 0 to 255 hops');
  return Number(input);
}

export function registerUdpClient(program: Command, execute: Execute): void {
  const command = program
    .command('udp-client')
    .description("the note's UDP client: send a datagram every interval, match each reply to it")
    .argument('<host>', 'server name or address (IPv6 as ::1 or [::1]); a broadcast address or a multicast group collects every answer', parseHost)
    .argument('<port>', 'port number or service name (echo, dns, ntp…)', parseRemotePort);
  addPayloadOptions(command);
  addTemplateOption(command, '--data', '--hex', '--heartbeat-data', '--heartbeat-hex');
  addScriptOption(command);
  addLocalOptions(command);
  addExchangeOptions(command, {
    count: 'datagrams to send (default: until Ctrl-C; 1 to a broadcast address or a group)',
    timeout: 'how long each datagram waits for its reply before it counts as lost (default 1s)',
  });
  command
    .addOption(new Option('--probe', 'carry a sequence number and send time in each datagram: exact loss, duplicates, reordering, jitter against any echo peer').conflicts('script'))
    .addOption(new Option('--max-loss <percent>', 'exit 1 when more datagrams than this go unanswered').argParser(percentArg).conflicts('script'))
    .addOption(new Option('--strict-source', 'a reply from any address but the destination\'s counts as foreign, not as an answer'))
    .addOption(new Option('--broadcast', 'SO_BROADCAST: send to a broadcast address and list every device that answers'))
    .addOption(new Option('--ttl <hops>', 'IP TTL of each datagram (to a group: how many routers it may cross; the kernel\'s default there is 1)').argParser(ttlArg))
    .addOption(new Option('--multicast-interface <nic>', 'to a group: the NIC it leaves by, as a name or one of its addresses'))
    .addOption(new Option('--loopback <on|off>', 'to a group: whether this host receives its own datagrams (default on)').choices(['on', 'off']))
    .addOption(new Option('--rate <per-second>', 'send this many datagrams a second, on a schedule kept against the clock (no waiting for replies)').argParser(parseRate).conflicts(['bitrate', 'interval', 'script']))
    .addOption(new Option('--bitrate <rate>', 'send this many bits a second, as iperf3 -b: 512k, 10M (the datagrams\' bytes)').argParser(parseBitrate).conflicts(['interval', 'script']))
    .addOption(needs(new Option('--burst <n>', 'with --rate/--bitrate: send n datagrams back to back, then wait for the schedule (iperf3 -b RATE/N)').argParser(countArg), '--rate', '--bitrate'))
    .addOption(new Option('--duration <duration>', 'stop sending after this long (with a rate: after that many datagrams; --one-way, --reverse: default 10s, 0 = until Ctrl-C)').argParser(durationArg))
    .addOption(new Option('--one-way', 'probes to a netnote udp-server (--sink), then its report: loss, duplicates, reordering and jitter as the server received them').conflicts(['reverse', 'script', 'probe', 'expect', 'expectHex', 'expectRegex', 'verifyEcho']))
    .addOption(new Option('--reverse', 'the netnote udp-server sends the probe stream to this client (the way down, through a NAT): counted here').conflicts(['script', 'probe', 'expect', 'expectHex', 'expectRegex', 'verifyEcho']));
  addHeartbeatOptions(command);
  addReportEveryOption(command)
    .addHelpText('after', `
Each reply is one datagram, from whatever address it comes (as the note's recvfrom()); one from
another address than the destination is counted, with a warning. Without --probe, replies are
matched to datagrams in order; with it, by the sequence number they carry. A reply after its
timeout counts as late, not lost. To a broadcast address (with --broadcast) or a multicast group,
every answer of every device is collected for --timeout after each datagram and listed per device.

Examples:
  $ netnote udp-client 127.0.0.1 8080                       the note's loop
  $ netnote udp-client 127.0.0.1 7 --probe -c 1000 -i 10ms --max-loss 1 --quiet
  $ netnote udp-client ::1 5683 --hex '40 01 04 d2' -c 1 -w 2s
  $ netnote udp-client 127.0.0.1 5683 --script coap-ping.yaml          steps: send, expect, sleep, repeat (docs/scripts.md)
  $ netnote udp-client 127.0.0.1 9000 --template --hex 'aa {seq:u16be} {time:u32be} {crc16-ccitt}' -c 5
  $ netnote udp-client 192.0.2.255 9001 --broadcast -w 2s             which devices answer on the subnet
  $ netnote udp-client 239.1.2.3 5683 --ttl 4 --multicast-interface eth0 --loopback off
  $ netnote udp-client 127.0.0.1 7 --probe --rate 1000 --duration 10s --quiet      paced echoes
  $ netnote udp-client 192.0.2.1 5001 --one-way --bitrate 10M --size 1200          against udp-server --sink
  $ netnote udp-client 192.0.2.1 5001 --reverse --rate 100 --burst 10 --duration 30s   the server sends
  $ netnote udp-client 127.0.0.1 5683 -i 5m --heartbeat 20s --heartbeat-hex '40 00 00 00' --heartbeat-expect-hex '70 00 00 00'`)
    .action((host: string, port: number, options: UdpClientOptions, cmd: Command) =>
      execute(cmd, 'client', async ({ reporter, signal, finish }) => {
        const cast = {
          broadcast: options.broadcast === true, ttl: options.ttl ?? null, multicastInterface: options.multicastInterface ?? null,
          loopback: options.loopback === undefined ? null : options.loopback === 'on',
        };
        if (options.script !== undefined) {
          const script = await (await loadScriptFile()).loadClientScript(options.script, signal);
          if (script.frame) throw new NetnoteError('usage', `frame: is for TCP: a UDP datagram is one message (--script ${options.script})`);
          const result = await runUdpScript({ host, port, local: localSpec(options), timeoutMs: options.timeout ?? null, script, ...cast }, reporter, signal);
          return finish([{ role: 'client', summary: result.summary }], result.error);
        }
        const reply = replyRule(options);
        const template = payloadTemplate(options);
        // An empty datagram is legal UDP.
        const payload = template ? template.expand({ seq: 1, captures: [] }) : await loadPayload(payloadSpec(options), signal);
        const pace = options.rate !== undefined || options.bitrate !== undefined
          ? { perSecond: options.rate ?? null, bitsPerSecond: options.bitrate ?? null, burst: options.burst ?? 1 }
          : null;
        const config: UdpClientConfig = {
          host, port, payload, template, reply, cast, pace,
          local: localSpec(options),
          count: options.count ?? null,
          intervalMs: options.interval,
          timeoutMs: options.timeout ?? UDP_DEFAULT_TIMEOUT_MS,
          // On a schedule, the next datagram never waits for a reply.
          wait: options.wait && pace === null,
          probe: options.probe === true,
          maxLossPercent: options.maxLoss ?? null,
          strictSource: options.strictSource === true,
          durationMs: options.duration ?? null,
          heartbeat: heartbeatSpec(options, options.timeout ?? null, 'udp'),
          reportEveryMs: options.reportEvery ?? null,
        };
        const result = options.oneWay || options.reverse
          ? await runOneWay(config, options.reverse ? 'receive' : 'send', reporter, signal)
          : await runUdpClient(config, reporter, signal);
        finish([{ role: 'client', summary: result.summary }], result.error);
      }, {
        checks: [...replyChecks(options), ...scriptChecks(options), ...(options.maxLoss === undefined ? [] : [{ name: `--max-loss ${options.maxLoss}%`, decidedBy: 'loss' as const }])],
        chart: options.chart ? 'always' : undefined,
      }));
}
