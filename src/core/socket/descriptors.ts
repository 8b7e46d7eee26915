import { readdirSync, readFileSync } from 'node:fs';

// Every client a server holds costs a file descriptor. Past `ulimit -n`, accept() fails with
// EMFILE and libuv quietly accepts and closes what is queued (its EMFILE trick): the server would
// never hear of those clients. Knowing its budget, the server closes them itself, and counts them.

/** Descriptors kept free for what the process may still open: libuv's EMFILE reserve, files, DNS. */
const RESERVE = 8;

export interface DescriptorBudget {
  /** The soft `ulimit -n`. */
  limit: number;
  /** Sockets the process can still open: the limit, less what is open now, less a reserve. */
  sockets: number;
}

/** This process's descriptor budget (Linux, /proc); null when it cannot be known. */
export function descriptorBudget(): DescriptorBudget | null {
  try {
    const soft = /^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'))?.[1];
    if (soft === undefined) return null; // unlimited
    const limit = Number(soft);
    return { limit, sockets: Math.max(0, limit - readdirSync('/proc/self/fd').length - RESERVE) };
  } catch {
    return null;
  }
}
