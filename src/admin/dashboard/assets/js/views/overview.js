// @ts-check
// Overview: totals, then one card per destination with its circuit breaker, its delivery
// counts and its attempts over the last hour.
import { getAttemptHistory } from '../api.js';
import { attemptChart } from '../chart.js';
import { h, replaceKeepingFocus } from '../dom.js';

/** @typedef {import('../../../../api-types.js').AttemptHistory} AttemptHistory */
/** @typedef {import('../../../../api-types.js').BreakerState} BreakerState */
/** @typedef {import('../../../../api-types.js').StatsAnswer} StatsAnswer */
/** @typedef {import('../../../../api-types.js').StatusCounts} StatusCounts */
/**
 * What every destination card is drawn from.
 * @typedef {{ stats: StatsAnswer, history: AttemptHistory, breakers: Record<string, BreakerState>, urls: Record<string, string> }} Overview
 */

/** @type {[keyof StatusCounts, string][]} */
const COUNTS = [
  ['pending', 'Pending'],
  ['inFlight', 'In flight'],
  ['delivered', 'Delivered'],
  ['dead', 'Dead'],
];

/** The chart has 5-minute bars: re-read the attempt log when counts moved, else every 15 s. */
const HISTORY_MAX_AGE_MS = 15_000;

/** @type {Record<BreakerState, string>} */
const BREAKER_TEXT = { closed: 'closed', open: 'open', half_open: 'half-open' };

/** @type {import('../app.js').MakeView} */
export function overviewView(_params, _navigate, _id, meta) {
  const totals = h('dl', { class: 'totals', id: 'totals' });
  const quarantine = h('div', { id: 'quarantine' });
  const cards = h('div', { class: 'cards', id: 'destinations' });
  /** @type {AttemptHistory | null} */
  let history = null;
  let historyAt = 0;
  let countsSeen = '';
  return {
    title: 'Overview',
    mount(main) {
      main.append(
        h('h1', { tabindex: '-1' }, 'Overview'),
        quarantine,
        h('section', { 'aria-labelledby': 'totals-title' }, h('h2', { id: 'totals-title', class: 'visually-hidden' }, 'Totals'), totals),
        h('section', { 'aria-labelledby': 'destinations-title' }, h('h2', { id: 'destinations-title' }, 'Destinations'), cards),
      );
    },
    async refresh(stats) {
      if (!stats) return;
      const counts = JSON.stringify(stats.destinations);
      if (!history || counts !== countsSeen || Date.now() - historyAt > HISTORY_MAX_AGE_MS) {
        countsSeen = counts;
        history = await getAttemptHistory();
        historyAt = Date.now();
      }
      /** @type {Overview} */
      const overview = { stats, history, breakers: stats.circuits ?? {}, urls: meta.destinationUrls };
      replaceKeepingFocus(
        totals,
        total('Events', stats.events, 'events'),
        COUNTS.map(([key, label]) => total(label, stats.deliveries[key], key)),
      );
      replaceKeepingFocus(quarantine, quarantineWarning(stats.quarantined));
      const destinations = Object.entries(stats.destinations);
      replaceKeepingFocus(
        cards,
        destinations.length === 0
          ? h('p', { class: 'muted' }, 'No destinations are configured.')
          : destinations.map(([name, counts]) => destinationCard(name, counts, overview)),
      );
    },
  };
}

/**
 * Rejected callbacks kept in quarantine: each is a result a wrong or rotated secret (or a
 * sender's clock) would have lost; Cerebrium never retries a 401.
 */
/** @param {Record<string, number>} bySource */
function quarantineWarning(bySource) {
  const held = Object.entries(bySource).filter(([, count]) => count > 0);
  if (held.length === 0) return [];
  const total = held.reduce((sum, [, count]) => sum + count, 0);
  return h('p', { class: 'warning', role: 'alert', 'data-quarantined': String(total) },
    `${total.toLocaleString('en')} rejected callback${total === 1 ? '' : 's'} held in quarantine (`,
    held.map(([source, count]) => `${source}: ${count.toLocaleString('en')}`).join(', '),
    '). Check the source\'s secrets and the sender\'s clock, then run hookrelay quarantine release.');
}

/**
 * @param {string} label
 * @param {number} value
 * @param {string} key
 */
function total(label, value, key) {
  return h('div', { class: `total total-${key}${value > 0 ? ' nonzero' : ''}`, 'data-count': key }, h('dt', {}, label), h('dd', {}, value.toLocaleString('en')));
}

/**
 * @param {string} name
 * @param {StatusCounts} counts
 * @param {Overview} overview
 */
function destinationCard(name, counts, overview) {
  const breaker = overview.breakers[name] ?? 'closed';
  const headingId = `destination-${name}`;
  return h(
    'article',
    { class: `card breaker-${breaker}`, 'aria-labelledby': headingId, 'data-destination': name },
    h('header', {},
      h('h3', { id: headingId }, name),
      h('span', { class: `badge breaker breaker-${breaker}`, 'data-breaker': breaker }, `circuit ${BREAKER_TEXT[breaker]}`)),
    destinationUrl(overview.urls[name]),
    h('dl', { class: 'counts' },
      COUNTS.map(([key, label]) =>
        h('div', { 'data-count': key },
          h('dt', {}, label),
          h('dd', {}, key === 'dead' && counts.dead > 0
            ? h('a', { href: `#/dead-letters?destination=${encodeURIComponent(name)}`, 'data-key': `dead-${name}` }, counts.dead.toLocaleString('en'))
            : counts[key].toLocaleString('en'))))),
    h('figure', {},
      attemptChart({
        buckets: overview.history.buckets.filter((bucket) => bucket.destination === name),
        since: overview.history.since,
        until: overview.history.until,
        bucketMs: overview.history.bucketMs,
        label: name,
      }),
      h('figcaption', {}, h('span', { class: 'key ok' }, 'delivered'), ' ', h('span', { class: 'key fail' }, 'failed'), ' attempts per 5 minutes, last hour')),
  );
}

/**
 * Where a destination sends, with its password and query values masked by the relay.
 * @param {string | undefined} url
 */
export function destinationUrl(url) {
  return url ? h('p', { class: 'destination-url' }, h('code', { 'data-url': '' }, url)) : null;
}
