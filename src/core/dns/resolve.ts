import { elapsedMs } from '../clock.js';
import { hostPort, type Endpoint } from '../endpoint.js';
import { NetnoteError, type ErrorInfo } from '../errors.js';
import { resolveHost, type ResolvedAddress } from '../socket/lookup.js';
import { queryDns, type DnsAnswer, type RecordType } from './query.js';

export interface ResolveConfig {
  host: string;
  /** Shown in the sockaddr, as getaddrinfo(host, port) does; null = 0. */
  port: number | null;
  /** DNS servers to ask directly; empty = the system view only. */
  servers: Endpoint[];
  types: RecordType[];
  timeoutMs: number;
}

export interface ServerQuery {
  server: Endpoint;
  type: RecordType;
  answer: DnsAnswer | null;
  error: ErrorInfo | null;
}

export interface ResolveSummary {
  proto: 'dns';
  host: string;
  port: number | null;
  system: { addresses: ResolvedAddress[]; ms: number; error: ErrorInfo | null };
  queries: ServerQuery[];
  /** Addresses that not every view returned, with the views that did. */
  differences: Array<{ address: string; seenBy: string[] }>;
}

/**
 * The note's DNS troubleshooting, in one run: what the system resolver (getaddrinfo) says, and
 * what each DNS server says when asked directly; where they disagree. The exit code's error is
 * the first thing that went wrong, in the order a person would check it.
 */
export async function runResolve(config: ResolveConfig): Promise<{ summary: ResolveSummary; error: NetnoteError | null }> {
  const started = performance.now();
  const system: ResolveSummary['system'] = { addresses: [], ms: 0, error: null };
  let systemError: NetnoteError | null = null;
  try {
    system.addresses = await resolveHost(config.host);
  } catch (err) {
    systemError = err as NetnoteError;
    system.error = systemError.info;
  }
  system.ms = elapsedMs(started);

  const queries = await Promise.all(config.servers.flatMap((server) => config.types.map(async (type): Promise<ServerQuery & { failure: NetnoteError | null }> => {
    try {
      const answer = await queryDns({ server, name: config.host, type, timeoutMs: config.timeoutMs });
      return { server, type, answer, error: null, failure: null };
    } catch (err) {
      const failure = err as NetnoteError;
      return { server, type, answer: null, error: failure.info, failure };
    }
  })));

  const summary: ResolveSummary = {
    proto: 'dns', host: config.host, port: config.port, system,
    queries: queries.map(({ failure: _, ...query }) => query),
    differences: differences(system.addresses, queries),
  };
  const error = config.servers.length === 0 ? systemError : serverVerdict(config, queries);
  return { summary, error };
}

function differences(system: ResolvedAddress[], queries: ServerQuery[]): ResolveSummary['differences'] {
  // Only the families some server was asked for can differ: `-t A` says nothing about IPv6.
  const asked = new Set(queries.filter((q) => q.answer && (q.type === 'A' || q.type === 'AAAA')).map((q) => (q.type === 'A' ? 'IPv4' : 'IPv6')));
  const views = new Map<string, Set<string>>([['system', new Set(system.filter((a) => asked.has(a.family)).map((a) => a.address))]]);
  for (const { server, answer } of queries) {
    if (!answer || (answer.type !== 'A' && answer.type !== 'AAAA')) continue;
    const name = hostPort(server.address, server.port);
    const seen = views.get(name) ?? new Set<string>();
    for (const record of answer.records) if (record.type === 'A' || record.type === 'AAAA') seen.add(record.data);
    views.set(name, seen);
  }
  if (views.size < 2) return [];
  const all = new Set([...views.values()].flatMap((set) => [...set]));
  return [...all]
    .map((address) => ({ address, seenBy: [...views].filter(([, set]) => set.has(address)).map(([name]) => name) }))
    .filter(({ seenBy }) => seenBy.length < views.size);
}

/** Per server: a failure to get an answer, then an answer that says the name has nothing. */
function serverVerdict(config: ResolveConfig, queries: Array<ServerQuery & { failure: NetnoteError | null }>): NetnoteError | null {
  for (const server of config.servers) {
    const mine = queries.filter((q) => q.server === server);
    const failed = mine.find((q) => q.failure);
    if (failed) return failed.failure;
    const where = hostPort(server.address, server.port);
    const bad = mine.find((q) => q.answer!.rcode !== 'NOERROR');
    if (bad?.answer?.rcode === 'NXDOMAIN') return new NetnoteError('resolve', `${config.host}: no such name (NXDOMAIN from ${where})`);
    if (bad) return new NetnoteError('resolve', `${where} answered ${bad.answer!.rcode} for ${config.host} ${bad.type}`, 'the server failed or refused: check its configuration and logs');
    if (mine.every((q) => q.answer!.records.length === 0)) {
      return new NetnoteError('resolve', `${config.host}: the name exists, no ${config.types.join(' or ')} record (${where})`);
    }
  }
  return null;
}
