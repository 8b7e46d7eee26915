import type net from 'node:net';
import { elapsedMs } from '../clock.js';
import { hostPort, type Endpoint } from '../endpoint.js';
import { NetnoteError, fromSystemError } from '../errors.js';
import type { EventSink } from '../events.js';
import { RttRecorder } from '../measure/rtt.js';
import { mtuOf, tcpExchangeWire } from '../measure/wire.js';
import { Conversation, EXPECT_TIMEOUT_MS, type ScriptRunConfig } from '../message/conversation.js';
import { unconnectedSummary, type ClientResult } from '../message/exchange.js';
import { pauseForOutput } from '../run/backpressure.js';
import { RunControl } from '../run/control.js';
import { connectTcp, localEndpoint, remoteEndpoint } from '../socket/tcp.js';
import { tlsSession } from '../socket/tls.js';

/** tcp-client --script: connect, then run the script's steps on that one connection. */
export async function runTcpScript(config: ScriptRunConfig, sink: EventSink, signal: AbortSignal): Promise<ClientResult> {
  const started = performance.now();
  const rtt = await RttRecorder.create();
  let socket: net.Socket;
  try {
    socket = await connectTcp({ host: config.host, port: config.port, local: config.local, timeoutMs: config.timeoutMs, signal, tls: config.tls ?? null, keepalive: config.keepalive ?? null }, sink);
  } catch (err) {
    const error = fromSystemError(err, { host: config.host, port: config.port, doing: 'connect' });
    return { summary: unconnectedSummary('tcp', null, error, elapsedMs(started)), error };
  }
  const local: Endpoint = localEndpoint(socket);
  const remote: Endpoint = remoteEndpoint(socket);
  const where = hostPort(remote.address, remote.port);
  const control = new RunControl();
  const conversation = new Conversation(config.script, sink, control, {
    where,
    send: (data) => new Promise((resolve, reject) => {
      if (socket.write(data)) return resolve();
      // Wait for the kernel to take it: a peer that does not read holds the script, not our memory.
      const onDrain = () => {
        socket.off('close', onClose);
        resolve();
      };
      const onClose = () => {
        socket.off('drain', onDrain);
        reject(new NetnoteError('lost', `${where} closed the connection while a send waited`));
      };
      socket.once('drain', onDrain);
      socket.once('close', onClose);
    }),
    close: () => socket.end(),
  }, rtt, config.script.frame ? 'messages' : 'stream', config.timeoutMs ?? config.script.timeoutMs ?? EXPECT_TIMEOUT_MS);

  socket.on('data', (chunk: Buffer) => {
    if (sink.messages) {
      sink.emit({ event: 'recv', role: 'client', data: chunk });
      pauseForOutput(sink, socket);
    }
    conversation.receive(chunk);
  });
  socket.on('end', () => control.end('peer-closed', null));
  socket.on('error', (err) => {
    const error = fromSystemError(err, { host: config.host, port: config.port, doing: 'io' });
    control.end(error.code === 'lost' ? 'reset' : 'failed', error);
  });
  socket.on('close', () => control.end('peer-closed', null));

  await conversation.run(signal);
  let ended = control.ended ?? { reason: 'completed' as const, error: null };
  const unfinished = conversation.unfinished;
  if (ended.reason === 'peer-closed' && unfinished) {
    ended = {
      reason: 'peer-closed',
      error: new NetnoteError('lost', `${where} closed the connection at step ${unfinished.path} (${unfinished.kind}) of the script`),
    };
  } else if (ended.reason === 'peer-closed') {
    ended = { reason: 'completed', error: null };
  }
  socket.end();
  socket.destroySoon();
  const durationMs = elapsedMs(started);
  const { sent, received } = conversation;
  sink.emit({ event: 'closed', role: 'client', reason: ended.reason, remote, bytesIn: received.bytes, bytesOut: sent.bytes, ms: durationMs });
  return {
    summary: {
      proto: 'tcp', remote, local, connected: true, rounds: null,
      sent: { ...sent }, received: { ...received }, rttMs: rtt.summary(), durationMs, ended: ended.reason, datagrams: null,
      wire: tcpExchangeWire({
        family: local.family, mtu: mtuOf(local.address), messages: sent.messages, messageBytes: sent.bytes,
        replies: received.messages, replyBytes: received.bytes, intervalMs: 0,
      }),
      tls: tlsSession(socket),
      script: conversation.stats,
    },
    error: ended.error,
  };
}
