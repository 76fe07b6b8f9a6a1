// Every request of the dashboard goes through here: same-origin, with the session cookie
// (HttpOnly: this script never sees it) and the dashboard header the admin API requires
// before it accepts the cookie in place of the bearer token (CSRF protection).

const BASE = '/admin/api';

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export async function api(path, { method = 'GET', body, query } = {}) {
  const url = new URL(BASE + path, location.origin);
  for (const [name, value] of Object.entries(query ?? {})) {
    if (value !== undefined && value !== null && value !== '') url.searchParams.set(name, String(value));
  }
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
    throw new ApiError(response.status, json?.error?.code ?? 'HTTP_' + response.status, json?.error?.message ?? response.statusText);
  }
  return json;
}

export const getStats = () => api('/stats');
export const getAttemptHistory = () => api('/dashboard/attempt-history');
export const getMeta = () => api('/dashboard/meta');
export const findEvents = (query) => api('/events', { query });
export const getEvent = (id) => api(`/events/${encodeURIComponent(id)}`);
export const listDeliveries = (query) => api('/deliveries', { query });
/** As listDeliveries, each delivery with `lastResponseSnippet` (what the destination last answered). */
export const listDeliveriesWithResponses = (query) => api('/dashboard/deliveries', { query });
export const replay = (selector) => api('/replay', { method: 'POST', body: selector });
export const redeliver = (body) => api('/redeliver', { method: 'POST', body });
export const getRunsOverview = () => api('/runs-overview');
export const listRuns = (query) => api('/runs', { query });
