// Network namespaces made by a test: private hosts and faults (nft rules) that touch nothing else.
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';

/** Why namespaces cannot be used here, or null when they can (checked once). */
export const netnsUnavailable: string | null = (() => {
  const name = `nn-probe-${randomBytes(3).toString('hex')}`;
  const made = spawnSync('ip', ['netns', 'add', name], { encoding: 'utf8' });
  if (made.status !== 0) return `ip netns add refused: ${(made.stderr || made.error?.message || '').trim()}`;
  const nft = spawnSync('ip', ['netns', 'exec', name, 'nft', 'list', 'ruleset'], { encoding: 'utf8' });
  spawnSync('ip', ['netns', 'del', name]);
  if (nft.status !== 0) return `nft refused inside a namespace: ${(nft.stderr || nft.error?.message || '').trim()}`;
  return null;
})();

export interface Namespace {
  name: string;
  /** Runs a command inside the namespace and returns its stdout. */
  run(command: string, args: string[], input?: string): string;
  /** argv prefix that runs a program inside the namespace. */
  prefix: string[];
  remove(): void;
}

/** A namespace with loopback up. */
export function createNamespace(): Namespace {
  const name = `nn-${process.pid}-${randomBytes(3).toString('hex')}`;
  execFileSync('ip', ['netns', 'add', name]);
  const run = (command: string, args: string[], input?: string) =>
    execFileSync('ip', ['netns', 'exec', name, command, ...args], { encoding: 'utf8', ...(input === undefined ? {} : { input }) });
  run('ip', ['link', 'set', 'lo', 'up']);
  return { name, run, prefix: ['ip', 'netns', 'exec', name], remove: () => spawnSync('ip', ['netns', 'del', name]) };
}

/** Loads an nft ruleset (text in nft's own syntax) into the namespace. */
export function nft(ns: Namespace, ruleset: string): void {
  ns.run('nft', ['-f', '-'], ruleset);
}
