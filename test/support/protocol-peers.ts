// Real protocol implementations the script tests talk to: a mosquitto broker and a pymodbus
// Modbus TCP server, each on loopback and a free port, in a process group the test kills.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, hasCommand, killGroup, untilListening } from './peers.js';

/** Debian's python3 (python3-pymodbus is installed for it, not for a pyenv one first on the PATH). */
const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';

export interface ProtocolPeer {
  port: number;
  child: ChildProcess;
  /** What it printed on stderr so far. */
  log(): string;
}

export function protocolPeersMissing(): string[] {
  const missing: string[] = [];
  if (!hasCommand('mosquitto') || !hasCommand('mosquitto_pub')) missing.push('mosquitto, mosquitto-clients');
  if (!hasCommand('mbpoll')) missing.push('mbpoll');
  if (spawnSync(PYTHON, ['-c', 'import pymodbus.server'], { stdio: 'ignore', timeout: 10_000 }).status !== 0) missing.push('python3-pymodbus (with python3-serial, python3-serial-asyncio)');
  return missing;
}

function start(command: string, args: string[], ready: RegExp, peers: Set<ChildProcess>, port: number): Promise<ProtocolPeer> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    peers.add(child);
    let text = '';
    const timer = setTimeout(() => {
      killGroup(child);
      reject(new Error(`${command} not ready after 10 s:\n${text}`));
    }, 10_000);
    const onData = (chunk: Buffer) => {
      text += chunk.toString();
      if (ready.test(text)) {
        clearTimeout(timer);
        resolve({ port, child, log: () => text });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${command} exited (${code}) before it was ready:\n${text}`));
    });
  });
}

/**
 * mosquitto with a generated config: one listener on 127.0.0.1, anonymous clients allowed. Run
 * as root it drops to the user mosquitto, so its directory and config must be world-readable.
 */
export async function startMosquitto(peers: Set<ChildProcess>, cleanups: Array<() => void>): Promise<ProtocolPeer> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'netnote-mosquitto-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const config = join(dir, 'mosquitto.conf');
  writeFileSync(config, `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\nlog_dest stderr\nlog_type all\n`);
  chmodSync(dir, 0o755);
  chmodSync(config, 0o644);
  return start('mosquitto', ['-c', config], /mosquitto version \S+ running/, peers, port);
}

/** A pymodbus Modbus TCP server whose holding registers 0..9 hold 100..109. */
export async function startPymodbus(peers: Set<ChildProcess>): Promise<ProtocolPeer> {
  const port = await freePort();
  const script = `
import sys
from pymodbus.server import StartTcpServer
from pymodbus.datastore import ModbusSequentialDataBlock, ModbusSlaveContext, ModbusServerContext
block = ModbusSequentialDataBlock(0, [0] * 100)
block.setValues(0, [100 + i for i in range(10)])
context = ModbusServerContext(slaves=ModbusSlaveContext(hr=block, zero_mode=True), single=True)
print("modbus server ready", flush=True)
StartTcpServer(context=context, address=("127.0.0.1", ${port}))
`;
  const peer = await start(PYTHON, ['-u', '-c', script], /modbus server ready/, peers, port);
  await untilListening(port, 'pymodbus'); // it prints before it listens
  return peer;
}
