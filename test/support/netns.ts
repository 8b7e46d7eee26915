// Network namespaces made by a test: private hosts and faults (nft rules) that touch nothing else.
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';

/** Why namespaces cannot be used here, or null when they can (checked once). */
export const netnsUnavailable: string | null = (() => {
  const name = `nn-probe-${randomBytes(3).toString('hex')}`;
  const made = spawnSync('ip', ['netns', 'add', name], { encoding: 'utf8' });
  if (made.status !== 0) return `ip netns add refused: ${(made.stderr || made.error?.message || '').trim()}`;
  const nft = spawnSync('ip', ['netns', 'exec', name, 'nft', 'list', 'ruleset'], { encoding: 'utf8' });
  spawnSync('ip', ['netns', 'del', name]);
  if (nft.status !== 0) return `nft refused inside a namespace: ${(nft.stderr || nft.error?.message || '').trim()}`;
  return null;
})();

export interface Namespace {
  name: string;
  /** Runs a command inside the namespace and returns its stdout. */
  run(command: string, args: string[], input?: string): string;
  /** argv prefix that runs a program inside the namespace. */
  prefix: string[];
  remove(): void;
}

/** A namespace with loopback up. */
export function createNamespace(): Namespace {
  const name = `nn-${process.pid}-${randomBytes(3).toString('hex')}`;
  execFileSync('ip', ['netns', 'add', name]);
  const run = (command: string, args: string[], input?: string) =>
    execFileSync('ip', ['netns', 'exec', name, command, ...args], { encoding: 'utf8', ...(input === undefined ? {} : { input }) });
  run('ip', ['link', 'set', 'lo', 'up']);
  const remove = () => {
    spawnSync('ip', ['netns', 'del', name]);
    rmSync(`/etc/netns/${name}`, { recursive: true, force: true });
  };
  return { name, run, prefix: ['ip', 'netns', 'exec', name], remove };
}

/**
 * The resolv.conf that programs run in the namespace see (ip netns exec mounts
 * /etc/netns/NAME/resolv.conf over /etc/resolv.conf): name lookups then stay on this machine.
 */
export function useResolvConf(ns: Namespace, content: string): void {
  mkdirSync(`/etc/netns/${ns.name}`, { recursive: true });
  writeFileSync(`/etc/netns/${ns.name}/resolv.conf`, content);
}

/** Loads an nft ruleset (text in nft's own syntax) into the namespace. */
export function nft(ns: Namespace, ruleset: string): void {
  ns.run('nft', ['-f', '-'], ruleset);
}

/** Why a veth pair cannot join two namespaces here, or null when it can (checked once, on first call). */
let vethChecked: string | null | undefined;
export function vethUnavailable(): string | null {
  if (vethChecked !== undefined) return vethChecked;
  if (netnsUnavailable !== null) return (vethChecked = netnsUnavailable);
  let a: Namespace | undefined;
  let b: Namespace | undefined;
  try {
    a = createNamespace();
    b = createNamespace();
    createVethPair(a, b);
    vethChecked = null;
  } catch (err) {
    vethChecked = `veth pair refused: ${String((err as { stderr?: unknown }).stderr || (err as Error).message).trim()}`;
  } finally {
    a?.remove();
    b?.remove();
  }
  return vethChecked;
}

export interface VethPair {
  /** The interface names: `a` lives in the first namespace, `b` in the second. */
  a: string;
  b: string;
}

/**
 * Joins two namespaces with a veth pair, created straight inside them (no interface ever appears
 * in the host's namespace), gives each end its address (CIDR, e.g. 192.0.2.1/24) when one is
 * given, and brings both ends up. Deleting either namespace deletes the pair.
 */
export function createVethPair(first: Namespace, second: Namespace, addressA?: string, addressB?: string): VethPair {
  const tag = randomBytes(3).toString('hex');
  const pair = { a: `nnv${tag}a`, b: `nnv${tag}b` }; // under IFNAMSIZ (15)
  execFileSync('ip', ['link', 'add', pair.a, 'netns', first.name, 'type', 'veth', 'peer', 'name', pair.b, 'netns', second.name], { stdio: 'pipe' });
  for (const [ns, name, address] of [[first, pair.a, addressA], [second, pair.b, addressB]] as const) {
    if (address !== undefined) ns.run('ip', ['addr', 'add', address, 'dev', name]);
    ns.run('ip', ['link', 'set', name, 'up']);
  }
  return pair;
}

/** One end of a named veth pair. */
export interface LinkEnd {
  /** Its name inside its namespace (eth0, wwan0…): names are private to a namespace. */
  name: string;
  /** CIDR addresses, e.g. 192.0.2.1/24 or 2001:db8:1::1/64. */
  addresses?: string[];
  /** Brought up unless false (a NIC that exists but is down, like Wi-Fi with no network). */
  up?: boolean;
}

/**
 * Like createVethPair, but each end gets the name a device's NIC would have and any number of
 * addresses. The ends are renamed while still down (a rename needs that), then addressed, then
 * brought up. IPv6 addresses are added with `nodad`: usable at once, not tentative for the second
 * duplicate address detection takes (a bind to a tentative address fails with EADDRNOTAVAIL).
 */
export function createNamedVethPair(first: Namespace, second: Namespace, a: LinkEnd, b: LinkEnd): VethPair {
  const tag = randomBytes(3).toString('hex');
  const temporary = { a: `nnv${tag}a`, b: `nnv${tag}b` };
  execFileSync('ip', ['link', 'add', temporary.a, 'netns', first.name, 'type', 'veth', 'peer', 'name', temporary.b, 'netns', second.name], { stdio: 'pipe' });
  for (const [ns, from, end] of [[first, temporary.a, a], [second, temporary.b, b]] as const) {
    ns.run('ip', ['link', 'set', from, 'name', end.name]);
    for (const address of end.addresses ?? []) {
      ns.run('ip', ['addr', 'add', address, 'dev', end.name, ...(address.includes(':') ? ['nodad'] : [])]);
    }
    if (end.up !== false) ns.run('ip', ['link', 'set', end.name, 'up']);
  }
  return { a: a.name, b: b.name };
}

/** A device behind a NAT, and a server on the other side: three namespaces, two veth pairs. */
export interface Nat {
  device: Namespace;
  router: Namespace;
  server: Namespace;
  /** The server's address, as the device reaches it. */
  serverAddress: string;
  /** The router's outside address: what the server sees the device as (masquerade). */
  outsideAddress: string;
  remove(): void;
}

/**
 * device 192.0.2.2 — 192.0.2.1 router 198.51.100.1 — 198.51.100.2 server. The router masquerades
 * what leaves for the server, drops what conntrack finds invalid (as NAT gateways do), and
 * forgets an idle TCP connection after `tcpTimeoutS` and a UDP mapping after `udpTimeoutS`
 * (per-namespace conntrack sysctls), with nf_conntrack_tcp_loose=0 so that a segment of a
 * forgotten connection does not make a new entry: it is dropped, as on a real NAT.
 */
export function createNat(tcpTimeoutS: number, udpTimeoutS: number): Nat {
  const device = createNamespace();
  const router = createNamespace();
  const server = createNamespace();
  const remove = () => {
    for (const ns of [device, router, server]) ns.remove();
  };
  try {
    const inside = createVethPair(device, router, '192.0.2.2/24', '192.0.2.1/24');
    const outside = createVethPair(router, server, '198.51.100.1/24', '198.51.100.2/24');
    device.run('ip', ['route', 'add', 'default', 'via', '192.0.2.1']);
    router.run('sysctl', ['-qw', 'net.ipv4.ip_forward=1']);
    nft(router, [
      'table ip nat {',
      ' chain post {',
      '  type nat hook postrouting priority 100; policy accept;',
      `  oifname "${outside.a}" masquerade`,
      ' }',
      '}',
      'table inet filter {',
      ' chain forwarded {',
      '  type filter hook forward priority 0; policy accept;',
      `  iifname "${inside.b}" oifname "${outside.a}" ct state invalid counter drop`,
      `  iifname "${outside.a}" oifname "${inside.b}" ct state invalid counter drop`,
      ' }',
      '}',
      '',
    ].join('\n'));
    router.run('sysctl', ['-qw',
      `net.netfilter.nf_conntrack_tcp_timeout_established=${tcpTimeoutS}`,
      `net.netfilter.nf_conntrack_udp_timeout=${udpTimeoutS}`,
      `net.netfilter.nf_conntrack_udp_timeout_stream=${udpTimeoutS}`,
      'net.netfilter.nf_conntrack_tcp_loose=0',
    ]);
  } catch (err) {
    remove();
    throw err;
  }
  return { device, router, server, serverAddress: '198.51.100.2', outsideAddress: '198.51.100.1', remove };
}

/** Why a NAT with short conntrack timeouts cannot be made here, or null when it can (checked once). */
let natChecked: string | null | undefined;
export function natUnavailable(): string | null {
  if (natChecked !== undefined) return natChecked;
  natChecked = vethUnavailable();
  if (natChecked !== null) return natChecked;
  try {
    createNat(5, 5).remove();
  } catch (err) {
    natChecked = `a masquerading NAT with conntrack timeouts refused: ${String((err as { stderr?: unknown }).stderr || (err as Error).message).trim()}`;
  }
  return natChecked;
}
