// @ts-check
// One event: what was received, and each of its deliveries with every attempt.
import { ApiError, getEvent, redeliver, replay } from '../api.js';
import { confirmAction } from '../confirm.js';
import { announce, bytes, h, isoTime, plural, replaceKeepingFocus, statusBadge, timeAgo } from '../dom.js';
import { eventPageDetail } from '../event-detail.js';
import { destinationUrl } from './overview.js';

/** @typedef {import('../../../../api-types.js').AttemptView} AttemptView */
/** @typedef {import('../../../../api-types.js').BreakerState} BreakerState */
/** @typedef {import('../../../../api-types.js').EventDetail['deliveries'][number]} DeliveryWithAttempts */
/** @typedef {import('../event-detail.js').EventPageDetail['event']} PageEvent */
/** @typedef {import('../app.js').View} View */

/** @type {import('../app.js').MakeView} */
export function eventView(params, navigate, eventId, meta) {
  // The route names this page only with an event id.
  const id = eventId ?? '';
  const details = h('div', { id: 'event-details' });
  const deliveries = h('div', { id: 'event-deliveries' });
  // Redraw only what changed: an open <details> or a scrolled snippet must survive polling.
  let shownEvent = false;
  let shownDeliveries = '';
  /** @type {View} */
  const view = {
    title: `Event ${id}`,
    mount(main) {
      main.append(
        h('p', { class: 'crumbs' }, h('a', { href: '#/events' }, 'Events'), ' / ', id),
        h('h1', { tabindex: '-1' }, 'Event ', h('code', {}, id)),
        details,
        h('h2', {}, 'Deliveries'),
        deliveries,
      );
    },
    async refresh(stats) {
      const breakers = stats?.circuits ?? {};
      let detail;
      try {
        detail = eventPageDetail(await getEvent(id));
      } catch (error) {
        if (error instanceof ApiError && error.status === 404) {
          replaceKeepingFocus(details, h('p', { role: 'alert' }, 'No event has this id (it may have been pruned).'));
          replaceKeepingFocus(deliveries);
          return;
        }
        throw error;
      }
      const { event } = detail;
      const deliveriesJson = JSON.stringify([detail.deliveries, breakers]);
      if (shownEvent && deliveriesJson === shownDeliveries) return;
      shownDeliveries = deliveriesJson;
      if (!shownEvent) replaceKeepingFocus(
        details,
        h('dl', { class: 'facts' },
          fact('Source', event.source),
          fact('Run ID / dedupe key', h('code', { class: 'key-cell' }, event.dedupeKey)),
          fact('Received', isoTime(event.receivedAt)),
          fact('Content type', event.contentType),
          fact('Size', bytes(event.size))),
        bodyDetails(event),
      );
      shownEvent = true;
      replaceKeepingFocus(
        deliveries,
        detail.deliveries.length === 0
          ? h('p', { class: 'muted' }, 'This event has no deliveries.')
          : detail.deliveries.map((delivery) => deliverySection(delivery, event, view, detail.deliveries, { breakers, urls: meta.destinationUrls })),
      );
    },
  };
  return view;
}

/**
 * @param {string} label
 * @param {import('../dom.js').Child} value
 */
function fact(label, value) {
  return h('div', {}, h('dt', {}, label), h('dd', {}, value));
}

/**
 * The body as received: a JSON body indented (when it is whole and parses), anything else as
 * text. Always a text node (never markup), so a body holding HTML or script shows as text.
 * @param {Pick<PageEvent, 'bodyPreview' | 'bodyNote'>} event
 */
export function bodyDetails(event) {
  const json = event.bodyNote === '' ? prettyJson(event.bodyPreview) : null;
  const note = [json === null ? null : 'JSON', event.bodyNote || null].filter(Boolean).join(', ');
  return h('details', { open: json !== null && event.bodyPreview.length <= 16_384 },
    h('summary', {}, note ? `Body (${note})` : 'Body'),
    h('pre', { class: 'snippet body', 'data-body': json === null ? 'raw' : 'json' }, json ?? event.bodyPreview));
}

/** @param {string} text */
function prettyJson(text) {
  try {
    const value = JSON.parse(text);
    return value !== null && typeof value === 'object' ? JSON.stringify(value, null, 2) : null;
  } catch {
    return null;
  }
}

/**
 * Why a delivery that is not finished waits: its destination's circuit breaker (open: nothing
 * is sent until it lets a trial through), its backoff (the next attempt's time), or nothing
 * but a free sending slot. Null for delivered and dead ones.
 * @param {Pick<DeliveryWithAttempts, 'status' | 'nextAttemptAt' | 'destination'>} delivery
 * @param {BreakerState | undefined} breaker
 * @param {number} [now]
 */
export function waitReason(delivery, breaker, now = Date.now()) {
  if (delivery.status === 'in_flight') {
    return h('p', { class: 'wait-reason', 'data-wait': 'in-flight' }, 'Being sent now',
      delivery.nextAttemptAt ? [' (lease until ', isoTime(delivery.nextAttemptAt), ')'] : null, '.');
  }
  if (delivery.status !== 'pending') return null;
  const next = delivery.nextAttemptAt ? Date.parse(delivery.nextAttemptAt) : null;
  if (breaker === 'open') {
    return h('p', { class: 'wait-reason warning', 'data-wait': 'breaker-open' },
      `Waiting: the circuit breaker of ${delivery.destination} is open, so nothing is sent there until it lets a trial attempt through.`,
      next !== null && next > now ? [' Next attempt due at ', isoTime(delivery.nextAttemptAt), '.'] : null);
  }
  if (breaker === 'half_open') {
    return h('p', { class: 'wait-reason', 'data-wait': 'breaker-half-open' },
      `Waiting: the circuit breaker of ${delivery.destination} is half-open; a trial attempt decides whether sending resumes.`);
  }
  if (next !== null && next > now) {
    return h('p', { class: 'wait-reason', 'data-wait': 'next-attempt' },
      'Next attempt at ', isoTime(delivery.nextAttemptAt), ` (in ${untilText(next - now)}; retry backoff).`);
  }
  return h('p', { class: 'wait-reason', 'data-wait': 'due' }, `Due now: waiting for a free sending slot to ${delivery.destination}.`);
}

/** @param {number} ms */
function untilText(ms) {
  const seconds = Math.max(1, Math.round(ms / 1000));
  if (seconds < 120) return `${seconds} s`;
  const minutes = Math.round(seconds / 60);
  return minutes < 120 ? `${minutes} min` : `${Math.round(minutes / 60)} h`;
}

/**
 * An attempt's error, unless it only repeats its status ("HTTP 503" beside 503).
 * @param {AttemptView} attempt
 */
function attemptError(attempt) {
  if (!attempt.error || attempt.error === `HTTP ${attempt.statusCode}`) return '—';
  return [attempt.errorCode ? h('code', {}, attempt.errorCode) : null, ' ', attempt.error];
}

/**
 * @param {DeliveryWithAttempts} delivery
 * @param {PageEvent} event
 * @param {View} view
 * @param {DeliveryWithAttempts[]} all the event's deliveries
 * @param {{ breakers: Record<string, BreakerState>, urls: Record<string, string> }} context
 */
function deliverySection(delivery, event, view, all, { breakers, urls }) {
  const headingId = `delivery-${delivery.id}`;
  // A dead delivery whose destination has a fallback: the fallback's delivery names it.
  const fellBackTo = all.find((other) => other.fallbackFor === delivery.destination)?.destination;
  const action =
    delivery.status === 'dead'
      ? h('button', { type: 'button', 'data-key': `replay-${delivery.id}`, onclick: () => replayOne(delivery, view) }, `Replay delivery to ${delivery.destination}`)
      : delivery.status === 'delivered'
        ? h('button', { type: 'button', 'data-key': `redeliver-${delivery.id}`, onclick: () => redeliverOne(delivery, event, view) }, `Redeliver to ${delivery.destination}`)
        : null;
  return h(
    'section',
    { class: 'delivery', 'aria-labelledby': headingId, 'data-delivery': delivery.id, 'data-destination': delivery.destination },
    h('header', {},
      h('h3', { id: headingId }, delivery.destination, ' ', statusBadge(delivery.status)),
      action),
    h('p', { class: 'muted' },
      `Delivery ${delivery.id} · ${plural(delivery.attempts, 'attempt')} in all`,
      delivery.deadAt ? [' · dead ', timeAgo(delivery.deadAt)] : null,
      delivery.deliveredAt ? [' · delivered ', timeAgo(delivery.deliveredAt)] : null,
      fellBackTo ? h('span', { class: 'fallback' }, ` · fell back to ${fellBackTo}`) : null,
      delivery.fallbackFor ? h('span', { class: 'fallback' }, ` · fallback for ${delivery.fallbackFor}`) : null),
    destinationUrl(urls[delivery.destination]),
    waitReason(delivery, breakers[delivery.destination]),
    delivery.attemptLog.length === 0
      ? h('p', { class: 'muted' }, 'No attempt yet.')
      : h('table', { class: 'list attempts' },
          h('caption', {}, `Attempts to ${delivery.destination}`),
          h('thead', {}, h('tr', {},
            h('th', { scope: 'col', class: 'num' }, '#'),
            h('th', { scope: 'col' }, 'Time'),
            h('th', { scope: 'col' }, 'Status'),
            h('th', { scope: 'col', class: 'num' }, 'Latency'),
            h('th', { scope: 'col' }, 'Error'),
            h('th', { scope: 'col' }, 'Response'))),
          h('tbody', {}, delivery.attemptLog.map((attempt) =>
            h('tr', { class: `outcome-${attempt.outcome}` },
              h('td', { class: 'num' }, attempt.number),
              h('td', {}, isoTime(attempt.startedAt)),
              h('td', {}, attempt.statusCode ?? h('span', { class: 'muted' }, 'no response'), ' ', statusBadge(attempt.outcome)),
              h('td', { class: 'num' }, `${attempt.durationMs} ms`),
              h('td', {}, attemptError(attempt)),
              h('td', {}, attempt.responseSnippet ? h('pre', { class: 'snippet' }, attempt.responseSnippet) : '—'))))),
  );
}

/**
 * @param {DeliveryWithAttempts} delivery
 * @param {View} view
 */
async function replayOne(delivery, view) {
  const ok = await confirmAction({
    title: 'Replay 1 dead delivery?',
    text: `1 delivery will be sent again to ${delivery.destination} with a fresh attempt budget.`,
    confirmLabel: 'Replay 1 delivery',
  });
  if (!ok) return;
  const result = await replay({ ids: [delivery.id] });
  announce(`Replayed ${plural(result.replayed, 'delivery', 'deliveries')}.`);
  await view.refresh();
}

/**
 * @param {DeliveryWithAttempts} delivery
 * @param {PageEvent} event
 * @param {View} view
 */
async function redeliverOne(delivery, event, view) {
  const ok = await confirmAction({
    title: 'Redeliver this event?',
    text: `The event will be sent again to ${delivery.destination}, which already received it (same webhook-id).`,
    confirmLabel: `Redeliver to ${delivery.destination}`,
  });
  if (!ok) return;
  await redeliver({ eventId: event.id, destination: delivery.destination });
  announce(`Event queued for redelivery to ${delivery.destination}.`);
  await view.refresh();
}
