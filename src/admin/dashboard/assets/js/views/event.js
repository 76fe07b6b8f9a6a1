// One event: what was received, and each of its deliveries with every attempt.
import { ApiError, getEvent, redeliver, replay } from '../api.js';
import { confirmAction } from '../confirm.js';
import { announce, bytes, h, isoTime, plural, replaceKeepingFocus, statusBadge, timeAgo } from '../dom.js';
import { normalizeEventDetail } from '../event-detail.js';

export function eventView(params, navigate, id) {
  const details = h('div', { id: 'event-details' });
  const deliveries = h('div', { id: 'event-deliveries' });
  // Redraw only what changed: an open <details> or a scrolled snippet must survive polling.
  let shownEvent = false;
  let shownDeliveries = '';
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
    async refresh() {
      let detail;
      try {
        detail = normalizeEventDetail(await getEvent(id));
      } catch (error) {
        if (error instanceof ApiError && error.status === 404) {
          replaceKeepingFocus(details, h('p', { role: 'alert' }, 'No event has this id (it may have been pruned).'));
          replaceKeepingFocus(deliveries);
          return;
        }
        throw error;
      }
      const { event } = detail;
      const deliveriesJson = JSON.stringify(detail.deliveries);
      if (shownEvent && deliveriesJson === shownDeliveries) return;
      shownDeliveries = deliveriesJson;
      if (!shownEvent) replaceKeepingFocus(
        details,
        h('dl', { class: 'facts' },
          fact('Source', event.source),
          fact('Run ID / dedupe key', h('code', { class: 'key-cell' }, event.dedupeKey)),
          fact('Received', isoTime(event.receivedAt)),
          fact('Content type', event.contentType),
          event.size === undefined ? null : fact('Size', bytes(event.size))),
        event.bodyPreview === undefined
          ? null
          : h('details', {}, h('summary', {}, event.bodyNote ? `Body (${event.bodyNote})` : 'Body'), h('pre', { class: 'snippet body' }, event.bodyPreview)),
      );
      shownEvent = true;
      replaceKeepingFocus(
        deliveries,
        detail.deliveries.length === 0
          ? h('p', { class: 'muted' }, 'This event has no deliveries.')
          : detail.deliveries.map((delivery) => deliverySection(delivery, event, view, detail.deliveries)),
      );
    },
  };
  return view;
}

function fact(label, value) {
  return h('div', {}, h('dt', {}, label), h('dd', {}, value));
}

function deliverySection(delivery, event, view, all) {
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
    { class: 'delivery', 'aria-labelledby': headingId, 'data-delivery': delivery.id },
    h('header', {},
      h('h3', { id: headingId }, delivery.destination, ' ', statusBadge(delivery.status)),
      action),
    h('p', { class: 'muted' },
      `Delivery ${delivery.id} · ${plural(delivery.attempts, 'attempt')} in all`,
      delivery.deadAt ? [' · dead ', timeAgo(delivery.deadAt)] : null,
      delivery.deliveredAt ? [' · delivered ', timeAgo(delivery.deliveredAt)] : null,
      fellBackTo ? h('span', { class: 'fallback' }, ` · fell back to ${fellBackTo}`) : null,
      delivery.fallbackFor ? h('span', { class: 'fallback' }, ` · fallback for ${delivery.fallbackFor}`) : null),
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
              h('td', {}, attempt.error ? [attempt.errorCode ? h('code', {}, attempt.errorCode) : null, ' ', attempt.error] : '—'),
              h('td', {}, attempt.responseSnippet ? h('pre', { class: 'snippet' }, attempt.responseSnippet) : '—'))))),
  );
}

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
