#!/usr/bin/env node
// Builds dist/netnote.cjs, the one file bin/netnote loads: esbuild bundles the CLI and its
// dependencies, so start-up reads one file instead of resolving dozens of ES modules (the
// standalone executable embeds the same file). Type checking is tsc's job (npm run build).
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const NODE_BUNDLE = { bundle: true, platform: 'node', target: 'node20', format: 'cjs', minifyWhitespace: true, minifySyntax: true, logLevel: 'warning' };

/**
 * --self-signed's certificate library (@peculiar/x509, its ASN.1 schemas, tsyringe) is about half
 * of the bundle: V8 would parse it at every start even though it runs only when a certificate is
 * made. It goes in as one gzipped base64 string instead (590 KB of code, 150 KB of string for
 * the scanner to skip) and is unpacked and compiled the first time a run imports it. Only Node's
 * own modules are required from it, so the standalone executable runs it too.
 */
const deferSelfSigned = {
  name: 'defer-self-signed',
  setup(b) {
    b.onResolve({ filter: /\/self-signed\.js$/ }, (args) => ({ path: `${args.resolveDir}/${args.path.replace(/\.js$/, '.ts')}`, namespace: 'deferred' }));
    b.onLoad({ filter: /.*/, namespace: 'deferred' }, async (args) => {
      const { outputFiles } = await build({ ...NODE_BUNDLE, entryPoints: [args.path], write: false });
      const wrapped = `(function (module, exports, require) {${outputFiles[0].text}\n})`;
      const packed = gzipSync(wrapped, { level: 9 }).toString('base64');
      return {
        loader: 'js',
        contents: `const loaded = { exports: {} };
const code = require('node:zlib').gunzipSync(Buffer.from(${JSON.stringify(packed)}, 'base64')).toString();
require('node:vm').runInThisContext(code, { filename: 'netnote-self-signed.cjs' })(loaded, loaded.exports, require);
module.exports = loaded.exports;`,
      };
    });
  },
};

export const root = fileURLToPath(new URL('..', import.meta.url));
export const bundlePath = `${root}dist/netnote.cjs`;

export async function bundle() {
  // Less to parse at every start (minified whitespace and syntax); names stay, so a stack trace still reads.
  await build({ ...NODE_BUNDLE, entryPoints: [`${root}src/cli.ts`], outfile: bundlePath, plugins: [deferSelfSigned] });
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) await bundle();
