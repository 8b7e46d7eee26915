import dgram from 'node:dgram';
import net from 'node:net';
import packet from 'dns-packet';
import ipaddr from 'ipaddr.js';
import { elapsedMs } from '../clock.js';
import { familyOf, hostPort, type Endpoint } from '../endpoint.js';
import { InvalidValueError, NetnoteError } from '../errors.js';
import { parseAddressPort } from '../socket/address.js';

export const RECORD_TYPES = ['A', 'AAAA', 'CNAME', 'MX', 'TXT', 'SRV', 'NS', 'SOA', 'PTR', 'ANY'] as const;
export type RecordType = (typeof RECORD_TYPES)[number];

export interface DnsRecord {
  name: string;
  type: string;
  ttl: number;
  /** The record's data as dig shows it. */
  data: string;
}

export interface DnsAnswer {
  server: Endpoint;
  type: RecordType;
  /** NOERROR, NXDOMAIN, SERVFAIL, REFUSED… */
  rcode: string;
  records: DnsRecord[];
  ms: number;
  /** The UDP answer was truncated and the query was asked again over TCP. */
  overTcp: boolean;
}

export interface DnsQuery {
  server: Endpoint;
  name: string;
  type: RecordType;
  timeoutMs: number;
}

/** Asks one DNS server directly (not through the system resolver): UDP, then TCP if truncated. */
export async function queryDns(query: DnsQuery): Promise<DnsAnswer> {
  const started = performance.now();
  const request = {
    type: 'query' as const,
    id: Math.floor(Math.random() * 65536),
    flags: packet.RECURSION_DESIRED,
    questions: [{ type: query.type as packet.RecordType, name: query.type === 'PTR' ? reverseName(query.name) : query.name }],
  };
  let response = await queryOverUdp(query, packet.encode(request), request.id);
  let overTcp = false;
  if ((response.flags ?? 0) & packet.TRUNCATED_RESPONSE) {
    response = await queryOverTcp(query, packet.streamEncode(request), request.id);
    overTcp = true;
  }
  return {
    server: query.server,
    type: query.type,
    rcode: (response as packet.Packet & { rcode?: string }).rcode ?? 'NOERROR',
    records: (response.answers ?? []).map(describeRecord),
    ms: elapsedMs(started),
    overTcp,
  };
}

function queryOverUdp(query: DnsQuery, message: Buffer, id: number): Promise<packet.Packet> {
  const { server } = query;
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket(server.family === 'IPv6' ? 'udp6' : 'udp4');
    const done = (fn: () => void) => {
      clearTimeout(timer);
      socket.close();
      fn();
    };
    // Anything but our answer is ignored while the timer runs (a real answer may still come, as
    // dig keeps waiting after an ID mismatch), but counted: a broken server is not a silent one.
    const ignored = { undecodable: 0, other: 0 };
    const timer = setTimeout(() => done(() => reject(ignored.undecodable + ignored.other > 0 ? malformed(query, ignored) : timedOut(query))), query.timeoutMs);
    socket.on('error', (err: NodeJS.ErrnoException) => done(() => reject(unreachable(query, err))));
    socket.on('message', (message) => {
      const decoded = tryDecode(message);
      if (decoded && decoded.id === id && decoded.type === 'response') done(() => resolve(decoded));
      else if (decoded) ignored.other++;
      else ignored.undecodable++;
    });
    socket.connect(server.port, server.address, () => socket.send(message));
  });
}

function queryOverTcp(query: DnsQuery, message: Buffer, id: number): Promise<packet.Packet> {
  const { server } = query;
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: server.address, port: server.port });
    let received = Buffer.alloc(0);
    const done = (fn: () => void) => {
      clearTimeout(timer);
      socket.destroy();
      fn();
    };
    const timer = setTimeout(() => done(() => reject(timedOut(query))), query.timeoutMs);
    socket.on('error', (err: NodeJS.ErrnoException) => done(() => reject(unreachable(query, err))));
    socket.on('connect', () => socket.write(message));
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (received.length < 2 || received.length < 2 + received.readUInt16BE(0)) return;
      const decoded = tryDecode(received.subarray(2));
      done(() => (decoded && decoded.id === id ? resolve(decoded) : reject(new NetnoteError('lost', `malformed DNS answer from ${where(query)} over TCP`))));
    });
  });
}

function tryDecode(message: Buffer): packet.Packet | null {
  try {
    return packet.decode(message);
  } catch {
    return null;
  }
}

function timedOut(query: DnsQuery): NetnoteError {
  return new NetnoteError('timeout', `DNS server ${where(query)} did not answer within ${query.timeoutMs} ms`,
    'is a DNS server running there? try: netnote resolve NAME --server ANOTHER');
}

function malformed(query: DnsQuery, ignored: { undecodable: number; other: number }): NetnoteError {
  const total = ignored.undecodable + ignored.other;
  const kinds = [
    ignored.undecodable ? `${ignored.undecodable} undecodable` : '',
    ignored.other ? `${ignored.other} not a response with the query's ID` : '',
  ].filter(Boolean).join(', ');
  return new NetnoteError('lost', `malformed DNS answer from ${where(query)}: ${total} ${total === 1 ? 'reply' : 'replies'} in ${query.timeoutMs} ms, none an answer to the query (${kinds})`,
    'the server is broken, or something else answers on that port');
}

function unreachable(query: DnsQuery, err: NodeJS.ErrnoException): NetnoteError {
  return new NetnoteError('unreachable', `DNS server ${where(query)} cannot be reached (${err.code ?? err.message})`);
}

function where(query: DnsQuery): string {
  return hostPort(query.server.address, query.server.port);
}

/** `192.0.2.1` → `1.2.0.192.in-addr.arpa`; IPv6 by nibbles under ip6.arpa. A name passes as is. */
function reverseName(name: string): string {
  if (!ipaddr.isValid(name)) return name;
  const address = ipaddr.parse(name);
  if (address.kind() === 'ipv4') return `${address.toByteArray().reverse().join('.')}.in-addr.arpa`;
  const nibbles = address.toByteArray().flatMap((byte) => [byte >> 4, byte & 15]).map((n) => n.toString(16));
  return `${nibbles.reverse().join('.')}.ip6.arpa`;
}

function describeRecord(answer: packet.Answer): DnsRecord {
  const record = answer as packet.Answer & { ttl?: number; data?: unknown };
  return { name: record.name, type: record.type, ttl: record.ttl ?? 0, data: describeData(record.type, record.data) };
}

function describeData(type: string, data: unknown): string {
  const d = data as Record<string, unknown>;
  switch (type) {
    case 'MX': return `${d.preference} ${d.exchange}`;
    case 'SRV': return `${d.priority} ${d.weight} ${d.port} ${d.target}`;
    case 'SOA': return `${d.mname} ${d.rname} ${d.serial} ${d.refresh} ${d.retry} ${d.expire} ${d.minimum}`;
    case 'TXT': return (Array.isArray(data) ? data : [data]).map((part) => JSON.stringify(Buffer.isBuffer(part) ? part.toString('utf8') : String(part))).join(' ');
    default: return Buffer.isBuffer(data) ? data.toString('hex') : typeof data === 'string' ? data : JSON.stringify(data);
  }
}

/** `IP` or `IP:PORT` or `[IPv6]:PORT` for --server; a DNS server is named by address, not by name. */
export function parseServer(input: string): Endpoint {
  const parsed = parseAddressPort(input, 53);
  if (!parsed) throw new InvalidValueError('DNS server', input, 'expected IP or IP:PORT, e.g. 127.0.0.1:5353 or [::1]:53');
  if (parsed.port === 0) throw new InvalidValueError('DNS server', input, 'port 0 cannot be asked: give the port the server listens on (53 when none is given)');
  return { ...parsed, family: familyOf(parsed.address) };
}
