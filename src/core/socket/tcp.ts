import net from 'node:net';
import { elapsedMs } from '../clock.js';
import { endpoint, hostPort, type Endpoint } from '../endpoint.js';
import { NetnoteError, fromSystemError } from '../errors.js';
import type { EventSink, Role } from '../events.js';
import { bindError, isBindFailure, localBinding, type LocalBinding, type LocalSpec } from './local.js';
import { applyKeepalive, type Keepalive } from './keepalive.js';
import { resolveAndSay, resolveHost, type ResolvedAddress } from './lookup.js';
import type { TlsClient } from './tls.js';
import type { TlsServer } from './tls-server.js';

export interface ConnectOptions {
  host: string;
  port: number;
  /** --bind / --interface / --reuse-address; null lets the kernel choose. */
  local?: LocalSpec | null;
  /** Per address tried; null waits as long as the kernel does. */
  timeoutMs: number | null;
  signal: AbortSignal;
  role?: Role;
  /** --tls: the socket returned is already secured (bounded by timeoutMs too). */
  tls?: TlsClient | null;
  /** --keepalive: on the TCP socket, before any TLS. */
  keepalive?: Keepalive | null;
}

export function localEndpoint(socket: net.Socket): Endpoint {
  return endpoint(socket.localAddress, socket.localPort, socket.localFamily);
}

export function remoteEndpoint(socket: net.Socket): Endpoint {
  return endpoint(socket.remoteAddress, socket.remotePort, socket.remoteFamily);
}

/**
 * The note's TCP client steps: socket created, getaddrinfo, connect. Every address the resolver
 * gives is tried in order (a `localhost` that answers ::1 first must still reach 127.0.0.1).
 * With TLS, the handshake follows on the connection made; a failed one does not try the next address.
 */
export async function connectTcp(options: ConnectOptions, sink: EventSink): Promise<net.Socket> {
  const socket = await connectFirst(options, sink);
  if (!options.tls) return socket;
  return options.tls.secure(socket, { host: options.host, port: options.port, timeoutMs: options.timeoutMs, signal: options.signal, role: options.role ?? 'client' }, sink);
}

async function connectFirst(options: ConnectOptions, sink: EventSink): Promise<net.Socket> {
  const role = options.role ?? 'client';
  sink.emit({ event: 'created', role, proto: 'tcp' });
  const addresses = await resolveAndSay(options.host, role, sink);
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
      if (options.keepalive) {
        applyKeepalive(socket, options.keepalive);
        sink.emit({ event: 'keepalive', role, ...options.keepalive });
      }
      resolve(socket);
    });
  });
}

export interface ListenOptions {
  host: string;
  port: number;
  backlog: number;
  /** --tls: every accepted socket is handed over wrapped, its handshake under way. */
  tls?: TlsServer | null;
  /** --keepalive: on every accepted socket. */
  keepalive?: Keepalive | null;
}

/** The note's TCP server steps: socket created, bind, listen. Node binds and listens in one call. */
export async function listenTcp(options: ListenOptions, sink: EventSink, onConnection: (socket: net.Socket) => void): Promise<{ listener: net.Server; local: Endpoint }> {
  sink.emit({ event: 'created', role: 'server', proto: 'tcp' });
  const [target] = await resolveHost(options.host);
  const { tls } = options;
  const { keepalive } = options;
  const serve = tls ? (raw: net.Socket) => tls.accept(raw, sink, onConnection) : onConnection;
  const server = net.createServer({ noDelay: true }, keepalive ? (raw) => {
    applyKeepalive(raw, keepalive);
    serve(raw);
  } : serve);
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => reject(fromSystemError(err, { host: target!.address, port: options.port, doing: 'listen' })));
    server.listen({ host: target!.address, port: options.port, backlog: options.backlog }, () => resolve());
  });
  const { address, port, family } = server.address() as net.AddressInfo;
  const local = endpoint(address, port, family);
  sink.emit({ event: 'bound', role: 'server', local });
  sink.emit({ event: 'listening', role: 'server', local, backlog: options.backlog });
  if (keepalive) sink.emit({ event: 'keepalive', role: 'server', ...keepalive });
  if (tls) sink.emit({ event: 'certificate', role: 'server', ...tls.certificate });
  return { listener: server, local };
}
