import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runCli, runOnTerminal, startCli, startServer } from './support/cli.js';
import { needs } from './support/needs.js';
import { commandMissing } from './support/peers.js';

const COMMANDS = ['tcp-server', 'tcp-client', 'udp-server', 'udp-client', 'http-get', 'resolve', 'interfaces', 'route', 'demo', 'merge', 'report', 'completion', 'help'];

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };

describe('the command line', () => {
  it('--version prints the package version', async () => {
    const { code, stdout } = await runCli(['--version']);
    expect(code).toBe(0);
    expect(stdout.trim()).toBe(version);
  });

  it('--help lists the commands and the exit codes', async () => {
    const { code, stdout } = await runCli(['--help']);
    expect(code).toBe(0);
    for (const command of COMMANDS) expect(stdout).toContain(command);
    expect(stdout).toContain('130 interrupted');
  });

  it.each(COMMANDS)('%s --help shows examples', async (command) => {
    const { code, stdout } = await runCli([command, '--help']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/Examples:\n {2}\$ netnote /);
  });

  it('an unknown command is a usage error; the suggestion is a netnote: hint line', async () => {
    const { code, stderr } = await runCli(['tcp-clinet']);
    expect(code).toBe(2);
    expect(stderr).toBe("netnote: unknown command 'tcp-clinet'\nnetnote: hint: did you mean tcp-client? try 'netnote --help'\n");
  });

  it.each([
    [['tcp-client', '127.0.0.1', '80', '--cout', '3'], "netnote: unknown option '--cout'\nnetnote: hint: did you mean --count? try 'netnote tcp-client --help'\n"],
    [['udp-client', '127.0.0.1'], "netnote: missing required argument 'port'\nnetnote: hint: try 'netnote udp-client --help'\n"],
    [['http-get', '127.0.0.1', '--method', 'PUT'], "netnote: invalid --method 'PUT': use GET or HEAD\nnetnote: hint: try 'netnote http-get --help'\n"],
    [['demo', 'sctp'], "netnote: invalid proto 'sctp': use tcp or udp\nnetnote: hint: try 'netnote demo --help'\n"],
    [['resolve', 'localhost', '-t', 'A,XX'], "netnote: invalid --type 'XX': use A, AAAA, CNAME, MX, TXT, SRV, NS, SOA, PTR, ANY\nnetnote: hint: try 'netnote resolve --help'\n"],
    [['tcp-server', '127.0.0.1', 'nope'], "netnote: invalid port 'nope': use 0-65535 (0 picks a free port) or a service name such as http, mqtt, modbus, coap\nnetnote: hint: try 'netnote tcp-server --help'\n"],
    [['udp-client', '127.0.0.1', '65536'], "netnote: invalid port '65536': use 1-65535 or a service name such as http, mqtt, modbus, coap\nnetnote: hint: try 'netnote udp-client --help'\n"],
    [['tcp-client', '127.0.0.1', '80', '-w', '1m30'], "netnote: invalid --timeout '1m30': use a duration such as 500ms, 1s, 2m or 1m30s\nnetnote: hint: try 'netnote tcp-client --help'\n"],
  ])('%j: every stderr line starts netnote:, the option is named, the hint names the command', async (args, expected) => {
    const { code, stdout, stderr } = await runCli(args);
    expect(stderr).toBe(expected);
    expect(code).toBe(2);
    expect(stdout).toBe('');
  });

  it.each(COMMANDS)('%s --help lists the global options too', async (command) => {
    const { stdout } = await runCli([command, '--help']);
    expect(stdout).toMatch(/Global Options:\n(?:.*\n)*? {2}--json {2,}.*\n(?:.*\n)*? {2}-q, --quiet {2,}.*\n(?:.*\n)*? {2}--no-color {2,}.*\n(?:.*\n)*? {2}--hex-dump {2,}/);
  });

  it.each([['modbus', 502], ['mqtt', 1883], ['mqtts', 8883], ['coap', 5683], ['imaps', 993], ['domain', 53]])('the service name %s is port %i, standalone of /etc/services', async (name, port) => {
    const { code, stdout } = await runCli(['route', '127.0.0.1', String(name)]);
    expect(code).toBe(0);
    expect(stdout).toContain(`route to 127.0.0.1, ${port}:`);
  });

  it('takes compound durations: --hold 0m0.25s holds 250 ms', async () => {
    const server = await startServer('tcp-server');
    try {
      const { code, stdout } = await runCli(['--json', 'tcp-client', '127.0.0.1', String(server.port), '--connections', '1', '--hold', '0m0.25s']);
      expect(code).toBe(0);
      expect(JSON.parse(stdout.trim().split('\n').at(-1)!).summary).toMatchObject({ holdMs: 250, alive: 1 });
    } finally {
      await server.stop('SIGTERM');
    }
  });

  it('help TOPIC prints the document shipped with netnote; help COMMAND is that command\'s --help', async () => {
    const wire = await runCli(['help', 'wire-cost']);
    expect(wire.code).toBe(0);
    expect(wire.stdout).toBe(readFileSync(new URL('../docs/wire-cost.md', import.meta.url), 'utf8'));
    const json = await runCli(['help', 'json']);
    expect(json.stdout).toBe(readFileSync(new URL('../docs/json.md', import.meta.url), 'utf8'));
    const command = await runCli(['help', 'tcp-client']);
    expect(command.stdout).toBe((await runCli(['tcp-client', '--help'])).stdout);
    const unknown = await runCli(['help', 'nothing']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^netnote: invalid topic 'nothing': use tcp-server, .*wire-cost\nnetnote: hint: try 'netnote help --help'\n$/);
  });

  // Port 0 means "the kernel picks one" when listening; no server listens there.
  it.each([
    ['tcp-client', '127.0.0.1', '0'],
    ['udp-client', '127.0.0.1', '0'],
    ['http-get', '127.0.0.1', '0'],
    ['http-get', 'http://127.0.0.1:0/'],
    ['route', '127.0.0.1', '0'],
  ])('%s %s %s: port 0 as a destination is a usage error, before any socket is made', async (...args) => {
    const { code, stdout, stderr } = await runCli(args);
    expect(stderr).toMatch(/port 0 cannot be connected to: give the port the server listens on\n/);
    expect(code).toBe(2);
    expect(stdout).toBe('');
  });

  it('colours a pipe only when FORCE_COLOR asks (CI logs); NO_COLOR and --no-color still win', async () => {
    const demo = ['demo', '-c', '1', '-i', '0'];
    const plain = await runCli(demo, { env: { NO_COLOR: '', FORCE_COLOR: undefined } });
    expect(plain.stdout).toContain('[server] socket object created.');
    expect(plain.stdout).not.toContain('\u001b[');
    const forced = await runCli(demo, { env: { FORCE_COLOR: '1', NO_COLOR: '' } });
    expect(forced.stdout).toContain('\u001b[35m[server]\u001b[39m socket object created.');
    expect((await runCli(demo, { env: { FORCE_COLOR: '1', NO_COLOR: '1' } })).stdout).not.toContain('\u001b[');
    expect((await runCli(['--no-color', ...demo], { env: { FORCE_COLOR: '1', NO_COLOR: '' } })).stdout).not.toContain('\u001b[');
  });

  it('colours the tags on a terminal, and not with NO_COLOR, --no-color or TERM=dumb', needs(commandMissing('script', 'bsdutils')), () => {
    const demo = ['demo', '-c', '1', '-i', '0'];
    const xterm = { TERM: 'xterm-256color' };
    expect(runOnTerminal(demo, { env: xterm })).toContain('\u001b[35m[server]\u001b[39m socket object created.');
    expect(runOnTerminal(demo, { env: { ...xterm, NO_COLOR: '1' } })).not.toContain('\u001b[3');
    expect(runOnTerminal([...demo, '--no-color'], { env: xterm })).not.toContain('\u001b[3');
    const dumb = runOnTerminal(demo, { env: { TERM: 'dumb' } });
    expect(dumb).toContain('[server] socket object created.');
    expect(dumb).not.toContain('\u001b[3');
  });

  it('falls back to ASCII symbols where the locale is not UTF-8', async () => {
    const server = await startServer('tcp-server');
    try {
      const args = ['tcp-client', '127.0.0.1', String(server.port), '-c', '1', '--quiet'];
      const utf8 = await runCli(args, { env: { LC_ALL: '', LC_CTYPE: '', LANG: 'en_US.UTF-8' } });
      expect(utf8.stdout).toMatch(/^\[client\] on the wire ≈ \d+ B in \d+ packets/m);
      for (const locale of [{ LC_ALL: 'C' }, { LC_ALL: '', LC_CTYPE: 'POSIX', LANG: 'C.UTF-8' }, { LC_ALL: '', LC_CTYPE: '', LANG: 'en_US.ISO-8859-1' }, { LC_ALL: '', LC_CTYPE: '', LANG: '' }]) {
        const ascii = await runCli(args, { env: locale });
        expect(ascii.stdout, JSON.stringify(locale)).toMatch(/^\[client\] on the wire ~ \d+ B in \d+ packets/m);
        expect(ascii.stdout).toMatch(/^[\x00-\x7f]*$/);
      }
    } finally {
      await server.stop('SIGTERM');
    }
  });

  it('stops writing quietly when the reader of stdout goes away (| head)', async () => {
    const running = startCli(['demo', '-c', '3000', '-i', '0']);
    await running.waitFor(/recv data/);
    running.proc.stdout.destroy();
    const { code, stderr } = await running.finished;
    expect(stderr).toBe('');
    expect(code).toBe(0);
  });
});
