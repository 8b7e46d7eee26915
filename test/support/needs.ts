// What a test needs from this machine and may not find there: a peer program, a kernel feature,
// ::1. Outside CI such a test is skipped, and test/support/skip-reasons.ts prints each reason with
// the number of tests it skipped. Under CI=true (.ci/run installs every peer and runs as root) the
// test file fails instead, naming what is missing: there, a skip would hide a broken machine.
import type { TestOptions } from 'vitest';

declare module '@vitest/runner' {
  interface TaskMeta {
    /** Why this test (or every test of this suite) cannot run here. */
    missing?: string;
  }
}

export const IN_CI = process.env.CI === 'true' || process.env.CI === '1';

/**
 * Options for `it(name, needs(…), fn)` or `describe(name, needs(…), fn)`. Each argument says why
 * something is missing, or is null when it is there.
 */
export function needs(...missing: Array<string | null>): TestOptions {
  const reasons = missing.filter((reason): reason is string => reason !== null);
  if (reasons.length === 0) return {};
  const reason = reasons.join('; ');
  if (IN_CI) throw new Error(`CI=true, but this machine lacks what a test needs: ${reason}`);
  return { skip: true, meta: { missing: reason } };
}
