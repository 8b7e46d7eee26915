import type { RunRecord } from '../run/record.js';

/**
 * An assertion the command line asked for, as one JUnit test case. `decidedBy` says which
 * evidence of the run settles it: `reply` the replies' checks (their `mismatch` events), `loss`
 * the datagrams lost (--max-loss), `status` the HTTP status (--fail). A new kind of assertion (a
 * script's step) is one more member here and one more branch in verdict().
 */
export interface Check {
  /** As the user typed it, e.g. `--expect b'OK'`, `--max-loss 1%`. */
  name: string;
  decidedBy: 'reply' | 'loss' | 'status';
}

export type Verdict = { passed: true } | { passed: false; message: string; detail: string };

/**
 * Whether a check held in a run. A run stops at its first failed assertion, so at most one check
 * fails: a reply that did not match is the reply check's (with the bytes); any other assertion
 * failure is the loss bound's or the status check's when the run had one, else the reply
 * check's (too few replies arrived).
 */
export function verdict(check: Check, checks: Check[], run: RunRecord): Verdict {
  const failure = run.summaries.find((s) => s.error?.code === 'assertion')?.error ?? (run.error?.code === 'assertion' ? run.error : null);
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
  return { passed: false, message: failure.message, detail };
}
