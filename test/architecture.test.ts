import { readdirSync } from 'node:fs';
import { cruise, type IForbiddenRuleType, type IReporterOutput, type ICruiseResult } from 'dependency-cruiser';
import { describe, expect, it } from 'vitest';

// The import rules of src/ (src/core/README.md says why). Every folder of the core may also use
// the root files (events, errors, endpoint, clock), and none may use summary.ts.
const CORE_FOLDERS: Record<string, string[]> = {
  run: [],
  socket: [],
  measure: ['run', 'socket'],
  message: ['run', 'socket', 'measure'],
  dns: ['socket'],
  http: ['run', 'socket'],
  tcp: ['run', 'socket', 'measure', 'message'],
  udp: ['run', 'socket', 'measure', 'message'],
  merge: ['run', 'measure', 'message', 'tcp', 'udp'],
};

const RULES: IForbiddenRuleType[] = [
  { name: 'no-cycle', severity: 'error', from: {}, to: { circular: true } },
  // Ambient declarations (.d.ts) are read by tsc, never imported.
  { name: 'no-orphan', severity: 'error', from: { orphan: true, pathNot: '^src/cli\\.ts$|\\.d\\.ts$' }, to: {} },
  // cli → program → commands → report, shell → core, nothing runs back up.
  { name: 'core-is-the-bottom', severity: 'error', from: { path: '^src/core/' }, to: { path: '^src/(report|shell|commands|program|cli)' } },
  { name: 'report-below-commands', severity: 'error', from: { path: '^src/report/' }, to: { path: '^src/(shell|commands|program|cli)' } },
  { name: 'shell-below-commands', severity: 'error', from: { path: '^src/shell/' }, to: { path: '^src/(report|commands|program|cli)' } },
  { name: 'commands-below-program', severity: 'error', from: { path: '^src/commands/' }, to: { path: '^src/(program|cli)' } },
  { name: 'program-below-cli', severity: 'error', from: { path: '^src/program' }, to: { path: '^src/cli' } },
  { name: 'core-never-prints', severity: 'error', from: { path: '^src/core/' }, to: { path: 'node_modules/(chalk|ora)/' } },
  { name: 'summary-is-for-reporters', severity: 'error', from: { path: '^src/core/', pathNot: '^src/core/summary\\.ts$' }, to: { path: '^src/core/summary\\.ts$' } },
  { name: 'root-uses-root', severity: 'error', from: { path: '^src/core/[^/]+\\.ts$', pathNot: '^src/core/summary\\.ts$' }, to: { path: '^src/core/[^/]+/' } },
  ...Object.entries(CORE_FOLDERS).map(([folder, allowed]): IForbiddenRuleType => ({
    name: `core-${folder}-layer`,
    severity: 'error',
    from: { path: `^src/core/${folder}/` },
    to: { path: '^src/core/[^/]+/', pathNot: `^src/core/(${[folder, ...allowed].join('|')})/` },
  })),
];

async function check(paths: string[]): Promise<ICruiseResult> {
  const { output } = (await cruise(paths, {
    validate: true,
    ruleSet: { forbidden: RULES },
    tsPreCompilationDeps: true, // type-only imports count: a cycle of types is still a cycle
    tsConfig: { fileName: 'tsconfig.json' },
    doNotFollow: { path: 'node_modules' },
  })) as IReporterOutput & { output: ICruiseResult };
  return output;
}

function violations(result: ICruiseResult): string[] {
  return result.summary.violations.map((v) => `${v.rule.name}: ${v.from} → ${v.to}${v.cycle ? ` (cycle: ${v.cycle.map((c) => c.name).join(' → ')})` : ''}`);
}

describe('architecture (dependency-cruiser)', () => {
  it('src/ has no import cycle, type-only imports included, and every import follows the layers', async () => {
    const result = await check(['src']);
    expect(violations(result)).toEqual([]);
    // The check saw the whole tree, not an empty one.
    expect(result.summary.totalCruised).toBeGreaterThan(40);
    expect(result.modules.some((m) => m.source === 'src/core/events.ts')).toBe(true);
  });

  it('every folder of src/core has its place in the layer table', () => {
    const folders = readdirSync('src/core', { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);
    expect(folders.sort()).toEqual(Object.keys(CORE_FOLDERS).sort());
  });

  it('sees a cycle made only of `import type`', async () => {
    const result = await check(['test/fixtures/type-cycle']);
    expect(violations(result)).toEqual([
      'no-cycle: test/fixtures/type-cycle/a.ts → test/fixtures/type-cycle/b.ts (cycle: test/fixtures/type-cycle/b.ts → test/fixtures/type-cycle/a.ts)',
    ]);
  });
});
