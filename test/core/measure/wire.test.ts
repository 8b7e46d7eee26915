// The wire-cost model against frames listed one by one, with the sizes Linux gives them (the same
// sizes test/measure.test.ts checks in tcpdump captures): Ethernet 14, IPv4 20 or IPv6 40, TCP 32
// (20 + 12 of timestamps) or 40 on a SYN (20 + MSS, SACK-permitted, timestamps, window scale),
// UDP 8, an IPv6 fragment header 8. docs/wire-cost.md describes the model.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { mtuOf, sumWire, tcpExchangeWire, tcpStreamWire, udpWire, type WireEstimate } from '../../../src/core/measure/wire.js';

type Family = 'IPv4' | 'IPv6';
const ip = (family: Family) => (family === 'IPv4' ? 20 : 40);
const segmentFrame = (family: Family, payload: number) => 14 + ip(family) + 32 + payload;
const synFrame = (family: Family) => 14 + ip(family) + 40;

/** SYN, SYN-ACK, ACK; at the end FIN, FIN, ACK. */
const openClose = (family: Family) => [synFrame(family), synFrame(family), segmentFrame(family, 0), ...new Array<number>(3).fill(segmentFrame(family, 0))];

/** One message of `size` bytes cut into segments of at most MTU − IP − TCP, and the receiver's ACK for every two segments (none for one). */
function message(family: Family, mtu: number, size: number): number[] {
  const frames: number[] = [];
  let left = size;
  while (left > 0) {
    const payload = Math.min(left, mtu - ip(family) - 32);
    frames.push(segmentFrame(family, payload));
    left -= payload;
  }
  const acks = frames.length > 1 ? Math.ceil(frames.length / 2) : 0;
  return [...frames, ...new Array<number>(acks).fill(segmentFrame(family, 0))];
}

function estimateOf(payloadBytes: number, frames: number[], mtu: number): WireEstimate {
  const wireBytes = frames.reduce((a, b) => a + b, 0);
  return { payloadBytes, wireBytes, packets: frames.length, efficiency: wireBytes === 0 ? 0 : Math.round((payloadBytes / wireBytes) * 1000) / 1000, mtu };
}

const repeat = <T>(times: number, items: T[]): T[] => Array.from({ length: times }, () => items).flat();

describe('tcpExchangeWire (tcp-client, http-get)', () => {
  it("the note's client: 20 × 10 bytes echoed, 100 ms apart — each reply waits out the delayed ACK and gets one of its own", () => {
    const frames = [...openClose('IPv4'), ...repeat(20, [segmentFrame('IPv4', 10), segmentFrame('IPv4', 10), segmentFrame('IPv4', 0)])];
    expect(frames.reduce((a, b) => a + b, 0)).toBe(4772);
    expect(tcpExchangeWire({ family: 'IPv4', mtu: 1500, messages: 20, messageBytes: 200, replies: 20, replyBytes: 200, intervalMs: 100 }))
      .toEqual(estimateOf(400, frames, 1500));
  });

  it('40 ms apart is already past the delayed-ACK time; 39 ms is not (the next message carries the ACK)', () => {
    const exchange = { family: 'IPv6' as const, mtu: 1500, messages: 5, messageBytes: 50, replies: 5, replyBytes: 50 };
    const withAcks = [...openClose('IPv6'), ...repeat(5, [segmentFrame('IPv6', 10), segmentFrame('IPv6', 10), segmentFrame('IPv6', 0)])];
    const without = [...openClose('IPv6'), ...repeat(5, [segmentFrame('IPv6', 10), segmentFrame('IPv6', 10)])];
    expect(tcpExchangeWire({ ...exchange, intervalMs: 40 })).toEqual(estimateOf(100, withAcks, 1500));
    expect(tcpExchangeWire({ ...exchange, intervalMs: 39 })).toEqual(estimateOf(100, without, 1500));
  });

  it('one 1 MiB message echoed: 725 segments of at most 1 448 bytes each way, and an ACK for every two', () => {
    const oneWay = message('IPv4', 1500, 1_048_576);
    expect(oneWay.filter((f) => f > segmentFrame('IPv4', 0))).toHaveLength(725);
    expect(oneWay).toHaveLength(725 + 363);
    // A multi-segment reply is acknowledged by its own ACKs, however long the pause after it.
    expect(tcpExchangeWire({ family: 'IPv4', mtu: 1500, messages: 1, messageBytes: 1_048_576, replies: 1, replyBytes: 1_048_576, intervalMs: 1000 }))
      .toEqual(estimateOf(2_097_152, [...openClose('IPv4'), ...oneWay, ...oneWay], 1500));
  });

  it('a request and a reply of different sizes (http-get): each cut at its own size', () => {
    const request = message('IPv4', 1500, 78);
    const reply = message('IPv4', 1500, 6_240);
    expect(reply).toHaveLength(5 + 3);
    expect(tcpExchangeWire({ family: 'IPv4', mtu: 1500, messages: 1, messageBytes: 78, replies: 1, replyBytes: 6_240, intervalMs: 0 }))
      .toEqual(estimateOf(6_318, [...openClose('IPv4'), ...request, ...reply], 1500));
  });

  it('a connection that carried nothing costs its handshake and close', () => {
    expect(tcpExchangeWire({ family: 'IPv4', mtu: 1500, messages: 0, messageBytes: 0, replies: 0, replyBytes: 0, intervalMs: 1000 }))
      .toEqual({ payloadBytes: 0, wireBytes: 2 * 74 + 4 * 66, packets: 6, efficiency: 0, mtu: 1500 });
  });

  it('messages with no reply (a sink): the messages and the handshake only', () => {
    expect(tcpExchangeWire({ family: 'IPv4', mtu: 9000, messages: 3, messageBytes: 30_000, replies: 0, replyBytes: 0, intervalMs: 100 }))
      .toEqual(estimateOf(30_000, [...openClose('IPv4'), ...repeat(3, message('IPv4', 9000, 10_000))], 9000));
  });
});

describe('tcpStreamWire (--stream)', () => {
  it('the stream cut into MTU-sized segments with an ACK for every two, plus handshake and close', () => {
    expect(tcpStreamWire(100_000, 'IPv6', 1500)).toEqual(estimateOf(100_000, [...openClose('IPv6'), ...message('IPv6', 1500, 100_000)], 1500));
    expect(tcpStreamWire(0, 'IPv4', 1500)).toEqual(estimateOf(0, openClose('IPv4'), 1500));
  });
});

describe('udpWire', () => {
  const udpFrame = (family: Family, payload: number) => 14 + ip(family) + 8 + payload;

  it('20 probes of 26 bytes: one frame each, headers and all', () => {
    expect(udpWire(20, 20 * 26, 'IPv4', 1500)).toEqual(estimateOf(520, new Array<number>(20).fill(udpFrame('IPv4', 26)), 1500));
  });

  it('IPv4: 1 472 bytes fill a 1 500-byte MTU; 1 473 take two fragments (8-byte UDP header in the first)', () => {
    expect(udpWire(1, 1472, 'IPv4', 1500)).toEqual(estimateOf(1472, [1514], 1500));
    expect(udpWire(1, 1473, 'IPv4', 1500)).toEqual(estimateOf(1473, [14 + 20 + 1480, 14 + 20 + 1], 1500));
  });

  it('IPv4: a 4 000-byte datagram is three fragments of 1 480, 1 480 and 1 048 bytes of IP payload', () => {
    expect(udpWire(5, 20_000, 'IPv4', 1500)).toEqual(estimateOf(20_000, repeat(5, [14 + 20 + 1480, 14 + 20 + 1480, 14 + 20 + 1048]), 1500));
  });

  it('IPv6: 1 452 bytes fit; 1 453 are fragmented, each fragment with its 8-byte fragment header (1 448 bytes of data)', () => {
    expect(udpWire(1, 1452, 'IPv6', 1500)).toEqual(estimateOf(1452, [1514], 1500));
    expect(udpWire(1, 1453, 'IPv6', 1500)).toEqual(estimateOf(1453, [14 + 48 + 1448, 14 + 48 + 13], 1500));
    expect(udpWire(2, 5800, 'IPv6', 1500)).toEqual(estimateOf(5800, repeat(2, [14 + 48 + 1448, 14 + 48 + 1448, 14 + 48 + 12]), 1500));
  });

  it('no datagrams, no bytes', () => {
    expect(udpWire(0, 0, 'IPv4', 65536)).toEqual({ payloadBytes: 0, wireBytes: 0, packets: 0, efficiency: 0, mtu: 65536 });
  });
});

describe('sumWire', () => {
  it('adds payload, bytes and packets; efficiency of the total; the MTU of the first', () => {
    const a = udpWire(20, 200, 'IPv4', 1500);
    const b = udpWire(10, 100, 'IPv4', 1500);
    expect(sumWire(a, b)).toEqual(estimateOf(300, new Array<number>(30).fill(14 + 20 + 8 + 10), 1500));
    expect(sumWire(udpWire(1, 10, 'IPv4', 9000), udpWire(1, 10, 'IPv4', 1500)).mtu).toBe(9000);
  });

  it('of nothing is nothing, on a 1 500-byte MTU', () => {
    expect(sumWire()).toEqual({ payloadBytes: 0, wireBytes: 0, packets: 0, efficiency: 0, mtu: 1500 });
  });

  it('rounds efficiency to three decimals', () => {
    // 10 bytes of payload in 52 bytes: 0.19230… → 0.192.
    expect(udpWire(1, 10, 'IPv4', 1500).efficiency).toBe(0.192);
  });
});

describe('mtuOf', () => {
  it("reads the MTU of the NIC holding the address, as the kernel reports it", () => {
    expect(mtuOf('127.0.0.1')).toBe(Number(readFileSync('/sys/class/net/lo/mtu', 'utf8')));
  });

  it('is 1 500 for an address no NIC of this host holds', () => {
    expect(mtuOf('192.0.2.123')).toBe(1500);
  });
});
