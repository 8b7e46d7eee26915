import dgram from 'node:dgram';
import { endpoint, type Endpoint, type Family } from '../endpoint.js';
import { fromSystemError } from '../errors.js';
import type { EventSink } from '../events.js';
import { bindError, isBindFailure, localBinding, type LocalSpec } from './local.js';
import { resolveAndSay, resolveHost } from './lookup.js';

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
  const [target] = await resolveAndSay(options.host, 'client', sink);
  const binding = localBinding(options.local ?? null, target!.family);
  const socket = dgram.createSocket({ type: target!.family === 'IPv6' ? 'udp6' : 'udp4', reuseAddr: binding?.reuseAddress === true });
  await new Promise<void>((resolve, reject) => {
    const fail = (err: NodeJS.ErrnoException) => {
      socket.close();
      reject(binding && isBindFailure(err) ? bindError(err, binding, 'udp') : fromSystemError(err, { host: target!.address, port: options.port, doing: 'connect' }));
    };
    socket.once('error', fail);
    // connect() calls back with its error (no route: ENETUNREACH), not with an 'error' event.
    const connect = () => socket.connect(options.port, target!.address, (err?: Error) => (err ? fail(err) : resolve()));
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
