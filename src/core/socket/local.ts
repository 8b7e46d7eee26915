import { readdirSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import type { Family } from '../endpoint.js';
import { NetnoteError } from '../errors.js';

/**
 * The note's multi-NIC method: bind the local address of the NIC to use before connecting, port 0
 * (any) for a client, a fixed port only with SO_REUSEADDR. Given as an address or a NIC name.
 */
export interface LocalSpec {
  address: string | null;
  interface: string | null;
  port: number;
  /** SO_REUSEADDR. libuv already sets it on every TCP bind; for UDP it is off unless asked. */
  reuseAddress: boolean;
}

export interface LocalBinding {
  address: string;
  port: number;
  reuseAddress: boolean;
}

/** The local address to bind for a destination of `family`, or null when nothing was asked. */
export function localBinding(spec: LocalSpec | null, family: Family): LocalBinding | null {
  if (!spec || (spec.address === null && spec.interface === null && spec.port === 0)) return null;
  const address = spec.interface !== null ? interfaceAddress(spec.interface, family) : spec.address ?? (family === 'IPv6' ? '::' : '0.0.0.0');
  const bound = address.includes(':') ? 'IPv6' : 'IPv4';
  if (bound !== family) {
    throw new NetnoteError('usage', `cannot bind ${bound} address ${address} to reach an ${family} destination`,
      `bind an ${family} address, or pick a destination of the same family`);
  }
  return { address, port: spec.port, reuseAddress: spec.reuseAddress };
}

/** A usage error unless this host has a NIC called `name`. */
export function requireInterface(name: string): void {
  // os.networkInterfaces() lists only NICs with an address; /sys/class/net lists them all.
  const names = [...new Set([...Object.keys(networkInterfaces()), ...listSysNet()])];
  if (!names.includes(name)) {
    throw new NetnoteError('usage', `no interface named '${name}' on this host: ${names.join(', ')}`, 'see netnote interfaces');
  }
}

/** The first address of `family` on NIC `name`, as `ip addr` lists them. */
function interfaceAddress(name: string, family: Family): string {
  requireInterface(name);
  const interfaces = networkInterfaces();
  const match = (interfaces[name] ?? []).find((a) => a.family === family);
  if (!match) throw new NetnoteError('usage', `interface ${name} has no ${family} address`, 'see netnote interfaces');
  // A link-local IPv6 address only works with its zone.
  return match.family === 'IPv6' && match.scopeid ? `${match.address}%${name}` : match.address;
}

function listSysNet(): string[] {
  try {
    return readdirSync('/sys/class/net');
  } catch {
    return [];
  }
}

/** Whether a failed connect or bind is about the local binding rather than the destination. */
export function isBindFailure(err: NodeJS.ErrnoException): boolean {
  return err.syscall === 'bind' || (err.syscall === 'connect' && err.code === 'EADDRNOTAVAIL');
}

/** Why a bind of `binding` failed, in words a person can act on. */
export function bindError(err: NodeJS.ErrnoException, binding: LocalBinding, proto: 'tcp' | 'udp'): NetnoteError {
  if (err.code === 'EADDRNOTAVAIL' && err.syscall === 'connect') {
    // The bind passed (libuv sets SO_REUSEADDR) but this local port is still tied to the same
    // peer: a live connection, or TIME_WAIT the kernel cannot reuse (peer without timestamps).
    return new NetnoteError('bind', `local port ${binding.address}, ${binding.port} is still tied to that peer (a live connection, or TIME_WAIT): EADDRNOTAVAIL`,
      'use port 0, or wait until TIME_WAIT passes (about 60 s)');
  }
  if (err.code === 'EADDRNOTAVAIL') {
    return new NetnoteError('bind', `${binding.address} is not an address of this host`, 'see netnote interfaces');
  }
  if (err.code === 'EADDRINUSE') {
    // TCP binds always carry SO_REUSEADDR (libuv sets it); what still blocks them is a listener.
    const hint = proto === 'tcp'
      ? 'a listening socket holds it: pick another port, or 0'
      : binding.reuseAddress ? 'another socket holds it without SO_REUSEADDR: pick another port, or 0' : 'add --reuse-address to share it, or use port 0';
    return new NetnoteError('bind', `local port ${binding.address}, ${binding.port} is already in use`, hint);
  }
  return new NetnoteError('bind', `cannot bind ${binding.address}, ${binding.port}: ${err.code ?? err.message}`);
}
