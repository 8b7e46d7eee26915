import type { DropMode } from '../events.js';
import { medianAndMax } from '../run/reconnect.js';

// tcp-server --drop-after / --drop-every: the server drops its clients on purpose, so that a
// device proves it reconnects. Per client address (its port changes with each connection), how
// often it was dropped, and how long it took to come back each time.

export interface DropPlan {
  mode: DropMode;
  /** --drop-after: each client, this long after its accept. */
  afterMs: number | null;
  /** --drop-every: every client connected, each time this much more of the server's run has passed. */
  everyMs: number | null;
}

export interface AddressReturns {
  address: string;
  drops: number;
  /** Drops followed by a new connection from the address. */
  returned: number;
  /** From a drop to the next accept from the address. */
  backMs: { min: number; p50: number; max: number } | null;
}

export interface DropSummary extends DropPlan {
  drops: number;
  /** The most recently dropped addresses, oldest first; `olderAddresses` counts the ones left out. */
  perAddress: AddressReturns[];
  olderAddresses: number;
}

/** Addresses listed in a summary, and kept at all (a scan of spoofed sources must not grow memory). */
export const SUMMARY_ADDRESSES = 100;
const TRACKED = 10_000;
/** Come-back times kept per address: a week of a drop a minute. */
const TIMES_KEPT = 10_000;

interface Ledger {
  drops: number;
  droppedAt: number | null;
  back: number[];
  returned: number;
}

export class DropLedger {
  private readonly addresses = new Map<string, Ledger>();
  private drops = 0;

  constructor(private readonly plan: DropPlan) {}

  dropped(address: string, now = performance.now()): void {
    this.drops++;
    let ledger = this.addresses.get(address);
    if (ledger) this.addresses.delete(address);
    else if (this.addresses.size >= TRACKED) this.addresses.delete(this.addresses.keys().next().value!);
    ledger ??= { drops: 0, droppedAt: null, back: [], returned: 0 };
    ledger.drops++;
    // A second drop before the client came back (two connections from one address) keeps the first.
    ledger.droppedAt ??= now;
    this.addresses.set(address, ledger);
  }

  /** A client from `address` was accepted: how long after its last drop, or null if it had none pending. */
  accepted(address: string, now = performance.now()): number | null {
    const ledger = this.addresses.get(address);
    if (!ledger || ledger.droppedAt === null) return null;
    const back = Math.round((now - ledger.droppedAt) * 1000) / 1000;
    ledger.droppedAt = null;
    ledger.returned++;
    ledger.back.push(back);
    if (ledger.back.length > TIMES_KEPT) ledger.back.shift();
    return back;
  }

  summary(): DropSummary {
    const entries = [...this.addresses].slice(-SUMMARY_ADDRESSES);
    return {
      ...this.plan,
      drops: this.drops,
      perAddress: entries.map(([address, l]) => {
        const spread = medianAndMax(l.back);
        return { address, drops: l.drops, returned: l.returned, backMs: spread && { min: Math.min(...l.back), ...spread } };
      }),
      olderAddresses: this.addresses.size - entries.length,
    };
  }
}
