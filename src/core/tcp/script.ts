import { elapsedMs } from '../clock.js';
import { NetnoteError, fromSystemError } from '../errors.js';
import type { EventSink } from '../events.js';
import { RttRecorder } from '../measure/rtt.js';
import { mtuOf, tcpExchangeWire } from '../measure/wire.js';
import { Conversation, EXPECT_TIMEOUT_MS, type ScriptRunConfig } from '../message/conversation.js';
import { unconnectedSummary, type ClientResult } from '../message/exchange.js';
import { pauseForOutput } from '../run/backpressure.js';
import { RunControl } from '../run/control.js';
import { Reconnector } from '../run/reconnect.js';
import type { ConnectOptions } from '../socket/tcp.js';
import { Link, connectLink, type LinkEnd } from './link.js';

/**
 * tcp-client --script: connect, then run the script's steps on that connection; with --reconnect,
 * on the next connection from where a loss stopped it.
 */
export async function runTcpScript(config: ScriptRunConfig, sink: EventSink, signal: AbortSignal): Promise<ClientResult> {
  const started = performance.now();
  const rtt = await RttRecorder.create();
  const options: ConnectOptions = {
    host: config.host, port: config.port, local: config.local, timeoutMs: config.timeoutMs, signal, tls: config.tls ?? null, keepalive: config.keepalive ?? null,
  };
  let link: Link;
  try {
    link = await connectLink(options, config.waitForMs ?? null, sink, started);
  } catch (err) {
    const error = fromSystemError(err, { host: config.host, port: config.port, doing: 'connect' });
    return { summary: unconnectedSummary('tcp', null, error, elapsedMs(started)), error };
  }
  const control = new RunControl();
  let end: LinkEnd | null = null;
  const lose = (linkEnd: LinkEnd) => {
    if (control.ended) return;
    end = linkEnd;
    control.end(linkEnd.reason, linkEnd.error);
  };
  const conversationLink = (current: Link) => ({
    where: current.where,
    send: (data: Buffer) => new Promise<void>((resolve, reject) => {
      const { socket } = current;
      current.sent(data.length);
      if (socket.write(data)) return resolve();
      // Wait for the kernel to take it: a peer that does not read holds the script, not our memory.
      const onDrain = () => {
        socket.off('close', onClose);
        resolve();
      };
      const onClose = () => {
        socket.off('drain', onDrain);
        reject(new NetnoteError('lost', `${current.where} closed the connection while a send waited`));
      };
      socket.once('drain', onDrain);
      socket.once('close', onClose);
    }),
    close: () => current.socket.end(),
  });
  const conversation = new Conversation(config.script, sink, control, conversationLink(link), rtt,
    config.script.frame ? 'messages' : 'stream', config.timeoutMs ?? config.script.timeoutMs ?? EXPECT_TIMEOUT_MS);
  const attach = (current: Link) => {
    end = null;
    const { socket } = current;
    socket.on('data', (chunk: Buffer) => {
      current.received(chunk.length);
      if (sink.messages) {
        sink.emit({ event: 'recv', role: 'client', data: chunk });
        pauseForOutput(sink, socket);
      }
      conversation.receive(chunk);
    });
    socket.on('end', () => lose({ reason: 'peer-closed', error: null, cause: 'fin' }));
    socket.on('error', (err) => lose(current.errorEnd(err)));
    socket.on('close', () => lose({ reason: 'peer-closed', error: null, cause: 'fin' }));
  };
  let keepaliveProbes = 0;
  const detach = (current: Link) => {
    const { socket } = current;
    for (const name of ['data', 'end', 'error', 'close']) socket.removeAllListeners(name);
    socket.on('error', () => {}); // a late reset of a socket let go must not crash the run
    socket.end();
    socket.destroySoon();
    current.close();
    keepaliveProbes += current.probes;
  };
  attach(link);
  const reconnector = config.reconnect ? new Reconnector(config.reconnect, started, sink) : null;
  /** The connection in use; null when a loss could not be made good. */
  let current: Link | null = link;
  let connections = 1;
  let from = null;
  const reporter = config.reportEveryMs ? setInterval(() => sink.emit({
    event: 'interim', role: 'client', elapsedMs: elapsedMs(started), sent: { ...conversation.sent }, received: { ...conversation.received },
    rttMs: rtt.percentiles(), ...(reconnector ? { reconnects: reconnector.summary().reconnects } : {}),
  }), config.reportEveryMs) : undefined;
  for (;;) {
    await conversation.run(signal, from);
    const lost = end as LinkEnd | null;
    const ended = control.ended;
    if (!reconnector || !ended || !lost?.cause || !conversation.unfinished) break;
    const noticedAt = performance.now();
    link.reportEnd(sink, lost, ended.reason);
    detach(link);
    current = null;
    control.resume();
    const outcome = await reconnector.again(
      { cause: lost.cause, noticedAt, lastAliveAt: link.aliveUntil(lost.cause, noticedAt), lost: conversation.expecting ? 1 : 0 },
      async () => {
        const next = await connectLink(options, null, sink);
        return { value: next, resumed: next.tls ? next.tls.resumed : null };
      },
      async (ms) => {
        await control.until(() => false, ms);
        return !control.ended;
      },
    );
    if (!('value' in outcome)) {
      // Out of attempts (or interrupted): the run ends with the loss, or what the last attempt met.
      control.end(ended.reason, outcome.error ?? ended.error);
      break;
    }
    link = current = outcome.value;
    connections++;
    attach(link);
    from = conversation.relink(conversationLink(link));
  }

  clearInterval(reporter);
  let result = control.ended ?? { reason: 'completed' as const, error: null };
  const unfinished = conversation.unfinished;
  if (result.reason === 'peer-closed' && unfinished) {
    result = {
      reason: 'peer-closed',
      error: result.error ?? new NetnoteError('lost', `${link.where} closed the connection at step ${unfinished.path} (${unfinished.kind}) of the script`),
    };
  } else if (result.reason === 'peer-closed') {
    result = { reason: 'completed', error: null };
  }
  if (current) {
    const said = end as LinkEnd | null;
    current.reportEnd(sink, said?.cause && (said.cause !== 'fin' || result.error) ? said : { ...result, cause: null }, result.reason);
    detach(current);
  }
  const durationMs = elapsedMs(started);
  const { sent, received } = conversation;
  const { local, remote } = link;
  return {
    summary: {
      proto: 'tcp', remote, local, connected: true, rounds: null,
      sent: { ...sent }, received: { ...received }, rttMs: rtt.summary(), durationMs, ended: result.reason, datagrams: null,
      wire: tcpExchangeWire({
        family: local.family, mtu: mtuOf(local.address), messages: sent.messages, messageBytes: sent.bytes,
        replies: received.messages, replyBytes: received.bytes, intervalMs: 0, connections, keepaliveProbes,
      }),
      tls: link.tls,
      script: conversation.stats,
      ...(reconnector ? { reconnects: reconnector.summary() } : {}),
      ...(config.keepalive ? { keepalive: { ...config.keepalive, probesSent: keepaliveProbes } } : {}),
    },
    error: result.error,
  };
}
