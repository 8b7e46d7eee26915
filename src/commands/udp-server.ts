import { Option, type Command } from 'commander';
import { parseHost, parsePort } from '../core/socket/address.js';
import { UdpServer } from '../core/udp/server.js';
import { serveUntilStopped, type Execute } from './context.js';
import { countArg } from './options.js';

interface UdpServerOptions {
  sink?: boolean;
  reuseAddress?: boolean;
  maxSize?: number;
}

export function registerUdpServer(program: Command, execute: Execute): void {
  program
    .command('udp-server')
    .description("the note's UDP echo server: every datagram sent back to where it came from")
    .argument('[host]', 'address to bind (0.0.0.0 or :: for every interface)', parseHost, '127.0.0.1')
    .argument('[port]', 'port to bind; 0 picks a free one', parsePort, 8080)
    .addOption(new Option('--sink', 'receive and count, echo nothing'))
    .addOption(new Option('--reuse-address', 'SO_REUSEADDR: share the port with other sockets that set it too'))
    .addOption(new Option('--max-size <bytes>', "cut longer datagrams to this size, as the note's recvfrom(1024) does").argParser(countArg))
    .addHelpText('after', `
Runs until Ctrl-C (exit 130) or SIGTERM (exit 0), then prints a summary.

Examples:
  $ netnote udp-server                          127.0.0.1, port 8080
  $ netnote udp-server 0.0.0.0 5683 --max-size 1024
  $ netnote udp-server :: 0 --sink --quiet`)
    .action((host: string, port: number, options: UdpServerOptions, cmd: Command) =>
      execute(cmd, 'server', async (context) => {
        const server = await UdpServer.start({
          host, port,
          reuseAddress: options.reuseAddress === true,
          maxSize: options.maxSize ?? null,
          mode: options.sink ? 'sink' : 'echo',
        }, context.reporter);
        await serveUntilStopped(server, context);
      }));
}
