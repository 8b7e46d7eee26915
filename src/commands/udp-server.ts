import { Option, type Command } from 'commander';
import { parseHost, parsePort } from '../core/socket/address.js';
import { NetnoteError } from '../core/errors.js';
import { parseGroupJoin, type GroupJoin } from '../core/socket/multicast.js';
import { UdpServer } from '../core/udp/server.js';
import { addAnswerOptions, answerPlan, type AnswerOptions } from './answer-options.js';
import { serveUntilStopped, type Execute } from './context.js';
import { needs, repeatable } from '../shell/usage.js';
import { addReportEveryOption } from './link-options.js';
import { countArg, durationArg } from './options.js';

interface UdpServerOptions extends AnswerOptions {
  sink?: boolean;
  reuseAddress?: boolean;
  maxSize?: number;
  peerTtl: number;
  join: GroupJoin[];
  reportEvery?: number;
}

/** --join, repeatable: every group given. */
function joinArg(input: string, previous: GroupJoin[] = []): GroupJoin[] {
  return [...previous, parseGroupJoin(input)];
}

export function registerUdpServer(program: Command, execute: Execute): void {
  const command = program
    .command('udp-server')
    .description("the note's UDP echo server: every datagram sent back to where it came from")
    .argument('[host]', 'address to bind (0.0.0.0 or :: for every interface)', parseHost, '127.0.0.1')
    .argument('[port]', 'port to bind; 0 picks a free one', parsePort, 8080)
    .addOption(new Option('--sink', 'receive and count, echo nothing'))
    .addOption(new Option('--reuse-address', 'SO_REUSEADDR: share the port with other sockets that set it too'))
    .addOption(new Option('--max-size <bytes>', "cut longer datagrams to this size, as the note's recvfrom(1024) does").argParser(countArg))
    .addOption(repeatable(new Option('--join <group>', 'receive a multicast group: GROUP[@NIC][,source=ADDR] (IPv4 or IPv6, repeatable; source: source-specific)').argParser(joinArg).default([])));
  addReportEveryOption(command);
  addAnswerOptions(command, 'udp')
    .addOption(needs(new Option('--peer-ttl <duration>', '--push goes to the peers heard from within this long').argParser(durationArg).default(60_000, '60s'), '--push', '--push-hex', '--script'))
    .addHelpText('after', `
Runs until a signal, then prints a summary: Ctrl-C (exit 130), SIGTERM (143), SIGHUP (129). On
0.0.0.0 or :: it binds every address of this host (and each IPv4 broadcast address), so each
answer leaves from the address its datagram was sent to; addresses that appear later are bound as
they come. It also answers udp-client --one-way and --reverse (docs/udp-lan.md).

Examples:
  $ netnote udp-server                          127.0.0.1, port 8080
  $ netnote udp-server 0.0.0.0 5683 --max-size 1024
  $ netnote udp-server :: 0 --sink --quiet
  $ netnote udp-server 127.0.0.1 9000 --reply-hex '06'                       an ACK byte for every datagram
  $ netnote udp-server 127.0.0.1 9000 --push-hex 'aa {seq:u16be}' --template --every 5s
  $ netnote udp-server 127.0.0.1 9000 --script device.yaml      rules, replies, pushes (docs/scripts.md)
  $ netnote udp-server 0.0.0.0 5683 --join 224.0.1.187@eth0                CoAP's all-nodes group on eth0
  $ netnote udp-server :: 5683 --join ff02::fd@eth0 --join 224.0.1.187@eth0
  $ netnote udp-server 0.0.0.0 9000 --join 232.1.1.1@eth0,source=192.0.2.5   source-specific
  $ netnote udp-server 0.0.0.0 5001 --sink --quiet          the other end of udp-client --one-way
  $ netnote udp-server 0.0.0.0 5683 --report-every 1h --quiet      a soak: the figures every hour`)
    .action((host: string, port: number, options: UdpServerOptions, cmd: Command) =>
      execute(cmd, 'server', async (context) => {
        const { plan, frame } = await answerPlan(options, context.signal);
        if (frame) throw new NetnoteError('usage', `frame: is for TCP: a UDP datagram is one message (--script ${options.script})`);
        const server = await UdpServer.start({
          host, port,
          reuseAddress: options.reuseAddress === true,
          maxSize: options.maxSize ?? null,
          mode: options.sink ? 'sink' : 'echo',
          plan,
          peerTtlMs: options.peerTtl,
          joins: options.join,
          reportEveryMs: options.reportEvery ?? null,
        }, context.reporter);
        await serveUntilStopped(server, context);
      }));
}
