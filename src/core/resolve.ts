import { lookup } from 'node:dns/promises';
import { familyOf, isAddress, type Family } from './address.js';
import { NetnoteError } from './errors.js';

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
  if (isAddress(host)) return [{ address: host, family: familyOf(host) }];
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
