// tcpdump as the referee: a capture started inside a namespace before the traffic, read back from
// its pcap file, every frame decoded far enough to tell a SYN from a pure ACK from a fragment.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import type { Namespace } from './netns.js';

/** Why a capture cannot run here (a missing program), or null when it can. */
export function captureToolsMissing(): string | null {
  const missing = ['tcpdump', 'ethtool'].filter((name) => spawnSync('sh', ['-c', `command -v ${name}`]).status !== 0);
  return missing.length === 0 ? null : `${missing.join(' and ')} missing: apt-get install -y ${missing.join(' ')}`;
}

/**
 * Turns off the offloads that let the kernel hand a veth "segments" of up to 64 KiB (TSO, GSO)
 * or merge received ones (GRO): the capture then holds the MTU-sized frames a real Ethernet link
 * carries. Returns what `ethtool -k` reports afterwards.
 */
export function disableOffloads(ns: Namespace, iface: string): Record<string, string> {
  ns.run('ethtool', ['-K', iface, 'tso', 'off', 'gso', 'off', 'gro', 'off']);
  const features = ns.run('ethtool', ['-k', iface]);
  const state = (name: string) => features.match(new RegExp(`^${name}: (\\w+)`, 'm'))?.[1] ?? 'unknown';
  return {
    tso: state('tcp-segmentation-offload'),
    gso: state('generic-segmentation-offload'),
    gro: state('generic-receive-offload'),
  };
}

export type FrameKind = 'syn' | 'fin' | 'rst' | 'data' | 'ack' | 'udp' | 'fragment' | 'other';

export interface Frame {
  /** The frame's length on the link (pcap's orig_len): Ethernet header and all, no FCS. */
  length: number;
  kind: FrameKind;
  family: 'IPv4' | 'IPv6' | null;
  /** "address port" of the sender and receiver (TCP and UDP; null for non-first fragments). */
  from: string | null;
  to: string | null;
  /** TCP: sequence number, flags, header length (20 + options) and payload length. */
  seq?: number;
  flags?: number;
  tcpHeader?: number;
  payload?: number;
}

export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;

/**
 * Reads a classic pcap file (what tcpdump -w writes). A record still being written at the end of
 * the file is left out, so a file can be read while tcpdump -U is still appending to it.
 */
export function readPcap(path: string): Frame[] {
  if (!existsSync(path)) return [];
  const data = readFileSync(path);
  if (data.length < 24) return [];
  const magic = data.readUInt32LE(0);
  const little = magic === 0xa1b2c3d4 || magic === 0xa1b23c4d;
  const u32 = (offset: number) => (little ? data.readUInt32LE(offset) : data.readUInt32BE(offset));
  const linkType = u32(20);
  if (linkType !== 1) throw new Error(`pcap link type ${linkType}: only Ethernet (1) is decoded`);
  const frames: Frame[] = [];
  let offset = 24;
  while (offset + 16 <= data.length) {
    const captured = u32(offset + 8);
    const length = u32(offset + 12);
    if (offset + 16 + captured > data.length) break;
    frames.push(decode(data.subarray(offset + 16, offset + 16 + captured), length));
    offset += 16 + captured;
  }
  return frames;
}

function decode(frame: Buffer, length: number): Frame {
  const other: Frame = { length, kind: 'other', family: null, from: null, to: null };
  if (frame.length < 14) return other;
  const etherType = frame.readUInt16BE(12);
  let proto: number;
  let l4: number;
  let l4Length: number;
  let family: 'IPv4' | 'IPv6';
  let src: string;
  let dst: string;
  if (etherType === 0x0800) {
    family = 'IPv4';
    const ihl = (frame[14]! & 0x0f) * 4;
    const total = frame.readUInt16BE(16);
    const fragment = frame.readUInt16BE(20);
    proto = frame[23]!;
    src = [...frame.subarray(26, 30)].join('.');
    dst = [...frame.subarray(30, 34)].join('.');
    if ((fragment & 0x1fff) !== 0) return { length, kind: 'fragment', family, from: src, to: dst };
    l4 = 14 + ihl;
    l4Length = total - ihl;
  } else if (etherType === 0x86dd) {
    family = 'IPv6';
    proto = frame[20]!;
    const payload = frame.readUInt16BE(18);
    src = ipv6(frame.subarray(22, 38));
    dst = ipv6(frame.subarray(38, 54));
    l4 = 54;
    l4Length = payload;
    if (proto === 44) {
      // Fragment extension header: next header, reserved, offset (13 bits) + flags, id.
      const next = frame[54]!;
      const fragmentOffset = frame.readUInt16BE(56) >> 3;
      if (fragmentOffset !== 0) return { length, kind: 'fragment', family, from: src, to: dst };
      proto = next;
      l4 = 62;
      l4Length = payload - 8;
    }
  } else {
    return other;
  }
  if (frame.length < l4 + 4) return { ...other, family };
  const from = `${src} ${frame.readUInt16BE(l4)}`;
  const to = `${dst} ${frame.readUInt16BE(l4 + 2)}`;
  if (proto === 17) return { length, kind: 'udp', family, from, to };
  if (proto !== 6 || frame.length < l4 + 14) return { length, kind: 'other', family, from, to };
  const tcpHeader = (frame[l4 + 12]! >> 4) * 4;
  const flags = frame[l4 + 13]!;
  const payload = l4Length - tcpHeader;
  const kind: FrameKind = flags & TCP_SYN ? 'syn' : flags & TCP_RST ? 'rst' : flags & TCP_FIN ? 'fin' : payload > 0 ? 'data' : 'ack';
  return { length, kind, family, from, to, seq: frame.readUInt32BE(l4 + 4), flags, tcpHeader, payload };
}

function ipv6(bytes: Buffer): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(bytes.readUInt16BE(i).toString(16));
  return groups.join(':');
}

export interface Tally {
  frames: number;
  bytes: number;
  /** Frames and bytes of each kind: what to look at when the model and the capture disagree. */
  kinds: Partial<Record<FrameKind, { frames: number; bytes: number }>>;
  largest: number;
}

export function tally(frames: Frame[]): Tally {
  const kinds: Tally['kinds'] = {};
  for (const f of frames) {
    const k = (kinds[f.kind] ??= { frames: 0, bytes: 0 });
    k.frames++;
    k.bytes += f.length;
  }
  return {
    frames: frames.length,
    bytes: frames.reduce((total, f) => total + f.length, 0),
    kinds,
    largest: frames.reduce((largest, f) => Math.max(largest, f.length), 0),
  };
}

/** The TCP connections in a capture, by "client → server" (the side that sent the first SYN). */
export function tcpConnections(frames: Frame[]): Map<string, Frame[]> {
  const connections = new Map<string, Frame[]>();
  for (const f of frames) {
    if (f.flags === undefined) continue;
    const forward = `${f.from} → ${f.to}`;
    const backward = `${f.to} → ${f.from}`;
    const key = connections.has(forward) ? forward : connections.has(backward) ? backward : (f.kind === 'syn' && !(f.flags & 0x10) ? forward : null);
    if (key === null) continue; // a segment of a connection whose SYN this capture missed
    if (!connections.has(key)) connections.set(key, []);
    connections.get(key)!.push(f);
  }
  return connections;
}

/**
 * Whether a TCP connection is complete in the capture: both SYNs, both FINs, and a pure ACK
 * after the second FIN (the one that acknowledges it).
 */
export function tcpClosed(frames: Frame[]): boolean {
  const syns = frames.filter((f) => f.kind === 'syn').length;
  const fins = frames.flatMap((f, i) => (f.flags !== undefined && f.flags & TCP_FIN ? [i] : []));
  if (syns < 2 || fins.length < 2) return false;
  return frames.slice(fins[1]! + 1).some((f) => f.kind === 'ack');
}

export interface Capture {
  file: string;
  /** What the file holds so far. */
  frames(): Frame[];
  /** Polls the file until `done(frames)` holds and nothing new arrived for `quietMs`; throws after `timeoutMs`. */
  settle(done: (frames: Frame[]) => boolean, timeoutMs?: number, quietMs?: number): Promise<Frame[]>;
  /** SIGINT, then the whole file and tcpdump's own count of packets the kernel dropped. */
  stop(): Promise<{ frames: Frame[]; dropped: number | null; stderr: string }>;
  proc: ChildProcess;
}

/**
 * Starts `tcpdump -i IFACE -w FILE FILTER` in the namespace and resolves once it says it is
 * listening, so no packet of what follows can be missed. --immediate-mode hands every packet to
 * tcpdump at once and -U writes it to the file at once: the file can be read while it runs.
 */
export async function startCapture(ns: Namespace, iface: string, filter: string, file: string): Promise<Capture> {
  const proc = spawn('ip', [
    'netns', 'exec', ns.name, 'tcpdump', '-i', iface, '--immediate-mode', '-U', '-B', '32768', '-s', '128', '-Z', 'root', '-w', file, filter,
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  const exited = new Promise<void>((resolve) => proc.on('close', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`tcpdump did not start listening:\n${stderr}`)), 10_000);
    proc.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
      if (/listening on/.test(stderr)) {
        clearTimeout(timer);
        resolve();
      }
    });
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`tcpdump exited before listening:\n${stderr}`));
    });
  });
  const frames = () => readPcap(file);
  return {
    file,
    proc,
    frames,
    async settle(done, timeoutMs = 5000, quietMs = 200) {
      const started = Date.now();
      let last = -1;
      let since = Date.now();
      for (;;) {
        const now = frames();
        if (now.length !== last) {
          last = now.length;
          since = Date.now();
        }
        if (done(now) && Date.now() - since >= quietMs) return now;
        if (Date.now() - started > timeoutMs) {
          throw new Error(`the capture did not settle within ${timeoutMs} ms: ${JSON.stringify(tally(now))}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGINT');
      await exited;
      const dropped = stderr.match(/(\d+) packets? dropped by kernel/);
      return { frames: frames(), dropped: dropped ? Number(dropped[1]) : null, stderr };
    },
  };
}
