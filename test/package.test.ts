import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { builtinModules } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startServer } from './support/cli.js';
import { needs } from './support/needs.js';
import { commandMissing } from './support/peers.js';

// What a user gets from `npm pack` in a clean checkout: prepack builds, the tarball holds only
// what netnote needs at run time, and a global install (offline: there is nothing to fetch)
// runs the note's experiments.

const root = fileURLToPath(new URL('..', import.meta.url));
const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
const work = mkdtempSync(join(tmpdir(), 'netnote-package-'));
const checkout = join(work, 'checkout');
const prefix = join(work, 'prefix');
const installed = join(prefix, 'bin', 'netnote');
let tarball = '';

const run = (command: string, args: string[], cwd = work) =>
  execFileSync(command, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1', LC_ALL: 'C.UTF-8' } });

beforeAll(() => {
  // The files a clone has (committed, or new and not ignored), without dist/: prepack must build.
  const files = run('git', ['ls-files', '--cached', '--others', '--exclude-standard', '-z'], root).split('\0').filter((f) => f && existsSync(join(root, f)));
  for (const file of files) {
    mkdirSync(dirname(join(checkout, file)), { recursive: true });
    cpSync(join(root, file), join(checkout, file));
  }
  symlinkSync(join(root, 'node_modules'), join(checkout, 'node_modules'));
  tarball = join(work, run('npm', ['pack', '--silent', '--pack-destination', work], checkout).trim().split('\n').at(-1)!);
  run('npm', ['install', '-g', '--offline', '--no-audit', '--no-fund', '--prefix', prefix, tarball]);
}, 180_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('the npm package', () => {
  it('holds the launcher, the bundle, the man page, the docs, README, LICENSE and CHANGELOG, nothing else', () => {
    const docs = readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md') || f === 'netnote.schema.json').map((f) => `package/docs/${f}`);
    expect(run('tar', ['tzf', tarball]).split('\n').filter(Boolean).sort()).toEqual([
      'package/CHANGELOG.md', 'package/LICENSE', 'package/README.md', 'package/bin/netnote', 'package/bin/package.json',
      'package/dist/netnote.1', 'package/dist/netnote.cjs', ...docs, 'package/package.json',
    ].sort());
  });

  it('a global install pulls no package: the bundle loads nothing but Node built-ins', () => {
    const lib = join(prefix, 'lib', 'node_modules', 'netnote');
    expect(existsSync(join(lib, 'node_modules'))).toBe(false);
    const manifest = JSON.parse(readFileSync(join(lib, 'package.json'), 'utf8')) as { dependencies?: object };
    expect(manifest.dependencies ?? {}).toEqual({});
    const required = [...readFileSync(join(lib, 'dist', 'netnote.cjs'), 'utf8').matchAll(/\brequire\("([^"]+)"\)/g)].map((m) => m[1]!);
    expect(required.length).toBeGreaterThan(0);
    expect(required.filter((name) => !name.startsWith('node:') && !builtinModules.includes(name))).toEqual([]);
  });

  it('the installed netnote runs: --version, the note demo, a tcp-server and a tcp-client', async () => {
    expect(run(installed, ['--version']).trim()).toBe(version);
    expect(run(installed, ['demo', 'tcp', '-c', '1', '-i', '0'], '/')).toMatch(/\[server\] \[client addr: 127\.0\.0\.1, \d+\] recv data: b'1234567890'\n/);
    const server = await startServer('tcp-server', [], '127.0.0.1', { netnote: installed });
    try {
      const client = await runCli(['tcp-client', '127.0.0.1', String(server.port), '-c', '2', '-i', '0', '--verify-echo'], { netnote: installed });
      expect(client.code).toBe(0);
      expect(client.stdout).toContain("[client] recv data: b'1234567890'");
      expect(client.stdout).toMatch(/\[client\] sent 2 \(20 B\), received 2 \(20 B\), 0 without reply\n/);
    } finally {
      await server.stop('SIGTERM');
    }
    expect(server.stdout()).toMatch(/\[server\] 1 client served, 0 rejected/);
  });

  it('installs the man page, and netnote help prints the shipped documents', () => {
    const page = join(prefix, 'share', 'man', 'man1', 'netnote.1');
    expect(existsSync(page)).toBe(true);
    expect(run(installed, ['help', 'wire-cost'])).toBe(readFileSync(join(root, 'docs', 'wire-cost.md'), 'utf8'));
    expect(run(installed, ['help', 'schema'])).toBe(readFileSync(join(root, 'docs', 'netnote.schema.json'), 'utf8'));
  });

  it('the man page is well-formed roff and reads as a man page', needs(commandMissing('groff', 'groff-base'), commandMissing('man', 'man-db')), () => {
    const page = join(prefix, 'share', 'man', 'man1', 'netnote.1');
    // Every warning on: a page that renders with none is well-formed roff.
    const check = spawnSync('groff', ['-man', '-Tutf8', '-ww', '-z', page], { encoding: 'utf8' });
    expect(check.stderr).toBe('');
    expect(check.status).toBe(0);
    const text = execFileSync('man', ['-l', page], { encoding: 'utf8', env: { ...process.env, MANWIDTH: '100', MAN_KEEP_FORMATTING: '' } });
    expect(text).toMatch(/^NETNOTE\(1\)/);
    expect(text).toMatch(/\n {3}tcp-client \[options\] <host> <port>\n/);
    expect(text).toMatch(/\nEXIT STATUS\n/);
  });
});
