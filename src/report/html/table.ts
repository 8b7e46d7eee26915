import { bitRate, bytes, ms, seconds } from '../format.js';
import type { RecordedSummary } from '../run/record.js';

// The summary table: the figures of each summary, one column per run, one table per kind of
// summary (demo has a client's and a server's), so that runs compare row by row.

type Fields = Record<string, any>;
type Row = [label: string, value: string];

const fixed = (value: unknown, digits = 3) => (typeof value === 'number' ? value.toFixed(digits) : '–');
const count = (value: unknown) => (typeof value === 'number' ? String(value) : '–');
const size = (value: unknown) => (typeof value === 'number' ? bytes(value) : '–');

export function summaryRows(s: RecordedSummary): Row[] {
  const f = s.summary as Fields;
  const rows: Row[] = [];
  if (s.role === 'server' && f.proto === 'tcp') {
    rows.push(['clients served', count(f.clients?.served)], ['clients rejected', count(f.clients?.rejected)], ['still connected', count(f.clients?.active)],
      ['bytes in', size(f.bytesIn)], ['bytes out', size(f.bytesOut)], ['up', seconds(f.durationMs ?? 0)]);
  } else if (s.role === 'server' && f.proto === 'udp') {
    rows.push(['datagrams in', count(f.datagrams?.in)], ['datagrams out', count(f.datagrams?.out)], ['truncated', count(f.datagrams?.truncated)],
      ['bytes in', size(f.bytesIn)], ['bytes out', size(f.bytesOut)], ['largest datagram', size(f.largest)], ['peers', count(f.peers)], ['up', seconds(f.durationMs ?? 0)]);
  } else if (f.proto === 'tcp' || f.proto === 'udp') {
    rows.push(['sent', `${count(f.sent?.messages)} (${size(f.sent?.bytes)})`], ['received', `${count(f.received?.messages)} (${size(f.received?.bytes)})`]);
    const r = f.rttMs as Fields | null;
    if (r) {
      rows.push(['round trips timed', count(r.count)]);
      for (const [label, key] of [['min', 'min'], ['p50', 'p50'], ['p90', 'p90'], ['p99', 'p99'], ['p99.9', 'p999'], ['max', 'max'], ['mean', 'mean'], ['stddev', 'stddev']]) {
        rows.push([`rtt ${label} (ms)`, fixed(r[key!])]);
      }
    }
    const d = f.datagrams as Fields | null;
    if (d) {
      rows.push(['loss', `${fixed(d.lossPercent, 1)}% (${count(d.lost)} lost)`], ['late', count(d.late)], ['duplicated', count(d.duplicated)], ['reordered', count(d.reordered)], ['foreign', count(d.foreign)],
        ['jitter (ms)', d.jitterMs === null ? '–' : fixed(d.jitterMs)]);
    }
    const o = f.oneWay as Fields | null | undefined;
    if (o) {
      rows.push(['one way', o.direction === 'receive' ? 'server to client (--reverse)' : 'client to server (--one-way)'],
        ['receiver: received', `${count(o.received)} of ${count(o.sent)}`], ['receiver: loss', `${fixed(o.lossPercent, 1)}% (${count(o.lost)} lost)`],
        ['receiver: duplicated', count(o.duplicated)], ['receiver: reordered', count(o.reordered)],
        ['receiver: jitter (ms)', o.jitterMs === null ? '–' : fixed(o.jitterMs)], ['receiver: bit rate', typeof o.bitsPerSecond === 'number' ? bitRate(o.bitsPerSecond) : '–']);
    } else if (o === null) {
      rows.push(['one way', 'no report from the server']);
    }
    if (Array.isArray(f.responders)) rows.push([`devices answered (${f.cast})`, String(f.responders.length)]);
    rows.push(['duration', seconds(f.durationMs ?? 0)]);
  } else if (f.proto === 'tcp-stream') {
    rows.push([f.direction === 'receive' ? 'received' : 'sent', size(f.bytes)], ['duration', seconds(f.durationMs ?? 0)],
      ['bit rate', typeof f.bitsPerSecond === 'number' ? bitRate(f.bitsPerSecond) : '–'], ['connections', count(f.connections?.length)]);
    const back = f.received as Fields | undefined;
    if (back) rows.push(['received (--bidir)', size(back.bytes)], ['bit rate received', typeof back.bitsPerSecond === 'number' ? bitRate(back.bitsPerSecond) : '–']);
  } else if (f.proto === 'tcp-capacity') {
    rows.push(['attempted', count(f.attempted)], ['established', count(f.established)], ['refused', count(f.refused)], ['reset', count(f.reset)],
      ['timed out', count(f.timedOut)], ['opened in', typeof f.openMs === 'number' ? ms(f.openMs) : '–'], ['alive after the hold', count(f.alive)], ['closed by the peer', count(f.closedDuringHold)]);
  } else {
    rows.push(...flatten(f));
  }
  const w = f.wire as Fields | null | undefined;
  if (w) rows.push(['on the wire', `${size(w.wireBytes)} in ${count(w.packets)} packets`], ['wire efficiency', `${fixed((w.efficiency ?? 0) * 100, 1)}%`]);
  if (typeof f.ended === 'string') rows.push(['ended', f.ended]);
  rows.push(['exit code', String(s.exitCode)]);
  if (s.error) rows.push(['error', s.error.message]);
  return rows;
}

/** Any other summary (http-get, resolve, interfaces, route): its scalar fields, two levels deep. */
function flatten(fields: Fields, prefix = '', depth = 0): Row[] {
  return Object.entries(fields).flatMap(([key, value]): Row[] => {
    if (key === 'ended' || key === 'wire') return [];
    if (value === null || typeof value !== 'object') return [[`${prefix}${key}`, String(value)]];
    if (Array.isArray(value)) return [[`${prefix}${key}`, value.length > 0 && value.every((v) => typeof v !== 'object') ? value.join(', ') : `${value.length} entries`]];
    return depth < 1 ? flatten(value as Fields, `${prefix}${key}.`, depth + 1) : [];
  });
}
