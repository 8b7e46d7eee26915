// The wire-cost model against frames listed one by one, with the sizes Linux gives them (the same
// sizes test/measure.test.ts checks in tcpdump captures): Ethernet 14, IPv4 20 or IPv6 40, TCP 32
// (20 + 12 of timestamps) or 40 on a SYN (20 + MSS, SACK-permitted, timestamps, window scale),
// UDP 8, an IPv6 fragment header 8. docs/wire-cost.md describes the model; its day projection is
// checked against one cycle's frames listed along its timeline, and the figures that page quotes.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  mtuOf, projectDay, sumWire, tcpExchangeWire, tcpStreamWire, udpWire, withProjection, type ExchangePattern, type WireEstimate, type WireProjection,
} from '../../../src/core/measure/wire.js';

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

describe('tcpExchangeWire: heartbeats, keepalive probes, reconnects', () => {
  const base = { family: 'IPv4' as const, mtu: 1500, messages: 2, messageBytes: 20, replies: 2, replyBytes: 20, intervalMs: 1000 };
  const exchange = (family: Family) => repeat(2, [segmentFrame(family, 10), segmentFrame(family, 10), segmentFrame(family, 0)]);

  it('3 heartbeats of 4 bytes, 2 answered with 4 bytes: an answered one is beat, answer and our ACK; the other, beat and the peer\'s ACK', () => {
    const beats = [
      ...repeat(2, [segmentFrame('IPv4', 4), segmentFrame('IPv4', 4), segmentFrame('IPv4', 0)]),
      segmentFrame('IPv4', 4), segmentFrame('IPv4', 0),
    ];
    expect(tcpExchangeWire({ ...base, heartbeats: { messages: 3, bytes: 12, answers: 2, answerBytes: 8 } }))
      .toEqual(estimateOf(40, [...openClose('IPv4'), ...beats, ...exchange('IPv4')], 1500));
  });

  it('heartbeats and answers of several segments each (9 000 bytes on a 1 500 MTU: 7 segments and 4 ACKs)', () => {
    const beat = message('IPv6', 1500, 9000);
    expect(beat).toHaveLength(7 + 4);
    expect(tcpExchangeWire({ ...base, family: 'IPv6', heartbeats: { messages: 2, bytes: 18_000, answers: 1, answerBytes: 9000 } }))
      .toEqual(estimateOf(40, [...openClose('IPv6'), ...beat, ...beat, ...beat, segmentFrame('IPv6', 0), segmentFrame('IPv6', 0), ...exchange('IPv6')], 1500));
  });

  it('heartbeats nobody answered (a sink): each one and the peer\'s delayed ACK', () => {
    expect(tcpExchangeWire({ ...base, heartbeats: { messages: 4, bytes: 8, answers: 0, answerBytes: 0 } }))
      .toEqual(estimateOf(40, [...openClose('IPv4'), ...repeat(4, [segmentFrame('IPv4', 2), segmentFrame('IPv4', 0)]), ...exchange('IPv4')], 1500));
  });

  it('a heartbeat option that sent none costs nothing', () => {
    expect(tcpExchangeWire({ ...base, heartbeats: { messages: 0, bytes: 0, answers: 0, answerBytes: 0 } }))
      .toEqual(estimateOf(40, [...openClose('IPv4'), ...exchange('IPv4')], 1500));
  });

  it('keepalive probes: each a bare segment and its bare ACK (66 bytes each on IPv4, 86 on IPv6)', () => {
    for (const family of ['IPv4', 'IPv6'] as const) {
      expect(tcpExchangeWire({ ...base, family, keepaliveProbes: 5 }))
        .toEqual(estimateOf(40, [...openClose(family), ...new Array<number>(10).fill(segmentFrame(family, 0)), ...exchange(family)], 1500));
    }
    expect(segmentFrame('IPv6', 0)).toBe(86);
  });

  it('every connection opened (--reconnect) adds its handshake and close', () => {
    expect(tcpExchangeWire({ ...base, connections: 3 })).toEqual(estimateOf(40, [...repeat(3, openClose('IPv4')), ...exchange('IPv4')], 1500));
  });
});

describe('projectDay: one cycle of the pattern, 86 400 s / cycle times a day, plus the connections', () => {
  const DAY_MS = 24 * 3600 * 1000;
  const sum = (frames: number[]) => frames.reduce((a, b) => a + b, 0);

  /** A day of `cycle` (the frames of one cycle, listed) repeated every `cycleMs`, with `connections` handshakes and closes. */
  function projected(cycle: number[], cycleMs: number, connections: number, family: Family = 'IPv4'): WireProjection {
    const cycles = DAY_MS / cycleMs;
    const bytes = sum(cycle) * cycles + sum(openClose(family)) * connections;
    const packets = cycle.length * cycles + 6 * connections;
    return { cycleMs: Math.round(cycleMs * 1000) / 1000, day: { bytes: Math.round(bytes), packets: Math.round(packets) }, days30: { bytes: Math.round(bytes * 30), packets: Math.round(packets * 30) } };
  }

  const noteLoop: ExchangePattern = {
    proto: 'tcp', family: 'IPv4', mtu: 1500, cycleMs: 1000, messageBytes: 10, replyBytes: 10, heartbeat: null, keepaliveIdleMs: null, reconnectsPerDay: 0,
  };
  /** The message, the echo, and the echo's own ACK (the next message is a second away). */
  const noteCycle = [segmentFrame('IPv4', 10), segmentFrame('IPv4', 10), segmentFrame('IPv4', 0)];

  it("the note's loop at 1 s: 76 + 76 + 66 = 218 bytes a cycle, 86 400 cycles and one connection a day (docs/wire-cost.md)", () => {
    expect(sum(noteCycle)).toBe(218);
    expect(sum(openClose('IPv4'))).toBe(412);
    expect(projectDay(noteLoop)).toEqual({ cycleMs: 1000, day: { bytes: 218 * 86_400 + 412, packets: 3 * 86_400 + 6 }, days30: { bytes: 30 * (218 * 86_400 + 412), packets: 30 * (3 * 86_400 + 6) } });
    expect(projectDay(noteLoop)).toEqual(projected(noteCycle, 1000, 1));
    // 18.8 MB, the 17.95 MiB the doc's example line shows.
    expect((218 * 86_400 + 412) / 2 ** 20).toBeCloseTo(17.96, 2);
  });

  it('the cycle includes the round trip when the client waits for the reply: a day holds fewer cycles, the cycle shows to the microsecond', () => {
    const cycleMs = 1000.2345678;
    expect(projectDay({ ...noteLoop, cycleMs })).toEqual(projected(noteCycle, cycleMs, 1));
    expect(projectDay({ ...noteLoop, cycleMs }).cycleMs).toBe(1000.235);
  });

  it('the reply gets its own ACK only when the next message is 40 ms or more away', () => {
    expect(projectDay({ ...noteLoop, cycleMs: 40 })).toEqual(projected(noteCycle, 40, 1));
    expect(projectDay({ ...noteLoop, cycleMs: 39 })).toEqual(projected([segmentFrame('IPv4', 10), segmentFrame('IPv4', 10)], 39, 1));
  });

  it('no reply (a sink): the message alone', () => {
    expect(projectDay({ ...noteLoop, replyBytes: 0 })).toEqual(projected([segmentFrame('IPv4', 10)], 1000, 1));
  });

  it('the long-lived bench (docs/wire-cost.md): a message every 10 s, a 4-byte heartbeat every 4 s echoed, --keepalive 1s: 1 554 bytes a cycle', () => {
    const pattern: ExchangePattern = { ...noteLoop, cycleMs: 10_000, heartbeat: { intervalMs: 4000, bytes: 4, answerBytes: 4 }, keepaliveIdleMs: 1000 };
    // 0 s: the message, its echo, the echo's ACK. 4 s and 8 s: a heartbeat, its echo, the echo's ACK.
    const sent = [...noteCycle, ...repeat(2, [segmentFrame('IPv4', 4), segmentFrame('IPv4', 4), segmentFrame('IPv4', 0)])];
    // Keepalive, a probe each time 1 s (and the probe's few ms) passed since the last thing received:
    // 0–4 s: at 1, 2, 3 s (the one at 4 s is beaten by the heartbeat); 4–8 s: the same; 8–10 s: at 9 s.
    const probes = 3 + 3 + 1;
    const cycle = [...sent, ...new Array<number>(2 * probes).fill(segmentFrame('IPv4', 0))];
    expect(sum(cycle)).toBe(1554);
    expect(2 * probes * 66).toBe(924);
    expect(projectDay(pattern)).toEqual({ cycleMs: 10_000, day: { bytes: 1554 * 8640 + 412, packets: 23 * 8640 + 6 }, days30: { bytes: 30 * (1554 * 8640 + 412), packets: 30 * (23 * 8640 + 6) } });
    // 12.80 MiB a day, 384.1 MiB in 30 days, as the doc's table says.
    expect((1554 * 8640 + 412) / 2 ** 20).toBeCloseTo(12.80, 2);
    expect((30 * (1554 * 8640 + 412)) / 2 ** 20).toBeCloseTo(384.1, 1);
  });

  it('heartbeats: one each time nothing was sent for the interval; none on the cycle\'s end, where the message goes', () => {
    const beat = [segmentFrame('IPv4', 2), segmentFrame('IPv4', 0)];
    // Every 5 s in a 10 s cycle: at 5 s only. Not answered: the peer's delayed ACK.
    expect(projectDay({ ...noteLoop, cycleMs: 10_000, heartbeat: { intervalMs: 5000, bytes: 2, answerBytes: 0 } })).toEqual(projected([...noteCycle, ...beat], 10_000, 1));
    // Every 3 s: at 3, 6 and 9 s.
    expect(projectDay({ ...noteLoop, cycleMs: 10_000, heartbeat: { intervalMs: 3000, bytes: 2, answerBytes: 0 } })).toEqual(projected([...noteCycle, ...repeat(3, beat)], 10_000, 1));
    // Every 15 s: the message comes first, so never.
    expect(projectDay({ ...noteLoop, cycleMs: 10_000, heartbeat: { intervalMs: 15_000, bytes: 2, answerBytes: 0 } })).toEqual(projected(noteCycle, 10_000, 1));
  });

  it('a heartbeat answered with other bytes: the answer gets our ACK', () => {
    const beat = [segmentFrame('IPv6', 1), segmentFrame('IPv6', 6), segmentFrame('IPv6', 0)];
    const cycle = [segmentFrame('IPv6', 10), segmentFrame('IPv6', 10), segmentFrame('IPv6', 0), ...repeat(2, beat)];
    expect(projectDay({ ...noteLoop, family: 'IPv6', cycleMs: 6000, heartbeat: { intervalMs: 2000, bytes: 1, answerBytes: 6 } })).toEqual(projected(cycle, 6000, 1, 'IPv6'));
  });

  it('--keepalive without heartbeats: probes through the whole quiet cycle, none at its end', () => {
    const probe = (n: number) => new Array<number>(2 * n).fill(segmentFrame('IPv4', 0));
    // 10 s quiet after the exchange, idle 3 s: probes at 3, 6, 9 s.
    expect(projectDay({ ...noteLoop, cycleMs: 10_000, keepaliveIdleMs: 3000 })).toEqual(projected([...noteCycle, ...probe(3)], 10_000, 1));
    // 9 s: at 3 and 6 s; the one at 9 s is beaten by the next message.
    expect(projectDay({ ...noteLoop, cycleMs: 9000, keepaliveIdleMs: 3000 })).toEqual(projected([...noteCycle, ...probe(2)], 9000, 1));
    // Idle longer than the cycle: none.
    expect(projectDay({ ...noteLoop, cycleMs: 9000, keepaliveIdleMs: 60_000 })).toEqual(projected(noteCycle, 9000, 1));
  });

  it('--keepalive with heartbeats every 5 s in a 12 s cycle, idle 2 s: 2 probes in each 5 s gap and 0 in the last 2 s', () => {
    const beat = [segmentFrame('IPv6', 3), segmentFrame('IPv6', 3), segmentFrame('IPv6', 0)];
    const cycle = [segmentFrame('IPv6', 10), segmentFrame('IPv6', 10), segmentFrame('IPv6', 0), ...repeat(2, beat), ...new Array<number>(2 * (2 + 2 + 0)).fill(segmentFrame('IPv6', 0))];
    expect(projectDay({ ...noteLoop, family: 'IPv6', cycleMs: 12_000, heartbeat: { intervalMs: 5000, bytes: 3, answerBytes: 3 }, keepaliveIdleMs: 2000 }))
      .toEqual(projected(cycle, 12_000, 1, 'IPv6'));
  });

  it('--reconnect: a handshake and a close per reconnect at the run\'s rate (one in a 10 s run: 8 640 a day), plus the day\'s connection', () => {
    expect(projectDay({ ...noteLoop, reconnectsPerDay: 8640 })).toEqual(projected(noteCycle, 1000, 8641));
    expect(projectDay({ ...noteLoop, reconnectsPerDay: 8640 }).day).toEqual({ bytes: 218 * 86_400 + 412 * 8641, packets: 3 * 86_400 + 6 * 8641 });
  });

  it('UDP: the datagrams only: no handshake, no ACK, no keepalive, however long the cycle', () => {
    const udp: ExchangePattern = { ...noteLoop, proto: 'udp', family: 'IPv6', cycleMs: 5000, messageBytes: 26, replyBytes: 26 };
    const datagram = (payload: number) => 14 + 40 + 8 + payload;
    expect(projectDay(udp)).toEqual({ cycleMs: 5000, day: { bytes: 2 * datagram(26) * 17_280, packets: 2 * 17_280 }, days30: { bytes: 30 * 2 * datagram(26) * 17_280, packets: 30 * 2 * 17_280 } });
    // What a TCP pattern would add is never counted for UDP, even when given.
    expect(projectDay({ ...udp, keepaliveIdleMs: 1000, reconnectsPerDay: 100 })).toEqual(projectDay(udp));
  });

  it('UDP without replies, heartbeats of 1 byte every 2 s unanswered, datagrams over the MTU fragmented', () => {
    const udp: ExchangePattern = { ...noteLoop, proto: 'udp', cycleMs: 5000, messageBytes: 4000, replyBytes: 0, heartbeat: { intervalMs: 2000, bytes: 1, answerBytes: 0 } };
    // 4 000 bytes: three IPv4 fragments of 1 480, 1 480 and 1 048 bytes of IP payload (see udpWire); heartbeats at 2 and 4 s.
    const cycle = [14 + 20 + 1480, 14 + 20 + 1480, 14 + 20 + 1048, 14 + 20 + 8 + 1, 14 + 20 + 8 + 1];
    expect(projectDay(udp)).toEqual(projected(cycle, 5000, 0));
  });
});

describe('withProjection', () => {
  it('adds the projection to the estimate, or leaves the estimate without one', () => {
    const wire = udpWire(20, 520, 'IPv4', 1500);
    const projection: WireProjection = { cycleMs: 1000, day: { bytes: 1, packets: 2 }, days30: { bytes: 30, packets: 60 } };
    expect(withProjection(wire, projection)).toStrictEqual({ ...estimateOf(520, new Array<number>(20).fill(14 + 20 + 8 + 26), 1500), projection });
    expect(withProjection(wire, null)).toStrictEqual(estimateOf(520, new Array<number>(20).fill(14 + 20 + 8 + 26), 1500));
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
