#!/usr/bin/env node
// Builds dist/standalone/netnote: one executable with Node inside (Node's single executable
// applications, the successor pkg's own authors recommend). Offline: esbuild bundles the CLI into
// one CommonJS file, Node turns it into a blob, postject injects the blob into a copy of node.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { inject } from 'postject';
import { bundle, bundlePath, root } from './build.mjs';

const out = `${root}dist/standalone/`;
mkdirSync(out, { recursive: true });
await bundle();

writeFileSync(`${out}sea-config.json`, JSON.stringify({
  main: bundlePath,
  output: `${out}netnote.blob`,
  disableExperimentalSEAWarning: true,
}));
execFileSync(process.execPath, ['--experimental-sea-config', `${out}sea-config.json`], { stdio: 'inherit' });

copyFileSync(process.execPath, `${out}netnote`);
await inject(`${out}netnote`, 'NODE_SEA_BLOB', readFileSync(`${out}netnote.blob`), {
  sentinelFuse: 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2',
});
console.log(`built ${out}netnote`);
