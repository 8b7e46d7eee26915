import { closeSync, writeFile } from 'node:fs';
import { promisify } from 'node:util';
import { Option, type Command } from 'commander';
import { outputError } from '../core/errors.js';
import { openOutput } from '../core/files.js';
import { loadHdr } from '../core/measure/rtt.js';
import { renderHtml } from '../report/html/page.js';
import { readRunFile } from '../report/run/file.js';
import type { Execute } from './context.js';

export function registerReport(program: Command, execute: Execute): void {
  program
    .command('report')
    .description('one self-contained HTML file of runs saved with --json: summary table and charts, several runs overlaid')
    .argument('<runs...>', 'NDJSON files written by netnote --json (one per run)')
    .addOption(new Option('-o, --output <file.html>', 'where to write the report').makeOptionMandatory())
    .addHelpText('after', `
The file opens in any browser with no network (scripts and styles inlined) and prints one chart
per block. A run's own report is --report FILE.html on its command line. See docs/reports.md.

Examples:
  $ netnote --json tcp-client 127.0.0.1 8080 --ping -c 1000 > device-a.ndjson
  $ netnote report device-a.ndjson device-b.ndjson -o compare.html`)
    .action((files: string[], options: { output: string }, cmd: Command) =>
      execute(cmd, 'client', async ({ signal }) => {
        const [records, hdr] = await Promise.all([Promise.all(files.map((file) => readRunFile(file, signal))), loadHdr()]);
        const fd = await openOutput(options.output, `--output ${options.output}`, signal);
        try {
          await promisify(writeFile)(fd, renderHtml(records, hdr));
        } catch (err) {
          throw outputError(`--output ${options.output}`, err);
        } finally {
          closeSync(fd);
        }
      }, { silent: true }));
}
