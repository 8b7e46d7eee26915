import dgram from 'node:dgram';
import { networkInterfaces } from 'node:os';
import { endpoint, type Endpoint, type Family } from '../endpoint.js';
import { NetnoteError, fromSystemError } from '../errors.js';
import type { EventSink } from '../events.js';
import { LIMITED_BROADCAST, localSubnets, type Cast } from './cast.js';
import { describeJoin, joinGroup, type GroupJoin } from './multicast.js';
import { resolveHost } from './lookup.js';

export interface UdpListenOptions {
  host: string;
  port: number;
  /** SO_REUSEADDR: share the port with other sockets that ask for it too (libuv leaves it off for UDP). */
  reuseAddress: boolean;
  /** --join: groups to receive, each on a socket bound to the group. */
  joins: GroupJoin[];
}

/** One socket of a server, bound to the address the datagrams it receives were sent to. */
export interface Listener {
  socket: dgram.Socket;
  /** Its bound address: a unicast address of this host, a broadcast address or a group. */
  local: Endpoint;
  cast: Cast;
  /** The NIC that holds the address (null: 255.255.255.255 and groups joined on the route's NIC). */
  interface: string | null;
  /** A group's socket: the memberships it holds, `239.1.2.3` or `(192.0.2.5, 232.1.1.1)`. */
  joined?: string;
}

export type ListenerMessage = (data: Buffer, rinfo: dgram.RemoteInfo, via: Listener) => void;

/** How often a server on a wildcard looks for addresses that came or went. */
export const ADDRESS_POLL_MS = 1000;

/** A local address a wildcard server binds, keyed by what it binds. */
interface Wanted {
  bind: string;
  family: Family;
  cast: Cast;
  interface: string | null;
}

/**
 * The note's UDP server socket: created, then bound (UDP has no listen step). A server on a
 * specific address is that one socket. A server on a wildcard (0.0.0.0, ::) answers from whatever
 * source its route back picks, since Node can neither read the destination of a datagram nor set
 * the source of a reply (IP_PKTINFO): a client that sent to 192.0.2.1 may get its answer from
 * 203.0.113.1. So, as ntpd and dnsmasq --bind-interfaces do, such a server binds one socket per
 * address of this host (and per IPv4 broadcast address), each answering from its own address,
 * and follows addresses that come and go. It holds no wildcard socket: the kernel hands a
 * broadcast or a group's datagram to every socket it matches, so a wildcard one would see each of
 * them twice. Each --join group gets a socket bound to the group, which names it on every
 * datagram.
 */
export class UdpListeners {
  private readonly listeners = new Map<string, Listener>();
  /** Addresses that would not bind, and why (warned about once; tried again at each look). */
  private readonly failing = new Map<string, string>();
  private watcher: NodeJS.Timeout | undefined;
  private closed = false;
  /** Once the start is said: sockets bound later are announced as they come. */
  private started = false;

  private constructor(
    readonly local: Endpoint,
    private readonly options: UdpListenOptions,
    private readonly sink: EventSink,
    private readonly onMessage: ListenerMessage,
  ) {}

  static async open(options: UdpListenOptions, sink: EventSink, onMessage: ListenerMessage): Promise<UdpListeners> {
    sink.emit({ event: 'created', role: 'server', proto: 'udp' });
    const [target] = await resolveHost(options.host);
    const wildcard = target!.address === '0.0.0.0' || target!.address === '::';
    const type = target!.family === 'IPv6' ? 'udp6' : 'udp4';
    // A wildcard's port is claimed on every address at once (no SO_REUSEADDR unless asked): a
    // taken port fails here, as it did when the server was one wildcard socket, and a port 0 is
    // one nobody holds. The claim is then released for the per-address sockets.
    const first = dgram.createSocket({ type, reuseAddr: options.reuseAddress });
    let local: Endpoint;
    try {
      await bind(first, target!.address, options.port);
      const bound = first.address();
      local = endpoint(bound.address, bound.port, bound.family);
    } catch (err) {
      first.close();
      throw fromSystemError(err, { host: target!.address, port: options.port, doing: 'listen' });
    }
    if (wildcard) await new Promise<void>((resolve) => first.close(() => resolve()));
    const set = new UdpListeners(local, options, sink, onMessage);
    try {
      if (!wildcard) set.adopt(first, { bind: local.address, family: local.family, cast: 'unicast', interface: null });
      else await set.follow();
      await set.joinGroups();
    } catch (err) {
      await set.close();
      throw err;
    }
    // Said once every socket is bound: a client that waits for this line finds the server ready.
    sink.emit({ event: 'bound', role: 'server', local });
    for (const listener of set.listeners.values()) set.announce(listener, false);
    set.started = true;
    if (wildcard) set.watcher = setInterval(() => void set.follow(), ADDRESS_POLL_MS).unref();
    return set;
  }

  close(): Promise<void> {
    this.closed = true;
    clearInterval(this.watcher);
    return Promise.all([...this.listeners.values()].map((l) => new Promise<void>((resolve) => l.socket.close(() => resolve())))).then(() => {});
  }

  /** Binds the addresses this host has now and unbinds the ones it lost. */
  private async follow(): Promise<void> {
    const wanted = wildcardAddresses(this.local.family);
    for (const [key, listener] of this.listeners) {
      if (listener.cast === 'multicast' || wanted.has(key)) continue;
      this.listeners.delete(key);
      listener.socket.close();
      this.sink.emit({ event: 'unbound', role: 'server', local: listener.local, ...(listener.interface ? { interface: listener.interface } : {}) });
    }
    for (const [key, want] of wanted) {
      if (this.closed) return;
      if (this.listeners.has(key)) continue;
      const socket = dgram.createSocket({ type: this.local.family === 'IPv6' ? 'udp6' : 'udp4', reuseAddr: this.options.reuseAddress });
      try {
        await bind(socket, want.bind, this.local.port);
      } catch (err) {
        socket.close();
        const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
        // A new IPv6 address is unusable until duplicate address detection ends: try it next time.
        if (code !== 'EADDRNOTAVAIL' && this.failing.get(key) !== code) {
          this.sink.emit({ event: 'warning', role: 'server', message: `cannot bind ${want.bind}, ${this.local.port}${want.interface ? ` (${want.interface})` : ''}: ${code}; datagrams sent to it are not received` });
        }
        this.failing.set(key, code);
        continue;
      }
      if (this.closed) {
        socket.close();
        return;
      }
      this.failing.delete(key);
      this.adopt(socket, want);
    }
  }

  private async joinGroups(): Promise<void> {
    const groups = new Map<string, GroupJoin[]>();
    for (const join of this.options.joins) {
      // A link-scope IPv6 group (ff02::…) is bound with its NIC as the zone, like a link-local address.
      const zone = join.family === 'IPv6' && /^ff[0-9a-f]2:/i.test(join.group) && join.interface !== null ? `%${join.interface}` : '';
      const key = `${join.group}${zone}`;
      groups.set(key, [...(groups.get(key) ?? []), join]);
    }
    for (const [bindTo, joins] of groups) {
      const family = joins[0]!.family;
      // A group is bound by its own family's socket, even on a server bound to ::.
      const socket = dgram.createSocket({ type: family === 'IPv6' ? 'udp6' : 'udp4', reuseAddr: true });
      try {
        await bind(socket, bindTo, this.local.port);
        for (const join of joins) joinGroup(socket, join);
      } catch (err) {
        socket.close();
        if (err instanceof NetnoteError) throw err;
        throw new NetnoteError('bind', `cannot bind group ${bindTo}, ${this.local.port}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
          'another program may hold that port on the group without SO_REUSEADDR');
      }
      const nics = [...new Set(joins.map((j) => j.interface ?? ''))].filter((n) => n !== '');
      this.adopt(socket, { bind: bindTo, family, cast: 'multicast', interface: nics.length > 0 ? nics.join(', ') : null }, joins.map(describeJoin).join(', '));
    }
  }

  private adopt(socket: dgram.Socket, want: Wanted, joined?: string): void {
    const { address, port, family } = socket.address();
    const listener: Listener = { socket, local: endpoint(address, port, family), cast: want.cast, interface: want.interface, ...(joined ? { joined } : {}) };
    this.listeners.set(want.cast === 'multicast' ? `group ${want.bind}` : want.bind, listener);
    socket.on('message', (data: Buffer, rinfo: dgram.RemoteInfo) => this.onMessage(data, rinfo, listener));
    socket.on('error', (err: NodeJS.ErrnoException) => {
      // An unconnected socket reports little, but whatever it is must not end the server.
      this.sink.emit({ event: 'warning', role: 'server', message: `socket error on ${address}, ${port}: ${err.code ?? err.message}` });
    });
    if (this.started) this.announce(listener, true);
  }

  /** The note's `bind address:` line for one more socket (not for the one socket of a server on an address: that is the server's own). */
  private announce(listener: Listener, added: boolean): void {
    if (listener.cast === 'unicast' && listener.local.address === this.local.address) return;
    this.sink.emit({
      event: 'bound', role: 'server', local: listener.local,
      ...(listener.interface ? { interface: listener.interface } : {}),
      ...(listener.cast === 'unicast' ? {} : { cast: listener.cast }),
      ...(listener.joined ? { joined: listener.joined } : {}),
      ...(added ? { added: true } : {}),
    });
  }
}

function bind(socket: dgram.Socket, address: string, port: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind({ address, port }, () => {
      socket.removeListener('error', reject);
      resolve();
    });
  });
}

/**
 * What a server on a wildcard of `family` binds: every address of every NIC that is up (a
 * link-local IPv6 address with its NIC as zone), and for IPv4 each subnet's broadcast address and
 * 255.255.255.255. A server on :: takes IPv4 too (dual-stack, as its wildcard did), as IPv4-mapped
 * addresses, so peers print as before.
 */
function wildcardAddresses(family: Family): Map<string, Wanted> {
  const wanted = new Map<string, Wanted>();
  const mapped = (address: string) => (family === 'IPv6' ? `::ffff:${address}` : address);
  const add = (want: Wanted) => wanted.set(want.bind, want);
  for (const [name, addresses] of Object.entries(networkInterfaces())) {
    for (const a of addresses ?? []) {
      if (a.family === 'IPv6' && family === 'IPv6') add({ bind: a.scopeid ? `${a.address}%${name}` : a.address, family, cast: 'unicast', interface: name });
    }
  }
  const subnets = localSubnets();
  for (const subnet of subnets) {
    add({ bind: mapped(subnet.address), family, cast: 'unicast', interface: subnet.interface });
    if (subnet.broadcast) add({ bind: mapped(subnet.broadcast), family, cast: 'broadcast', interface: subnet.interface });
  }
  if (subnets.length > 0) add({ bind: mapped(LIMITED_BROADCAST), family, cast: 'broadcast', interface: null });
  return wanted;
}
