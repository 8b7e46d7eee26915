#!/usr/bin/env node
// Builds dist/netnote.cjs, the one file bin/netnote loads: esbuild bundles the CLI and its
// dependencies, so start-up reads one file instead of resolving dozens of ES modules (the
// standalone executable embeds the same file). Type checking is tsc's job (npm run build).
import { readFile } from 'node:fs/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

export const root = fileURLToPath(new URL('..', import.meta.url));
export const bundlePath = `${root}dist/netnote.cjs`;

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
    logLevel: 'warning',
    plugins: [rawText],
  });
}

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

if (import.meta.url === pathToFileURL(process.argv[1]).href) await bundle();
