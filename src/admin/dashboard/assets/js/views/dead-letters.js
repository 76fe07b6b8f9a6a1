// @ts-check
// Dead letters: filter by destination, source and age; cursor pages (fast on 100,000 rows);
// Replay one, a selection, or everything matching the filter, each after a confirmation
// that says how many deliveries will be sent.
import { listDeliveries, listDeliveriesWithResponses, replay } from '../api.js';
import { confirmAction } from '../confirm.js';
import { announce, byId, h, plural, replaceKeepingFocus, timeAgo } from '../dom.js';

/** @typedef {import('../../../../api-types.js').DeliveryWithResponse} DeliveryWithResponse */

const PAGE = 50;
/** Ids per replay request and per listing page when collecting ids (the admin API's page limit). */
const ID_BATCH = 1000;
/** @type {[string, string][]} */
export const AGES = [
  ['', 'Any time'],
  ['15m', 'Last 15 minutes'],
  ['1h', 'Last hour'],
  ['24h', 'Last 24 hours'],
  ['7d', 'Last 7 days'],
];
/** @type {Record<string, number>} */
const AGE_MS = { '15m': 15 * 60_000, '1h': 3_600_000, '24h': 86_400_000, '7d': 7 * 86_400_000 };

/**
 * What the destination last said (the start of its response body), not the status again: the
 * status has its own column. Without a body (a timeout, a refused connection, an empty answer)
 * the attempt's error says what happened.
 * @param {DeliveryWithResponse} delivery
 */
function lastError(delivery) {
  if (delivery.lastResponseSnippet) return h('pre', { class: 'snippet', 'data-last-response': '' }, delivery.lastResponseSnippet);
  if (delivery.lastError && delivery.lastError !== `HTTP ${delivery.lastStatus}`) return delivery.lastError;
  return h('span', { class: 'muted' }, delivery.lastStatus ? 'empty response' : '—');
}

/**
 * A filter option whose value is its text.
 * @param {string} name
 * @returns {[string, string]}
 */
const nameOption = (name) => [name, name];

/** @type {import('../app.js').MakeView} */
export function deadLettersView(params, navigate, _id, meta) {
  const age = params.get('age') ?? '';
  const filter = {
    destination: params.get('destination') ?? '',
    source: params.get('source') ?? '',
    age: AGE_MS[age] ? age : '',
  };
  /** @type {Set<string>} */
  const selected = new Set();
  /**
   * Cursors of the pages before the current one (for "Previous page").
   * @type {string[]}
   */
  const cursors = [];
  let cursor = '';
  /** @type {DeliveryWithResponse[]} */
  let rows = [];
  /** @type {string | null} */
  let nextCursor = null;

  /**
   * @param {string} name
   * @param {string} label
   * @param {[string, string][]} options
   * @param {string} value
   */
  const select = (name, label, options, value) =>
    h('div', { class: 'field' },
      h('label', { for: `filter-${name}` }, label),
      h('select', { id: `filter-${name}`, name },
        options.map(([optionValue, text]) => h('option', { value: optionValue, selected: optionValue === value }, text))));
  const form = h(
    'form',
    { class: 'filters', 'aria-label': 'Filter dead letters', onsubmit: (event) => {
      event.preventDefault();
      const data = new FormData(form);
      navigate('dead-letters', { destination: data.get('destination'), source: data.get('source'), age: data.get('age') });
    } },
    select('destination', 'Destination', [['', 'All destinations'], ...meta.destinations.map(nameOption)], filter.destination),
    select('source', 'Source', [['', 'All sources'], ...meta.sources.map(nameOption)], filter.source),
    select('age', 'Died', AGES, filter.age),
    h('button', { type: 'submit' }, 'Apply filter'),
  );

  const summary = h('p', { id: 'dead-summary', class: 'muted' });
  const selectPage = h('input', { type: 'checkbox', id: 'select-page', 'aria-label': 'Select every dead letter on this page', onchange: () => {
    for (const row of rows) selectPage.checked ? selected.add(row.id) : selected.delete(row.id);
    render();
  } });
  const replaySelected = h('button', { type: 'button', id: 'replay-selected', disabled: true, onclick: () => replaySelection() }, 'Replay selected');
  const replayMatching = h('button', { type: 'button', id: 'replay-matching', class: 'primary', onclick: () => replayAllMatching() }, 'Replay all matching filter');
  const body = h('tbody');
  const previous = h('button', { type: 'button', onclick: () => goPage(cursors.pop() ?? '') }, 'Previous page');
  const next = h('button', { type: 'button', onclick: () => {
    cursors.push(cursor);
    goPage(nextCursor ?? '');
  } }, 'Next page');

  /** The age filter as an instant (ISO-8601), fixed once per action so counts and replays agree. */
  const since = () => (filter.age ? new Date(Date.now() - (AGE_MS[filter.age] ?? 0)).toISOString() : undefined);

  function render() {
    replaceKeepingFocus(
      body,
      rows.length === 0
        ? h('tr', {}, h('td', { colspan: 9, class: 'muted' }, 'No dead letters match this filter.'))
        : rows.map((delivery) => row(delivery)),
    );
    const count = rows.filter((delivery) => selected.has(delivery.id)).length;
    replaySelected.disabled = count === 0;
    replaySelected.textContent = count === 0 ? 'Replay selected' : `Replay selected (${count})`;
    selectPage.checked = rows.length > 0 && count === rows.length;
    selectPage.indeterminate = count > 0 && count < rows.length;
    previous.hidden = cursors.length === 0 && !cursor;
    next.hidden = !nextCursor;
  }

  /** @param {DeliveryWithResponse} delivery */
  function row(delivery) {
    const label = `${delivery.dedupeKey} to ${delivery.destination}`;
    return h('tr', { 'data-delivery': delivery.id },
      h('td', {}, h('input', {
        type: 'checkbox', 'data-key': `select-${delivery.id}`, checked: selected.has(delivery.id), 'aria-label': `Select ${label}`,
        onchange: (event) => {
          /** @type {HTMLInputElement} */ (event.target).checked ? selected.add(delivery.id) : selected.delete(delivery.id);
          render();
        },
      })),
      h('td', { class: 'key-cell' }, h('code', { 'data-dedupe-key': delivery.dedupeKey }, delivery.dedupeKey)),
      h('td', {}, delivery.destination),
      h('td', {}, delivery.source),
      h('td', { class: 'num' }, delivery.attempts),
      h('td', { class: 'num' }, delivery.lastStatus ?? h('span', { class: 'muted' }, 'none')),
      h('td', { class: 'error-cell' }, lastError(delivery)),
      h('td', {}, timeAgo(delivery.deadAt), ' ', h('a', { href: `#/events/${encodeURIComponent(delivery.eventId)}`, 'aria-label': `Attempts of ${label}` }, 'attempts')),
      h('td', {}, h('button', { type: 'button', 'data-key': `replay-${delivery.id}`, 'aria-label': `Replay ${label}`, onclick: () => replayOne(delivery) }, 'Replay')),
    );
  }

  /** Only the newest read is shown: a poll that started before "Next page" must not overwrite it. */
  let reads = 0;
  async function load() {
    const read = ++reads;
    const page = await listDeliveriesWithResponses({
      status: 'dead', destination: filter.destination, source: filter.source, since: since(), limit: PAGE, cursor,
    });
    if (read !== reads) return;
    rows = page.deliveries;
    nextCursor = page.nextCursor;
    const present = new Set(rows.map((delivery) => delivery.id));
    for (const id of selected) if (!present.has(id)) selected.delete(id);
    const first = cursors.length * PAGE + 1;
    summary.textContent = rows.length === 0
      ? ''
      : `Showing dead letters ${first}–${first + rows.length - 1}${nextCursor ? ' (more on the next pages)' : ''}, newest first.`;
    render();
  }

  /** @param {string} to */
  async function goPage(to) {
    cursor = to;
    selected.clear();
    await load();
    byId('dead-letters-table', HTMLTableElement).focus();
  }

  /**
   * @param {number} count
   * @param {string} what
   * @param {() => Promise<number>} send resolves with the number replayed
   */
  async function confirmAndReplay(count, what, send) {
    if (count === 0) {
      announce('No dead letters match: nothing to replay.');
      showResult('No dead letters match: nothing to replay.');
      return;
    }
    const ok = await confirmAction({
      title: `Replay ${plural(count, 'dead delivery', 'dead deliveries')}?`,
      text: `${plural(count, 'delivery', 'deliveries')} (${what}) will be sent again with a fresh attempt budget.`,
      confirmLabel: `Replay ${plural(count, 'delivery', 'deliveries')}`,
    });
    if (!ok) return;
    const replayed = await send();
    selected.clear();
    const text = `Replayed ${plural(replayed, 'delivery', 'deliveries')}. They are being sent now.`;
    announce(text);
    showResult(text);
    await load();
    // The row (and its button) may be gone: keep keyboard focus at the outcome, not on <body>.
    result.focus();
  }

  /**
   * @param {string[]} ids
   * @param {string} [at]
   */
  const replayIds = async (ids, at) => {
    let replayed = 0;
    for (let offset = 0; offset < ids.length; offset += ID_BATCH) {
      replayed += (await replay({ ids: ids.slice(offset, offset + ID_BATCH), ...(at ? { since: at } : {}) })).replayed;
    }
    return replayed;
  };

  /** @param {DeliveryWithResponse} delivery */
  const replayOne = (delivery) =>
    confirmAndReplay(1, `${delivery.dedupeKey} to ${delivery.destination}`, () => replayIds([delivery.id]));
  const replaySelection = () => {
    const ids = [...selected];
    return confirmAndReplay(ids.length, 'the selected dead letters', () => replayIds(ids));
  };

  async function replayAllMatching() {
    const at = since();
    if (filter.source) {
      // The replay selectors are ids, destination or all: a source filter is replayed by the
      // ids it lists (cursor pages of up to 1000), so exactly what the filter shows is sent.
      const ids = await matchingIds(at);
      await confirmAndReplay(ids.length, 'every dead letter matching the filter', () => replayIds(ids, at));
      return;
    }
    const selector = { ...(filter.destination ? { destination: filter.destination } : { all: true }), ...(at ? { since: at } : {}) };
    const { matched } = await replay({ ...selector, dryRun: true });
    await confirmAndReplay(matched, 'every dead letter matching the filter', async () => (await replay(selector)).replayed);
  }

  /** @param {string | undefined} at */
  async function matchingIds(at) {
    /** @type {string[]} */
    const ids = [];
    let after = '';
    do {
      const page = await listDeliveries({
        status: 'dead', destination: filter.destination, source: filter.source, since: at, limit: ID_BATCH, cursor: after,
      });
      ids.push(...page.deliveries.map((delivery) => delivery.id));
      after = page.nextCursor ?? '';
    } while (after);
    return ids;
  }

  const result = h('p', { id: 'replay-result', class: 'notice', tabindex: '-1', hidden: true });
  /** @param {string} text */
  function showResult(text) {
    result.textContent = text;
    result.hidden = false;
  }

  return {
    title: 'Dead letters',
    mount(main) {
      main.append(
        h('h1', { tabindex: '-1' }, 'Dead letters'),
        form,
        h('div', { class: 'toolbar', role: 'group', 'aria-label': 'Replay' }, replaySelected, replayMatching),
        result,
        summary,
        h('table', { class: 'list dead', id: 'dead-letters-table', tabindex: '-1', 'aria-describedby': 'dead-summary' },
          h('caption', { class: 'visually-hidden' }, 'Dead letters, newest first'),
          h('thead', {}, h('tr', {},
            h('th', { scope: 'col' }, selectPage),
            h('th', { scope: 'col' }, 'Run ID / dedupe key'),
            h('th', { scope: 'col' }, 'Destination'),
            h('th', { scope: 'col' }, 'Source'),
            h('th', { scope: 'col', class: 'num' }, 'Attempts'),
            h('th', { scope: 'col', class: 'num' }, 'Last status'),
            h('th', { scope: 'col' }, 'Last error'),
            h('th', { scope: 'col' }, 'Died'),
            h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Actions')))),
          body),
        h('nav', { class: 'pager', 'aria-label': 'Dead letter pages' }, previous, next),
      );
      render();
    },
    refresh: load,
  };
}
