import type dgram from 'node:dgram';
import { elapsedMs } from '../clock.js';
import type { Endpoint } from '../endpoint.js';
import type { EventSink } from '../events.js';
import { DatagramLog } from '../run/backpressure.js';
import { bindUdp } from '../socket/udp.js';

export interface UdpServerConfig {
  host: string;
  port: number;
  reuseAddress: boolean;
  /** The note's recvfrom(1024): longer datagrams are cut to this size (and counted). */
  maxSize: number | null;
  mode: 'echo' | 'sink';
}

export interface PeerRecord {
  remote: Endpoint;
  datagrams: number;
  bytesIn: number;
  bytesOut: number;
}

export interface UdpServerSummary {
  proto: 'udp';
  local: Endpoint | null;
  datagrams: { in: number; out: number; truncated: number; sendErrors: number };
  bytesIn: number;
  bytesOut: number;
  /** The largest datagram received, in bytes. */
  largest: number;
  durationMs: number;
  peers: number;
  /** The most recently active peers, most recent last; `olderPeers` counts the ones left out. */
  perPeer: PeerRecord[];
  olderPeers: number;
}

/** Peers listed in the summary; more are only counted. */
export const SUMMARY_PEERS = 100;
/** Peers tracked at all (and counted in the summary): a flood from spoofed sources must not grow memory without bound. */
const TRACKED_PEERS = 10_000;

/**
 * The note's UDP echo server: each datagram is sent back to where it came from. Connectionless,
 * so nothing a peer sends (empty, maximal, garbage) or does can end it.
 */
export class UdpServer {
  private readonly peers = new Map<string, PeerRecord>();
  private datagramsIn = 0;
  private datagramsOut = 0;
  private truncated = 0;
  private sendErrors = 0;
  private bytesIn = 0;
  private bytesOut = 0;
  private largest = 0;
  private readonly started = performance.now();
  private readonly log: DatagramLog;

  private constructor(
    private readonly config: UdpServerConfig,
    private readonly sink: EventSink,
    private readonly socket: dgram.Socket,
    readonly local: Endpoint,
  ) {
    this.log = new DatagramLog(sink, 'server');
    socket.on('message', this.onMessage);
    socket.on('error', (err: NodeJS.ErrnoException) => {
      // An unconnected socket reports little, but whatever it is must not end the server.
      this.sink.emit({ event: 'warning', role: 'server', message: `socket error: ${err.code ?? err.message}` });
    });
  }

  static async start(config: UdpServerConfig, sink: EventSink): Promise<UdpServer> {
    const { socket, local } = await bindUdp(config, sink);
    return new UdpServer(config, sink, socket, local);
  }

  private readonly onMessage = (message: Buffer, rinfo: dgram.RemoteInfo): void => {
    const { maxSize, mode } = this.config;
    this.datagramsIn++;
    this.bytesIn += message.length;
    if (message.length > this.largest) this.largest = message.length;
    const data = maxSize !== null && message.length > maxSize ? message.subarray(0, maxSize) : message;
    if (data !== message) this.truncated++;
    const peer = this.peer(rinfo);
    if (peer) {
      peer.datagrams++;
      peer.bytesIn += message.length;
    }
    if (this.sink.messages) {
      this.log.emit({
        event: 'recv', role: 'server', data, remote: peer?.remote ?? remoteOf(rinfo),
        ...(data === message ? {} : { truncatedFrom: message.length }),
      });
    }
    if (mode === 'sink') return;
    this.socket.send(data, rinfo.port, rinfo.address, (err) => {
      if (err) {
        this.sendErrors++;
        this.sink.emit({ event: 'warning', role: 'server', message: `echo to ${rinfo.address}, ${rinfo.port} failed: ${(err as NodeJS.ErrnoException).code ?? err.message}` });
        return;
      }
      this.datagramsOut++;
      this.bytesOut += data.length;
      if (peer) peer.bytesOut += data.length;
    });
  };

  /** The peer's record, most recently active last; null once too many peers were seen. */
  private peer(rinfo: dgram.RemoteInfo): PeerRecord | null {
    const key = `${rinfo.address}|${rinfo.port}`;
    let record = this.peers.get(key);
    if (record) {
      this.peers.delete(key);
    } else if (this.peers.size >= TRACKED_PEERS) {
      return null;
    } else {
      record = { remote: remoteOf(rinfo), datagrams: 0, bytesIn: 0, bytesOut: 0 };
    }
    this.peers.set(key, record);
    return record;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }

  summary(): UdpServerSummary {
    const listed = [...this.peers.values()].slice(-SUMMARY_PEERS);
    return {
      proto: 'udp', local: this.local,
      datagrams: { in: this.datagramsIn, out: this.datagramsOut, truncated: this.truncated, sendErrors: this.sendErrors },
      bytesIn: this.bytesIn, bytesOut: this.bytesOut, largest: this.largest, durationMs: elapsedMs(this.started),
      peers: this.peers.size,
      perPeer: listed.map((p) => ({ ...p })),
      olderPeers: this.peers.size - listed.length,
    };
  }
}

function remoteOf(rinfo: dgram.RemoteInfo): Endpoint {
  return { address: rinfo.address, port: rinfo.port, family: rinfo.family === 'IPv6' ? 'IPv6' : 'IPv4' };
}
