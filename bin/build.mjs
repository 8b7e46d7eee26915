#!/usr/bin/env node
// Builds dist/netnote.cjs, the one file bin/netnote loads: esbuild bundles the CLI and its
// dependencies, so start-up reads one file instead of resolving dozens of ES modules (the
// standalone executable embeds the same file). Type checking is tsc's job (npm run build).
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

export const root = fileURLToPath(new URL('..', import.meta.url));
export const bundlePath = `${root}dist/netnote.cjs`;

/** docs/ as `netnote help TOPIC` prints it (src/shell/topics.ts): each *.md, and the JSON Schema. */
function helpTopics() {
  const topics = {};
  for (const file of readdirSync(`${root}docs`).sort()) {
    const topic = file.endsWith('.md') ? file.slice(0, -3) : file === 'netnote.schema.json' ? 'schema' : null;
    if (topic) topics[topic] = readFileSync(`${root}docs/${file}`, 'utf8');
  }
  return topics;
}

export async function bundle() {
  await build({
    entryPoints: [`${root}src/cli.ts`],
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    outfile: bundlePath,
    // Less to parse at every start; names stay, so a stack trace still reads.
    minifyWhitespace: true,
    minifySyntax: true,
    define: { NETNOTE_DOCS: JSON.stringify(helpTopics()) },
    logLevel: 'warning',
  });
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) await bundle();
