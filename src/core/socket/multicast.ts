import type dgram from 'node:dgram';
import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import { familyOf, type Family } from '../endpoint.js';
import { InvalidValueError, NetnoteError } from '../errors.js';
import { castOf } from './cast.js';
import { requireInterface } from './local.js';

// Multicast as the socket API has it: the NIC a group is sent from or joined on, given as an
// address or a NIC name, and memberships, any-source or source-specific (RFC 4607).

/** `--join GROUP[@IFACE][,source=ADDR]`: a group to receive, on one NIC or the kernel's choice. */
export interface GroupJoin {
  group: string;
  family: Family;
  /** A NIC name or one of its addresses; null lets the kernel pick by route. */
  interface: string | null;
  /** Source-specific membership: only datagrams from this sender. */
  source: string | null;
}

/** `239.1.2.3`, `239.1.2.3@eth0`, `ff12::1@eth0`, `232.1.1.1@eth0,source=192.0.2.5`. */
export function parseGroupJoin(input: string): GroupJoin {
  const match = /^\[?([^@,\]]+)\]?(?:@([^,]+))?(?:,source=(.+))?$/.exec(input.trim());
  const group = match?.[1] ?? '';
  if (!match || isIP(group) === 0 || castOf(group) !== 'multicast') {
    throw new InvalidValueError('group', input, 'expected a multicast group (224.0.0.0/4 or ff00::/8), optionally @NIC and ,source=ADDR: 239.1.2.3@eth0');
  }
  const family = familyOf(group);
  // A link-scope IPv6 group (ff02::1, ff12::…) exists once per link: the socket is bound with its NIC as zone.
  if (family === 'IPv6' && /^ff[0-9a-f]2:/i.test(group) && !match[2]) {
    throw new InvalidValueError('group', input, `a link-scope group exists on each link apart: name the NIC, e.g. ${group}@eth0`);
  }
  const source = match[3] ?? null;
  if (source !== null && (isIP(source) === 0 || familyOf(source) !== family)) {
    throw new InvalidValueError('group', input, `the source must be an ${family} address of the sender`);
  }
  return { group, family, interface: match[2] ?? null, source };
}

/**
 * The NIC for multicast as the socket options take it: an IPv4 address of that NIC for IPv4, and
 * `::%NAME` for IPv6 (libuv reads the NIC from the zone). `spec` is a NIC name or an address.
 */
export function multicastInterface(spec: string, family: Family): string {
  const interfaces = networkInterfaces();
  if (isIP(spec.replace(/%.*$/, '')) !== 0) {
    const address = spec.replace(/%.*$/, '');
    const owner = Object.entries(interfaces).find(([, list]) => list?.some((a) => a.address === address))?.[0];
    if (!owner) throw new NetnoteError('usage', `${address} is not an address of this host`, 'name the NIC, or one of its addresses: see netnote interfaces');
    if (family === 'IPv6') return `::%${spec.split('%')[1] ?? owner}`;
    if (familyOf(address) !== 'IPv4') throw new NetnoteError('usage', `an IPv4 group needs an IPv4 address of the NIC, not ${address}`);
    return address;
  }
  requireInterface(spec);
  if (family === 'IPv6') return `::%${spec}`;
  const address = (interfaces[spec] ?? []).find((a) => a.family === 'IPv4')?.address;
  if (!address) throw new NetnoteError('usage', `interface ${spec} has no IPv4 address: an IPv4 group needs one`, 'see netnote interfaces');
  return address;
}

/** Joins `join` on `socket` (bound, of the group's family). */
export function joinGroup(socket: dgram.Socket, join: GroupJoin): void {
  const nic = join.interface === null ? undefined : multicastInterface(join.interface, join.family);
  try {
    if (join.source !== null) socket.addSourceSpecificMembership(join.source, join.group, nic);
    else socket.addMembership(join.group, nic);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    const where = join.interface === null ? 'the NIC of its route' : join.interface;
    throw new NetnoteError('bind', `cannot join ${describeJoin(join)} on ${where}: ${code}`,
      join.interface === null ? 'name the NIC: --join GROUP@NIC (without a route for the group the kernel has none to pick)' : 'check the NIC is up and has an address: netnote interfaces');
  }
}

/** `239.1.2.3`, `(192.0.2.5, 232.1.1.1)` for a source-specific join. */
export function describeJoin(join: GroupJoin): string {
  return join.source === null ? join.group : `(${join.source}, ${join.group})`;
}
