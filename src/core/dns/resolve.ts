import { elapsedMs } from '../clock.js';
import { hostPort, type Endpoint } from '../endpoint.js';
import { NetnoteError, type ErrorInfo } from '../errors.js';
import type { EventSink } from '../events.js';
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
 * what each DNS server says when asked directly; where they disagree.
 *
 * The exit status, one rule (README, resolve): without servers, getaddrinfo's outcome. With
 * servers, theirs, for the types asked: each server must answer a record of a type asked; one
 * that has none says why (NXDOMAIN, SERVFAIL, REFUSED, no such record: 3; no answer: 5; not
 * reachable: 4). A server that contradicts itself (NXDOMAIN to one type, an answer to another),
 * or fails one type while answering another, is a warning. The system view failing while a
 * server answers is a difference (in `differences`), not the status.
 */
export async function runResolve(config: ResolveConfig, sink: EventSink, signal: AbortSignal): Promise<{ summary: ResolveSummary; error: NetnoteError | null }> {
  const started = performance.now();
  const system: ResolveSummary['system'] = { addresses: [], ms: 0, error: null };
  let systemError: NetnoteError | null = null;
  try {
    system.addresses = await untilStopped(resolveHost(config.host), signal);
  } catch (err) {
    systemError = err as NetnoteError;
    system.error = systemError.info;
  }
  system.ms = elapsedMs(started);

  const queries = await Promise.all(config.servers.flatMap((server) => config.types.map(async (type): Promise<AskedQuery> => {
    try {
      const answer = await untilStopped(queryDns({ server, name: config.host, type, timeoutMs: config.timeoutMs }), signal);
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
  if (signal.aborted) return { summary, error: new NetnoteError('interrupted', 'interrupted') };
  if (config.servers.length === 0) return { summary, error: systemError };
  const verdicts = config.servers.map((server) => serverVerdict(config.host, server, queries.filter((q) => q.server === server)));
  for (const { warnings } of verdicts) for (const message of warnings) sink.emit({ event: 'warning', role: 'client', message });
  return { summary, error: verdicts.find((v) => v.error)?.error ?? null };
}

type AskedQuery = ServerQuery & { failure: NetnoteError | null };

/** The work, unless a signal comes first: then it is abandoned, as `interrupted`. */
function untilStopped<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(new NetnoteError('interrupted', 'interrupted'));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new NetnoteError('interrupted', 'interrupted'));
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
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

/** A record of the type asked (any, for ANY): an A query answered by a CNAME alone has none. */
function answered(q: ServerQuery): boolean {
  return q.answer?.rcode === 'NOERROR' && q.answer.records.some((r) => q.type === 'ANY' || r.type === q.type);
}

/** One server's verdict for the types asked, and what it said that a person should see anyway. */
function serverVerdict(host: string, server: Endpoint, mine: AskedQuery[]): { error: NetnoteError | null; warnings: string[] } {
  const where = hostPort(server.address, server.port);
  const warnings: string[] = [];
  const nxdomain = mine.filter((q) => q.answer?.rcode === 'NXDOMAIN');
  const exists = mine.filter((q) => q.answer?.rcode === 'NOERROR');
  if (nxdomain.length > 0 && exists.length > 0) {
    warnings.push(`${where} contradicts itself: NXDOMAIN for ${host} ${nxdomain.map((q) => q.type).join(', ')}, but the name exists for ${exists.map((q) => q.type).join(', ')}`);
  }
  if (mine.some(answered)) {
    // Answered for a type asked: the others did not decide, but a person should see them.
    for (const q of mine) {
      if (q.failure) warnings.push(`${where}, ${q.type}: ${q.failure.message}`);
      else if (q.answer!.rcode !== 'NOERROR' && q.answer!.rcode !== 'NXDOMAIN') warnings.push(`${where} answered ${q.answer!.rcode} for ${host} ${q.type}`);
    }
    return { error: null, warnings };
  }
  const failed = mine.find((q) => q.failure);
  if (failed) return { error: failed.failure, warnings };
  if (nxdomain.length > 0 && exists.length === 0) return { error: new NetnoteError('resolve', `${host}: no such name (NXDOMAIN from ${where})`), warnings };
  const bad = mine.find((q) => q.answer!.rcode !== 'NOERROR' && q.answer!.rcode !== 'NXDOMAIN');
  if (bad) return { error: new NetnoteError('resolve', `${where} answered ${bad.answer!.rcode} for ${host} ${bad.type}`, 'the server failed or refused: check its configuration and logs'), warnings };
  return { error: new NetnoteError('resolve', `${host}: the name exists, no ${mine.map((q) => q.type).join(' or ')} record (${where})`), warnings };
}
