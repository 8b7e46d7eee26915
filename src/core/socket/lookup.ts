import { lookup } from 'node:dns/promises';
import { elapsedMs } from '../clock.js';
import { familyOf, isAddress, type Family } from '../endpoint.js';
import { NetnoteError } from '../errors.js';
import type { EventSink, Role } from '../events.js';
import { requireInterface } from './local.js';

export interface ResolvedAddress {
  address: string;
  family: Family;
}

const REASONS: Record<string, string> = {
  ENOTFOUND: 'no such host',
  EAI_NONAME: 'no such host',
  EAI_NODATA: 'no address for this name',
  EAI_AGAIN: 'DNS server did not answer',
  EAI_FAIL: 'DNS server failed',
};

/**
 * The note's getaddrinfo(host, port): every address the system resolver returns, in its order
 * (Node >= 17 keeps it, so `localhost` may give ::1 first). An address literal is returned as is.
 */
export async function resolveHost(host: string): Promise<ResolvedAddress[]> {
  if (isAddress(host)) {
    // A link-local address's zone names the NIC (fe80::1%eth0); a numeric one is an index.
    const zone = host.split('%')[1];
    if (zone !== undefined && !/^\d+$/.test(zone)) requireInterface(zone);
    return [{ address: host, family: familyOf(host) }];
  }
  try {
    const found = await lookup(host, { all: true, verbatim: true });
    if (found.length === 0) throw Object.assign(new Error('no address'), { code: 'EAI_NODATA' });
    return found.map(({ address }) => ({ address, family: familyOf(address) }));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    throw new NetnoteError('resolve', `cannot resolve ${host}: ${REASONS[code] ?? code}`,
      'check the name, /etc/hosts and the DNS server in use');
  }
}

/** getaddrinfo, and the note's `DNS for HOST: IP` line when HOST was a name. */
export async function resolveAndSay(host: string, role: Role, sink: EventSink): Promise<ResolvedAddress[]> {
  const started = performance.now();
  const addresses = await resolveHost(host);
  if (!isAddress(host)) sink.emit({ event: 'resolved', role, host, address: addresses[0]!.address, family: addresses[0]!.family, ms: elapsedMs(started) });
  return addresses;
}
