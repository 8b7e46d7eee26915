import dgram from 'node:dgram';
import net from 'node:net';
import { familyOf, hostPort, isAddress, type Endpoint, type Family } from './address.js';
import { NetnoteError, fromSystemError } from './errors.js';
import type { EventSink, Role } from './events.js';
import { bindError, isBindFailure, localBinding, type LocalBinding, type LocalSpec } from './local.js';
import { resolveHost, type ResolvedAddress } from './resolve.js';
import { elapsedMs } from './stats.js';

export interface ConnectOptions {
  host: string;
  port: number;
  /** --bind / --interface / --reuse-address; null lets the kernel choose. */
  local?: LocalSpec | null;
  /** Per address tried; null waits as long as the kernel does. */
  timeoutMs: number | null;
  signal: AbortSignal;
  role?: Role;
}

export function localEndpoint(socket: net.Socket): Endpoint {
  return endpoint(socket.localAddress, socket.localPort, socket.localFamily);
}

export function remoteEndpoint(socket: net.Socket): Endpoint {
  return endpoint(socket.remoteAddress, socket.remotePort, socket.remoteFamily);
}

function endpoint(address: string | undefined, port: number | undefined, family: string | undefined): Endpoint {
  const addr = address ?? '';
  return { address: addr, port: port ?? 0, family: family === 'IPv6' || family === 'IPv4' ? family as Family : familyOf(addr) };
}

/** getaddrinfo, and the note's `DNS for HOST: IP` line when HOST was a name. */
async function resolveFor(host: string, role: Role, sink: EventSink): Promise<ResolvedAddress[]> {
  const started = performance.now();
  const addresses = await resolveHost(host);
  if (!isAddress(host)) sink.emit({ event: 'resolved', role, host, address: addresses[0]!.address, family: addresses[0]!.family, ms: elapsedMs(started) });
  return addresses;
}

/**
 * The note's TCP client steps: socket created, getaddrinfo, connect. Every address the resolver
 * gives is tried in order (a `localhost` that answers ::1 first must still reach 127.0.0.1).
 */
export async function connectTcp(options: ConnectOptions, sink: EventSink): Promise<net.Socket> {
  const role = options.role ?? 'client';
  sink.emit({ event: 'created', role, proto: 'tcp' });
  const addresses = await resolveFor(options.host, role, sink);
  let lastError: NetnoteError | undefined;
  let attempts = 0;
  for (const target of addresses) {
    let binding: LocalBinding | null;
    try {
      binding = localBinding(options.local ?? null, target.family);
    } catch (err) {
      lastError ??= err as NetnoteError; // an address of the other family: try the next one
      continue;
    }
    if (attempts++ > 0) sink.emit({ event: 'created', role, proto: 'tcp' });
    try {
      return await connectOne(target, binding, options, sink);
    } catch (err) {
      lastError = err as NetnoteError;
      if (lastError.code === 'interrupted' || lastError.code === 'bind') break;
    }
  }
  throw lastError!;
}

function connectOne(target: ResolvedAddress, binding: LocalBinding | null, options: ConnectOptions, sink: EventSink): Promise<net.Socket> {
  const role = options.role ?? 'client';
  const remote: Endpoint = { address: target.address, port: options.port, family: target.family };
  sink.emit({ event: 'connecting', role, remote });
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const socket = new net.Socket();
    const fail = (error: NetnoteError) => {
      cleanup();
      socket.destroy();
      reject(error);
    };
    const onError = (err: NodeJS.ErrnoException) => fail(binding && isBindFailure(err)
      ? bindError(err, binding, 'tcp')
      : fromSystemError(err, { host: target.address, port: options.port, doing: 'connect' }));
    const onAbort = () => fail(new NetnoteError('interrupted', 'interrupted while connecting'));
    const timer = options.timeoutMs === null ? undefined : setTimeout(() => fail(new NetnoteError('timeout',
      `no answer from ${hostPort(target.address, options.port)} within ${options.timeoutMs} ms (connect timeout)`,
      'the host may drop packets to this port (firewall), or be down')), options.timeoutMs);
    const cleanup = () => {
      clearTimeout(timer);
      socket.off('error', onError);
      options.signal.removeEventListener('abort', onAbort);
    };
    if (options.signal.aborted) return onAbort();
    options.signal.addEventListener('abort', onAbort, { once: true });
    socket.once('error', onError);
    const local = binding ? { localAddress: binding.address, localPort: binding.port } : {};
    socket.connect({ host: target.address, port: options.port, ...local }, () => {
      cleanup();
      socket.setNoDelay(true);
      if (binding) sink.emit({ event: 'bound', role, local: localEndpoint(socket) });
      sink.emit({ event: 'connected', role, local: localEndpoint(socket), remote: remoteEndpoint(socket), ms: elapsedMs(started) });
      resolve(socket);
    });
  });
}

export interface ListenOptions {
  host: string;
  port: number;
  backlog: number;
}

/** The note's TCP server steps: socket created, bind, listen. Node binds and listens in one call. */
export async function listenTcp(options: ListenOptions, sink: EventSink, onConnection: (socket: net.Socket) => void): Promise<{ listener: net.Server; local: Endpoint }> {
  sink.emit({ event: 'created', role: 'server', proto: 'tcp' });
  const [target] = await resolveHost(options.host);
  const server = net.createServer({ noDelay: true }, onConnection);
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => reject(fromSystemError(err, { host: target!.address, port: options.port, doing: 'listen' })));
    server.listen({ host: target!.address, port: options.port, backlog: options.backlog }, () => resolve());
  });
  const { address, port, family } = server.address() as net.AddressInfo;
  const local = endpoint(address, port, family);
  sink.emit({ event: 'bound', role: 'server', local });
  sink.emit({ event: 'listening', role: 'server', local, backlog: options.backlog });
  return { listener: server, local };
}

/** Largest UDP payload: 65535 less the UDP header (8), and for IPv4 less its 20-byte header too. */
export const MAX_DATAGRAM: Record<Family, number> = { IPv4: 65507, IPv6: 65527 };

export interface UdpConnectOptions {
  host: string;
  port: number;
  local?: LocalSpec | null;
}

/**
 * The note's UDP client socket, connected: the kernel then filters replies to that peer and
 * reports ICMP port unreachable as ECONNREFUSED instead of leaving us to time out.
 */
export async function connectUdp(options: UdpConnectOptions, sink: EventSink): Promise<{ socket: dgram.Socket; remote: Endpoint }> {
  sink.emit({ event: 'created', role: 'client', proto: 'udp' });
  const [target] = await resolveFor(options.host, 'client', sink);
  const binding = localBinding(options.local ?? null, target!.family);
  const socket = dgram.createSocket({ type: target!.family === 'IPv6' ? 'udp6' : 'udp4', reuseAddr: binding?.reuseAddress === true });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', (err: NodeJS.ErrnoException) => reject(binding && isBindFailure(err)
      ? bindError(err, binding, 'udp')
      : fromSystemError(err, { host: target!.address, port: options.port, doing: 'connect' })));
    const connect = () => socket.connect(options.port, target!.address, () => resolve());
    if (binding) socket.bind({ address: binding.address, port: binding.port }, connect);
    else connect();
  });
  socket.removeAllListeners('error');
  if (binding) {
    const { address, port, family } = socket.address();
    sink.emit({ event: 'bound', role: 'client', local: endpoint(address, port, family) });
  }
  return { socket, remote: { address: target!.address, port: options.port, family: target!.family } };
}

export interface UdpBindOptions {
  host: string;
  port: number;
  /** SO_REUSEADDR: share the port with other sockets that ask for it too (libuv leaves it off for UDP). */
  reuseAddress: boolean;
}

/** The note's UDP server socket: created, then bound. UDP has no listen step. */
export async function bindUdp(options: UdpBindOptions, sink: EventSink): Promise<{ socket: dgram.Socket; local: Endpoint }> {
  sink.emit({ event: 'created', role: 'server', proto: 'udp' });
  const [target] = await resolveHost(options.host);
  const socket = dgram.createSocket({ type: target!.family === 'IPv6' ? 'udp6' : 'udp4', reuseAddr: options.reuseAddress });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', (err) => reject(fromSystemError(err, { host: target!.address, port: options.port, doing: 'listen' })));
    socket.bind({ address: target!.address, port: options.port }, () => resolve());
  });
  socket.removeAllListeners('error');
  const { address, port, family } = socket.address();
  const local = endpoint(address, port, family);
  sink.emit({ event: 'bound', role: 'server', local });
  return { socket, local };
}
