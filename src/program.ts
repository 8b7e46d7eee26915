import { Command, Option } from 'commander';
import type { Execute } from './commands/context.js';
import { registerCompletion } from './commands/completion.js';
import { registerDemo } from './commands/demo.js';
import { registerHelp } from './commands/help.js';
import { registerHttpGet } from './commands/http-get.js';
import { registerIdleTimeout } from './commands/idle-timeout.js';
import { registerInterfaces } from './commands/interfaces.js';
import { registerMerge } from './commands/merge.js';
import { registerReport } from './commands/report.js';
import { registerResolve } from './commands/resolve.js';
import { registerTcpClient } from './commands/tcp-client.js';
import { registerTcpServer } from './commands/tcp-server.js';
import { registerUdpClient } from './commands/udp-client.js';
import { registerUdpServer } from './commands/udp-server.js';
import { applyConventions } from './shell/usage.js';
import { VERSION } from './version.js';

/**
 * The whole command tree: global options, every command, the conventions of shell/usage.ts. The
 * CLI runs it; the build reads it to write the man page, and `completion` to write its scripts.
 */
export function createProgram(execute: Execute): Command {
  const program = new Command('netnote')
    .description("TCP/UDP test tool: the note's experiments as commands, with exit codes and JSON for scripts")
    .version(VERSION, '-V, --version')
    .option('--json', 'one JSON object per event on stdout (NDJSON: netnote help json)')
    .option('-q, --quiet', 'no per-message lines: connection events and the summary only')
    .option('--no-color', 'no colour, even on a terminal (NO_COLOR works too)')
    .addOption(new Option('--hex-dump', 'show payloads as a hex dump instead of bytes literals').conflicts('json'))
    .option('--report <file.html>', 'also write the run as one self-contained HTML file: summary table and charts (netnote help reports)')
    .option('--junit <file.xml>', 'also write JUnit XML for CI: a test case for the run and one per assertion (netnote help reports)')
    .addOption(new Option('--timestamps [format]', 'start each human line with the time: iso (UTC wall clock, the default) or elapsed (seconds since start)').choices(['iso', 'elapsed']).preset('iso'))
    .option('--log <file>', 'also append the human lines, timestamped, to FILE, each written as it comes (kept whatever stdout shows, and on Ctrl-C or SIGTERM)')
    .exitOverride()
    .addHelpText('after', `
Exit codes: 0 ok, 1 assertion failed, 2 usage, 3 name resolution, 4 refused/unreachable
(TLS: certificate or handshake refused), 5 timeout, 6 connection lost, 7 local bind failed,
8 output not written (stdout or a file: ENOSPC, EIO, EACCES…; EPIPE on stdout only stops it).
A signal ends any run with its summary: 129 SIGHUP, 130 interrupted (SIGINT, Ctrl-C), 143 SIGTERM;
a second signal exits at once.

An option given twice (but -H, --type, --pin), or one that does nothing in the run asked for
(--duration without --stream), is a usage error. Durations are at most 596h31m23s.`);

  registerTcpServer(program, execute);
  registerTcpClient(program, execute);
  registerUdpServer(program, execute);
  registerUdpClient(program, execute);
  registerHttpGet(program, execute);
  registerIdleTimeout(program, execute);
  registerResolve(program, execute);
  registerInterfaces(program, execute);
  registerDemo(program, execute);
  registerMerge(program, execute);
  registerReport(program, execute);
  registerCompletion(program);
  registerHelp(program); // last: every command is one of its topics
  applyConventions(program);
  return program;
}
