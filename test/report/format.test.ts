// The numbers of every human line, against GNU numfmt (sizes in binary units, bit rates in decimal
// ones) and against lines netnote's README shows.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { bitRate, bytes, ms, pair, plural, seconds, tuple } from '../../src/report/format.js';
import { needs } from '../support/needs.js';
import { commandMissing } from '../support/peers.js';

/** numfmt's rendering of each value, two decimals, rounded to the nearest: `1.50Ki`. */
function numfmt(to: 'iec-i' | 'si', values: number[]): string[] {
  return execFileSync('numfmt', [`--to=${to}`, '--format=%.2f', '--round=nearest', ...values.map(String)], { encoding: 'utf8' }).trimEnd().split('\n');
}

// Around each unit's boundary (just under it, where rounding reaches it, on it), and in between.
const around = (unit: number) => [unit - 6 * unit / 1e5, unit - 4 * unit / 1e6, unit - 1, unit, unit + 1, 1.5 * unit, 3.37 * unit].map(Math.round);

describe('sizes', () => {
  it('under 1 KiB, whole bytes', () => {
    expect([0, 1, 24, 1023].map(bytes)).toEqual(['0 B', '1 B', '24 B', '1023 B']);
  });

  it('from 1 KiB to 1024 TiB, as numfmt --to=iec-i writes them (1 048 575 B is 1.00 MiB)', needs(commandMissing('numfmt', 'coreutils')), () => {
    const values = [1024, 1025, 1152, 3450, 14_400, ...[2 ** 20, 2 ** 30, 2 ** 40].flatMap(around), 2 ** 50 - 2 ** 38];
    const expected = numfmt('iec-i', values).map((line) => line.replace(/^([\d.]+)(\w)i$/, '$1 $2iB'));
    expect(values.map(bytes)).toEqual(expected);
    expect(bytes(1_048_575)).toBe('1.00 MiB');
  });

  it('TiB is the largest unit', () => {
    expect(bytes(2 ** 50)).toBe('1024.00 TiB');
  });
});

describe('bit rates', () => {
  it('under 1 Kbit/s, whole bits', () => {
    expect([0, 1, 999, 999.4].map(bitRate)).toEqual(['0 bit/s', '1 bit/s', '999 bit/s', '999 bit/s']);
    expect(bitRate(999.5)).toBe('1.00 Kbit/s');
  });

  it('from 1 Kbit/s to 1000 Gbit/s, as numfmt --to=si writes them (999 999 bit/s is 1.00 Mbit/s)', needs(commandMissing('numfmt', 'coreutils')), () => {
    const values = [1000, 1500, 123_456, ...[1e6, 1e9].flatMap(around), 999_990_000_000];
    const expected = numfmt('si', values).map((line) => line.replace(/^([\d.]+)(\w)$/, '$1 $2bit/s'));
    expect(values.map(bitRate)).toEqual(expected);
    expect(bitRate(999_999)).toBe('1.00 Mbit/s');
  });

  it('Gbit/s is the largest unit', () => {
    expect(bitRate(1.5e12)).toBe('1500.00 Gbit/s');
  });
});

describe('times', () => {
  it('milliseconds: two decimals under 10 ms, one from there (README: "1.78 ms", "6.13 ms")', () => {
    expect([0, 1.78, 6.13, 9.99, 9.994, 9.996, 10, 123.46, 1000].map(ms))
      .toEqual(['0.00 ms', '1.78 ms', '6.13 ms', '9.99 ms', '9.99 ms', '10.0 ms', '10.0 ms', '123.5 ms', '1000.0 ms']);
  });

  it('seconds, two decimals (README: "0.03 s")', () => {
    expect([0, 30, 1500, 123_456].map(seconds)).toEqual(['0.00 s', '0.03 s', '1.50 s', '123.46 s']);
  });
});

describe('peers and counts', () => {
  it("a UDP peer is Python's socket address tuple: two members for IPv4, four for IPv6", () => {
    expect(tuple({ address: '127.0.0.1', port: 5005, family: 'IPv4' })).toBe("('127.0.0.1', 5005)");
    expect(tuple({ address: '::1', port: 5005, family: 'IPv6' })).toBe("('::1', 5005, 0, 0)");
  });

  it("the note's host, port pair", () => {
    expect(pair({ address: '127.0.0.1', port: 36239, family: 'IPv4' })).toBe('127.0.0.1, 36239');
  });

  it('plurals: one client, 0 or 2 clients', () => {
    expect([0, 1, 2].map((n) => plural(n, 'client'))).toEqual(['0 clients', '1 client', '2 clients']);
  });
});
