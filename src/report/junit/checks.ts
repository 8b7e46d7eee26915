import type { ErrorInfo } from '../../core/errors.js';
import type { RecordedExpect, RunRecord } from '../run/record.js';

/**
 * An assertion the command line asked for, as one JUnit test case. `decidedBy` says which
 * evidence of the run settles it: `reply` the replies' checks (their `mismatch` events), `loss`
 * the datagrams lost (--max-loss), `status` the HTTP status (--fail). `script` (--script) is not
 * one case but one per expect step of the script that ran: scriptCases().
 */
export interface Check {
  /** As the user typed it, e.g. `--expect b'OK'`, `--max-loss 1%`, `--script login.yaml`. */
  name: string;
  decidedBy: 'reply' | 'loss' | 'status' | 'script';
}

/** A failed check is a JUnit failure; an expect step that timed out is an error (type `timeout`). */
export type Verdict = { passed: true } | { passed: false; outcome: 'failure' | 'error'; type: string; message: string; detail: string };

/**
 * Whether a check held in a run. A run stops at its first failed assertion, so at most one check
 * fails: a reply that did not match is the reply check's (with the bytes); any other assertion
 * failure is the loss bound's or the status check's when the run had one, else the reply
 * check's (too few replies arrived).
 */
export function verdict(check: Check, checks: Check[], run: RunRecord): Verdict {
  const failure = runFailure(run, 'assertion');
  if (!failure) return { passed: true };
  const mismatched = run.mismatches.length > 0;
  const owner: Check['decidedBy'] = mismatched ? 'reply'
    : checks.some((c) => c.decidedBy === 'loss') ? 'loss'
      : checks.some((c) => c.decidedBy === 'status') ? 'status'
        : 'reply';
  if (check.decidedBy !== owner) return { passed: true };
  const detail = mismatched
    ? run.mismatches.map((m) => `mismatch on reply ${m.seq}: expected ${m.expected} (${m.check}), got ${m.got}`).join('\n')
    : failure.message;
  return { passed: false, outcome: 'failure', type: 'assertion', message: failure.message, detail };
}

/** One JUnit case of a script's expect step, over every pass that ran it. */
export interface StepCase {
  /** `step 3.2 (ack): expect`, as the log names the step. */
  name: string;
  /** The time its passes waited for what they expected. */
  seconds: number;
  verdict: Verdict;
}

/**
 * A case per expect step the script ran (steps after the one it stopped at never ran, and have
 * none): met on every pass, failed on a message that did not match (with the bytes, as the log's
 * mismatch line shows them), or an error when nothing matching came in time (with what came).
 */
export function scriptCases(run: RunRecord): StepCase[] {
  return run.expects.map((expect) => ({ name: `${stepName(expect)}: expect`, seconds: expect.ms / 1000, verdict: stepVerdict(expect, run) }));
}

function stepVerdict(expect: RecordedExpect, run: RunRecord): Verdict {
  const { failed } = expect;
  if (!failed) return { passed: true };
  const at = `step ${expect.step}${failed.pass === null ? '' : `, pass ${failed.pass}`}`;
  const passesMet = expect.met > 0 ? `\n(met on ${expect.met} earlier ${expect.met === 1 ? 'pass' : 'passes'})` : '';
  if (failed.outcome === 'mismatch') {
    const detail = `mismatch at ${at}: expected ${failed.expected} (${failed.check}), got ${failed.got}`;
    return { passed: false, outcome: 'failure', type: 'assertion', message: runFailure(run, 'assertion')?.message ?? detail, detail: `${detail}${passesMet}` };
  }
  const detail = `${at}: expect timed out after ${failed.afterMs} ms; received and not matched: ${failed.received}`;
  const error = runFailure(run, 'timeout');
  return { passed: false, outcome: 'error', type: 'timeout', message: error?.message ?? detail, detail: `${detail}${passesMet}${error?.hint ? `\nhint: ${error.hint}` : ''}` };
}

function stepName(expect: RecordedExpect): string {
  return `step ${expect.step}${expect.label ? ` (${expect.label})` : ''}`;
}

/** The run's error when it is of this kind: from its summary, or the error that ended it before one. */
function runFailure(run: RunRecord, code: ErrorInfo['code']): ErrorInfo | null {
  const error = run.summaries.find((s) => s.error?.code === code)?.error ?? (run.error?.code === code ? run.error : null);
  return error ?? null;
}
