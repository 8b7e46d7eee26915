import type { Endpoint } from '../core/endpoint.js';

// How numbers, sizes and peers read in every human line.

/** A UDP peer as the note prints it: Python's socket address tuple (IPv6 has four members). */
export function tuple(endpoint: Endpoint): string {
  return endpoint.family === 'IPv6' ? `('${endpoint.address}', ${endpoint.port}, 0, 0)` : `('${endpoint.address}', ${endpoint.port})`;
}

/** The note's `host, port` pair. */
export function pair(endpoint: Endpoint): string {
  return `${endpoint.address}, ${endpoint.port}`;
}

export function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

/** Two decimals under 10 ms, one from there: 9.996 ms rounds to 10.0 ms, not 10.00. */
export function ms(value: number): string {
  return `${value.toFixed(Number(value.toFixed(2)) < 10 ? 2 : 1)} ms`;
}

export function seconds(milliseconds: number): string {
  return `${(milliseconds / 1000).toFixed(2)} s`;
}

/** Sizes in binary units, the unit chosen on the figure as printed: 1 048 575 B is 1.00 MiB (as numfmt --to=iec-i shows it), not 1024.00 KiB. */
export function bytes(count: number): string {
  if (count < 1024) return `${count} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = count;
  let unit = -1;
  while (Number(value.toFixed(2)) >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(2)} ${units[unit]}`;
}

/** Bits per second in iperf3's decimal units, the unit chosen on the figure as printed (as numfmt --to=si does): 999 999 bit/s is 1.00 Mbit/s, not 1000.00 Kbit/s. */
export function bitRate(bitsPerSecond: number): string {
  const units = ['bit/s', 'Kbit/s', 'Mbit/s', 'Gbit/s'];
  const shown = (value: number, unit: number) => value.toFixed(unit === 0 ? 0 : 2);
  let value = bitsPerSecond;
  let unit = 0;
  while (Number(shown(value, unit)) >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${shown(value, unit)} ${units[unit]}`;
}
