import { hostPort } from '../core/endpoint.js';
import type { ResolveSummary } from '../core/dns/resolve.js';

/** The resolve report: the note's getaddrinfo view, each server's answers, and where they differ. */
export function resolveLines(s: ResolveSummary): string[] {
  const lines: string[] = [];
  const port = s.port ?? 0;
  const [first] = s.system.addresses;
  if (first) lines.push(`DNS for ${s.host}: ${first.address}`);
  lines.push(`getaddrinfo(${s.host}, ${port}): ${s.system.error ? s.system.error.message : `${s.system.addresses.length} ${s.system.addresses.length === 1 ? 'address' : 'addresses'}`} in ${s.system.ms.toFixed(2)} ms`);
  for (const { address, family } of s.system.addresses) {
    const [af, sockaddr] = family === 'IPv6' ? ['AF_INET6', `('${address}', ${port}, 0, 0)`] : ['AF_INET', `('${address}', ${port})`];
    lines.push(`(${af}, SOCK_STREAM, 6, '', ${sockaddr})`, `(${af}, SOCK_DGRAM, 17, '', ${sockaddr})`);
  }
  for (const q of s.queries) {
    const server = hostPort(q.server.address, q.server.port);
    if (!q.answer) {
      lines.push(`server ${server}, ${q.type}: ${q.error?.message ?? 'no answer'}`);
      continue;
    }
    const a = q.answer;
    const count = a.records.length === 0 ? ', no records' : '';
    lines.push(`server ${server}, ${q.type}: ${a.rcode}${count} in ${a.ms.toFixed(2)} ms${a.overTcp ? ' (truncated over UDP, asked again over TCP)' : ''}`);
    for (const r of a.records) lines.push(`  ${r.name}  ${r.ttl}  ${r.type}  ${r.data}`);
  }
  // Only views that returned something can agree or differ: a failed query is not a view. The
  // system resolver failing is a view with no address: where a server has one, that is a difference.
  if (s.queries.some((q) => q.answer && (q.type === 'A' || q.type === 'AAAA'))) {
    const failed = s.system.error ? ` (the system resolver has none: ${s.system.error.message})` : '';
    lines.push(s.differences.length === 0
      ? `the system resolver and every server that answered agree on the addresses${s.system.error ? ': none' : ''}`
      : `differences (address: seen by): ${s.differences.map((d) => `${d.address}: ${d.seenBy.join(', ')}`).join('; ')}${failed}`);
  }
  return lines;
}
