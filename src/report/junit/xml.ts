import { hostname } from 'node:os';
import type { RunRecord } from '../run/record.js';
import { scriptCases, verdict, type Check, type StepCase, type Verdict } from './checks.js';

// JUnit XML as Jenkins, GitLab and GitHub's test reporters read it, valid against both the Jenkins
// junit XSD and the stricter Apache Ant schema (test/junit.test.ts checks both with xmllint): one
// test suite per run, a test case for the run and one per assertion (a script's: one per expect step).

export interface JunitRun {
  run: RunRecord;
  checks: Check[];
  /** The netnote command (`tcp-client`): the test cases' class. */
  command: string;
}

/** The whole JUnit document for the runs of one netnote process. */
export function renderJunit(runs: JunitRun[]): string {
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<testsuites>',
    ...runs.flatMap((r, id) => suite(r, id)),
    '</testsuites>',
    '',
  ].join('\n');
}

interface Case {
  name: string;
  time: number;
  failure?: { type: string; message: string; detail: string };
  error?: { type: string; message: string; detail: string };
}

function suite({ run, checks, command }: JunitRun, id: number): string[] {
  const classname = `netnote.${command}`;
  const seconds = runSeconds(run);
  const cases: Case[] = [];
  const runError = run.error ?? run.summaries.find((s) => s.error)?.error ?? null;
  const steps: StepCase[] = checks.some((c) => c.decidedBy === 'script') ? scriptCases(run) : [];
  // A failed assertion belongs to its own case, as does an expect step that timed out; any other
  // way a run ends badly is the run's error.
  const owned = steps.some((step) => !step.verdict.passed) || (runError?.code === 'assertion' && checks.some((c) => c.decidedBy !== 'script'));
  const summaries = run.summaries.length > 0 ? run.summaries : [null];
  for (const s of summaries) {
    const error = s ? s.error : run.error;
    const what = s ? `${s.role} ${describe(s.summary)}` : command;
    const c: Case = { name: `run: ${what}`, time: seconds };
    if (error && !owned) {
      const entry = { type: error.code, message: error.message, detail: [error.message, error.hint ? `hint: ${error.hint}` : ''].filter(Boolean).join('\n') };
      if (error.code === 'assertion') c.failure = entry;
      else c.error = entry;
    }
    cases.push(c);
  }
  for (const check of checks) {
    if (check.decidedBy === 'script') cases.push(...steps.map((step) => verdictCase(step.name, step.seconds, step.verdict)));
    else cases.push(verdictCase(check.name, seconds, verdict(check, checks, run)));
  }
  const failures = cases.filter((c) => c.failure).length;
  const errors = cases.filter((c) => c.error).length;
  const exitCode = run.summaries.at(-1)?.exitCode ?? run.error?.exitCode ?? 0;
  const started = run.startedAt ?? Date.now();
  return [
    `  <testsuite name="${attr(run.label)}" package="netnote" id="${id}" timestamp="${new Date(started).toISOString().slice(0, 19)}" hostname="${attr(hostname())}" tests="${cases.length}" failures="${failures}" errors="${errors}" time="${seconds.toFixed(3)}">`,
    '    <properties>',
    `      <property name="command" value="${attr(run.label)}"/>`,
    `      <property name="exitCode" value="${exitCode}"/>`,
    '    </properties>',
    ...cases.flatMap((c) => testcase(c, classname)),
    `    <system-out>${text(run.summaries.map((s) => JSON.stringify(s.summary)).join('\n'))}</system-out>`,
    `    <system-err>${text(runError ? `netnote: ${runError.message}${runError.hint ? `\nnetnote: hint: ${runError.hint}` : ''}` : '')}</system-err>`,
    '  </testsuite>',
  ];
}

function verdictCase(name: string, time: number, v: Verdict): Case {
  if (v.passed) return { name, time };
  return { name, time, [v.outcome]: { type: v.type, message: v.message, detail: v.detail } };
}

function testcase(c: Case, classname: string): string[] {
  const open = `    <testcase name="${attr(c.name)}" classname="${attr(classname)}" time="${c.time.toFixed(3)}"`;
  const outcome = c.failure ? ['failure', c.failure] as const : c.error ? ['error', c.error] as const : null;
  if (!outcome) return [`${open}/>`];
  const [tag, f] = outcome;
  return [`${open}>`, `      <${tag} type="${attr(f.type)}" message="${attr(f.message)}">${text(f.detail)}</${tag}>`, '    </testcase>'];
}

function describe(summary: { proto: string } & Record<string, unknown>): string {
  const remote = summary.remote as { address: string; port: number } | null | undefined;
  const local = summary.local as { address: string; port: number } | null | undefined;
  const where = remote ?? local;
  return `${summary.proto}${where ? ` ${where.address.includes(':') ? `[${where.address}]` : where.address}:${where.port}` : typeof summary.url === 'string' ? ` ${summary.url}` : ''}`;
}

/** How long the run took: its summary's own duration where it has one, else first to last event. */
function runSeconds(run: RunRecord): number {
  const s = run.summaries[0]?.summary as { durationMs?: unknown; timingsMs?: { total?: unknown } } | undefined;
  const ms = typeof s?.durationMs === 'number' ? s.durationMs
    : typeof s?.timingsMs?.total === 'number' ? s.timingsMs.total
      : run.startedAt !== null && run.summaries[0] ? run.summaries[0].endedAt - run.startedAt : 0;
  return Math.max(0, ms) / 1000;
}

// XML 1.0 has no way to carry most control characters, even escaped: they become U+FFFD.
const INVALID = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g;

function text(value: string): string {
  return value.replace(INVALID, '\ufffd').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function attr(value: string): string {
  return text(value).replace(/"/g, '&quot;').replace(/\n/g, '&#10;').replace(/\r/g, '&#13;').replace(/\t/g, '&#9;');
}
