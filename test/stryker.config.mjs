// Mutation testing: `npm run mutate` (minutes, so not part of npm test). Stryker makes one small
// change at a time to the code that computes or renders what users read (a < for a <=, a
// dropped term, another string) and runs that module's unit tests: a change no test notices is a
// figure that could go wrong unnoticed. Scratch files and the reports go to dist/mutation/.
import { existsSync } from 'node:fs';

/**
 * The modules under mutation. Each one's unit tests live at the same path under test/ (src/a/b.ts →
 * test/a/b.test.ts), import it directly and check it against numbers computed independently.
 * Adding a module (a framer, a template in src/core/message/…) is one line here plus that file.
 */
export const MODULES = [
  'src/report/bytes.ts', // payloads as Python's repr(bytes), hex dumps
  'src/report/format.ts', // sizes, bit rates, times and peers in every human line
  'src/core/message/reply.ts', // what counts as a reply, and whether it passes
  'src/core/measure/rtt.ts', // RTT percentiles, mean, stddev, the chart's buckets
  'src/core/measure/probe.ts', // the --probe header
  'src/core/measure/wire.ts', // the wire-cost estimate
  'src/core/errors.ts', // exit codes and error wording
  'src/core/message/frame.ts', // --frame: where a message ends
  'src/core/message/template.ts', // --template: placeholders and where checksums go
  'src/core/message/checksum.ts', // the CRCs and byte sums a template writes
  'src/core/message/fields.ts', // integer fields: length prefixes read, sequence numbers written
];

export const unitTests = (module) => module.replace(/^src\//, 'test/').replace(/\.ts$/, '.test.ts');

for (const module of MODULES) {
  if (!existsSync(new URL(`../${unitTests(module)}`, import.meta.url))) throw new Error(`${module} is listed for mutation testing but has no unit tests at ${unitTests(module)}`);
}

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  mutate: MODULES,
  testRunner: 'vitest',
  // Runs MODULES.map(unitTests) only. Not Stryker's testFiles option: with it, Stryker 9.6.1
  // activates a mutant of module-level code (a constant table) after the module has loaded, and
  // reports it survived (stryker-js issue 6144).
  vitest: { configFile: 'test/stryker.vitest.config.ts', related: false },
  coverageAnalysis: 'perTest',
  reporters: ['clear-text', 'progress', 'html', 'json'],
  clearTextReporter: { allowColor: false, logTests: false },
  htmlReporter: { fileName: 'dist/mutation/report.html' },
  jsonReporter: { fileName: 'dist/mutation/report.json' },
  tempDirName: 'dist/mutation/tmp',
  ignorePatterns: ['/dist', '/bench'],
  thresholds: { high: 95, low: 85, break: null },
};
