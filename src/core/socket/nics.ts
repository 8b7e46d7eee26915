import dgram from 'node:dgram';
import { getServers } from 'node:dns';
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import ipaddr from 'ipaddr.js';
import { familyOf, type Endpoint, type Family } from '../endpoint.js';
import { NetnoteError, fromSystemError } from '../errors.js';
import { resolveHost } from './lookup.js';

export interface NicAddress {
  family: Family;
  address: string;
  prefix: number;
  netmask: string;
}

export interface Nic {
  name: string;
  mac: string | null;
  state: string;
  mtu: number | null;
  addresses: NicAddress[];
}

export interface DefaultRoute {
  family: Family;
  gateway: string;
  interface: string;
}

/** The note's ipconfig(), for every NIC of this host. */
export interface InterfacesSummary {
  proto: 'nic';
  interfaces: Nic[];
  defaultRoutes: DefaultRoute[];
  dns: string[];
  /** What this platform does not expose (outside Linux: state, MTU, routes). */
  unavailable: string[];
}

/** What the kernel exposes: os.networkInterfaces() for addresses, /sys and /proc for the rest. */
export function listInterfaces(): InterfacesSummary {
  const withAddresses = networkInterfaces();
  const unavailable: string[] = [];
  const names = new Set(Object.keys(withAddresses));
  const sysNames = readDir('/sys/class/net');
  if (sysNames) sysNames.forEach((name) => names.add(name));
  else unavailable.push('interface state and MTU (/sys/class/net)', 'interfaces without addresses');
  const interfaces = [...names].sort().map((name): Nic => {
    const addresses = (withAddresses[name] ?? []).map((a) => ({
      family: a.family as Family,
      address: a.address,
      prefix: Number(a.cidr?.split('/')[1] ?? 0),
      netmask: a.netmask,
    }));
    const mac = readSys(name, 'address') ?? withAddresses[name]?.[0]?.mac ?? null;
    const mtu = readSys(name, 'mtu');
    return { name, mac, state: readSys(name, 'operstate') ?? 'unknown', mtu: mtu === null ? null : Number(mtu), addresses };
  });
  const ipv4 = readText('/proc/net/route');
  const ipv6 = readText('/proc/net/ipv6_route');
  if (ipv4 === null || ipv6 === null) unavailable.push('default routes (/proc/net/route, /proc/net/ipv6_route)');
  // iproute2 tells the main table apart; /proc/net/ipv6_route mixes every policy table in.
  const viaIp = ipJson(['route', 'show', 'default']);
  const viaIp6 = ipJson(['-6', 'route', 'show', 'default']);
  return {
    proto: 'nic',
    interfaces,
    defaultRoutes: [
      ...(viaIp ? ipDefaults(viaIp, 'IPv4') : defaultRoutesV4(ipv4 ?? '')),
      ...(viaIp6 ? ipDefaults(viaIp6, 'IPv6') : defaultRoutesV6(ipv6 ?? '')),
    ],
    dns: getServers(),
    unavailable,
  };
}

/** /proc/net/route: destination 0 with mask 0 is a default route; addresses are little-endian hex. */
function defaultRoutesV4(table: string): DefaultRoute[] {
  return table.split('\n').slice(1).map((line) => line.trim().split(/\s+/)).filter((f) => f.length >= 8 && f[1] === '00000000' && f[7] === '00000000')
    .map(([iface, , gateway]) => ({ family: 'IPv4' as const, interface: iface!, gateway: ipaddr.fromByteArray([...Buffer.from(gateway!, 'hex')].reverse()).toString() }));
}

/** /proc/net/ipv6_route: ::/0 is a default route; the next hop is 32 hex digits. */
function defaultRoutesV6(table: string): DefaultRoute[] {
  return table.split('\n').map((line) => line.trim().split(/\s+/)).filter((f) => f.length >= 10 && /^0{32}$/.test(f[0]!) && f[1] === '00' && f[9] !== 'lo')
    .map((f) => ({ family: 'IPv6' as const, interface: f[9]!, gateway: ipaddr.fromByteArray([...Buffer.from(f[4]!, 'hex')]).toString() }));
}

interface IpRoute {
  dst?: string;
  gateway?: string;
  dev?: string;
}

/** `ip -j …`'s answer, or null where iproute2 is missing or refuses. */
function ipJson(args: string[]): IpRoute[] | null {
  try {
    return JSON.parse(execFileSync('ip', ['-j', ...args], { encoding: 'utf8', timeout: 2000, stdio: ['ignore', 'pipe', 'ignore'] })) as IpRoute[];
  } catch {
    return null;
  }
}

function ipDefaults(routes: IpRoute[], family: Family): DefaultRoute[] {
  return routes.filter((r) => r.dev).map((r) => ({ family, gateway: r.gateway ?? '', interface: r.dev! }));
}

function readDir(path: string): string[] | null {
  try {
    return readdirSync(path);
  } catch {
    return null;
  }
}

function readText(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

function readSys(name: string, file: string): string | null {
  return readText(`/sys/class/net/${name}/${file}`)?.trim() ?? null;
}

export interface RouteSummary {
  proto: 'route';
  host: string;
  destination: Endpoint;
  /** The source address the kernel picked, and the NIC that holds it. */
  source: string;
  interface: string | null;
}

/**
 * Which NIC and source address the kernel would use to reach `host`: a UDP socket's connect()
 * makes the routing decision and sends nothing, so no packet leaves.
 */
export async function findRoute(host: string, port: number): Promise<RouteSummary> {
  const [target] = await resolveHost(host);
  const socket = dgram.createSocket(target!.family === 'IPv6' ? 'udp6' : 'udp4');
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('error', (err) => reject(fromSystemError(err, { host: target!.address, port, doing: 'connect' })));
      socket.connect(port, target!.address, () => resolve());
    });
    const source = socket.address().address;
    const route = { proto: 'route' as const, host, destination: { address: target!.address, port, family: familyOf(target!.address) } };
    if (source === '::' || source === '0.0.0.0') {
      throw new NetnoteError('unreachable', `no route to ${target!.address}: the kernel picked no source address`, 'check the routes: ip route; netnote interfaces');
    }
    // A link-local source carries its NIC as its zone (fe80::1%eth0).
    const zone = source.split('%')[1];
    if (zone !== undefined) return { ...route, source, interface: zone };
    // The NIC a packet leaves by is the route's device, not the one holding the source address
    // (Linux's weak host model): ask the kernel's route lookup when iproute2 is there.
    const viaIp = ipJson(['route', 'get', target!.address, 'from', source])?.[0]?.dev;
    const owner = Object.entries(networkInterfaces()).find(([, addresses]) => addresses?.some((a) => a.address === source))?.[0];
    return { ...route, source, interface: viaIp ?? owner ?? null };
  } finally {
    socket.close();
  }
}
