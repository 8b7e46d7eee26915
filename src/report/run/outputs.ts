import { closeSync, writeFileSync } from 'node:fs';
import { outputError, type NetnoteError } from '../../core/errors.js';
import { openOutput } from '../../core/files.js';
import { loadHdr, type Hdr } from '../../core/measure/rtt.js';
import type { Role } from '../../core/events.js';
import type { ReportEvent, Summary } from '../../core/summary.js';
import { renderHtml } from '../html/page.js';
import type { Check } from '../junit/checks.js';
import { renderJunit } from '../junit/xml.js';
import type { Reporter } from '../reporter.js';
import { RunRecorder } from './record.js';

/** Events only a run's per-message log has: the ones --quiet leaves out. */
const PER_MESSAGE = new Set<ReportEvent['event']>(['send', 'recv', 'round', 'no-reply']);

/** Whether --quiet leaves this event out: a per-message one, or a script's step (an expect that timed out is kept). */
function perMessage(e: ReportEvent): boolean {
  return PER_MESSAGE.has(e.event) || (e.event === 'step' && e.timedOut !== true);
}

interface Target {
  option: '--report' | '--junit';
  path: string;
  fd: number;
}

/**
 * The files a run writes beside its output (--report FILE.html, --junit FILE.xml). They are
 * opened before the run, so a path that cannot be written fails at once (exit 8) instead of
 * after an hour's soak (a FIFO waits for its reader then), and written when the run has its summaries.
 */
export class RunFiles {
  private readonly recorder: RunRecorder;

  private constructor(label: string, private readonly command: string, private readonly targets: Target[], private readonly hdr: Hdr | null) {
    this.recorder = new RunRecorder(label);
  }

  /**
   * Opens the files asked for (null when none is); the report's histogram library is loaded now,
   * while nothing runs. `signal` stops the wait for the reader of a FIFO.
   */
  static async open(command: string, paths: { report?: string | undefined; junit?: string | undefined }, signal: AbortSignal): Promise<RunFiles | null> {
    const targets: Target[] = [];
    try {
      if (paths.report !== undefined) targets.push(await open('--report', paths.report, signal));
      if (paths.junit !== undefined) targets.push(await open('--junit', paths.junit, signal));
    } catch (err) {
      for (const target of targets) closeSync(target.fd);
      throw err;
    }
    if (targets.length === 0) return null;
    return new RunFiles(commandLine(), command, targets, paths.report === undefined ? null : await loadHdr());
  }

  /**
   * The output the run reports to, recording on the side. A client's report draws every round
   * trip, and a script's JUnit file has a case per expect step met, so the core is asked for
   * per-message events even with --quiet; the output is spared them.
   */
  tee(output: Reporter, role: Role, checks: Check[]): Reporter {
    const { recorder } = this;
    const steps = checks.some((c) => c.decidedBy === 'script');
    const wanted = role === 'client' && this.targets.some((t) => t.option === '--report' || (t.option === '--junit' && steps));
    return {
      messages: output.messages || wanted,
      emit(e) {
        if (e.event !== 'summary') recorder.addLive(e, performance.timeOrigin + performance.now());
        if (output.messages || !perMessage(e)) output.emit(e);
      },
      room: () => output.room(),
      close: (failure) => output.close(failure),
      unwritable: () => output.unwritable?.() ?? null,
    };
  }

  /**
   * Writes the files for the run's summaries (none if it ended before them) and the exit code they
   * will carry; returns the error of a file that could not be written.
   */
  write(summaries: Summary[], error: NetnoteError | null, checks: Check[]): NetnoteError | null {
    const time = performance.timeOrigin + performance.now();
    for (const summary of summaries) {
      this.recorder.addLive({ event: 'summary', ...summary, exitCode: error?.exitCode ?? 0, error: error?.info ?? null }, time);
    }
    const run = this.recorder.run;
    let failure: NetnoteError | null = null;
    for (const target of this.targets.splice(0)) { // once: a second call has nothing left to write
      try {
        try {
          writeFileSync(target.fd, target.option === '--report' ? renderHtml([run], this.hdr!) : renderJunit([{ run, checks, command: this.command }]));
        } finally {
          closeSync(target.fd);
        }
      } catch (err) {
        failure ??= outputError(`${target.option} ${target.path}`, err);
      }
    }
    return failure;
  }
}

async function open(option: Target['option'], path: string, signal: AbortSignal): Promise<Target> {
  return { option, path, fd: await openOutput(path, `${option} ${path}`, signal) };
}

/** This process's command line as a person would type it again: `netnote tcp-client … --hex '01 03'`. */
function commandLine(): string {
  return ['netnote', ...process.argv.slice(2).map((arg) => (/^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, "'\\''")}'`))].join(' ');
}
