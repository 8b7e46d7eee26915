import { isIP } from 'node:net';

export type Family = 'IPv4' | 'IPv6';

/** One side of a socket, as the kernel reports it. */
export interface Endpoint {
  address: string;
  port: number;
  family: Family;
}

export function isAddress(host: string): boolean {
  return isIP(host) !== 0;
}

export function familyOf(address: string): Family {
  return isIP(address) === 6 ? 'IPv6' : 'IPv4';
}

/** `127.0.0.1:80`, `[::1]:80`. */
export function hostPort(host: string, port: number): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/** An endpoint from what a socket reports, whose fields Node leaves undefined once it closed. */
export function endpoint(address: string | undefined, port: number | undefined, family: string | undefined): Endpoint {
  const addr = address ?? '';
  return { address: addr, port: port ?? 0, family: family === 'IPv6' || family === 'IPv4' ? family : familyOf(addr) };
}
