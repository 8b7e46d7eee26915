import { Chalk, type ChalkInstance } from 'chalk';
import type { Ora } from 'ora';
import { hostPort, type Endpoint } from '../core/endpoint.js';
import type { EndReason, NetEvent, Proto, Role } from '../core/events.js';
import type { HttpSummary } from '../core/http/get.js';
import type { ClientSummary } from '../core/message/exchange.js';
import type { ReportEvent } from '../core/summary.js';
import type { ServerSummary } from '../core/tcp/server.js';
import type { UdpServerSummary } from '../core/udp/server.js';
import { SHOWN_BYTES, hexDump, shownBytes } from './bytes.js';
import { bytes, ms, pair, plural, seconds, tuple } from './format.js';
import { idleStartLine, idleSummaryLines, roundLine, trialLine } from './idle-lines.js';
import { dropSummaryLines, droppedLine, interimLine, keepaliveLine, linkSummaryLines, reconnectsLine, lostLine, reconnectedLine, reconnectingLine, waitedLine, waitingLine } from './link-lines.js';
import { capacityLines, intervalLine, projectionLine, streamLines, wireLine } from './measure-lines.js';
import { interfacesLines, routeLines } from './nic-lines.js';
import { printable } from './printable.js';
import { resolveLines } from './resolve-lines.js';
import { certificateLine, tlsLine, tlsStatsLine } from './tls-lines.js';
import { boundDetail, destination, oneWayEventText, oneWayText, responderLines } from './udp-lines.js';
import type { Reporter } from './reporter.js';
import type { Symbols } from './symbols.js';
import type { LineSink } from './writer.js';

export interface HumanOptions {
  out: LineSink;
  err: LineSink;
  color: boolean;
  quiet: boolean;
  hexDump: boolean;
  /** An ora spinner on stderr while connecting; only on a real terminal. */
  spinner: boolean;
  /** The latency chart in client summaries (--ping on a terminal, --chart anywhere). */
  chart: boolean;
  /** Columns the chart may fill. */
  width: number;
  symbols: Symbols;
}

const SPINNER_DELAY_MS = 200;
/** The chart's longest bar on the narrowest terminal. */
const MIN_BAR = 10;

const REASONS: Record<EndReason, string> = {
  completed: 'completed',
  'peer-closed': 'closed by peer',
  reset: 'reset by peer',
  timeout: 'timed out',
  idle: 'idle timeout',
  mismatch: 'assertion failed',
  interrupted: 'interrupted',
  rejected: 'rejected',
  framing: 'framing error',
  'script-close': 'closed by script',
  'script-reset': 'reset by script',
  'tls-failed': 'TLS failed',
  dropped: 'dropped by the server',
  failed: 'failed',
};

/** The note's log lines. Where netnote adds to a line the note has, the addition follows it. */
export class HumanReporter implements Reporter {
  readonly messages: boolean;
  private readonly c: ChalkInstance;
  private spinning: Ora | null = null;
  /** Each role's transport, from its `created` event: UDP peers print as the note's Python tuples. */
  private readonly proto: Record<Role, Proto> = { client: 'tcp', server: 'tcp' };
  private spinnerDelay: NodeJS.Timeout | undefined;
  protected spinnerToken: symbol | null = null;

  constructor(protected readonly options: HumanOptions) {
    this.messages = !options.quiet;
    this.c = new Chalk({ level: options.color ? 1 : 0 });
  }

  emit(e: ReportEvent): void {
    this.stopSpinner();
    this.render(e);
    // idle-timeout on a terminal: what the run waits for, between its lines.
    if (this.progress && !this.spinnerToken && e.event !== 'summary') this.startSpinner(this.progressText(), true);
  }

  /** idle-timeout: the trials still running, by the time each ends (run's clock). */
  private progress: { started: number; running: Array<{ direction: string; idleMs: number; endsAt: number }> } | null = null;
  private ticker: NodeJS.Timeout | undefined;

  private track(e: Extract<ReportEvent, { event: 'idle-start' | 'idle-round' | 'trial' }>): void {
    if (!this.options.spinner) return;
    const now = performance.now();
    this.progress ??= { started: now, running: [] };
    if (e.event === 'idle-round') {
      this.progress.running = this.progress.running.filter((r) => r.direction !== e.direction);
      for (const idleMs of e.idleMs) this.progress.running.push({ direction: e.direction, idleMs, endsAt: now + idleMs });
      this.progress.running.sort((a, b) => a.endsAt - b.endsAt);
    } else if (e.event === 'trial') {
      const i = this.progress.running.findIndex((r) => r.direction === e.direction && r.idleMs === e.idleMs);
      if (i >= 0) this.progress.running.splice(i, 1);
    }
    if (!this.ticker) {
      this.ticker = setInterval(() => {
        if (this.spinning) this.spinning.text = this.progressText();
      }, 1000);
      this.ticker.unref();
    }
  }

  private progressText(): string {
    const p = this.progress!;
    const elapsed = Math.round((performance.now() - p.started) / 1000);
    const next = p.running.find((r) => r.endsAt > performance.now()) ?? p.running[0];
    if (!next) return `idle-timeout: ${elapsed} s`;
    const left = Math.max(0, Math.round((next.endsAt - performance.now()) / 1000));
    return `idle-timeout: ${plural(p.running.length, 'trial')} running; next: ${next.direction} after ${seconds(next.idleMs)} idle, in ${left} s; ${elapsed} s so far`;
  }

  private render(e: ReportEvent): void {
    switch (e.event) {
      case 'created':
        this.proto[e.role] = e.proto;
        return this.line(e.role, 'socket object created.');
      case 'resolved': return this.line(e.role, `DNS for ${e.host}: ${e.address}`);
      case 'bound': {
        const detail = boundDetail(e);
        return this.line(e.role, `bind address: ${pair(e.local)}${detail === null ? '' : this.extra(detail)}`);
      }
      case 'unbound': return this.line('server', `address gone: ${pair(e.local)}${this.extra(`${e.interface ? `${e.interface}, ` : ''}its socket closed`)}`);
      case 'one-way': return this.line('server', `${this.peerLabel('server', e.remote)}${oneWayEventText(e)}`);
      case 'listening': return this.line(e.role, 'started, listening ...');
      case 'connecting':
        this.line(e.role, `connecting: ${pair(e.remote)}`);
        return this.startSpinner(`connecting to ${hostPort(e.remote.address, e.remote.port)}`);
      case 'connected': return this.line(e.role, `connected.${this.extra(`local ${pair(e.local)}, ${ms(e.ms)}`)}`);
      case 'keepalive': {
        const { text, extra } = keepaliveLine(e);
        return this.line(e.role, `${text}${this.extra(extra)}`);
      }
      case 'accepted': return this.line('server', `accept a client: ${pair(e.remote)}${e.backAfterMs === undefined ? '' : this.extra(`back ${seconds(e.backAfterMs)} after its drop`)}`);
      case 'dropped': return this.line('server', `[client addr: ${pair(e.remote)}] ${droppedLine(e)}`);
      case 'rejected': return this.line('server', `reject a client: ${pair(e.remote)}${this.extra(`max clients ${e.limit} reached`)}`);
      case 'send': return this.payload(e.role, `${this.peerLabel(e.role, e.remote)}send data:`, e.data, this.sendExtra(e));
      case 'step': return this.step(e);
      case 'recv': return this.payload(e.role, `${this.peerLabel(e.role, e.remote)}recv data:`, e.data, this.recvExtra(e));
      case 'frame-error':
        return this.payload(e.role, this.c.red(`${this.peerLabel(e.role, e.remote)}framing error (${e.frame}): ${e.message}; buffered`), e.buffered, '');
      case 'no-reply': return this.line(e.role, this.c.yellow(`no reply to datagram ${e.seq} within ${seconds(e.waitedMs)}`));
      case 'round': return this.line(e.role, '-------------------------');
      case 'mismatch': {
        const expected = e.expected instanceof RegExp ? printable(`/${e.expected.source}/`) : shownBytes(e.expected, this.options.symbols.ellipsis);
        const at = e.step !== undefined ? `at step ${e.step}` : e.check === 'heartbeat-expect' ? `on heartbeat ${e.seq}` : `on reply ${e.seq}`;
        const surplus = e.surplus === undefined ? '' : this.extra(`the last ${plural(e.surplus, 'byte')} came when no message awaited a reply`);
        return this.line(e.role, `${this.c.red(`mismatch ${at}: expected ${expected} (${e.check}), got ${shownBytes(e.got, this.options.symbols.ellipsis)}`)}${surplus}`);
      }
      case 'lost': {
        const { text, extra } = lostLine(e);
        const label = e.role === 'server' && e.remote ? `[client addr: ${pair(e.remote)}] ` : '';
        return this.line(e.role, `${label}${this.c.yellow(text)}${this.extra(extra)}`);
      }
      case 'reconnecting': return this.line(e.role, reconnectingLine(e));
      case 'reconnected': return this.line(e.role, reconnectedLine(e));
      case 'waiting': return this.line(e.role, waitingLine(e));
      case 'waited': return this.line(e.role, waitedLine(e));
      case 'interim': return this.line(e.role, interimLine(e));
      case 'idle-start':
        this.track(e);
        return this.line(e.role, idleStartLine(e));
      case 'idle-round':
        this.track(e);
        return this.options.quiet ? undefined : this.line(e.role, roundLine(e));
      case 'trial':
        this.track(e);
        return this.options.quiet ? undefined : this.line(e.role, trialLine(e));
      case 'closed': {
        const detail = `${REASONS[e.reason]}; in ${bytes(e.bytesIn)}, out ${bytes(e.bytesOut)}, ${seconds(e.ms)}`;
        if (e.role === 'server' && e.remote) return this.line('server', `[client addr: ${pair(e.remote)}] disconnected${this.extra(detail)}`);
        return this.line(e.role, `disconnected.${this.extra(detail)}`);
      }
      case 'warning': return this.options.err.write(`${this.tag(e.role)} ${this.c.yellow(`warning: ${e.message}`)}`);
      case 'error': return; // the CLI prints the final error on stderr, once, for every output mode
      case 'tls': {
        const { text, extra } = tlsLine(e);
        return this.line(e.role, `${this.peerLabel(e.role, e.remote)}${text}${this.extra(extra)}`);
      }
      case 'tls-failed': return this.line('server', `${this.peerLabel('server', e.remote)}${this.c.red(`tls failed: ${e.message}`)}${this.extra(`${e.code}; ${ms(e.ms)}`)}`);
      case 'certificate': {
        const { text, extra } = certificateLine(e);
        return this.line('server', `${text}${this.extra(extra)}`);
      }
      case 'response': return; // shown in the summary; the raw bytes are the recv lines
      case 'interval': return this.line(e.role, intervalLine(e));
      case 'summary':
        if (e.role === 'client') {
          const summary = e.summary;
          if ('url' in summary) return this.httpSummary(summary);
          if (summary.proto === 'dns') return resolveLines(summary).forEach((text) => this.line('client', text));
          if (summary.proto === 'nic') return interfacesLines(summary).forEach((text) => this.untagged(text));
          if (summary.proto === 'route') return routeLines(summary).forEach((text) => this.untagged(text));
          if (summary.proto === 'tcp-stream') return this.lines('client', [...streamLines(summary, this.options.symbols), `ended: ${REASONS[summary.ended]}`]);
          if (summary.proto === 'tcp-capacity') return this.lines('client', capacityLines(summary, this.options.symbols));
          if (summary.proto === 'idle-timeout') {
            this.progress = null;
            clearInterval(this.ticker);
            // Nothing to sum up when the peer never answered (the error says why).
            if (summary.rttMs === null) return;
            return this.lines('client', [...idleSummaryLines(summary, this.options.symbols), `ended: ${REASONS[summary.ended]} after ${seconds(summary.durationMs)}`]);
          }
          return this.clientSummary(summary);
        }
        return e.summary.proto === 'udp' ? this.udpServerSummary(e.summary) : this.serverSummary(e.summary);
    }
  }

  room(): Promise<void> | null {
    return this.options.out.room();
  }

  close(): void {
    clearInterval(this.ticker);
    this.stopSpinner();
    this.options.out.flush();
    this.options.err.flush();
  }

  private clientSummary(s: ClientSummary): void {
    if (!s.connected) {
      // A run that never connected has its error line; one stopped while connecting says so too.
      if (s.ended !== 'interrupted') return;
      this.line('client', this.c.bold(`--- ${s.proto} summary ---`));
      return this.line('client', `not connected; ended: ${REASONS[s.ended]} after ${seconds(s.durationMs)}`);
    }
    const missing = s.sent.messages - s.received.messages;
    this.line('client', this.c.bold(`--- ${s.proto} ${s.remote ? hostPort(s.remote.address, s.remote.port) : ''} summary ---`));
    if (s.script) {
      this.line('client', `sent ${s.sent.messages} (${bytes(s.sent.bytes)}), received ${bytes(s.received.bytes)}; ${plural(s.received.messages, 'expect')} met, ${plural(s.script.steps, 'step')} run`);
    } else if (s.responders) {
      this.line('client', `sent ${s.sent.messages} (${bytes(s.sent.bytes)}) to a ${s.cast === 'broadcast' ? 'broadcast address' : 'group'}, received ${s.received.messages} (${bytes(s.received.bytes)}) from ${plural(s.responders.length, 'device')}`);
    } else if (s.oneWay !== undefined) {
      // One way: the datagrams that went that way (echoes, reports and requests are not the test).
      this.line('client', s.sent.messages > 0
        ? `sent ${s.sent.messages} (${bytes(s.sent.bytes)}) in ${seconds(s.durationMs)}`
        : `received ${s.received.messages} (${bytes(s.received.bytes)}) in ${seconds(s.durationMs)}`);
    } else {
      this.line('client', `sent ${s.sent.messages} (${bytes(s.sent.bytes)}), received ${s.received.messages} (${bytes(s.received.bytes)}), ${missing} without reply`);
    }
    if (s.rttMs) {
      const r = s.rttMs;
      this.line('client', `rtt min/p50/p90/p99/max = ${[r.min, r.p50, r.p90, r.p99, r.max].map((v) => v.toFixed(3)).join('/')} ms`);
      if (r.count > 1) this.line('client', `rtt p99.9 ${r.p999.toFixed(3)} ms, mean ${r.mean.toFixed(3)} ms, stddev ${r.stddev.toFixed(3)} ms`);
      if (this.options.chart && r.count > 1) this.chart(r.buckets);
    }
    if (s.datagrams) {
      const d = s.datagrams;
      const jitter = d.jitterMs === null ? '' : `; jitter ${d.jitterMs.toFixed(3)} ms`;
      const elsewhere = d.otherSource > 0 ? `, ${d.otherSource} from another address` : '';
      this.line('client', `loss ${d.lossPercent.toFixed(1)}% (${d.lost} lost), ${d.late} late, ${d.duplicated} duplicated, ${d.reordered} reordered, ${d.foreign} foreign${elsewhere}${jitter}`);
    }
    if (s.responders) for (const text of responderLines(s.responders)) this.line('client', text);
    if (s.oneWay !== undefined) {
      const who = s.oneWay?.direction === 'receive' ? 'this client' : 'the server';
      this.line('client', s.oneWay ? `one-way, as ${who} received it: ${oneWayText(s.oneWay)}` : 'one-way: no report from the server');
    }
    for (const text of linkSummaryLines(s)) this.line('client', text);
    if (s.wire) this.line('client', wireLine(s.wire, this.options.symbols));
    if (s.wire?.projection) this.line('client', projectionLine(s.wire.projection, this.options.symbols));
    this.line('client', `ended: ${REASONS[s.ended]} after ${seconds(s.durationMs)}`);
  }

  private lines(role: Role, texts: string[]): void {
    texts.forEach((text, i) => this.line(role, i === 0 ? this.c.bold(text) : text));
  }

  private httpSummary(s: HttpSummary): void {
    this.line('client', this.c.bold(`--- ${s.url} summary ---`));
    if (s.status) {
      this.line('client', `${s.status.version} ${s.status.code} ${s.status.message}`);
      for (const [name, value] of s.headers) this.line('client', `${name}: ${value}`);
    }
    this.line('client', `body ${bytes(s.bodyBytes)}; received ${bytes(s.bytesIn)}, sent ${bytes(s.bytesOut)}`);
    if (s.tls) this.line('client', `tls ${s.tls.protocol}, ${s.tls.subject ?? 'no subject'}, issuer ${s.tls.issuer ?? '?'}, expires ${s.tls.validTo ?? '?'}`);
    const t = s.timingsMs;
    const step = (name: string, value: number | null) => (value === null ? [] : [`${name} ${ms(value)}`]);
    this.line('client', `time ${[...step('dns', t.dns), ...step('connect', t.connect), ...step('tls', t.tls), ...step('first byte', t.firstByte), `total ${ms(t.total)}`].join(', ')}`);
    if (s.reconnects) this.line('client', reconnectsLine(s.reconnects, s.tls !== null));
    this.line('client', `ended: ${REASONS[s.ended]}`);
  }

  private udpServerSummary(s: UdpServerSummary): void {
    const where = s.local ? ` ${hostPort(s.local.address, s.local.port)}` : '';
    this.line('server', this.c.bold(`--- udp${where} summary ---`));
    const d = s.datagrams;
    this.line('server', `${plural(d.in, 'datagram')} in (${bytes(s.bytesIn)}), ${d.out} out (${bytes(s.bytesOut)}), largest ${bytes(s.largest)}, ${d.truncated} truncated, ${d.sendErrors} send errors; up ${seconds(s.durationMs)}`);
    this.line('server', `${plural(s.peers, 'peer')} seen${s.olderPeers > 0 ? ` (${s.olderPeers} earlier not listed)` : ''}`);
    for (const p of s.perPeer) {
      this.line('server', `[client addr: ${tuple(p.remote)}] ${plural(p.datagrams, 'datagram')}, in ${bytes(p.bytesIn)}, out ${bytes(p.bytesOut)}`);
      if (p.oneWay) this.line('server', `[client addr: ${tuple(p.remote)}] probes ${oneWayText(p.oneWay)}`);
    }
  }

  /** The latency distribution as bars, as wide as the terminal: where the round trips fell. */
  private chart(buckets: Array<{ toMs: number; share: number }>): void {
    const { atMost, bar } = this.options.symbols;
    const widest = Math.max(...buckets.map((b) => b.share));
    // `[client]   ≤  1234.567 ms ` before the bar, ` 100.0%` after it.
    const room = Math.max(MIN_BAR, this.options.width - (`[client]   ${atMost} ${'0'.repeat(9)} ms `.length + ' 100.0%'.length) - 1);
    for (const { toMs, share } of buckets) {
      const bars = bar.repeat(Math.round((share / widest) * room));
      this.line('client', `  ${atMost} ${toMs.toFixed(3).padStart(9)} ms ${this.c.cyan(bars)} ${(share * 100).toFixed(1)}%`);
    }
  }

  /** `[client addr: …] ` before a server's recv line, `[server addr: …] ` before a UDP client's. */
  private peerLabel(role: Role, remote: Endpoint | undefined): string {
    if (!remote) return '';
    if (this.proto[role] === 'udp') return `[${role === 'server' ? 'client' : 'server'} addr: ${tuple(remote)}] `;
    return role === 'server' ? `[client addr: ${pair(remote)}] ` : '';
  }

  /** Why a server sent it (rule 2, greeting, push), or which script step sent it. */
  private sendExtra(e: Extract<NetEvent, { event: 'send' }>): string {
    if (e.step !== undefined) return this.extra(`step ${e.step}`);
    if (e.heartbeat) return this.extra(`heartbeat ${e.seq}`);
    if (e.rule !== undefined) return this.extra(`rule ${e.rule}`);
    if (e.answer === 'greeting' || e.answer === 'push') return this.extra(e.answer);
    if (e.answer === 'delayed') return this.extra('the answer asked for after a delay (idle-timeout)');
    return '';
  }

  /** A client script's step; a send shows as its send line. */
  private step(e: Extract<NetEvent, { event: 'step' }>): void {
    const name = `step ${e.step}${e.label ? ` (${e.label})` : ''}`;
    switch (e.name) {
      case 'send': return;
      case 'expect':
        if (e.timedOut) return this.payload(e.role, this.c.yellow(`${name}: expect timed out after ${seconds(e.ms ?? 0)}; received and not matched:`), e.data ?? Buffer.alloc(0), '');
        return this.line(e.role, `${name}: expect met${this.extra(ms(e.ms ?? 0))}`);
      case 'sleep': return this.line(e.role, `${name}: sleep ${seconds(e.ms ?? 0)}`);
      case 'repeat': return this.line(e.role, `${name}: repeat, pass ${e.iteration}${e.of === null ? ' (forever)' : ` of ${e.of}`}`);
      case 'close': return this.line(e.role, `${name}: close`);
    }
  }

  private recvExtra(e: Extract<NetEvent, { event: 'recv' }>): string {
    const notes: string[] = [];
    if (e.rttMs !== undefined) notes.push(ms(e.rttMs));
    if (e.heartbeat !== undefined) notes.push(`heartbeat ${e.heartbeat}`);
    if (e.kind === 'duplicate' || e.kind === 'foreign') notes.push(e.kind === 'duplicate' ? `duplicate${e.seq ? ` of datagram ${e.seq}` : ''}` : 'not an answer to any datagram sent');
    else if (e.kind) notes.push(`${e.kind}, datagram ${e.seq}`);
    if (e.truncatedFrom !== undefined) notes.push(`truncated from ${e.truncatedFrom} bytes`);
    const to = destination(e);
    if (to) notes.push(to);
    return notes.length ? this.extra(notes.join(', ')) : '';
  }

  private serverSummary(s: ServerSummary): void {
    const where = s.local ? ` ${hostPort(s.local.address, s.local.port)}` : '';
    this.line('server', this.c.bold(`--- ${s.proto}${where} summary ---`));
    const { served, rejected, active, shed } = s.clients;
    const lost = shed > 0 ? `, ${shed} shed (out of file descriptors)` : '';
    this.line('server', `${plural(served, 'client')} served, ${rejected} rejected${lost}, ${active} still connected; in ${bytes(s.bytesIn)}, out ${bytes(s.bytesOut)}; up ${seconds(s.durationMs)}`);
    if (s.tls) this.line('server', tlsStatsLine(s.tls));
    if (s.drops) for (const text of dropSummaryLines(s.drops)) this.line('server', text);
    if (s.olderClients > 0) this.line('server', `(${s.olderClients} earlier clients not listed)`);
    for (const r of s.perClient) {
      this.line('server', `[client addr: ${pair(r.remote)}] in ${bytes(r.bytesIn)}, out ${bytes(r.bytesOut)}, ${seconds(r.ms)}, ${REASONS[r.reason]}`);
    }
  }

  protected payload(role: Role, prefix: string, data: Buffer, suffix: string): void {
    if (!this.options.hexDump) return this.line(role, `${prefix} ${shownBytes(data, this.options.symbols.ellipsis)}${suffix}`);
    this.line(role, `${prefix} ${data.length} bytes${suffix}`);
    for (const row of hexDump(data.subarray(0, SHOWN_BYTES))) this.options.out.write(`  ${row}`);
    if (data.length > SHOWN_BYTES) this.options.out.write(`  ${this.options.symbols.ellipsis} ${data.length - SHOWN_BYTES} more bytes not shown`);
  }

  protected line(role: Role, text: string): void {
    this.options.out.write(`${this.tag(role)} ${text}`);
  }

  /** A line exactly as the note prints it, with no role tag (its raw-HTTP experiment has none). */
  protected untagged(text: string): void {
    this.options.out.write(text);
  }

  protected tag(role: Role): string {
    return role === 'client' ? this.c.cyan('[client]') : this.c.magenta('[server]');
  }

  protected extra(text: string): string {
    return this.c.dim(`  (${text})`);
  }

  /** `now`: at once (a long run's progress), not only after a connect has taken a while. */
  protected startSpinner(text: string, now = false): void {
    if (!this.options.spinner) return;
    // Only a connect that takes a while gets a spinner (a quick one would just flicker), and only
    // then is ora loaded.
    const token = Symbol('spinner');
    this.spinnerToken = token;
    this.spinnerDelay = setTimeout(() => {
      void import('ora').then(({ default: ora }) => {
        if (this.spinnerToken !== token) return;
        this.spinning = ora({ text, stream: process.stderr, discardStdin: false, color: this.options.color ? 'cyan' : false }).start();
      });
    }, now ? 0 : SPINNER_DELAY_MS);
  }

  protected stopSpinner(): void {
    clearTimeout(this.spinnerDelay);
    this.spinnerToken = null;
    this.spinning?.stop();
    this.spinning = null;
  }
}
