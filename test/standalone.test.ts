import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { maskPorts } from './support/cli.js';

const root = fileURLToPath(new URL('..', import.meta.url));

describe('the standalone executable', () => {
  it('builds offline into one file that runs the note experiment without the checkout', () => {
    execFileSync(process.execPath, ['bin/build-standalone.mjs'], { cwd: root, stdio: 'pipe' });
    const binary = `${root}dist/standalone/netnote`;
    // Run from / with an empty PATH: nothing from node_modules or the checkout can help it.
    const stdout = execFileSync(binary, ['demo', '-c', '1', '-i', '0'], { cwd: '/', env: { PATH: '' }, encoding: 'utf8' });
    expect(maskPorts(stdout)).toContain("[server] [client addr: 127.0.0.1, PORT] recv data: b'1234567890'");
    expect(execFileSync(binary, ['--version'], { encoding: 'utf8' }).trim()).toMatch(/^\d+\.\d+\.\d+$/);
  }, 120_000);
});
