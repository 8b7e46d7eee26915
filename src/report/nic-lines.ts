import type { InterfacesSummary, RouteSummary } from '../core/socket/nics.js';

/** The note's ipconfig() for every NIC: MAC, state, MTU, addresses with prefix and netmask. */
export function interfacesLines(s: InterfacesSummary): string[] {
  const lines: string[] = [];
  for (const nic of s.interfaces) {
    lines.push(`${nic.name}: ${nic.state}, mtu ${nic.mtu ?? '?'}, mac ${nic.mac ?? '?'}`);
    for (const a of nic.addresses) lines.push(`  ${a.family === 'IPv4' ? 'inet ' : 'inet6'} ${a.address}/${a.prefix}  netmask ${a.netmask}`);
    for (const route of s.defaultRoutes.filter((r) => r.interface === nic.name)) lines.push(`  default ${route.family} route via ${route.gateway}`);
  }
  lines.push(`dns: ${s.dns.length ? s.dns.join(', ') : 'none configured'}`);
  if (s.defaultRoutes.length === 0) lines.push('default route: none');
  for (const what of s.unavailable) lines.push(`not available on this platform: ${what}`);
  return lines;
}

export function routeLines(s: RouteSummary): string[] {
  return [`route to ${s.destination.address}, ${s.destination.port}: source ${s.source}, interface ${s.interface ?? 'unknown'} (nothing was sent)`];
}
