// @ts-check
// Recent events, newest first, searchable by run_id / dedupe key (or event id).
import { findEvents } from '../api.js';
import { bytes, h, plural, replaceKeepingFocus, statusBadge, timeAgo } from '../dom.js';

/** @typedef {import('../../../../api-types.js').DeliveryView['status']} DeliveryStatus */

const PAGE = 50;

/** @type {import('../app.js').MakeView} */
export function eventsView(params, navigate) {
  const query = params.get('q') ?? '';
  const cursor = params.get('cursor') ?? '';
  const input = h('input', { id: 'event-query', name: 'q', type: 'search', value: query, autocomplete: 'off', spellcheck: 'false', 'aria-describedby': 'event-query-help' });
  const form = h(
    'form',
    { role: 'search', class: 'filters', 'aria-label': 'Search events', onsubmit: (event) => {
      event.preventDefault();
      navigate('events', { q: input.value.trim() });
    } },
    h('div', { class: 'field' },
      h('label', { for: 'event-query' }, 'Run ID or dedupe key'),
      input,
      h('small', { id: 'event-query-help' }, 'The whole id or its start; an event id works too.')),
    h('button', { type: 'submit' }, 'Search'),
    query ? h('a', { href: '#/events', class: 'button-link' }, 'Clear') : null,
  );
  const summary = h('p', { id: 'events-summary', class: 'muted', 'aria-live': 'polite' });
  const body = h('tbody');
  const pager = h('nav', { class: 'pager', 'aria-label': 'Event pages' });

  return {
    title: query ? `Events matching ${query}` : 'Events',
    mount(main) {
      main.append(
        h('h1', { tabindex: '-1' }, 'Events'),
        form,
        summary,
        h('table', { class: 'list', 'aria-describedby': 'events-summary' },
          h('caption', { class: 'visually-hidden' }, 'Events, newest first'),
          h('thead', {}, h('tr', {},
            h('th', { scope: 'col' }, 'Received'),
            h('th', { scope: 'col' }, 'Source'),
            h('th', { scope: 'col' }, 'Run ID / dedupe key'),
            h('th', { scope: 'col' }, 'Event'),
            h('th', { scope: 'col' }, 'Deliveries'),
            h('th', { scope: 'col', class: 'num' }, 'Size'))),
          body),
        pager,
      );
    },
    async refresh() {
      const { events, nextCursor } = await findEvents({ query, limit: PAGE, cursor });
      summary.textContent = query
        ? `${plural(events.length, 'event')} with run ID or dedupe key “${query}”.`
        : cursor
          ? `Showing ${plural(events.length, 'older event')}.`
          : `Showing the ${plural(events.length, 'most recent event', 'most recent events')}.`;
      replaceKeepingFocus(
        body,
        events.length === 0
          ? h('tr', {}, h('td', { colspan: 6, class: 'muted' }, query ? 'No event has this run ID, dedupe key or id.' : 'No events yet.'))
          : events.map((event) =>
              h('tr', { 'data-event': event.id },
                h('td', {}, timeAgo(event.receivedAt)),
                h('td', {}, event.source),
                h('td', { class: 'key-cell' }, h('code', {}, event.dedupeKey)),
                h('td', {}, h('a', { href: `#/events/${encodeURIComponent(event.id)}`, 'data-key': `event-${event.id}` }, event.id)),
                h('td', { class: 'delivery-statuses' }, deliveryStatuses(event.deliveries)),
                h('td', { class: 'num' }, bytes(event.size)))),
      );
      replaceKeepingFocus(
        pager,
        cursor ? h('a', { href: hashFor({ q: query }), 'data-key': 'newest' }, 'Newest events') : null,
        nextCursor ? h('a', { href: hashFor({ q: query, cursor: nextCursor }), 'data-key': 'older' }, 'Older events') : null,
      );
    },
  };
}

/**
 * One "destination status" pair per delivery; the event page says why a pending one waits.
 * @param {Record<string, DeliveryStatus>} byDestination
 */
function deliveryStatuses(byDestination) {
  const entries = Object.entries(byDestination);
  if (entries.length === 0) return h('span', { class: 'muted' }, 'none');
  return h('ul', { class: 'statuses' }, entries.map(([destination, status]) =>
    h('li', { 'data-destination': destination, 'data-status': status }, destination, ' ', statusBadge(status))));
}

/** @param {Record<string, string>} params */
function hashFor(params) {
  const search = new URLSearchParams(Object.entries(params).filter(([, value]) => value));
  const text = search.toString();
  return `#/events${text ? '?' + text : ''}`;
}
