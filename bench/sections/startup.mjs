// startup: `node bin/netnote --help` against `node -e 0`, timed by hyperfine, and an esbuild
// bundle of the same CLI for reference.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { median, NETNOTE, NODE_AND_CORES, printTable, ROOT, round1, runClient, scratch } from '../harness.mjs';

const STARTUP_WARMUP = 3;

/** Runs the rounds, prints the table, returns the section's part of results.json. */
async function run({ startupRounds: roundCount, startupRuns: runs }) {
  // The same CLI bundled into one file (what bin/build-standalone.mjs does first), for reference.
  let bundle = path.join(scratch, 'netnote.cjs');
  try {
    const { build } = await import('esbuild');
    await build({ entryPoints: [path.join(ROOT, 'src', 'cli.ts')], bundle: true, platform: 'node', target: 'node20', format: 'cjs', outfile: bundle, logLevel: 'warning' });
  } catch (err) {
    console.log(`bench startup: no esbuild bundle (${err.message}); that row is left out`);
    bundle = null;
  }
  const COMMANDS = [
    { id: 'node', label: 'node -e 0', argv: [process.execPath, '-e', '0'] },
    { id: 'netnote', label: 'node bin/netnote --help', argv: [process.execPath, NETNOTE, '--help'] },
    ...(bundle ? [{ id: 'bundle', label: 'node netnote.cjs --help (esbuild bundle)', argv: [process.execPath, bundle, '--help'] }] : []),
  ];
  const quote = (arg) => (/^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, "'\\''")}'`);
  for (const command of COMMANDS) {
    command.line = command.argv.map(quote).join(' ');
    const check = spawnSync(command.argv[0], command.argv.slice(1), { encoding: 'utf8' });
    if (check.status !== 0) {
      console.error(`bench: FAILED: ${command.label} exited with ${check.status}: ${check.stderr}`);
      process.exit(1);
    }
  }
  const versionOf = spawnSync('hyperfine', ['--version'], { encoding: 'utf8' }).stdout.trim();
  console.log(`bench startup: ${roundCount} hyperfine rounds x ${COMMANDS.length} commands, ${STARTUP_WARMUP} warm-up + ${runs} runs each ` +
    `(${versionOf}, -N: no shell); ${NODE_AND_CORES}`);

  const rounds = [];
  const exported = path.join(scratch, 'hyperfine.json');
  for (let round = 1; round <= roundCount; round++) {
    // The order rotates from round to round, so no command always runs first (or last).
    const order = COMMANDS.map((_, i) => COMMANDS[(i + round - 1) % COMMANDS.length]);
    await runClient('hyperfine', 'hyperfine', ['-N', '--style', 'none', '--warmup', String(STARTUP_WARMUP), '--runs', String(runs),
      '--export-json', exported, ...order.map((c) => c.line)]);
    const { results } = JSON.parse(fs.readFileSync(exported, 'utf8'));
    const line = [];
    for (const command of COMMANDS) {
      const r = results.find((x) => x.command === command.line);
      const ms = (x) => round1(x * 1000);
      rounds.push({ round, contender: command.id, mean: ms(r.mean), stddev: ms(r.stddev), median: ms(r.median), min: ms(r.min), max: ms(r.max), user: ms(r.user), system: ms(r.system) });
      line.push(`${command.id} ${ms(r.mean).toFixed(1)}`);
    }
    console.log(`  round ${round}: ${line.join(', ')} ms (mean)`);
  }
  const medians = {};
  for (const command of COMMANDS) {
    const mine = rounds.filter((r) => r.contender === command.id);
    medians[command.id] = {};
    for (const metric of ['mean', 'user', 'system']) {
      const values = mine.map((r) => r[metric]);
      medians[command.id][metric] = { median: round1(median(values)), min: Math.min(...values), max: Math.max(...values) };
    }
  }
  const ratios = [{ id: 'netnote-help/node', of: 'netnote', to: 'node', target: 1.5 }, ...(bundle ? [{ id: 'bundle-help/node', of: 'bundle', to: 'node', target: null }] : [])]
    .map((r) => {
      const value = medians[r.of].mean.median / medians[r.to].mean.median;
      return { ...r, value, pass: r.target === null || value <= r.target };
    });
  const rows = [['command', 'mean ms', 'min-max', 'user ms', 'sys ms', 'ratio', 'target', 'result']];
  for (const command of COMMANDS) {
    const x = medians[command.id];
    const r = ratios.find((q) => q.of === command.id);
    rows.push([command.label, x.mean.median.toFixed(1), `${x.mean.min.toFixed(0)}-${x.mean.max.toFixed(0)}`, x.user.median.toFixed(1), x.system.median.toFixed(1),
      r ? `${r.value.toFixed(2)} x node -e 0` : '', r ? (r.target === null ? 'ref.' : `<= ${r.target}`) : '', r && r.target !== null ? (r.pass ? 'pass' : 'MISS') : '']);
  }
  printTable(rows, new Set([1, 2, 3, 4]));
  console.log(`\nms = wall time of one process from spawn to exit (hyperfine's mean of ${runs} runs after ${STARTUP_WARMUP} warm-up runs), median of ${roundCount} rounds;` +
    '\nuser/sys = CPU time of the process.');
  const missed = ratios.filter((r) => !r.pass);
  if (missed.length) console.log(`Missed: ${missed.map((r) => `${r.id} (${r.value.toFixed(2)} > ${r.target})`).join('; ')}`);
  return {
    settings: { rounds: roundCount, warmup: STARTUP_WARMUP, runs, hyperfine: versionOf, bundle: bundle ? 'esbuild bundle of src/cli.ts (cjs, node20)' : null },
    commands: COMMANDS.map(({ id, label, line }) => ({ id, label, command: line })),
    rounds,
    medians,
    ratios,
  };
}

export const startup = { name: 'startup', tool: 'hyperfine', run };
