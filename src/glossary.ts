/**
 * The words of hookrelay. Tables, types, log keys and CLI output use exactly these.
 *
 * - **source**: a producer that POSTs callbacks to one path of the public listener
 *   (e.g. Cerebrium). It has a signature scheme and a dedupe rule.
 * - **event**: one accepted callback: the exact bytes received, its content type, its
 *   source and its dedupe key. Stored once; its id is the `webhook-id` every consumer sees.
 * - **dedupe key**: the value that identifies a callback for its source (`run_id`, a header,
 *   or the body's sha256). A second callback with a stored key is a duplicate.
 * - **destination**: a consumer URL that receives the events of some sources.
 * - **delivery**: one event on its way to one destination. Exactly one per (event, destination).
 *   Status: `pending` (waiting for its next attempt), `in_flight` (claimed under a lease),
 *   `delivered` (a 2xx was received), `dead` (its attempt budget is spent).
 * - **attempt**: one HTTP request of a delivery, with its outcome, recorded in the attempt log.
 * - **lease**: the time until which a claimed delivery belongs to the dispatcher that claimed it.
 * - **dead letter**: a delivery in status `dead`.
 * - **replay**: moving dead letters back to `pending` with a fresh attempt budget.
 * - **redeliver**: sending an event again to destinations that already received it (or newly added ones).
 * - **run**: a Cerebrium job whose callback the relay waits for (config `runs`), known by its run id.
 *   Status: `submitted` (waiting for its callback), `completed` (a verified callback carried its run
 *   id; linked to that event), `overdue` (no callback within `overdueAfterMs`), `lost` (overdue, and
 *   Cerebrium says it finished: the callback will never come). A late callback still completes it.
 * - **announcement**: the event on the built-in source `runs` that says a run became overdue or lost.
 * - **quarantine**: where a source with `quarantine` set keeps callbacks rejected for their signature
 *   or timestamp (raw bytes and headers), bounded by bytes and age; **release** verifies them again
 *   with the current secrets and ingests those that pass as events.
 * - **retry now**: making pending deliveries that wait for a later attempt due at once (budget unchanged).
 */

export const DELIVERY_STATUSES = ['pending', 'in_flight', 'delivered', 'dead'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/** A callback as accepted by ingress, before it is stored. */
export interface NewEvent {
  source: string;
  /** The run this callback reports on (`runs.source` only): the run, if tracked, is completed in the same commit. */
  runId?: string;
  dedupeKey: string;
  contentType: string;
  /** The received `Content-Encoding` (e.g. `gzip`), or null; the body is kept encoded, as received. */
  contentEncoding: string | null;
  body: Buffer;
  /** The callback's `X-Request-Id`, kept for deliveries signed the cerebrium way. */
  requestId?: string | null;
  /** Destination names the event fans out to; one pending delivery is created for each. */
  destinations: readonly string[];
}

export interface IngestResult {
  /** The stored event id (the first event's id when `duplicate`). */
  id: string;
  duplicate: boolean;
  /** Set when this event completed a tracked run: submission -> callback in ms. */
  completedRun?: { runId: string; durationMs: number };
}

export interface StoredEvent {
  id: string;
  source: string;
  dedupeKey: string;
  contentType: string;
  contentEncoding: string | null;
  body: Buffer;
  /** Unix milliseconds. */
  receivedAt: number;
}

export interface Delivery {
  id: string;
  eventId: string;
  destination: string;
  source: string;
  dedupeKey: string;
  status: DeliveryStatus;
  /** Every attempt ever made, across replays: the value of the next `hookrelay-attempt` minus one. */
  attempts: number;
  /** Attempts counted against `retry.maxAttempts` since the delivery was created or last replayed. */
  budgetUsed: number;
  /** Unix ms at which the delivery is due (pending) — meaningless otherwise. */
  nextAttemptAt: number;
  leaseExpiresAt: number | null;
  lastStatus: number | null;
  lastError: string | null;
  createdAt: number;
  updatedAt: number;
  deliveredAt: number | null;
  deadAt: number | null;
  /** Created because the delivery of this event to that destination died (its `fallback`); null otherwise. */
  fallbackFor: string | null;
}

/** A delivery handed to the dispatcher by a claim, with what it needs to send it. */
export interface ClaimedDelivery {
  id: string;
  eventId: string;
  destination: string;
  source: string;
  contentType: string;
  /** Sent as `Content-Encoding` with every attempt when not null. */
  contentEncoding: string | null;
  body: Buffer;
  attempts: number;
  budgetUsed: number;
  receivedAt: number;
  /** The tracked run's metadata as compact JSON, when the event completed a run that had some. */
  runMetadata?: string | null;
  /** Sent as `hookrelay-fallback-for`: the destination whose delivery of this event died. */
  fallbackFor?: string | null;
  /** The callback's `X-Request-Id` (cerebrium signing carries it on), or null. */
  requestId?: string | null;
}

export type AttemptOutcome = 'delivered' | 'failed';

export interface Attempt {
  deliveryId: string;
  /** 1-based, across replays: equals the `hookrelay-attempt` header that was sent. */
  number: number;
  startedAt: number;
  durationMs: number;
  statusCode: number | null;
  /** Stable code for network errors and timeouts (e.g. `UND_ERR_CONNECT_TIMEOUT`, `ECONNREFUSED`). */
  errorCode: string | null;
  /** Human-readable error, or null. */
  error: string | null;
  /** The first ~1 KB of the response body. */
  responseSnippet: string | null;
  outcome: AttemptOutcome;
}

/** What the dispatcher decided after an attempt; the store applies it with the attempt log row. */
export type AttemptDecision =
  | { kind: 'delivered' }
  | { kind: 'retry'; nextAttemptAt: number }
  | { kind: 'dead' };

/** An attempt's result with the state transition it leads to. */
export interface AttemptCompletion {
  attempt: Attempt;
  decision: AttemptDecision;
  /** Whether the attempt counts against the budget (always true for attempts actually sent). */
  countsAgainstBudget: boolean;
  /**
   * The destination's `fallback`: when the decision is dead (and the delivery still ours), one
   * pending delivery of the event to it is created in the same transaction — unless the event
   * already has a delivery there.
   */
  fallback?: string;
}

/** A delivery created by a fallback when another delivery of its event died. */
export interface FallbackDelivery {
  deliveryId: string;
  eventId: string;
  /** The destination whose delivery died. */
  from: string;
  /** The fallback destination. */
  to: string;
}

/** The built-in source whose events announce overdue and lost runs (a reserved source name). */
export const RUNS_SOURCE = 'runs';

export const RUN_STATUSES = ['submitted', 'completed', 'overdue', 'lost'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

/** A run as submitted or registered, before it is stored. */
export interface NewRun {
  runId: string;
  /** Cerebrium project and app, from the submission path `/v4/<project>/<app>/…` (or the registration). */
  project: string | null;
  app: string | null;
  metadata: Record<string, unknown> | null;
  submittedAt: number;
}

export interface Run {
  runId: string;
  project: string | null;
  app: string | null;
  status: RunStatus;
  metadata: Record<string, unknown> | null;
  submittedAt: number;
  completedAt: number | null;
  /** The callback's event, once completed. */
  eventId: string | null;
  overdueAt: number | null;
  lostAt: number | null;
}

export type AnnouncementKind = 'run.overdue' | 'run.lost';
