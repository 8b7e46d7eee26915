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

export function ms(value: number): string {
  return `${value.toFixed(value < 10 ? 2 : 1)} ms`;
}

export function seconds(milliseconds: number): string {
  return `${(milliseconds / 1000).toFixed(2)} s`;
}

export function bytes(count: number): string {
  if (count < 1024) return `${count} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = count;
  let unit = -1;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(2)} ${units[unit]}`;
}

/** Bits per second as iperf3 shows them. */
export function bitRate(bitsPerSecond: number): string {
  const units = ['bit/s', 'Kbit/s', 'Mbit/s', 'Gbit/s'];
  let value = bitsPerSecond;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${value.toFixed(unit === 0 ? 0 : 2)} ${units[unit]}`;
}
