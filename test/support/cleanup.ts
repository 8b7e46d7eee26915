// What a test opens, ended after it whether it passed or not: sockets, peer process groups,
// netnote runs, and any other closer. Call once at the top of a test file.
import type { ChildProcess } from 'node:child_process';
import type net from 'node:net';
import { afterEach } from 'vitest';
import type { Running } from './cli.js';
import { killGroup } from './peers.js';

export interface Tracked {
  servers: Set<Running>;
  peers: Set<ChildProcess>;
  sockets: Set<net.Socket>;
  cleanups: Array<() => void>;
}

export function trackResources(): Tracked {
  const tracked: Tracked = { servers: new Set(), peers: new Set(), sockets: new Set(), cleanups: [] };
  afterEach(async () => {
    for (const socket of tracked.sockets) socket.destroy();
    tracked.sockets.clear();
    for (const peer of tracked.peers) killGroup(peer);
    tracked.peers.clear();
    await Promise.all([...tracked.servers].map((server) => server.stop('SIGKILL')));
    tracked.servers.clear();
    for (const cleanup of tracked.cleanups.splice(0)) cleanup();
  });
  return tracked;
}
