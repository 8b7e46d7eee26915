// A vitest reporter that adds, after the default reporter's summary, one line per reason tests
// were skipped (test/support/needs.ts) with how many it skipped: a missing peer shows in the
// plain `npm test` output, not only with --reporter=verbose.
import type { Reporter, TestModule, Vitest } from 'vitest/node';

export default class SkipReasons implements Reporter {
  private vitest!: Vitest;

  onInit(vitest: Vitest): void {
    this.vitest = vitest;
  }

  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    const counts = new Map<string, number>();
    for (const module of modules) {
      for (const test of module.children.allTests('skipped')) {
        const reason = test.meta().missing ?? 'no reason given (it.skip, .only elsewhere, or filtered out by -t)';
        counts.set(reason, (counts.get(reason) ?? 0) + 1);
      }
    }
    for (const [reason, count] of counts) this.vitest.logger.log(`skipped ${count} test${count === 1 ? '' : 's'}: ${reason}`);
  }
}
