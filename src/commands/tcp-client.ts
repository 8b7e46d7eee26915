import type { Command } from 'commander';
import { NetnoteError } from '../core/errors.js';
import { loadPayload } from '../core/payload.js';
import { runTcpClient } from '../core/tcp-client.js';
import type { Execute } from './context.js';
import {
  addExchangeOptions, addLocalOptions, addPayloadOptions, localSpec, hostArg, payloadSpec, portArg, replyRule,
  type ExchangeOptions, type LocalOptions, type PayloadOptions,
} from './options.js';

export function registerTcpClient(program: Command, execute: Execute): void {
  const command = program
    .command('tcp-client')
    .description("the note's TCP client: connect, send a message every interval, print each reply")
    .argument('<host>', 'server name or address (IPv6 as ::1 or [::1])', hostArg)
    .argument('<port>', 'port number or service name (http, echo…)', portArg);
  addPayloadOptions(command);
  addLocalOptions(command);
  addExchangeOptions(command, {
    count: 'messages to send (default: until the peer closes)',
    timeout: 'connect timeout, and how long to wait for each reply (default: no limit)',
  });
  command
    .addHelpText('after', `
Each reply is framed by length: as many bytes as were sent (an echo), or as --expect holds.

Examples:
  $ netnote tcp-client 127.0.0.1 8080                      the note's loop, until the server closes
  $ netnote tcp-client localhost 8080 -c 5 --verify-echo   5 rounds, exit 1 if an echo differs
  $ netnote tcp-client ::1 7 --hex '01 03 00 00 00 0a' --expect-hex '01 03 14' -w 2s
  $ netnote tcp-client 127.0.0.1 8080 --size 65536 -i 0 -c 1000 --quiet --json`)
    .action((host: string, port: number, options: PayloadOptions & ExchangeOptions & LocalOptions, cmd: Command) =>
      execute(cmd, 'client', async ({ reporter, signal, finish }) => {
        const reply = replyRule(options);
        // A stream has no message boundaries: only a reply in flight can be matched to a regex.
        if (reply.kind === 'regex' && !options.wait) throw new NetnoteError('usage', '--expect-regex needs each reply matched to its message: drop --no-wait');
        const payload = await loadPayload(payloadSpec(options));
        if (payload.length === 0) throw new NetnoteError('usage', 'the payload is empty: TCP cannot send 0 bytes');
        const result = await runTcpClient({
          host, port, payload, reply,
          local: localSpec(options),
          count: options.count ?? null,
          intervalMs: options.interval,
          timeoutMs: options.timeout ?? null,
          wait: options.wait,
        }, reporter, signal);
        finish([{ role: 'client', summary: result.summary }], result.error);
      }));
}
