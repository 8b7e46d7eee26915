import { Argument, Option, type Command } from 'commander';
import { parseHost, parsePort } from '../core/socket/address.js';
import { NOTE_PAYLOAD } from '../core/message/payload.js';
import { runTcpClient } from '../core/tcp/client.js';
import { TcpServer } from '../core/tcp/server.js';
import { runUdpClient } from '../core/udp/client.js';
import { UdpServer } from '../core/udp/server.js';
import type { Execute } from './context.js';
import { countArg, durationArg } from './options.js';

interface DemoOptions {
  host: string;
  port: number;
  count: number;
  interval: number;
}

/** How long the demo waits for its server to see the client go before it stops anyway. */
const SERVER_DRAIN_MS = 2000;
/** Loopback answers in well under a millisecond; this only bounds a broken run. */
const DEMO_TIMEOUT_MS = 5000;

export function registerDemo(program: Command, execute: Execute): void {
  program
    .command('demo')
    .description("the note's experiment: echo server and client in one process, logs interleaved")
    .addArgument(new Argument('[proto]', 'transport').choices(['tcp', 'udp']).default('tcp'))
    .addOption(new Option('--host <host>', "the address both use (the note uses the module's own)").argParser(parseHost).default('127.0.0.1'))
    .addOption(new Option('--port <port>', 'server port; 0 picks a free one').argParser(parsePort).default(0))
    .addOption(new Option('-c, --count <n>', 'rounds').argParser(countArg).default(5))
    .addOption(new Option('-i, --interval <duration>', 'pause between rounds').argParser(durationArg).default(1000, '1s'))
    .addHelpText('after', `
Examples:
  $ netnote demo                     5 rounds of 1234567890 over 127.0.0.1, one per second
  $ netnote demo tcp --host ::1 -c 3 -i 200ms
  $ netnote demo udp                 the note's UDP experiment`)
    .action((proto: 'tcp' | 'udp', options: DemoOptions, cmd: Command) =>
      execute(cmd, 'client', async ({ reporter, signal, finish }) => {
        const echo = { host: options.host, port: options.port, mode: 'echo' } as const;
        const server = proto === 'tcp'
          ? await TcpServer.start({ ...echo, backlog: 10, maxClients: null, idleTimeoutMs: null, frame: null, plan: null, frameTimeoutMs: null, tls: null, keepalive: null, drop: null, reportEveryMs: null }, reporter)
          : await UdpServer.start({ ...echo, reuseAddress: false, maxSize: null, plan: null, peerTtlMs: 0, joins: [], reportEveryMs: null }, reporter);
        const client = {
          host: server.local!.address, port: server.local!.port, local: null, payload: Buffer.from(NOTE_PAYLOAD), template: null,
          count: options.count, intervalMs: options.interval, wait: true, maxInFlight: 1, reply: { kind: 'echo', verify: true }, heartbeat: null, reportEveryMs: null,
        } as const;
        const result = proto === 'tcp'
          ? await runTcpClient({ ...client, timeoutMs: DEMO_TIMEOUT_MS, frame: null, tls: null, keepalive: null, reconnect: null, waitForMs: null }, reporter, signal)
          : await runUdpClient({
            ...client, timeoutMs: DEMO_TIMEOUT_MS, probe: false, maxLossPercent: null, strictSource: false,
            cast: { broadcast: false, ttl: null, multicastInterface: null, loopback: null }, pace: null, durationMs: null,
          }, reporter, signal);
        // Let a TCP server log the client's disconnect before it stops.
        if (server instanceof TcpServer) {
          await Promise.race([server.whenIdle(), new Promise((resolve) => setTimeout(resolve, SERVER_DRAIN_MS).unref())]);
        }
        await server.close();
        finish([{ role: 'client', summary: result.summary }, { role: 'server', summary: server.summary() }], result.error);
      }, { checks: [{ name: 'every echo intact', decidedBy: 'reply' }] }));
}
