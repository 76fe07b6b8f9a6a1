import type { z } from 'zod';
import type { BreakerState } from '../delivery/observer.js';
import type { errorBody } from '../errors.js';
import type { DeliveryList } from '../operator/deliveries.js';
import type { RunView } from '../operator/runs.js';
import type { StatsView } from '../operator/stats.js';
import type {
  deadLettersQuery, deliveriesQuery, eventsQuery, loginBody, redeliverBody, replayBody, runRegistrationBody, runsQuery,
} from './api-schemas.js';

/**
 * What the admin listener answers, route by route: the one statement of its JSON shapes, used
 * by the routes (each answer is checked against its type here) and by the dashboard's scripts
 * (`@typedef {import('../../../api-types.js').EventDetail} EventDetail`, checked by
 * tsconfig.dashboard.json). What the routes accept is in api-schemas.ts; the request types
 * below are read from those schemas.
 *
 * - GET  /admin/api/events                 EventPage
 * - GET  /admin/api/events/:id             EventDetail
 * - GET  /admin/api/deliveries             DeliveryList
 * - GET  /admin/api/deliveries/:id         DeliveryDetail
 * - GET  /admin/api/dead-letters           DeadLetterPage
 * - GET  /admin/api/stats                  StatsAnswer
 * - POST /admin/api/replay                 ReplayResult      (body ReplayBody)
 * - POST /admin/api/redeliver              RedeliverResult   (body RedeliverBody)
 * - GET  /admin/api/runs                   RunPage
 * - GET  /admin/api/runs/:runId            RunView
 * - POST /admin/api/runs                   RunView           (body RunRegistrationBody)
 * - GET  /admin/api/runs-overview          RunsOverview
 * - GET  /admin/api/dashboard/attempt-history   AttemptHistory
 * - GET  /admin/api/dashboard/meta              DashboardMeta
 * - GET  /admin/api/dashboard/deliveries        DeliveryWithResponseList
 * - POST /login                            204               (body LoginBody)
 * - any refusal                            ErrorAnswer
 */

export type { BreakerState } from '../delivery/observer.js';
export type { DeadLetterPage } from '../operator/dead-letters.js';
export type { DeliveryDetail, DeliveryList } from '../operator/deliveries.js';
export type { EventDetail, EventPage } from '../operator/events.js';
export type { RedeliverResult } from '../operator/redeliver.js';
export type { ReplayResult } from '../operator/replay.js';
export type { RunView, RunsOverview } from '../operator/runs.js';
export type { StatusCounts } from '../operator/stats.js';
export type { AttemptView, DeadLetterView, DeliveryView, EventSummaryView } from '../operator/views.js';
export type { AttemptBucket } from '../store/store.js';
export type { AttemptHistory, DashboardMeta, DeliveryWithResponse, DeliveryWithResponseList } from './dashboard/dashboard-api.js';

/** `GET /admin/api/stats`: `stats --json`, plus each destination's circuit breaker (when the relay delivers) and quarantined callbacks per source. */
export interface StatsAnswer extends StatsView {
  circuits?: Record<string, BreakerState>;
  quarantined: Record<string, number>;
}

/** `GET /admin/api/runs`. */
export interface RunPage {
  runs: RunView[];
  nextCursor: string | null;
}

/** Every refusal (4xx, 5xx) of the admin listener, as `errorBody` writes it. */
export type ErrorAnswer = ReturnType<typeof errorBody>;

/** `POST /admin/api/replay`'s body, as the schema accepts it. */
export type ReplayBody = z.input<typeof replayBody>;
/** `POST /admin/api/redeliver`'s body. */
export type RedeliverBody = z.input<typeof redeliverBody>;
/** `POST /admin/api/runs`'s body. */
export type RunRegistrationBody = z.input<typeof runRegistrationBody>;
/** `POST /login`'s body. */
export type LoginBody = z.input<typeof loginBody>;

/** A query string's parameters as a client passes them: the schema's keys, each a value or left out. */
type QueryOf<Schema extends z.ZodType> = { [Key in keyof z.output<Schema>]?: string | number | null };
/** `GET /admin/api/events`'s query. */
export type EventsQuery = QueryOf<typeof eventsQuery>;
/** `GET /admin/api/deliveries`'s and `GET /admin/api/dashboard/deliveries`' query. */
export type DeliveriesQuery = QueryOf<typeof deliveriesQuery>;
/** `GET /admin/api/dead-letters`' query. */
export type DeadLettersQuery = QueryOf<typeof deadLettersQuery>;
/** `GET /admin/api/runs`' query. */
export type RunsQuery = QueryOf<typeof runsQuery>;
