import { networkInterfaces } from 'node:os';
import ipaddr from 'ipaddr.js';

/** What a destination reaches: one host, every host of a subnet, or the members of a group. */
export type Cast = 'unicast' | 'broadcast' | 'multicast';

/** 255.255.255.255: every host of the link the datagram leaves by. */
export const LIMITED_BROADCAST = '255.255.255.255';

/** One of this host's IPv4 subnets, as its NIC holds it. */
export interface LocalSubnet {
  interface: string;
  address: string;
  /** The subnet's broadcast address (null for a /31 or /32: none). */
  broadcast: string | null;
}

/** Every IPv4 address of this host with its subnet's broadcast address. */
export function localSubnets(): LocalSubnet[] {
  return Object.entries(networkInterfaces()).flatMap(([name, addresses]) => (addresses ?? [])
    .filter((a) => a.family === 'IPv4')
    .map((a) => {
      const prefix = Number(a.cidr?.split('/')[1] ?? 32);
      // Linux adds a broadcast route for every prefix shorter than 31 (fib_add_ifaddr).
      const broadcast = prefix < 31 ? ipaddr.IPv4.broadcastAddressFromCIDR(`${a.address}/${prefix}`).toString() : null;
      return { interface: name, address: a.address, broadcast };
    }));
}

/**
 * Which of the three `address` is. A broadcast is 255.255.255.255 or the broadcast address of one
 * of this host's subnets: the kernel refuses to send to either without SO_BROADCAST (EACCES).
 */
export function castOf(address: string): Cast {
  const bare = address.replace(/%.*$/, '');
  if (!ipaddr.isValid(bare)) return 'unicast';
  const parsed = ipaddr.parse(bare);
  if (parsed.range() === 'multicast') return 'multicast';
  if (parsed.kind() === 'ipv4' && (bare === LIMITED_BROADCAST || localSubnets().some((s) => s.broadcast === bare))) return 'broadcast';
  return 'unicast';
}
