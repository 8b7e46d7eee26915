import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runCli, startCli } from './support/cli.js';
import { needs } from './support/needs.js';
import { commandMissing } from './support/peers.js';

const COMMANDS = ['tcp-server', 'tcp-client', 'udp-server', 'udp-client', 'http-get', 'resolve', 'interfaces', 'route', 'demo'];

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

  it('an unknown command is a usage error', async () => {
    const { code, stderr } = await runCli(['tcp-clinet']);
    expect(code).toBe(2);
    expect(stderr).toContain("netnote: unknown command 'tcp-clinet'");
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

  it('prints no colour codes when stdout is not a terminal, even with FORCE_COLOR', async () => {
    const { stdout } = await runCli(['demo', '-c', '1', '-i', '0'], { env: { FORCE_COLOR: '1', NO_COLOR: '' } });
    expect(stdout).not.toContain('\u001b[');
  });

  it('colours the tags on a terminal, and not with NO_COLOR or --no-color', needs(commandMissing('script', 'bsdutils')), () => {
    // script(1) gives the CLI a real pseudo-terminal, as a person's shell would.
    const { NO_COLOR, FORCE_COLOR, ...plain } = process.env;
    const onTerminal = (command: string, env: NodeJS.ProcessEnv = {}) => execFileSync('script', ['-qec', `stty cols 100 rows 30; ${command}`, '/dev/null'], {
      encoding: 'utf8', env: { ...plain, ...env },
    });
    const cli = `"${process.execPath}" bin/netnote demo -c 1 -i 0`;
    expect(onTerminal(cli)).toContain('\u001b[35m[server]\u001b[39m socket object created.');
    expect(onTerminal(cli, { NO_COLOR: '1' })).not.toContain('\u001b[3');
    expect(onTerminal(`${cli} --no-color`)).not.toContain('\u001b[3');
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
