import type net from 'node:net';
import { hostPort } from '../endpoint.js';
import { NetnoteError, isTransient } from '../errors.js';
import type { EventSink, NetEvent } from '../events.js';
import { connectTcp, type ConnectOptions } from './tcp.js';

/** Between --wait-for attempts: a server starting up answers within one of them. */
const RETRY_MS = 250;

/**
 * --wait-for DUR, what CI jobs do with wait-for-it before a test: connect, and while the port does
 * not answer (refused, unreachable, no answer, reset, a name not yet in DNS), try again every
 * 250 ms until DUR has passed (exit 5). Only the attempt that connects is logged; the first
 * failure says what the client waits for.
 */
export async function connectWaiting(options: ConnectOptions, sink: EventSink, waitForMs: number): Promise<net.Socket> {
  const started = performance.now();
  const where = hostPort(options.host, options.port);
  let waiting: NetnoteError | null = null;
  for (let attempt = 1; ; attempt++) {
    const left = waitForMs - (performance.now() - started);
    const held: NetEvent[] = [];
    const quiet: EventSink = { messages: sink.messages, emit: (e) => held.push(e), room: () => sink.room() };
    try {
      const socket = await connectTcp({ ...options, timeoutMs: Math.max(1, Math.min(options.timeoutMs ?? Infinity, left)) }, quiet);
      if (waiting) sink.emit({ event: 'waited', role: options.role ?? 'client', host: options.host, port: options.port, ms: Math.round(performance.now() - started), attempts: attempt });
      for (const event of held) sink.emit(event);
      return socket;
    } catch (err) {
      const error = err as NetnoteError;
      if (!isTransient(error)) {
        for (const event of held) sink.emit(event);
        throw error;
      }
      if (!waiting) sink.emit({ event: 'waiting', role: options.role ?? 'client', host: options.host, port: options.port, forMs: waitForMs, reason: error.message });
      waiting = error;
      if (performance.now() - started + RETRY_MS >= waitForMs) {
        throw new NetnoteError('timeout', `${where} did not answer within --wait-for ${waitForMs} ms (${attempt} attempts; the last: ${error.message})`,
          'start the server first, or wait longer');
      }
      if (!(await pause(RETRY_MS, options.signal))) throw new NetnoteError('interrupted', 'interrupted while waiting for the port to answer');
    }
  }
}

/** Resolves true after `ms`, false as soon as `signal` aborts (Ctrl-C): a wait between attempts to connect. */
export function pause(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const done = (value: boolean) => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      resolve(value);
    };
    const onAbort = () => done(false);
    const timer = setTimeout(() => done(true), ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
