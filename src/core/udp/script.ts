import { elapsedMs } from '../clock.js';
import { hostPort, type Endpoint } from '../endpoint.js';
import { NetnoteError, fromSystemError } from '../errors.js';
import type { EventSink } from '../events.js';
import { RttRecorder } from '../measure/rtt.js';
import { mtuOf, sumWire, udpWire } from '../measure/wire.js';
import { Conversation, EXPECT_TIMEOUT_MS, type ScriptRunConfig } from '../message/conversation.js';
import { unconnectedSummary, type ClientResult } from '../message/exchange.js';
import { DatagramLog } from '../run/backpressure.js';
import { RunControl } from '../run/control.js';
import { UdpClientSocket, type UdpCastOptions } from '../socket/udp.js';

/**
 * udp-client --script: the script's steps with one peer; a datagram is a message, and a reply
 * counts from whatever address it comes (socket/udp.ts), as the note's recvfrom() takes it.
 */
export async function runUdpScript(config: ScriptRunConfig & Partial<UdpCastOptions>, sink: EventSink, signal: AbortSignal): Promise<ClientResult> {
  const started = performance.now();
  const rtt = await RttRecorder.create();
  let socket: UdpClientSocket;
  try {
    socket = await UdpClientSocket.open(config, sink);
  } catch (err) {
    const error = fromSystemError(err, { host: config.host, port: config.port, doing: 'connect' });
    return { summary: unconnectedSummary('udp', null, error, elapsedMs(started)), error };
  }
  const { remote } = socket;
  const where = hostPort(remote.address, remote.port);
  const control = new RunControl();
  const log = new DatagramLog(sink, 'client');
  let datagramsIn = 0;
  const conversation = new Conversation(config.script, sink, control, {
    where,
    send: (data) => new Promise((resolve, reject) => socket.send(data, (err) => {
      if (!err) return resolve();
      const code = (err as NodeJS.ErrnoException).code;
      reject(code === 'EMSGSIZE'
        ? new NetnoteError('usage', `the ${data.length}-byte datagram is too long to send to ${where} (EMSGSIZE)`, 'send a smaller payload')
        : fromSystemError(err, { host: remote.address, port: remote.port, doing: 'io' }));
    })),
    close: () => {}, // UDP has no connection: the script just ends
  }, rtt, 'messages', config.timeoutMs ?? config.script.timeoutMs ?? EXPECT_TIMEOUT_MS);

  socket.onMessage((datagram: Buffer, from: Endpoint) => {
    datagramsIn++;
    if (sink.messages) log.emit({ event: 'recv', role: 'client', data: datagram, remote: from });
    conversation.receive(datagram);
  });
  socket.onError((err: NodeJS.ErrnoException) => {
    control.end('failed', err.code === 'ECONNREFUSED'
      ? new NetnoteError('unreachable', `nothing listening on ${where} (ICMP port unreachable)`, 'check the port, or start a server there: netnote udp-server HOST PORT')
      : fromSystemError(err, { host: remote.address, port: remote.port, doing: 'io' }));
  });

  await conversation.run(signal);
  const ended = control.ended ?? { reason: 'completed' as const, error: null };
  const address = socket.local();
  const mtu = mtuOf(address.address);
  socket.close();
  const { sent, received } = conversation;
  return {
    summary: {
      proto: 'udp', remote, local: { address: address.address, port: address.port, family: remote.family },
      connected: true, rounds: null, sent: { ...sent }, received: { ...received },
      rttMs: rtt.summary(), durationMs: elapsedMs(started), ended: ended.reason, datagrams: null,
      wire: sumWire(udpWire(sent.messages, sent.bytes, remote.family, mtu), udpWire(datagramsIn, received.bytes, remote.family, mtu)),
      tls: null,
      script: conversation.stats,
    },
    error: ended.error,
  };
}
