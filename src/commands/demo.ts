import { Argument, Option, type Command } from 'commander';
import { NOTE_PAYLOAD } from '../core/payload.js';
import { runTcpClient } from '../core/tcp-client.js';
import { TcpServer } from '../core/tcp-server.js';
import type { Execute } from './context.js';
import { countArg, durationArg, hostArg, portArg } from './options.js';

interface DemoOptions {
  host: string;
  port: number;
  count: number;
  interval: number;
}

/** How long the demo waits for its server to see the client go before it stops anyway. */
const SERVER_DRAIN_MS = 2000;

export function registerDemo(program: Command, execute: Execute): void {
  program
    .command('demo')
    .description("the note's experiment: echo server and client in one process, logs interleaved")
    .addArgument(new Argument('[proto]', 'transport').choices(['tcp']).default('tcp'))
    .addOption(new Option('--host <host>', "the address both use (the note uses the module's own)").argParser(hostArg).default('127.0.0.1'))
    .addOption(new Option('--port <port>', 'server port; 0 picks a free one').argParser(portArg).default(0))
    .addOption(new Option('-c, --count <n>', 'rounds').argParser(countArg).default(5))
    .addOption(new Option('-i, --interval <duration>', 'pause between rounds').argParser(durationArg).default(1000, '1s'))
    .addHelpText('after', `
Examples:
  $ netnote demo                     5 rounds of 1234567890 over 127.0.0.1, one per second
  $ netnote demo tcp --host ::1 -c 3 -i 200ms`)
    .action((_proto: string, options: DemoOptions, cmd: Command) =>
      execute(cmd, 'client', async ({ reporter, signal, finish }) => {
        const server = await TcpServer.start({
          host: options.host, port: options.port, backlog: 10, maxClients: null, idleTimeoutMs: null, mode: 'echo',
        }, reporter);
        const result = await runTcpClient({
          host: server.local!.address, port: server.local!.port,
          payload: Buffer.from(NOTE_PAYLOAD), count: options.count, intervalMs: options.interval,
          timeoutMs: 5000, wait: true, reply: { kind: 'echo', verify: true },
        }, reporter, signal);
        // Let the server log the client's disconnect before it stops.
        await Promise.race([server.whenIdle(), new Promise((resolve) => setTimeout(resolve, SERVER_DRAIN_MS).unref())]);
        await server.close();
        finish([{ role: 'client', summary: result.summary }, { role: 'server', summary: server.summary() }], result.error);
      }));
}
