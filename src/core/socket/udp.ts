import dgram from 'node:dgram';
import { endpoint, type Endpoint, type Family } from '../endpoint.js';
import { NetnoteError, fromSystemError } from '../errors.js';
import type { EventSink } from '../events.js';
import { castOf, type Cast } from './cast.js';
import { bindError, isBindFailure, localBinding, type LocalBinding, type LocalSpec } from './local.js';
import { resolveAndSay } from './lookup.js';
import { multicastInterface } from './multicast.js';

/** Largest UDP payload: 65535 less the UDP header (8), and for IPv4 less its 20-byte header too. */
export const MAX_DATAGRAM: Record<Family, number> = { IPv4: 65507, IPv6: 65527 };

/** What a client's socket is asked beyond its destination: --broadcast, --ttl, the multicast options. */
export interface UdpCastOptions {
  /** SO_BROADCAST on. A broadcast destination without it is a usage error. */
  broadcast: boolean;
  /** IP_TTL (unicast, broadcast) or IP_MULTICAST_TTL (a group); null leaves the kernel's. */
  ttl: number | null;
  /** To a group: the NIC it leaves by (an address or a NIC name), and whether this host hears its own. */
  multicastInterface: string | null;
  loopback: boolean | null;
}

export interface UdpClientOptions extends Partial<UdpCastOptions> {
  host: string;
  port: number;
  local?: LocalSpec | null;
}

/** How often a port the kernel picked may be lost to another socket between our two binds. */
const BIND_ATTEMPTS = 3;

/**
 * The note's UDP client socket: it sends to one destination and receives from any address, as
 * the note's sendto()/recvfrom() do. Linux reports an ICMP port unreachable only to a connected
 * socket (IP_RECVERR would give it to an unconnected one, but Node cannot set it), and a connected
 * socket drops what comes from anywhere else. So a unicast destination gets two sockets on the
 * same local port, both with SO_REUSEADDR: one connected, which sends, gets the destination's
 * replies and its ICMP errors (the kernel prefers a connected socket: it matches more of the
 * datagram's addresses), and one unconnected, which gets replies from every other address (a NAT,
 * a multi-homed server answering from another of its addresses). A broadcast or a group has no
 * single peer to connect to: one unconnected socket does both jobs.
 */
export class UdpClientSocket {
  private constructor(
    readonly remote: Endpoint,
    readonly cast: Cast,
    private readonly sender: dgram.Socket,
    private readonly listener: dgram.Socket | null,
  ) {}

  static async open(options: UdpClientOptions, sink: EventSink): Promise<UdpClientSocket> {
    sink.emit({ event: 'created', role: 'client', proto: 'udp' });
    const [target] = await resolveAndSay(options.host, 'client', sink);
    const remote: Endpoint = { address: target!.address, port: options.port, family: target!.family };
    const cast = castOf(remote.address);
    if (cast === 'broadcast' && !options.broadcast) throw broadcastRefused(remote);
    const binding = localBinding(options.local ?? null, remote.family);
    const type = remote.family === 'IPv6' ? 'udp6' : 'udp4';
    let socket: UdpClientSocket;
    if (cast === 'unicast') {
      const [sender, listener] = await bindPair(type, binding, remote);
      await new Promise<void>((resolve, reject) => {
        const fail = (err: NodeJS.ErrnoException) => reject(connectError(err, remote, binding));
        sender.once('error', fail);
        // connect() calls back with its error (no route: ENETUNREACH), not with an 'error' event.
        sender.connect(remote.port, remote.address, (err?: Error) => (err ? fail(err) : resolve()));
      }).catch((err: unknown) => {
        sender.close();
        listener.close();
        throw err;
      });
      sender.removeAllListeners('error');
      socket = new UdpClientSocket(remote, cast, sender, listener);
    } else {
      const sender = dgram.createSocket({ type, reuseAddr: binding?.reuseAddress === true });
      await bindSocket(sender, binding?.address ?? wildcard(remote.family), binding?.port ?? 0, binding).catch((err: unknown) => {
        sender.close();
        throw err;
      });
      socket = new UdpClientSocket(remote, cast, sender, null);
      try {
        socket.configureCast(options);
      } catch (err) {
        sender.close();
        throw err;
      }
    }
    if (cast === 'unicast' && options.ttl != null) socket.sender.setTTL(options.ttl);
    if (binding) sink.emit({ event: 'bound', role: 'client', local: socket.local() });
    return socket;
  }

  /** Every datagram that arrives on the local port, with the address it came from. */
  onMessage(handler: (data: Buffer, from: Endpoint) => void): void {
    const forward = (data: Buffer, rinfo: dgram.RemoteInfo) => handler(data, endpoint(rinfo.address, rinfo.port, rinfo.family));
    this.sender.on('message', forward);
    this.listener?.on('message', forward);
  }

  /** Socket errors; an ICMP port unreachable from the destination is ECONNREFUSED. */
  onError(handler: (err: NodeJS.ErrnoException) => void): void {
    this.sender.on('error', handler);
    this.listener?.on('error', handler);
  }

  send(data: Buffer, callback: (err: Error | null) => void): void {
    if (this.listener) this.sender.send(data, (err) => callback(err ?? null));
    else this.sender.send(data, this.remote.port, this.remote.address, (err) => callback(err ?? null));
  }

  /** The local address and port; for a unicast destination, the source address its route picked. */
  local(): Endpoint {
    const { address, port, family } = this.sender.address();
    return endpoint(address, port, family);
  }

  close(): void {
    this.sender.close();
    this.listener?.close();
  }

  private configureCast(options: UdpClientOptions): void {
    const { sender, remote } = this;
    if (this.cast === 'broadcast') {
      sender.setBroadcast(true);
      if (options.ttl != null) sender.setTTL(options.ttl);
      return;
    }
    if (options.ttl != null) sender.setMulticastTTL(options.ttl);
    if (options.loopback != null) sender.setMulticastLoopback(options.loopback);
    if (options.multicastInterface) {
      const nic = multicastInterface(options.multicastInterface, remote.family);
      try {
        sender.setMulticastInterface(nic);
      } catch (err) {
        throw new NetnoteError('usage', `cannot send to ${remote.address} from ${options.multicastInterface}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, 'see netnote interfaces');
      }
    }
  }
}

function broadcastRefused(remote: Endpoint): NetnoteError {
  return new NetnoteError('usage', `${remote.address} is a broadcast address: sending to it needs --broadcast`,
    `netnote udp-client ${remote.address} ${remote.port} --broadcast sends one datagram and lists every device that answers`);
}

function connectError(err: NodeJS.ErrnoException, remote: Endpoint, binding: LocalBinding | null): NetnoteError {
  // The kernel knows broadcast addresses we may not (another NIC's subnet): it refuses them so.
  if (err.code === 'EACCES') return broadcastRefused(remote);
  if (binding && isBindFailure(err)) return bindError(err, binding, 'udp');
  return fromSystemError(err, { host: remote.address, port: remote.port, doing: 'connect' });
}

const wildcard = (family: Family) => (family === 'IPv6' ? '::' : '0.0.0.0');

/**
 * The two sockets of a unicast client on one local port. Both need SO_REUSEADDR to share it, and
 * a port-0 bind with SO_REUSEADDR may land on a port another such socket holds. So without
 * --reuse-address the port is first bound alone (no SO_REUSEADDR: the kernel gives a port nobody
 * holds, or refuses a fixed one that is taken, as before), released, and bound again by the pair.
 * Another program could take the port in those microseconds: then the pair's bind fails, and a
 * port the kernel picked is picked again.
 */
async function bindPair(type: 'udp4' | 'udp6', binding: LocalBinding | null, remote: Endpoint): Promise<[dgram.Socket, dgram.Socket]> {
  const address = binding?.address ?? wildcard(remote.family);
  for (let attempt = 1; ; attempt++) {
    let port = binding?.port ?? 0;
    if (!binding?.reuseAddress) {
      const alone = dgram.createSocket(type);
      try {
        await bindSocket(alone, address, port, binding);
        port = alone.address().port;
      } finally {
        await new Promise<void>((resolve) => alone.close(() => resolve()));
      }
    }
    const sender = dgram.createSocket({ type, reuseAddr: true });
    const listener = dgram.createSocket({ type, reuseAddr: true });
    try {
      await bindSocket(sender, address, port, binding);
      await bindSocket(listener, address, port, binding);
      return [sender, listener];
    } catch (err) {
      sender.close();
      listener.close();
      if ((binding?.port ?? 0) !== 0 || attempt === BIND_ATTEMPTS || (err as NetnoteError).code !== 'bind') throw err;
    }
  }
}

function bindSocket(socket: dgram.Socket, address: string, port: number, binding: LocalBinding | null): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    socket.once('error', (err: NodeJS.ErrnoException) => {
      reject(binding && isBindFailure(err)
        ? bindError(err, { ...binding, address, port }, 'udp')
        : fromSystemError(err, { host: address, port, doing: 'bind' }));
    });
    socket.bind({ address, port }, () => {
      socket.removeAllListeners('error');
      resolve();
    });
  });
}

/** Whether `a` and `b` are the same address and port (an IPv4-mapped IPv6 address is its IPv4 one). */
export function sameEndpoint(a: Endpoint, b: Endpoint): boolean {
  const plain = (address: string) => address.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, '').replace(/%.*$/, '').toLowerCase();
  return a.port === b.port && plain(a.address) === plain(b.address);
}
