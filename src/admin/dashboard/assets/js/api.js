// @ts-check
// Every request of the dashboard goes through here: same-origin, with the session cookie
// (HttpOnly: this script never sees it) and the dashboard header the admin API requires
// before it accepts the cookie in place of the bearer token (CSRF protection). Each call is
// typed with what the relay answers (src/admin/api-types.ts, the same types its routes use).

/** @typedef {import('../../../api-types.js').AttemptHistory} AttemptHistory */
/** @typedef {import('../../../api-types.js').DashboardMeta} DashboardMeta */
/** @typedef {import('../../../api-types.js').DeadLettersQuery} DeadLettersQuery */
/** @typedef {import('../../../api-types.js').DeliveriesQuery} DeliveriesQuery */
/** @typedef {import('../../../api-types.js').DeliveryList} DeliveryList */
/** @typedef {import('../../../api-types.js').DeliveryWithResponseList} DeliveryWithResponseList */
/** @typedef {import('../../../api-types.js').ErrorAnswer} ErrorAnswer */
/** @typedef {import('../../../api-types.js').EventDetail} EventDetail */
/** @typedef {import('../../../api-types.js').EventPage} EventPage */
/** @typedef {import('../../../api-types.js').EventsQuery} EventsQuery */
/** @typedef {import('../../../api-types.js').RedeliverBody} RedeliverBody */
/** @typedef {import('../../../api-types.js').RedeliverResult} RedeliverResult */
/** @typedef {import('../../../api-types.js').ReplayBody} ReplayBody */
/** @typedef {import('../../../api-types.js').ReplayResult} ReplayResult */
/** @typedef {import('../../../api-types.js').RunPage} RunPage */
/** @typedef {import('../../../api-types.js').RunsOverview} RunsOverview */
/** @typedef {import('../../../api-types.js').RunsQuery} RunsQuery */
/** @typedef {import('../../../api-types.js').StatsAnswer} StatsAnswer */

const BASE = '/admin/api';

export class ApiError extends Error {
  /**
   * @param {number} status
   * @param {string} code
   * @param {string} message
   */
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/**
 * One request to the admin API; resolves with its JSON answer, typed by the caller (`Answer`)
 * from api-types.ts. A refusal rejects with an ApiError holding the relay's code and message.
 * @template Answer
 * @param {string} path
 * @param {{ method?: 'GET' | 'POST', body?: object, query?: Record<string, string | number | null | undefined> }} [options]
 * @returns {Promise<Answer>}
 */
export async function api(path, { method = 'GET', body, query } = {}) {
  const url = new URL(BASE + path, location.origin);
  for (const [name, value] of Object.entries(query ?? {})) {
    if (value !== undefined && value !== null && value !== '') url.searchParams.set(name, String(value));
  }
  /** @type {Record<string, string>} */
  const headers = { 'x-hookrelay-dashboard': '1', accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(url, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: 'same-origin',
    cache: 'no-store',
  });
  if (response.status === 401) {
    // The session expired or the token changed: show the token form.
    location.reload();
    throw new ApiError(401, 'HOOKRELAY_UNAUTHORIZED', 'sign-in required');
  }
  const text = await response.text();
  const json = text ? JSON.parse(text) : null;
  if (!response.ok) {
    const refusal = /** @type {Partial<ErrorAnswer> | null} */ (json);
    throw new ApiError(response.status, refusal?.error?.code ?? 'HTTP_' + response.status, refusal?.error?.message ?? response.statusText);
  }
  return json;
}

/** @returns {Promise<StatsAnswer>} */
export const getStats = () => api('/stats');
/** @returns {Promise<AttemptHistory>} */
export const getAttemptHistory = () => api('/dashboard/attempt-history');
/** @returns {Promise<DashboardMeta>} */
export const getMeta = () => api('/dashboard/meta');
/**
 * @param {EventsQuery} query
 * @returns {Promise<EventPage>}
 */
export const findEvents = (query) => api('/events', { query });
/**
 * @param {string} id
 * @returns {Promise<EventDetail>}
 */
export const getEvent = (id) => api(`/events/${encodeURIComponent(id)}`);
/**
 * @param {DeliveriesQuery} query
 * @returns {Promise<DeliveryList>}
 */
export const listDeliveries = (query) => api('/deliveries', { query });
/**
 * As listDeliveries, each delivery with `lastResponseSnippet` (what the destination last answered).
 * @param {DeliveriesQuery} query
 * @returns {Promise<DeliveryWithResponseList>}
 */
export const listDeliveriesWithResponses = (query) => api('/dashboard/deliveries', { query });
/**
 * @param {ReplayBody} selector
 * @returns {Promise<ReplayResult>}
 */
export const replay = (selector) => api('/replay', { method: 'POST', body: selector });
/**
 * @param {RedeliverBody} body
 * @returns {Promise<RedeliverResult>}
 */
export const redeliver = (body) => api('/redeliver', { method: 'POST', body });
/** @returns {Promise<RunsOverview>} */
export const getRunsOverview = () => api('/runs-overview');
/**
 * @param {RunsQuery} query
 * @returns {Promise<RunPage>}
 */
export const listRuns = (query) => api('/runs', { query });
