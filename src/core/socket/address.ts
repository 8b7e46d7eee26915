import { isIP } from 'node:net';
import { InvalidValueError, NetnoteError } from '../errors.js';
import { SERVICES } from './services.js';

// What a person types for a host, a port or an address: parsed here, refused with a usage error.

const SERVICE_EXAMPLES = 'http, mqtt, modbus, coap';

/** A port given as a number or a service name (`http`, `mqtt`, `modbus`, any of /etc/services). */
function portNumber(input: string, lowest: number): number | null {
  const text = input.trim().toLowerCase();
  if (/^\d+$/.test(text)) {
    const port = Number(text);
    return port >= lowest && port <= 65535 ? port : null;
  }
  return Object.hasOwn(SERVICES, text) ? SERVICES[text]! : null;
}

/** A port to listen on: 0 lets the kernel pick one. */
export function parsePort(input: string): number {
  const port = portNumber(input, 0);
  if (port === null) throw new InvalidValueError('port', input, `use 0-65535 (0 picks a free port) or a service name such as ${SERVICE_EXAMPLES}`);
  return port;
}

/** A port to connect to: 0 is only ever a port to listen on (the kernel picks one). */
export function parseRemotePort(input: string): number {
  if (/^\s*0+\s*$/.test(input)) throw new NetnoteError('usage', 'port 0 cannot be connected to: give the port the server listens on');
  const port = portNumber(input, 1);
  if (port === null) throw new InvalidValueError('port', input, `use 1-65535 or a service name such as ${SERVICE_EXAMPLES}`);
  return port;
}

/** A host as a name, an IPv4 address or an IPv6 address with or without brackets. */
export function parseHost(input: string): string {
  let host = input.trim();
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  if (host === '') throw new NetnoteError('usage', 'missing host');
  if (isIP(host) === 0 && !/^[A-Za-z0-9_.-]+$/.test(host)) {
    throw new InvalidValueError('host', input, 'expected a name, an IPv4 or an IPv6 address');
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
