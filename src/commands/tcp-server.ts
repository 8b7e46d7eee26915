import { Option, type Command } from 'commander';
import { parseHost, parsePort } from '../core/socket/address.js';
import type { FrameSpec } from '../core/message/frame.js';
import type { DropMode } from '../core/events.js';
import type { Keepalive } from '../core/socket/keepalive.js';
import type { DropPlan } from '../core/tcp/drops.js';
import { NetnoteError } from '../core/errors.js';
import { TlsServer } from '../core/socket/tls-server.js';
import { TcpServer } from '../core/tcp/server.js';
import { addAnswerOptions, answerPlan, type AnswerOptions } from './answer-options.js';
import { serveUntilStopped, type Execute } from './context.js';
import { needs } from '../shell/usage.js';
import { addReportEveryOption } from './link-options.js';
import { KEEPALIVE_HELP, countArg, durationArg, frameArg, keepaliveArg } from './options.js';
import { addTlsServerOptions, terminalPassphrase, tlsServerSpec, type TlsServerOptions } from './tls-options.js';

interface ServerOptions extends AnswerOptions, TlsServerOptions {
  backlog: number;
  maxClients?: number;
  idleTimeout?: number;
  sink?: boolean;
  frame?: FrameSpec;
  timeout?: number;
  keepalive?: Keepalive;
  dropAfter?: number;
  dropEvery?: number;
  dropMode: DropMode;
  reportEvery?: number;
}

export function registerTcpServer(program: Command, execute: Execute): void {
  const command = program
    .command('tcp-server')
    .description("the note's TCP echo server: every client served at once, each logged")
    .argument('[host]', 'address to bind (0.0.0.0 or :: for every interface)', parseHost, '127.0.0.1')
    .argument('[port]', 'port to listen on; 0 picks a free one', parsePort, 8080)
    .addOption(new Option('--backlog <n>', "pending connections queue (the note's listen(10))").argParser(countArg).default(10))
    .addOption(new Option('--max-clients <n>', 'close new clients at once beyond this many (a module socket limit)').argParser(countArg))
    .addOption(new Option('--idle-timeout <duration>', 'close a client silent for this long').argParser(durationArg))
    .addOption(new Option('--keepalive <duration>', `on every client: ${KEEPALIVE_HELP}`).argParser(keepaliveArg))
    .addOption(new Option('--drop-after <duration>', 'drop each client this long after its accept, to prove it reconnects (--drop-mode)').argParser(durationArg).conflicts(['dropEvery']))
    .addOption(new Option('--drop-every <duration>', 'drop every connected client each time this much time has passed (--drop-mode)').argParser(durationArg))
    .addOption(needs(new Option('--drop-mode <mode>', 'how: fin (close), reset (RST), silence (read and drop, never answer: a dead path, as the application sees one)').choices(['fin', 'reset', 'silence']).default('fin'), '--drop-after', '--drop-every'))
    .addOption(new Option('--sink', 'read and count, echo nothing'))
    .addOption(new Option('--frame <mode>', 'cut each client\'s stream into messages: raw, line, delimiter:HEX, fixed:N, length:u16be[@OFF][+ADJ], mqtt').argParser(frameArg))
    .addOption(needs(new Option('-w, --timeout <duration>', 'with --frame: close a client whose message stays incomplete this long').argParser(durationArg), '--frame', '--script'));
  addReportEveryOption(command);
  addAnswerOptions(command, 'tcp');
  addTlsServerOptions(command)
    .addHelpText('after', `
Runs until a signal, then prints a summary: Ctrl-C (exit 130), SIGTERM (143), SIGHUP (129).

Examples:
  $ netnote tcp-server                          127.0.0.1, port 8080
  $ netnote tcp-server 0.0.0.0 8080 --max-clients 15
  $ netnote tcp-server :: 0                     any IPv6/IPv4 address, a free port
  $ netnote tcp-server 127.0.0.1 9000 --sink --quiet
  $ netnote tcp-server 127.0.0.1 8080 --frame line --reply $'OK\\r\\n' --greeting $'READY\\r\\n'
  $ netnote tcp-server 127.0.0.1 8080 --push $'STATUS?\\r\\n' --every 30s
  $ netnote tcp-server 127.0.0.1 1502 --script modbus.yaml      rules, replies, pushes (docs/scripts.md)
  $ netnote tcp-server 0.0.0.0 8443 --tls --self-signed --save-cert server.pem     a device trusts or pins server.pem
  $ netnote tcp-server 127.0.0.1 8883 --tls --cert srv.pem --key srv.key --client-ca ca.pem   mutual TLS
  $ netnote tcp-server 127.0.0.1 8443 --tls --self-signed --key-type rsa --san localhost,192.0.2.10
  $ netnote tcp-server 0.0.0.0 8080 --drop-after 5m --drop-mode reset     does the device come back? (the summary says how soon)
  $ netnote tcp-server 0.0.0.0 8080 --keepalive 60s --idle-timeout 10m`)
    .action((host: string, port: number, options: ServerOptions, cmd: Command) =>
      execute(cmd, 'server', async (context) => {
        const { plan, frame } = await answerPlan(options, context.signal);
        const drop = dropPlan(options);
        const tlsSpec = tlsServerSpec(options, cmd.getOptionValueSource('keyType') !== 'default');
        const tls = tlsSpec ? await TlsServer.create(tlsSpec, host, terminalPassphrase(), context.signal) : null;
        const server = await TcpServer.start({
          host, port,
          backlog: options.backlog,
          maxClients: options.maxClients ?? null,
          idleTimeoutMs: options.idleTimeout ?? null,
          mode: options.sink ? 'sink' : 'echo',
          frame: options.frame ?? frame,
          plan,
          frameTimeoutMs: options.timeout ?? null,
          tls,
          keepalive: options.keepalive ?? null,
          drop,
          reportEveryMs: options.reportEvery ?? null,
        }, context.reporter);
        await serveUntilStopped(server, context);
      }));
}

function dropPlan(options: ServerOptions): DropPlan | null {
  if (options.dropAfter === undefined && options.dropEvery === undefined) return null;
  if (options.dropAfter === 0 || options.dropEvery === 0) throw new NetnoteError('usage', '--drop-after and --drop-every must be more than 0');
  return { mode: options.dropMode, afterMs: options.dropAfter ?? null, everyMs: options.dropEvery ?? null };
}
