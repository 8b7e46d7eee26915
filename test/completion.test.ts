import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli.js';
import { needs } from './support/needs.js';
import { commandMissing } from './support/peers.js';

// Each script is loaded into the real shell, which is then asked what it offers for a line.

const dir = mkdtempSync(join(tmpdir(), 'netnote-completion-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function script(shell: string): Promise<string> {
  const { code, stdout, stderr } = await runCli(['completion', shell]);
  expect(stderr).toBe('');
  expect(code).toBe(0);
  const path = join(dir, shell);
  writeFileSync(path, stdout);
  return path;
}

const lines = (text: string) => text.split('\n').filter(Boolean).sort();

/** What each shell must offer: commands, options (global ones in a command too), fixed values. */
const CASES: Array<[string, string[]]> = [
  ['netnote tcp-c', ['tcp-client']],
  ['netnote ud', ['udp-client', 'udp-server']],
  ['netnote tcp-client 127.0.0.1 80 --cou', ['--count']],
  ['netnote tcp-client 127.0.0.1 80 --js', ['--json']],
  ['netnote http-get 127.0.0.1 --method ', ['GET', 'HEAD']],
  ['netnote demo ', ['tcp', 'udp']],
  ['netnote help wire', ['wire-cost']],
  ['netnote completion ', ['bash', 'fish', 'zsh']],
  ['netnote resolve localhost -t S', ['SOA', 'SRV']],
];

describe('netnote completion', () => {
  it('bash: the function completes commands, options and fixed values', async () => {
    const path = await script('bash');
    for (const [line, expected] of CASES) {
      const words = line.split(' ');
      const offered = execFileSync('bash', ['-c', `source "$1"; COMP_WORDS=("\${@:2}"); COMP_CWORD=$(($# - 2)); _netnote; printf '%s\\n' "\${COMPREPLY[@]}"`, 'complete', path, ...words], { encoding: 'utf8' });
      expect(lines(offered), line).toEqual(expected);
    }
  });

  it('fish: complete -C offers the same', needs(commandMissing('fish', 'fish')), async () => {
    const path = await script('fish');
    for (const [line, expected] of CASES) {
      const offered = execFileSync('fish', ['--no-config', '-c', 'source $argv[1]; complete -C $argv[2]', path, line], { encoding: 'utf8' });
      expect(lines(offered).map((entry) => entry.split('\t')[0]), line).toEqual(expected);
    }
  });

  it('zsh: an interactive zsh (zpty) offers the same on Tab', needs(commandMissing('zsh', 'zsh')), async () => {
    const path = await script('zsh');
    const capture = new URL('fixtures/zsh-complete.zsh', import.meta.url).pathname;
    for (const [line, expected] of CASES) {
      const offered = execFileSync('zsh', ['-f', capture, path, line], { encoding: 'utf8', timeout: 15_000 });
      expect(lines(offered), line).toEqual(expected);
    }
  }, 60_000);
});
