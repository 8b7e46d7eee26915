#!/usr/bin/env node
// Builds dist/standalone/netnote: one executable with a Node.js LTS inside (Node's single
// executable applications, the successor pkg's own authors recommend). esbuild bundles the CLI
// into one CommonJS file, the LTS Node (bin/lts-node.mjs) turns it into a blob with its code
// cache, and postject injects the blob into a copy of that Node.
//   npm run standalone
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { inject } from 'postject';
import { bundle, root } from './build.mjs';
import { ltsNode } from './lts-node.mjs';

const out = `${root}dist/standalone/`;
mkdirSync(out, { recursive: true });
// Its own copy of the bundle: dist/netnote.cjs may be running (the tests spawn it meanwhile).
const main = `${out}netnote.cjs`;
await bundle(main);
const node = ltsNode();

writeFileSync(`${out}sea-config.json`, JSON.stringify({
  main,
  output: `${out}netnote.blob`,
  disableExperimentalSEAWarning: true,
  // V8's compiled code for the bundle, made at build time: start-up skips compiling it
  // (`--help`: 40 ms instead of 52 ms, fastest of 60 runs; docs/benchmarks.md).
  useCodeCache: true,
}));
// The blob must come from the Node it runs in.
execFileSync(node, ['--experimental-sea-config', `${out}sea-config.json`], { stdio: 'pipe' });

const binary = `${out}netnote`;
rmSync(binary, { force: true });
copyFileSync(node, binary);
// postject warns about every ELF note it does not recognise; the injection itself is checked by
// running the result (test/standalone.test.ts).
const warn = console.warn;
const log = console.log;
console.warn = console.log = () => {};
try {
  await inject(binary, 'NODE_SEA_BLOB', readFileSync(`${out}netnote.blob`), {
    sentinelFuse: 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2',
  });
} finally {
  console.warn = warn;
  console.log = log;
}
rmSync(`${out}netnote.blob`);
rmSync(`${out}sea-config.json`);
rmSync(main);
const version = execFileSync(binary, ['--version'], { encoding: 'utf8' }).trim();
console.log(`built ${binary}: ${(statSync(binary).size / 1e6).toFixed(0)} MB, netnote ${version} on Node ${execFileSync(node, ['--version'], { encoding: 'utf8' }).trim()}`);
