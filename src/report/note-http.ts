import type { ReportEvent } from '../core/summary.js';
import { shownBytes } from './bytes.js';
import { pair } from './format.js';
import { HumanReporter } from './human.js';

/**
 * The note's raw HTTP GET experiment prints without role tags, the request and the response as
 * `<-- send data:` / `--> recv data:` blocks, and `tcp link established` / `tcp disconnected.`.
 * Everything else (TLS, summary, warnings) is as for every command.
 */
export class NoteHttpReporter extends HumanReporter {
  private resolvedName = false;
  private receiving = false;

  override emit(e: ReportEvent): void {
    switch (e.event) {
      case 'created': return this.untagged('socket object created.');
      case 'resolved':
        this.resolvedName = true;
        return this.untagged(`DNS for ${e.host}: ${e.address}`);
      case 'connecting':
        this.stopSpinner();
        return this.startSpinner(`connecting to ${pair(e.remote)}`);
      case 'connected':
        this.stopSpinner();
        // The note's two versions: the address it was given, or (after DNS) no address at all.
        return this.untagged(this.resolvedName ? 'tcp link established.' : `tcp link established: ${pair(e.remote)}`);
      case 'send':
        this.untagged('<-- send data:');
        return this.block(e.data);
      case 'recv':
        if (!this.receiving) this.untagged('--> recv data:');
        this.receiving = true;
        return this.block(e.data);
      case 'closed': return this.untagged('tcp disconnected.');
      default: return super.emit(e);
    }
  }

  private block(data: Buffer): void {
    if (this.options.hexDump) this.payload('client', '', data, '');
    else this.untagged(shownBytes(data, this.options.symbols.ellipsis));
  }
}
