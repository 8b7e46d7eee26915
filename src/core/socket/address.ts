import { isIP } from 'node:net';
import { NetnoteError } from '../errors.js';

// What a person types for a host, a port or an address: parsed here, refused with a usage error.

// The note's port tables (TCP and UDP), plus the ports device people meet most often.
// A fixed table rather than /etc/services: minimal images and the standalone binary lack it.
const SERVICES: Record<string, number> = {
  echo: 7, 'ftp-data': 20, ftp: 21, ssh: 22, telnet: 23, smtp: 25, dns: 53, domain: 53,
  bootps: 67, bootpc: 68, tftp: 69, http: 80, pop3: 110, ntp: 123, snmp: 161, https: 443,
  socks: 1080, mqtt: 1883, coap: 5683, 'http-alt': 8080, mqtts: 8883,
};

/** A port given as a number or a service name (`http`, `dns`, `ntp`…). */
export function parsePort(input: string): number {
  const text = input.trim().toLowerCase();
  if (/^\d+$/.test(text)) {
    const port = Number(text);
    if (port <= 65535) return port;
  } else if (Object.hasOwn(SERVICES, text)) {
    return SERVICES[text]!;
  }
  throw new NetnoteError('usage', `invalid port '${input}': use 0-65535 or a service name (${Object.keys(SERVICES).slice(0, 6).join(', ')}…)`);
}

/** A port to connect to: 0 is only ever a port to listen on (the kernel picks one). */
export function parseRemotePort(input: string): number {
  const port = parsePort(input);
  if (port === 0) throw new NetnoteError('usage', "port 0 cannot be connected to: give the port the server listens on");
  return port;
}

/** A host as a name, an IPv4 address or an IPv6 address with or without brackets. */
export function parseHost(input: string): string {
  let host = input.trim();
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  if (host === '') throw new NetnoteError('usage', 'missing host');
  if (isIP(host) === 0 && !/^[A-Za-z0-9_.-]+$/.test(host)) {
    throw new NetnoteError('usage', `invalid host '${input}': expected a name, an IPv4 or an IPv6 address`);
  }
  return host;
}

/**
 * `IP`, `IP:PORT`, `[IPv6]:PORT` or a bare IPv6 address: an address a person types with an
 * optional port. Null when `input` is not of that shape or the address is not an IP literal.
 */
export function parseAddressPort(input: string, defaultPort: number): { address: string; port: number } | null {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(input);
  const [address, port] = bracketed
    ? [bracketed[1]!, bracketed[2]]
    : isIP(input) === 6 ? [input, undefined] : (input.split(':') as [string, string | undefined]);
  if (isIP(address.replace(/%.*$/, '')) === 0 || (port !== undefined && !/^\d+$/.test(port)) || Number(port ?? defaultPort) > 65535) return null;
  return { address, port: port === undefined ? defaultPort : Number(port) };
}
