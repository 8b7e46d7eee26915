import { getServers } from 'node:dns';
import { Option, type Command } from 'commander';
import { parseHost, parsePort } from '../core/socket/address.js';
import { parseServer, RECORD_TYPES, type RecordType } from '../core/dns/query.js';
import { InvalidValueError } from '../core/errors.js';
import { runResolve } from '../core/dns/resolve.js';
import type { Execute } from './context.js';
import { needs, repeatable } from '../shell/usage.js';
import { durationArg } from './options.js';

interface ResolveOptions {
  server?: ReturnType<typeof parseServer>;
  type?: RecordType[];
  allServers?: boolean;
  timeout: number;
}

/** The query time bound when none is given: dig waits 5 s a try; a loopback or LAN server answers in ms. */
const DEFAULT_TIMEOUT_MS = 2000;

function parseTypes(input: string, previous: RecordType[] = []): RecordType[] {
  const types = input.toUpperCase().split(',').map((t) => t.trim());
  const bad = types.find((t) => !(RECORD_TYPES as readonly string[]).includes(t));
  if (bad !== undefined) throw new InvalidValueError('record type', bad, `use ${RECORD_TYPES.join(', ')}`);
  return [...previous, ...(types as RecordType[])];
}

export function registerResolve(program: Command, execute: Execute): void {
  program
    .command('resolve')
    .description("the note's getaddrinfo(host, port), and the DNS servers asked directly, side by side")
    .argument('<host>', 'name to resolve (an address for --type PTR)', parseHost)
    .argument('[port]', 'port for the sockaddr, as getaddrinfo(host, port)', parsePort)
    .addOption(new Option('-s, --server <ip[:port]>', 'ask this DNS server directly, e.g. 127.0.0.1:5353').argParser(parseServer).conflicts('allServers'))
    // The choices are for --help and completion; parseTypes also takes comma-separated lists.
    .addOption(needs(repeatable(new Option('-t, --type <type>', 'record type asked of the servers, repeatable or comma-separated (default A,AAAA)').choices(RECORD_TYPES).argParser(parseTypes)), '--server', '--all-servers'))
    .addOption(new Option('--all-servers', 'ask every DNS server of the system configuration and compare their answers'))
    .addOption(needs(new Option('-w, --timeout <duration>', 'how long each DNS query to a server may take').argParser(durationArg).default(DEFAULT_TIMEOUT_MS, '2s'), '--server', '--all-servers'))
    .addHelpText('after', `
Exit status: without --server, getaddrinfo's: 0 with an address, 3 without. With --server or
--all-servers, the servers' answers for the types asked decide: each server must answer with a
record of a type asked (an A or an AAAA address, by default): 0. A server without one: 3 for
NXDOMAIN, SERVFAIL, REFUSED or no such record (dig says 0), 5 when it does not answer, 4 when it
cannot be reached. A server that contradicts itself (NXDOMAIN to AAAA, an address for A) is a
warning; the system resolver failing while a server answers is a difference, printed as one.
2 for a bad type or server address.

Examples:
  $ netnote resolve localhost 80                     the system view (getaddrinfo)
  $ netnote resolve device.lan --server 127.0.0.1:5353
  $ netnote resolve _mqtt._tcp.lan -t SRV -s 127.0.0.1:5353
  $ netnote resolve 192.0.2.10 -t PTR -s 127.0.0.1:5353`)
    .action((host: string, port: number | undefined, options: ResolveOptions, cmd: Command) =>
      execute(cmd, 'client', async ({ reporter, signal, finish }) => {
        const servers = options.server ? [options.server] : options.allServers ? getServers().map((s) => parseServer(s)) : [];
        const result = await runResolve({
          host, port: port ?? null, servers,
          types: options.type ?? ['A', 'AAAA'],
          timeoutMs: options.timeout,
        }, reporter, signal);
        finish([{ role: 'client', summary: result.summary }], result.error);
      }));
}
