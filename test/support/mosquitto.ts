// A real mosquitto broker (Debian package mosquitto) started by a test: a generated config in a
// temp dir, one TLS listener on 127.0.0.1 and a free port, logging to stderr; killed by stop().
// Started as root it drops to the user mosquitto: the certificate files must be readable by it.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './peers.js';

export const MOSQUITTO = '/usr/sbin/mosquitto';

/** Why mosquitto cannot be used here, or null when it can. */
export const mosquittoUnavailable: string | null = (() => {
  const probe = spawnSync(MOSQUITTO, ['-h'], { encoding: 'utf8' });
  return /mosquitto version 2/.test(`${probe.stdout}${probe.stderr}`) ? null : `${MOSQUITTO} 2.x missing (Debian package mosquitto)`;
})();

export interface MosquittoTls {
  cafile: string;
  certfile: string;
  keyfile: string;
  /** require_certificate true: a client must present a certificate cafile issued. */
  requireCertificate: boolean;
}

export interface Mosquitto {
  port: number;
  /** What the broker logged. */
  log(): string;
  stop(): void;
}

export async function startMosquitto(tls: MosquittoTls): Promise<Mosquitto> {
  const dir = mkdtempSync(join(tmpdir(), 'netnote-mosquitto-'));
  chmodSync(dir, 0o755);
  const port = await freePort();
  const config = join(dir, 'mosquitto.conf');
  writeFileSync(config, [
    'per_listener_settings false',
    'allow_anonymous true',
    'persistence false',
    'log_dest stderr',
    'log_type all',
    `listener ${port} 127.0.0.1`,
    `cafile ${tls.cafile}`,
    `certfile ${tls.certfile}`,
    `keyfile ${tls.keyfile}`,
    `require_certificate ${tls.requireCertificate}`,
    '',
  ].join('\n'));
  chmodSync(config, 0o644);
  const child = spawn(MOSQUITTO, ['-c', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (log += chunk));
  let exited = false;
  child.on('exit', () => (exited = true));
  const stop = () => {
    if (!exited) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  for (let i = 0; !/mosquitto version \S+ running/.test(log); i++) {
    if (exited || i > 200) {
      stop();
      throw new Error(`mosquitto did not start: ${log}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return { port, log: () => log, stop };
}
