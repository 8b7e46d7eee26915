import { Option, type Command } from 'commander';
import { parseHost, parseRemotePort } from '../core/socket/address.js';
import { NetnoteError } from '../core/errors.js';
import { loadPayload } from '../core/message/payload.js';
import { runUdpScript } from '../core/udp/script.js';
import { UDP_DEFAULT_TIMEOUT_MS, runUdpClient } from '../core/udp/client.js';
import type { Execute } from './context.js';
import { addHeartbeatOptions, addReportEveryOption, heartbeatSpec, type HeartbeatOptions } from './link-options.js';
import {
  addExchangeOptions, addLocalOptions, addPayloadOptions, addScriptOption, addTemplateOption, loadScriptFile, localSpec, payloadSpec, payloadTemplate, percentArg, replyChecks, replyRule,
  type ExchangeOptions, type LocalOptions, type PayloadOptions,
} from './options.js';

interface UdpClientOptions extends PayloadOptions, ExchangeOptions, LocalOptions, HeartbeatOptions {
  probe?: boolean;
  maxLoss?: number;
  template?: boolean;
  script?: string;
  reportEvery?: number;
}

export function registerUdpClient(program: Command, execute: Execute): void {
  const command = program
    .command('udp-client')
    .description("the note's UDP client: send a datagram every interval, match each reply to it")
    .argument('<host>', 'server name or address (IPv6 as ::1 or [::1])', parseHost)
    .argument('<port>', 'port number or service name (echo, dns, ntp…)', parseRemotePort);
  addPayloadOptions(command);
  addTemplateOption(command, '--data, --hex, --heartbeat-data or --heartbeat-hex');
  addScriptOption(command);
  addLocalOptions(command);
  addExchangeOptions(command, {
    count: 'datagrams to send (default: until Ctrl-C)',
    timeout: 'how long each datagram waits for its reply before it counts as lost (default 1s)',
  });
  command
    .addOption(new Option('--probe', 'carry a sequence number and send time in each datagram: exact loss, duplicates, reordering, jitter against any echo peer'))
    .addOption(new Option('--max-loss <percent>', 'exit 1 when more datagrams than this go unanswered').argParser(percentArg));
  addHeartbeatOptions(command);
  addReportEveryOption(command)
    .addHelpText('after', `
Each reply is one datagram. Without --probe, replies are matched to datagrams in order; with it,
by the sequence number they carry. A reply after its timeout counts as late, not lost.

Examples:
  $ netnote udp-client 127.0.0.1 8080                       the note's loop
  $ netnote udp-client 127.0.0.1 7 --probe -c 1000 -i 10ms --max-loss 1 --quiet
  $ netnote udp-client ::1 5683 --hex '40 01 04 d2' -c 1 -w 2s
  $ netnote udp-client 127.0.0.1 5683 --script coap-ping.yaml          steps: send, expect, sleep, repeat (docs/scripts.md)
  $ netnote udp-client 127.0.0.1 9000 --template --hex 'aa {seq:u16be} {time:u32be} {crc16-ccitt}' -c 5
  $ netnote udp-client 127.0.0.1 5683 -i 5m --heartbeat 20s --heartbeat-hex '40 00 00 00' --heartbeat-expect-hex '70 00 00 00'`)
    .action((host: string, port: number, options: UdpClientOptions, cmd: Command) =>
      execute(cmd, 'client', async ({ reporter, signal, finish }) => {
        if (options.script !== undefined) {
          const script = (await loadScriptFile()).loadClientScript(options.script);
          if (script.frame) throw new NetnoteError('usage', `frame: is for TCP: a UDP datagram is one message (--script ${options.script})`);
          if (options.probe) throw new NetnoteError('usage', '--script runs its own steps: it does not go with --probe');
          const result = await runUdpScript({ host, port, local: localSpec(options), timeoutMs: options.timeout ?? null, script }, reporter, signal);
          return finish([{ role: 'client', summary: result.summary }], result.error);
        }
        const reply = replyRule(options);
        const template = payloadTemplate(options);
        // An empty datagram is legal UDP.
        const payload = template ? template.expand({ seq: 1, captures: [] }) : await loadPayload(payloadSpec(options));
        const result = await runUdpClient({
          host, port, payload, template, reply,
          local: localSpec(options),
          count: options.count ?? null,
          intervalMs: options.interval,
          timeoutMs: options.timeout ?? UDP_DEFAULT_TIMEOUT_MS,
          wait: options.wait,
          probe: options.probe === true,
          maxLossPercent: options.maxLoss ?? null,
          heartbeat: heartbeatSpec(options, options.timeout ?? null, 'udp'),
          reportEveryMs: options.reportEvery ?? null,
        }, reporter, signal);
        finish([{ role: 'client', summary: result.summary }], result.error);
      }, {
        checks: [...replyChecks(options), ...(options.maxLoss === undefined ? [] : [{ name: `--max-loss ${options.maxLoss}%`, decidedBy: 'loss' as const }])],
        chart: options.chart ? 'always' : undefined,
      }));
}
