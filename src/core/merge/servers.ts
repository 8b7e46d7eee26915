import { SUMMARY_ADDRESSES, type AddressReturns, type DropSummary } from '../tcp/drops.js';
import { SUMMARY_CLIENTS, type ServerSummary } from '../tcp/server.js';
import { SUMMARY_PEERS, type UdpServerSummary } from '../udp/server.js';
import { sameEndpoint, sum, wallSpan, type RunPart } from './parts.js';

/**
 * Servers added up (several servers behind one name, or one server's runs): clients and bytes
 * summed; the per-client list keeps the latest, numbered on from one run to the next.
 */
export function mergeTcpServers(parts: Array<RunPart<ServerSummary>>): ServerSummary {
  const summaries = parts.map((p) => p.summary);
  let before = 0;
  const records = summaries.flatMap((s) => {
    const offset = before;
    before += s.clients.served;
    return s.perClient.map((r) => ({ ...r, client: r.client + offset }));
  });
  const listed = records.slice(-SUMMARY_CLIENTS);
  return {
    proto: 'tcp',
    local: sameEndpoint(summaries.map((s) => s.local)),
    clients: {
      served: sum(summaries.map((s) => s.clients.served)),
      rejected: sum(summaries.map((s) => s.clients.rejected)),
      active: sum(summaries.map((s) => s.clients.active)),
      // Runs saved before the count existed have none.
      shed: sum(summaries.map((s) => s.clients.shed ?? 0)),
    },
    bytesIn: sum(summaries.map((s) => s.bytesIn)),
    bytesOut: sum(summaries.map((s) => s.bytesOut)),
    durationMs: wallSpan(parts, (s) => s.durationMs).durationMs,
    perClient: listed,
    olderClients: sum(summaries.map((s) => s.olderClients)) + records.length - listed.length,
    tls: summaries.some((s) => s.tls) ? {
      handshakes: sum(summaries.map((s) => s.tls?.handshakes ?? 0)),
      failed: sum(summaries.map((s) => s.tls?.failed ?? 0)),
      resumed: sum(summaries.map((s) => s.tls?.resumed ?? 0)),
    } : null,
    ...mergeDrops(summaries),
  };
}

/**
 * Drops added up per client address. A median cannot be added: the merged one is the median of
 * the runs' medians, weighted by how often the address came back in each (min and max are exact).
 */
function mergeDrops(summaries: ServerSummary[]): { drops?: DropSummary } {
  const drops = summaries.flatMap((s) => (s.drops ? [s.drops] : []));
  const [first] = drops;
  if (!first) return {};
  const byAddress = new Map<string, AddressReturns[]>();
  for (const a of drops.flatMap((d) => d.perAddress)) byAddress.set(a.address, [...(byAddress.get(a.address) ?? []), a]);
  const perAddress = [...byAddress].map(([address, parts]): AddressReturns => {
    const timed = parts.filter((p) => p.backMs !== null);
    const medians = timed.flatMap((p) => Array<number>(p.returned).fill(p.backMs!.p50)).sort((x, y) => x - y);
    return {
      address, drops: sum(parts.map((p) => p.drops)), returned: sum(parts.map((p) => p.returned)),
      backMs: timed.length === 0 ? null : {
        min: Math.min(...timed.map((p) => p.backMs!.min)), p50: medians[Math.ceil(medians.length / 2) - 1] ?? timed[0]!.backMs!.p50, max: Math.max(...timed.map((p) => p.backMs!.max)),
      },
    };
  });
  const listed = perAddress.slice(-SUMMARY_ADDRESSES);
  return {
    drops: {
      mode: first.mode, afterMs: first.afterMs, everyMs: first.everyMs, drops: sum(drops.map((d) => d.drops)),
      perAddress: listed, olderAddresses: sum(drops.map((d) => d.olderAddresses)) + perAddress.length - listed.length,
    },
  };
}

export function mergeUdpServers(parts: Array<RunPart<UdpServerSummary>>): UdpServerSummary {
  const summaries = parts.map((p) => p.summary);
  const peers = summaries.flatMap((s) => s.perPeer);
  const listed = peers.slice(-SUMMARY_PEERS);
  const datagrams = (name: 'in' | 'out' | 'truncated' | 'sendErrors') => sum(summaries.map((s) => s.datagrams[name]));
  return {
    proto: 'udp',
    local: sameEndpoint(summaries.map((s) => s.local)),
    datagrams: { in: datagrams('in'), out: datagrams('out'), truncated: datagrams('truncated'), sendErrors: datagrams('sendErrors') },
    bytesIn: sum(summaries.map((s) => s.bytesIn)),
    bytesOut: sum(summaries.map((s) => s.bytesOut)),
    largest: Math.max(...summaries.map((s) => s.largest)),
    durationMs: wallSpan(parts, (s) => s.durationMs).durationMs,
    peers: sum(summaries.map((s) => s.peers)),
    perPeer: listed,
    olderPeers: sum(summaries.map((s) => s.olderPeers)) + peers.length - listed.length,
  };
}
