import type { Command } from 'commander';
import { NetnoteError } from '../core/errors.js';
import { mergeKind, mergeRuns, type MergeKind, type RunInput } from '../core/merge/runs.js';
import type { Summary } from '../core/summary.js';
import { readRunFile } from '../report/run/file.js';
import type { RunRecord } from '../report/run/record.js';
import type { Execute } from './context.js';

export function registerMerge(program: Command, execute: Execute): void {
  program
    .command('merge')
    .description('add up runs of one test made apart (other processes, other hosts): exact percentiles, summed counts, per-second series on one clock')
    .argument('<runs...>', 'NDJSON files written by netnote --json (one per run)')
    .addHelpText('after', `
Prints the summary one run of all that traffic would have printed (--json: the merged events).
The exit code is the first failed run's, as if that failure had ended one run. See docs/at-scale.md.

Examples:
  $ netnote merge host-*.ndjson
  $ netnote --json merge a.ndjson b.ndjson > fleet.ndjson
  $ netnote --report fleet.html merge run-*.ndjson`)
    .action((files: string[], _options: unknown, cmd: Command) =>
      execute(cmd, 'client', async ({ reporter, signal, finish }) => {
        const records = await Promise.all(files.map((file) => readRunFile(file, signal)));
        const inputs = mergeInputs(records);
        const merged = await mergeRuns(inputs).catch((err: unknown) => {
          // A histogram that does not decode: the file was edited or damaged.
          throw err instanceof RangeError ? new NetnoteError('usage', `cannot merge these runs: ${err.message}`) : err;
        });
        for (const interval of merged.intervals) reporter.emit({ event: 'interval', ...interval });
        const failed = merged.summaries.find((s) => s.error !== null);
        const error = failed?.error ? new NetnoteError(failed.error.code, failed.error.message, failed.error.hint) : null;
        finish(merged.summaries.map(({ role, summary }) => ({ role, summary }) as Summary), error);
      }));
}

/** The runs as merge takes them: all of one test (the same kinds of summary, in the same order), each summary whole. */
function mergeInputs(records: RunRecord[]): RunInput[] {
  const kinds = (record: RunRecord) => record.summaries.map((s) => {
    const kind = mergeKind(s.role, s.summary);
    if (!kind) {
      throw new NetnoteError('usage', `${record.label} holds a ${s.summary.proto} ${s.role} summary: merge adds up tcp-client, udp-client, tcp-server and udp-server runs`);
    }
    const problem = summaryProblem(kind, s.summary);
    if (problem) throw new NetnoteError('usage', `${record.label}: its ${kind} summary ${problem}`, 'merge reads summaries written by this netnote version with --json');
    return kind;
  });
  const first = kinds(records[0]!);
  return records.map((record) => {
    const these = kinds(record);
    if (these.join() !== first.join()) {
      throw new NetnoteError('usage', `${records[0]!.label} holds ${describe(first)}, ${record.label} ${describe(these)}: merge adds up runs of one test`);
    }
    return {
      summaries: record.summaries.map((s, i) => ({ ...s, kind: these[i]! })),
      intervals: record.intervals,
    };
  });
}

const describe = (kinds: MergeKind[]) => kinds.map((k) => `a ${k} run`).join(' and ');

// The fields each kind's merge reads: n number, s string, d decimal digits, a array, o object; a
// leading ? allows null. A summary without them was not written by this netnote (or was edited).
const COUNTER = ['messages:n', 'bytes:n'];
const EXCHANGE = ['sent:o', ...COUNTER.map((f) => `sent.${f}`), 'received:o', ...COUNTER.map((f) => `received.${f}`), 'durationMs:n', 'ended:s', 'rounds:?n', 'rttMs:?o', 'datagrams:?o', 'wire:?o'];
const STREAM = ['bytes:n', 'durationMs:n', 'connections:a', 'target:s', 'direction:s', 'ended:s', 'wire:?o'];
const FIELDS: Record<MergeKind, string[]> = {
  'tcp-client': EXCHANGE,
  'udp-client': EXCHANGE,
  'tcp-client --stream': STREAM,
  'tcp-client --stream --reverse': STREAM,
  'tcp-client --stream --bidir': [...STREAM, 'received:o', 'received.bytes:n', 'received.connections:a'],
  'tcp-client --connections': ['attempted:n', 'established:n', 'refused:n', 'reset:n', 'timedOut:n', 'openMs:n', 'holdMs:n', 'closedDuringHold:n', 'alive:n', 'otherErrors:o', 'timeline:a', 'target:s', 'ended:s'],
  'tcp-server': ['clients:o', 'clients.served:n', 'clients.rejected:n', 'clients.active:n', 'bytesIn:n', 'bytesOut:n', 'durationMs:n', 'perClient:a', 'olderClients:n'],
  'udp-server': ['datagrams:o', 'datagrams.in:n', 'datagrams.out:n', 'datagrams.truncated:n', 'datagrams.sendErrors:n', 'bytesIn:n', 'bytesOut:n', 'largest:n', 'durationMs:n', 'peers:n', 'perPeer:a', 'olderPeers:n'],
};
const RTT = ['count:n', 'min:n', 'max:n', 'histogram:s', 'sumNs:d', 'sumSquaresNs:d'];
const DATAGRAMS = ['lost:n', 'late:n', 'duplicated:n', 'reordered:n', 'foreign:n', 'jitterMs:?n', 'perSecond:a'];
const WIRE = ['payloadBytes:n', 'wireBytes:n', 'packets:n', 'mtu:n'];

function summaryProblem(kind: MergeKind, summary: Record<string, unknown>): string | null {
  const check = (object: Record<string, unknown>, fields: string[], prefix = ''): string | null => {
    for (const field of fields) {
      const [path, type] = field.split(':') as [string, string];
      const value = path.split('.').reduce<unknown>((o, key) => (o as Record<string, unknown> | null)?.[key], object);
      const ok = (value === null && type.startsWith('?')) || {
        n: typeof value === 'number' && Number.isFinite(value),
        s: typeof value === 'string',
        d: typeof value === 'string' && /^\d+$/.test(value),
        a: Array.isArray(value),
        o: typeof value === 'object' && value !== null && !Array.isArray(value),
      }[type.replace('?', '') as 'n'];
      if (!ok) return `lacks ${prefix}${path}`;
    }
    return null;
  };
  const nested = (name: string, fields: string[]) => (summary[name] ? check(summary[name] as Record<string, unknown>, fields, `${name}.`) : null);
  return check(summary, FIELDS[kind]) ?? nested('rttMs', RTT) ?? nested('datagrams', DATAGRAMS) ?? nested('wire', WIRE);
}
