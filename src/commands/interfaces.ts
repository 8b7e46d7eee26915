import type { Command } from 'commander';
import { parseHost, parseRemotePort } from '../core/socket/address.js';
import { findRoute, listInterfaces } from '../core/socket/nics.js';
import type { Execute } from './context.js';


export function registerInterfaces(program: Command, execute: Execute): void {
  program
    .command('interfaces')
    .description("the note's ipconfig() for every NIC: state, MTU, MAC, addresses, default routes, DNS servers")
    .addHelpText('after', `
Examples:
  $ netnote interfaces
  $ netnote --json interfaces`)
    .action((_options: unknown, cmd: Command) =>
      execute(cmd, 'client', async ({ finish }) => finish([{ role: 'client', summary: listInterfaces() }], null)));

  program
    .command('route')
    .description('which NIC and source address the kernel would use to reach HOST; sends nothing')
    .argument('<host>', 'destination name or address', parseHost)
    .argument('[port]', 'destination port (policy routing may look at it; connect() needs one, so 9 by default)', parseRemotePort, 9)
    .addHelpText('after', `
Examples:
  $ netnote route 192.0.2.10
  $ netnote route ::1 8080`)
    .action((host: string, port: number, _options: unknown, cmd: Command) =>
      execute(cmd, 'client', async ({ finish }) => finish([{ role: 'client', summary: await findRoute(host, port) }], null)));
}
