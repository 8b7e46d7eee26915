// Types only: the data of every log line, and the sink the core sends them to. Every folder of
// the core imports this; it imports nothing back (the run summaries are in summary.ts).
import type { Endpoint } from './endpoint.js';
import type { ErrorInfo } from './errors.js';

export type Role = 'client' | 'server';
export type Proto = 'tcp' | 'udp';

/** Why a connection or a run ended; the words scripts see in --json. */
export type EndReason =
  | 'completed'     // every round done
  | 'peer-closed'   // the peer closed cleanly (FIN)
  | 'reset'         // the peer reset the connection
  | 'timeout'       // connect or reply timeout
  | 'idle'          // --idle-timeout on the server
  | 'mismatch'      // an assertion failed
  | 'interrupted'   // SIGINT / SIGTERM
  | 'rejected'      // over --max-clients
  | 'framing'       // the stream could not be cut into messages (--frame)
  | 'script-close'  // the server's script closed the connection (action: close)
  | 'script-reset'  // the server's script reset it (action: reset)
  | 'tls-failed'    // the TLS handshake failed, or a certificate was refused
  | 'dropped'       // the server's --drop-after / --drop-every ended it
  | 'failed';       // never connected

/**
 * What most likely ended a connection, from what was seen on it (docs/long-lived.md): a reset
 * (RST), the peer's FIN, keepalive probes unanswered (ETIMEDOUT), data never acknowledged
 * (ETIMEDOUT without keepalive), a heartbeat or a message without an answer, and on a server its
 * own --idle-timeout or --drop-*.
 */
/** An idle-timeout trial's direction: the client sends after the idle time (uplink), or the server does (downlink). */
export type Direction = 'uplink' | 'downlink';

/** What an idle-timeout trial saw: an echo or the server's answer (it survived), or why it did not. */
export type TrialSeen = 'echoed' | 'answered' | 'no-echo' | 'no-answer' | 'reset' | 'closed';

/** How a server drops a client (--drop-mode): a FIN, a reset, or no more answers (as a dead path looks to the application). */
export type DropMode = 'fin' | 'reset' | 'silence';

export type LossCause = 'reset' | 'fin' | 'keepalive' | 'retransmission' | 'heartbeat' | 'reply-timeout' | 'idle-timeout' | 'dropped';

/**
 * Everything the core reports, one variant per log line of the note (and a few of ours).
 * Reporters turn these into text or JSON; the core never formats.
 */
export type NetEvent =
  | { event: 'created'; role: Role; proto: Proto }
  | { event: 'resolved'; role: Role; host: string; address: string; family: Endpoint['family']; ms: number }
  | {
      event: 'bound'; role: Role; local: Endpoint;
      /**
       * A UDP server's sockets after its first (a wildcard binds each address of this host, each
       * IPv4 broadcast address and each --join group): the NIC, a broadcast or a group, the
       * memberships, and whether the address appeared after the start.
       */
      interface?: string; cast?: 'broadcast' | 'multicast'; joined?: string; added?: boolean;
    }
  /** A wildcard UDP server's address went away: its socket is closed. */
  | { event: 'unbound'; role: 'server'; local: Endpoint; interface?: string }
  | { event: 'listening'; role: Role; local: Endpoint; backlog: number }
  | { event: 'connecting'; role: Role; remote: Endpoint }
  | { event: 'connected'; role: Role; local: Endpoint; remote: Endpoint; ms: number }
  /** --keepalive on a connection (client) or on every accepted one (server, once at start): what the kernel was told. */
  | { event: 'keepalive'; role: Role; idleMs: number; intervalMs: number; probes: number }
  | {
      event: 'accepted'; role: 'server'; client: number; remote: Endpoint; local: Endpoint; active: number;
      /** --drop-*: this address was dropped before; it came back this long after. */
      backAfterMs?: number;
    }
  /** --drop-after / --drop-every: the server drops a client (`mode`: fin, reset, silence) after `afterMs` connected. */
  | { event: 'dropped'; role: 'server'; client: number; remote: Endpoint; mode: DropMode; afterMs: number }
  | { event: 'rejected'; role: 'server'; remote: Endpoint; limit: number }
  | {
      event: 'send'; role: Role; seq: number; data: Buffer; remote?: Endpoint;
      /** Server: the client it went to, and why (a rule's reply, the fallback echo, the greeting, a push). */
      client?: number; answer?: 'reply' | 'echo' | 'greeting' | 'push' | 'delayed'; rule?: number;
      /** Client --script: the step that sent it (`3.1`: the first step inside step 3). */
      step?: string;
      /** Client --heartbeat: this is heartbeat `seq`, not a data message. */
      heartbeat?: true;
    }
  | {
      event: 'recv'; role: Role; data: Buffer; remote?: Endpoint; client?: number; rttMs?: number;
      /** UDP: the datagram this answers, and how (late, duplicate, reordered, or foreign: none of ours). */
      seq?: number; kind?: 'late' | 'duplicate' | 'reordered' | 'foreign';
      /** UDP server: the datagram was this long before --max-size cut it. */
      truncatedFrom?: number;
      /** UDP server with several sockets (a wildcard, --join): the address it was sent to, and what that address is. */
      local?: Endpoint; cast?: 'broadcast' | 'multicast';
      /** Client --heartbeat: the chunk completed the answer to this heartbeat. */
      heartbeat?: number;
    }
  | { event: 'no-reply'; role: Role; seq: number; waitedMs: number }
  /** The stream could not be cut into messages, or a message never completed: what was buffered. */
  | { event: 'frame-error'; role: Role; frame: string; message: string; buffered: Buffer; remote?: Endpoint; client?: number }
  /** A TLS session is up; on a server, per client (`remote`). */
  | ({ event: 'tls'; role: Role; remote?: Endpoint } & TlsInfo)
  /** A server's handshake with one client failed, or its certificate was refused. */
  | { event: 'tls-failed'; role: 'server'; remote: Endpoint; message: string; code: string; ms: number }
  /** The certificate a TLS server presents, once at start. */
  | ({ event: 'certificate'; role: 'server' } & ServerCertificate)
  /**
   * Throughput per second of a stream (client) or a sink (server): bytes moved in [fromS, toS);
   * a stream's per connection, a sink's per client (each client that sent something that second).
   */
  | {
      event: 'interval'; role: Role; fromS: number; toS: number; bytes: number; perConnection?: number[]; perClient?: Array<{ client: number; bytes: number }>;
      /** tcp-client --stream --bidir: which way these bytes went (one event each way per second). */
      direction?: 'send' | 'receive';
    }
  | { event: 'response'; role: Role; version: string; code: number; message: string; headers: Array<[string, string]> }
  | { event: 'round'; role: Role; seq: number }
  | {
      event: 'mismatch'; role: Role; seq: number; check: 'echo' | 'expect' | 'expect-regex' | 'expect-prefix' | 'expect-regex-hex' | 'heartbeat-expect';
      expected: Buffer | RegExp; got: Buffer;
      /** TCP: the last this many bytes of `got` came beyond the reply, when no message awaited them. */
      surplus?: number;
      /** --script: the expect step that failed, its label, and its pass inside a repeat (as its `step` events say them). */
      step?: string; label?: string; pass?: number;
    }
  /** A client --script step: started (send, sleep, repeat, close), met or timed out (expect). */
  | {
      event: 'step'; role: Role; step: string; name: 'send' | 'expect' | 'sleep' | 'repeat' | 'close'; label?: string;
      /** Inside a repeat: the pass of the innermost repeat around the step. */
      pass?: number;
      /** repeat: the pass starting, and how many there are (null: forever). */
      iteration?: number; of?: number | null;
      /** sleep: its length; expect: how long it waited. */
      ms?: number;
      /** expect: the message that met it, or what was received and not matched when it timed out. */
      data?: Buffer; timedOut?: boolean;
    }
  /** A one-way test (udp-client --one-way, --reverse) as the udp-server serves it. */
  | { event: 'one-way'; role: 'server'; remote: Endpoint; action: 'report'; stats: OneWayStats }
  | { event: 'one-way'; role: 'server'; remote: Endpoint; action: 'reverse-start'; perSecond: number; burst: number; size: number; count: number }
  | { event: 'one-way'; role: 'server'; remote: Endpoint; action: 'reverse-end'; sent: number; ms: number; stopped: boolean }
  /**
   * A connection ended by the peer or the path (or, on a server, by its own --idle-timeout or
   * --drop-*): the likely cause, how long nothing had been sent or received before it showed, how
   * long it had been connected; `seq`: the message (or `heartbeat`: the heartbeat) left unanswered.
   */
  | {
      event: 'lost'; role: Role; cause: LossCause; idleMs: number; connectedMs: number; remote?: Endpoint; client?: number;
      seq?: number; heartbeat?: number; waitedMs?: number;
    }
  /** --reconnect: the next attempt, after `waitMs` of back-off; `previous`: why the last attempt failed. */
  | { event: 'reconnecting'; role: Role; attempt: number; waitMs: number; previous?: string }
  /** --reconnect: connected again; the gap it closed (Gap in run/reconnect.ts). */
  | { event: 'reconnected'; role: Role; attempts: number; downMs: number; reconnectMs: number; lost: number; resumed?: boolean }
  /** --wait-for: the first attempt failed (`reason`); the client keeps trying for `forMs`. */
  | { event: 'waiting'; role: Role; host: string; port: number; forMs: number; reason: string }
  /** --wait-for: the port answered after `ms` and this many attempts. */
  | { event: 'waited'; role: Role; host: string; port: number; ms: number; attempts: number }
  /**
   * --report-every: the run so far. A client's messages, bytes, round trips, reconnects and
   * heartbeats; a server's clients (a UDP server's peers and datagrams) and bytes.
   */
  | {
      event: 'interim'; role: Role; elapsedMs: number;
      sent?: { messages: number; bytes: number }; received?: { messages: number; bytes: number };
      rttMs?: { p50: number; p99: number } | null; reconnects?: number; heartbeats?: { sent: number; answered: number };
      clients?: { served: number; active: number }; peers?: number; datagrams?: { in: number; out: number }; bytesIn?: number; bytesOut?: number;
    }
  /** idle-timeout: the peer answered the first request; `downlink`: it can answer after a delay (a netnote server). */
  | {
      event: 'idle-start'; role: Role; transport: Proto; remote: Endpoint; downlink: boolean; rttMs: number;
      /** --verify: a heartbeat every `everyMs` for `holdMs` instead of the search. */
      verify: { everyMs: number; holdMs: number } | null;
    }
  /** idle-timeout: a round of trials starts, one connection (or socket) per idle time. */
  | { event: 'idle-round'; role: Role; transport: Proto; direction: Direction; round: number; idleMs: number[] }
  /**
   * idle-timeout: a trial's outcome (`round`), or with --verify a heartbeat's (`heartbeat`): idle
   * `idleMs`, then `survived` or not, and what was seen; times since the run started.
   */
  | {
      event: 'trial'; role: Role; transport: Proto; direction: Direction; idleMs: number; survived: boolean; seen: TrialSeen;
      lateMs?: number; endedAfterMs?: number; round?: number; heartbeat?: number; startedAtMs: number; endedAtMs: number;
    }
  | { event: 'closed'; role: Role; reason: EndReason; remote?: Endpoint; client?: number; bytesIn: number; bytesOut: number; ms: number }
  | { event: 'warning'; role: Role; message: string }
  | ({ event: 'error'; role: Role; exitCode: number } & ErrorInfo);

/** What a receiver counted of one sender's probes: the body of a report (NNPr, measure/probe.ts). */
export interface OneWayCounts {
  /** Distinct probes received. */
  received: number;
  /** Bytes of those datagrams. */
  bytes: number;
  duplicated: number;
  /** Probes that arrived after a later one. */
  reordered: number;
  /** The highest sequence number seen (0: none). */
  highestSeq: number;
  /** RFC 3550 interarrival jitter, from the send times in the probes (the clocks need not agree). */
  jitterMs: number | null;
  /** From the first probe's arrival to the last one's. */
  spanMs: number;
  /** Distinct probes received in each second since the first arrived (empty past 100 seconds). */
  perSecond: number[];
}

/** A one-way run as the receiver saw it, with the sender's count beside it. */
export interface OneWayStats extends OneWayCounts {
  /** `send`: the client sent and the server received (--one-way); `receive`: the reverse (--reverse). */
  direction: 'send' | 'receive';
  /** Probes the sender sent, as it said (report request, stream end); null when it never said. */
  sent: number | null;
  /** sent − received, or, when the sender never said, the gaps up to the highest sequence number. */
  lost: number;
  lossPercent: number;
  /** Bits received per second over spanMs (payload and probe header, as iperf3 counts them). */
  bitsPerSecond: number;
}

/** A certificate as a person compares it with what a device holds. */
export interface CertificateInfo {
  /** `CN=broker, O=Example`. */
  subject: string;
  issuer: string;
  /** Subject alternative names: `DNS:localhost`, `IP:127.0.0.1`. */
  san: string[];
  /** ISO 8601. */
  validFrom: string;
  validTo: string;
  /** SHA-256 of the certificate, `AB:CD:…` as openssl and browsers show it. */
  fingerprint256: string;
  /** SHA-256 of the public key, `sha256//BASE64`: what --pin (curl's --pinnedpubkey) takes. */
  pin: string;
}

/** Why a peer's certificate did not verify, in words scripts can match. */
export type VerifyFailure =
  | 'expired' | 'not-yet-valid' | 'wrong-name' | 'unknown-issuer' | 'self-signed'
  | 'pin-mismatch' | 'no-certificate' | 'untrusted';

type PeerCertificate = { [K in keyof CertificateInfo]: CertificateInfo[K] | (K extends 'san' ? never : null) };

/** A TLS session as the `tls` line shows it; the certificate fields are the peer's (null: it sent none). */
export type TlsInfo = PeerCertificate & {
  protocol: string;
  cipher: string;
  alpn: string | null;
  /** SNI: the name a client sent, or the one a server received. */
  servername: string | null;
  /** Whether the peer's certificate verified: chain, name, --pin. */
  authorized: boolean;
  /** OpenSSL's or Node's code when it did not (`CERT_HAS_EXPIRED`, `ERR_TLS_CERT_ALTNAME_INVALID`, `PIN_MISMATCH`). */
  authorizationError: string | null;
  failure: VerifyFailure | null;
  /** false when the verification decided nothing: --insecure, or a server that does not require client certificates. */
  enforced: boolean;
  /** The session was resumed (no full handshake). */
  resumed: boolean;
  /** Handshake time. */
  ms: number;
};

/** What a TLS server presents: its certificate, how its key was made, where it was saved. */
export type ServerCertificate = CertificateInfo & {
  /** `ECDSA P-256`, `RSA 2048`. */
  keyType: string;
  selfSigned: boolean;
  /** --save-cert / --save-key, or null. */
  savedTo: string | null;
  keySavedTo: string | null;
};

/** Where the core sends events. `messages` is false when nobody reads per-message events (--quiet). */
export interface EventSink {
  emit(event: NetEvent): void;
  readonly messages: boolean;
  /**
   * null while the output has room, else a promise of room. The note's print() blocks when its
   * output is full, and so stops reading; readers wait on this the same way (run/backpressure.ts).
   */
  room(): Promise<void> | null;
}
