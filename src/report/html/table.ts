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
    rows.push(['clients served', count(f.clients?.served)], ['clients rejected', count(f.clients?.rejected)],
      ['clients shed (out of file descriptors)', count(f.clients?.shed)], ['still connected', count(f.clients?.active)],
      ['bytes in', size(f.bytesIn)], ['bytes out', size(f.bytesOut)], ['up', seconds(f.durationMs ?? 0)]);
    const d = f.drops as Fields | undefined;
    if (d) {
      rows.push(['drops', `${count(d.drops)} (${d.mode})`]);
      for (const a of (d.perAddress ?? []) as Fields[]) {
        rows.push([`${a.address} came back`, `${count(a.returned)} of ${count(a.drops)}${a.backMs ? `, after ${seconds(a.backMs.min)} to ${seconds(a.backMs.max)} (median ${seconds(a.backMs.p50)})` : ''}`]);
      }
    }
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
    rows.push(...linkRows(f));
    rows.push(['duration', seconds(f.durationMs ?? 0)]);
  } else if (f.proto === 'idle-timeout') {
    rows.push(...idleRows(f));
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
  if (w?.projection) rows.push(['kept up, a day', size(w.projection.day?.bytes)], ['kept up, 30 days', size(w.projection.days30?.bytes)]);
  if (typeof f.ended === 'string') rows.push(['ended', f.ended]);
  rows.push(['exit code', String(s.exitCode)]);
  if (s.error) rows.push(['error', s.error.message]);
  return rows;
}

/** A long-lived link: heartbeats, keepalive, reconnects (docs/long-lived.md). */
function linkRows(f: Fields): Row[] {
  const rows: Row[] = [];
  const h = f.heartbeats as Fields | undefined;
  if (h) rows.push(['heartbeats', `${count(h.sent)} sent, ${count(h.answered)} answered`]);
  const k = f.keepalive as Fields | undefined;
  if (k) rows.push(['keepalive probes (estimated)', `${count(k.probesSent)} (a probe after ${seconds(k.idleMs ?? 0)} idle)`]);
  const r = f.reconnects as Fields | undefined;
  if (r) {
    rows.push(['reconnects', `${count(r.reconnects)} (${count(r.attempts)} attempts)`], ['without a connection', `${seconds(r.totalDownMs ?? 0)}, longest ${seconds(r.longestDownMs ?? 0)}`],
      ['time to reconnect', r.reconnectMs ? `median ${seconds(r.reconnectMs.p50)}, max ${seconds(r.reconnectMs.max)}` : '–'], ['lost in the gaps', count(r.lostMessages)]);
  }
  return rows;
}

function bracket(b: Fields | null | undefined): string {
  if (!b) return '–';
  return `survived ${seconds(b.lowMs ?? 0)}, ${b.highMs === null ? 'none failed' : `failed at ${seconds(b.highMs)}`}`;
}

/** idle-timeout: each direction's bracket, the path's, the advice, a --verify. */
function idleRows(f: Fields): Row[] {
  const rows: Row[] = [['transport', String(f.transport)], ['uplink', bracket(f.uplink)], ['downlink', bracket(f.downlink)]];
  if (typeof f.lowMs === 'number') rows.push(['path idle timeout', f.highMs === null ? `over ${seconds(f.lowMs)}` : `${seconds(f.lowMs)} to ${seconds(f.highMs)}`]);
  if (typeof f.adviceMs === 'number') rows.push(['keepalive or heartbeat every', `${seconds(f.adviceMs)} or less`]);
  rows.push(['trials', count((f.trials as unknown[] | undefined)?.length)]);
  const v = f.verify as Fields | null;
  if (v) rows.push(['verify', `every ${seconds(v.everyMs)}: ${v.held ? 'held' : 'did not hold'}, ${count(v.answered)} of ${count(v.heartbeats)} heartbeats answered`]);
  rows.push(['duration', seconds(f.durationMs ?? 0)]);
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
