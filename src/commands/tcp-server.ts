import { Option, type Command } from 'commander';
import { parseHost, parsePort } from '../core/socket/address.js';
import { TcpServer } from '../core/tcp/server.js';
import { serveUntilStopped, type Execute } from './context.js';
import { countArg, durationArg } from './options.js';

interface ServerOptions {
  backlog: number;
  maxClients?: number;
  idleTimeout?: number;
  sink?: boolean;
}

export function registerTcpServer(program: Command, execute: Execute): void {
  program
    .command('tcp-server')
    .description("the note's TCP echo server: every client served at once, each logged")
    .argument('[host]', 'address to bind (0.0.0.0 or :: for every interface)', parseHost, '127.0.0.1')
    .argument('[port]', 'port to listen on; 0 picks a free one', parsePort, 8080)
    .addOption(new Option('--backlog <n>', "pending connections queue (the note's listen(10))").argParser(countArg).default(10))
    .addOption(new Option('--max-clients <n>', 'close new clients at once beyond this many (a module socket limit)').argParser(countArg))
    .addOption(new Option('--idle-timeout <duration>', 'close a client silent for this long').argParser(durationArg))
    .addOption(new Option('--sink', 'read and count, echo nothing'))
    .addHelpText('after', `
Runs until Ctrl-C (exit 130) or SIGTERM (exit 0), then prints a summary.

Examples:
  $ netnote tcp-server                          127.0.0.1, port 8080
  $ netnote tcp-server 0.0.0.0 8080 --max-clients 15
  $ netnote tcp-server :: 0                     any IPv6/IPv4 address, a free port
  $ netnote tcp-server 127.0.0.1 9000 --sink --quiet`)
    .action((host: string, port: number, options: ServerOptions, cmd: Command) =>
      execute(cmd, 'server', async (context) => {
        const server = await TcpServer.start({
          host, port,
          backlog: options.backlog,
          maxClients: options.maxClients ?? null,
          idleTimeoutMs: options.idleTimeout ?? null,
          mode: options.sink ? 'sink' : 'echo',
        }, context.reporter);
        await serveUntilStopped(server, context);
      }));
}
