import { describe, expect, it } from 'vitest';
import { maskPorts, runCli } from './support/cli.js';
import { needs } from './support/needs.js';
import { ipv6LoopbackMissing } from './support/peers.js';

// The note's "server + client in one process" running result, line for line (ports masked).
const NOTE_SERVER = [
  '[server] socket object created.',
  '[server] bind address: 127.0.0.1, PORT',
  '[server] started, listening ...',
  '[server] accept a client: 127.0.0.1, PORT',
  "[server] [client addr: 127.0.0.1, PORT] recv data: b'1234567890'",
];
const NOTE_CLIENT = [
  '[client] socket object created.',
  '[client] connecting: 127.0.0.1, PORT',
  '[client] connected.',
  "[client] send data: b'1234567890'",
  "[client] recv data: b'1234567890'",
  '[client] -------------------------',
];

/** Lines of one role, with netnote's additions "  (…)" cut so the note's text remains. */
function noteLines(stdout: string, role: string): string[] {
  return maskPorts(stdout).split('\n').filter((l) => l.startsWith(role)).map((l) => l.replace(/ {2}\(.*\)$/, ''));
}

describe('demo tcp: the note experiment', () => {
  it('prints the note lines for server and client, 3 rounds, then summaries, exit 0', async () => {
    const { code, stdout, stderr } = await runCli(['demo', 'tcp', '--count', '3', '--interval', '50ms'], { timeoutMs: 15_000 });
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const server = noteLines(stdout, '[server]');
    const client = noteLines(stdout, '[client]');
    expect(server.slice(0, 5)).toEqual(NOTE_SERVER);
    expect(server.filter((l) => l.includes('recv data'))).toHaveLength(3);
    expect(server).toContain('[server] [client addr: 127.0.0.1, PORT] disconnected');
    expect(client.slice(0, 6)).toEqual(NOTE_CLIENT);
    // Rounds repeat the note's three lines exactly.
    expect(client.slice(3, 12)).toEqual([...NOTE_CLIENT.slice(3), ...NOTE_CLIENT.slice(3), ...NOTE_CLIENT.slice(3)]);
    expect(stdout).toMatch(/\[client\] sent 3 \(30 B\), received 3 \(30 B\), 0 without reply/);
    expect(stdout).toMatch(/\[client\] rtt min\/p50\/p90\/p99\/max = [\d.]+\/[\d.]+\/[\d.]+\/[\d.]+\/[\d.]+ ms/);
    expect(stdout).toMatch(/\[server\] 1 client served, 0 rejected, 0 still connected; in 30 B, out 30 B/);
  });

  it('runs over IPv6 loopback too', needs(ipv6LoopbackMissing), async () => {
    const { code, stdout } = await runCli(['demo', '--host', '::1', '-c', '1', '-i', '0'], { timeoutMs: 15_000 });
    expect(code).toBe(0);
    expect(maskPorts(stdout)).toContain('[server] bind address: ::1, PORT');
    expect(maskPorts(stdout)).toContain('[client] connecting: ::1, PORT');
  });

  it('with --json prints one object per event and a summary with the exit code', async () => {
    const { code, stdout } = await runCli(['--json', 'demo', '-c', '2', '-i', '0'], { timeoutMs: 15_000 });
    expect(code).toBe(0);
    const events = stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(events.every((e) => e.v === 1 && typeof e.time === 'string')).toBe(true);
    const sends = events.filter((e) => e.event === 'send');
    expect(sends.map((e) => e.data)).toEqual([
      { bytes: 10, base64: 'MTIzNDU2Nzg5MA==', text: "b'1234567890'" },
      { bytes: 10, base64: 'MTIzNDU2Nzg5MA==', text: "b'1234567890'" },
    ]);
    const summary = events.find((e) => e.event === 'summary' && e.role === 'client');
    expect(summary.exitCode).toBe(0);
    expect(summary.summary.sent).toEqual({ messages: 2, bytes: 20 });
    expect(summary.summary.received).toEqual({ messages: 2, bytes: 20 });
    expect(summary.summary.rttMs.count).toBe(2);
  });
});
