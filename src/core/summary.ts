// Types only: every run's summary, and the last event a reporter gets. The CLI emits it, not the
// core, so nothing in the core imports this file (which imports the summary of every flow).
import type { ErrorInfo } from './errors.js';
import type { NetEvent } from './events.js';
import type { HttpSummary } from './http/get.js';
import type { CapacitySummary } from './measure/capacity.js';
import type { IdleTimeoutSummary } from './measure/idle-timeout.js';
import type { StreamSummary } from './measure/stream.js';
import type { ClientSummary } from './message/exchange.js';
import type { ResolveSummary } from './dns/resolve.js';
import type { InterfacesSummary, RouteSummary } from './socket/nics.js';
import type { ServerSummary } from './tcp/server.js';
import type { UdpServerSummary } from './udp/server.js';

export type Summary = {
  role: 'client';
  summary: ClientSummary | HttpSummary | ResolveSummary | InterfacesSummary | RouteSummary | StreamSummary | CapacitySummary | IdleTimeoutSummary;
} | { role: 'server'; summary: ServerSummary | UdpServerSummary };

export type SummaryEvent = { event: 'summary'; exitCode: number; error: ErrorInfo | null } & Summary;

/** Everything a reporter is given: the core's events, then the run's summaries. */
export type ReportEvent = NetEvent | SummaryEvent;
