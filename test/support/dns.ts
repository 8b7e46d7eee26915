// A real DNS server (dnsmasq, Debian dnsmasq-base) started by a test inside a namespace the test
// made: no upstream (--no-resolv), no /etc/hosts, only the records the test gives.
import { spawn, spawnSync } from 'node:child_process';
import type { Namespace } from './netns.js';

export const DNSMASQ = '/usr/sbin/dnsmasq';

/** Why dnsmasq cannot be used here, or null when it can. */
export const dnsmasqUnavailable: string | null = (() => {
  const probe = spawnSync(DNSMASQ, ['--version'], { encoding: 'utf8' });
  return probe.status === 0 ? null : `${DNSMASQ} missing (Debian package dnsmasq-base)`;
})();

export interface Dnsmasq {
  address: string;
  port: number;
  stderr(): string;
  stop(): void;
}

/**
 * Starts dnsmasq in `ns` on `address`:`port` (default 53: the namespace is private) with
 * `records` (dnsmasq options such as `--host-record=…`). Resolves once it serves.
 */
export async function startDnsmasq(ns: Namespace, address: string, records: string[], port = 53): Promise<Dnsmasq> {
  const child = spawn('ip', ['netns', 'exec', ns.name, DNSMASQ,
    '--keep-in-foreground', '--pid-file=', '--log-facility=-', '--conf-file=/dev/null',
    '--no-resolv', '--no-hosts', `--listen-address=${address}`, '--bind-interfaces', `--port=${port}`, '--local-ttl=300',
    ...records], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  let exited = false;
  child.on('exit', () => (exited = true));
  const stop = () => {
    if (!exited) child.kill('SIGKILL');
  };
  // dnsmasq logs "started" after its listening sockets are bound.
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      stop();
      reject(new Error(`dnsmasq did not start: ${stderr}`));
    }, 5000);
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
      if (/started, version/.test(stderr)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.on('exit', () => {
      clearTimeout(timer);
      reject(new Error(`dnsmasq exited: ${stderr}`));
    });
  });
  return { address, port, stderr: () => stderr, stop };
}
