#!/usr/bin/env node
// Builds dist/netnote.cjs, the one file bin/netnote loads: esbuild bundles the CLI, its
// dependencies, the documents of docs/ (netnote help TOPIC) and the HTML report's browser
// scripts, so start-up reads one file
// instead of resolving dozens of ES modules (the standalone executable embeds the same bundle).
// Then writes the man page dist/netnote.1 from the command tree. Type checking is tsc's job
// (npm run build).
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

export const root = fileURLToPath(new URL('..', import.meta.url));
const bundlePath = `${root}dist/netnote.cjs`;
const manPath = `${root}dist/netnote.1`;

/** docs/ as `netnote help TOPIC` prints it (src/shell/topics.ts): each *.md, and the JSON Schema. */
function helpTopics() {
  const topics = {};
  for (const file of readdirSync(`${root}docs`).sort()) {
    const topic = file.endsWith('.md') ? file.slice(0, -3) : file === 'netnote.schema.json' ? 'schema' : null;
    if (topic) topics[topic] = readFileSync(`${root}docs/${file}`, 'utf8');
  }
  return topics;
}

const define = { NETNOTE_DOCS: JSON.stringify(helpTopics()) };

/**
 * `import text from 'FILE?raw'` gives the file's content as a string, as vite (vitest) does: the
 * HTML report inlines the chart library and its own browser script this way, so the one bundled
 * file (and the standalone executable) carries them.
 */
const rawText = {
  name: 'raw-text',
  setup(builder) {
    builder.onResolve({ filter: /\?raw$/ }, async (args) => {
      const resolved = await builder.resolve(args.path.slice(0, -'?raw'.length), { kind: args.kind, resolveDir: args.resolveDir });
      if (resolved.errors.length > 0) return { errors: resolved.errors };
      return { path: resolved.path, namespace: 'raw-text' };
    });
    builder.onLoad({ filter: /.*/, namespace: 'raw-text' }, async (args) => ({ contents: await readFile(args.path, 'utf8'), loader: 'text' }));
  },
};

/**
 * --self-signed's certificate library (@peculiar/x509, its ASN.1 schemas, tsyringe) is about half
 * of the bundle: V8 would parse it at every start even though it runs only when a certificate is
 * made. It goes in as one gzipped base64 string instead (590 KB of code, 150 KB of string for
 * the scanner to skip) and is unpacked and compiled the first time a run imports it. Only Node's
 * own modules are required from it, so the standalone executable runs it too.
 */
const deferSelfSigned = {
  name: 'defer-self-signed',
  setup(builder) {
    builder.onResolve({ filter: /\/self-signed\.js$/ }, (args) => ({ path: `${args.resolveDir}/${args.path.replace(/\.js$/, '.ts')}`, namespace: 'deferred' }));
    builder.onLoad({ filter: /.*/, namespace: 'deferred' }, async (args) => {
      const { outputFiles } = await build({
        entryPoints: [args.path], bundle: true, platform: 'node', target: 'node20', format: 'cjs',
        minifyWhitespace: true, minifySyntax: true, logLevel: 'warning', write: false,
      });
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

export async function bundle(outfile = bundlePath) {
  await build({
    entryPoints: [`${root}src/cli.ts`],
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    outfile,
    // Less to parse at every start; names stay, so a stack trace still reads.
    minifyWhitespace: true,
    minifySyntax: true,
    define,
    plugins: [rawText, deferSelfSigned],
    logLevel: 'warning',
  });
}

/** dist/netnote.1, from the same command tree the CLI runs (src/shell/man-page.ts) and README.md. */
export async function writeManPage() {
  const generator = `${root}dist/man-page.cjs`;
  await build({
    stdin: {
      contents: "export { createProgram } from './src/program.ts'; export { describeProgram } from './src/shell/tree.ts'; export { manPage } from './src/shell/man-page.ts'; export { VERSION } from './src/version.ts';",
      resolveDir: root,
      loader: 'ts',
    },
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    outfile: generator,
    define,
    plugins: [rawText],
    logLevel: 'warning',
  });
  try {
    const { createProgram, describeProgram, manPage, VERSION } = createRequire(import.meta.url)(generator);
    // The tree only: no command runs, so the actions' executor is never called.
    const program = createProgram(() => Promise.reject(new Error('not run')));
    writeFileSync(manPath, manPage(describeProgram(program), readFileSync(`${root}README.md`, 'utf8'), VERSION));
  } finally {
    rmSync(generator, { force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  await bundle();
  await writeManPage();
}
