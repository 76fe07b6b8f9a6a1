// @ts-check
// Runs: tracked Cerebrium runs. Counts per status, the completion rate, processing times over
// the last hour, and the runs whose callback did not come (overdue, lost) with their app and
// metadata, filterable by status and app.
import { ApiError, getRunsOverview, listRuns } from '../api.js';
import { h, plural, replaceKeepingFocus, svg, timeAgo } from '../dom.js';

/** @typedef {import('../../../../api-types.js').RunsOverview} RunsOverview */
/** @typedef {import('../../../../api-types.js').RunView['status']} RunStatus */

/** @type {[RunStatus, string][]} */
const STATUSES = [
  ['submitted', 'Submitted'],
  ['completed', 'Completed'],
  ['overdue', 'Overdue'],
  ['lost', 'Lost'],
];
const PAGE = 200;

/** @type {import('../app.js').MakeView} */
export function runsView(params, navigate) {
  const asked = params.get('status');
  /** @type {'' | 'overdue' | 'lost'} */
  const status = asked === 'overdue' || asked === 'lost' ? asked : '';
  const app = params.get('app') ?? '';
  const totals = h('dl', { class: 'totals', id: 'run-totals' });
  const rate = h('p', { id: 'run-completion', class: 'muted' });
  const chart = h('figure', { id: 'run-chart' });
  const statusSelect = h('select', { id: 'filter-run-status', name: 'status' },
    [['', 'Overdue and lost'], ['overdue', 'Overdue'], ['lost', 'Lost']].map(([value, text]) => h('option', { value, selected: value === status }, text)));
  const appInput = h('input', { id: 'filter-run-app', name: 'app', type: 'search', value: app, autocomplete: 'off', spellcheck: 'false' });
  const form = h(
    'form',
    { class: 'filters', 'aria-label': 'Filter runs', onsubmit: (event) => {
      event.preventDefault();
      navigate('runs', { status: statusSelect.value, app: appInput.value.trim() });
    } },
    h('div', { class: 'field' }, h('label', { for: 'filter-run-status' }, 'Status'), statusSelect),
    h('div', { class: 'field' }, h('label', { for: 'filter-run-app' }, 'App'), appInput),
    h('button', { type: 'submit' }, 'Filter'),
  );
  const summary = h('p', { id: 'runs-summary', class: 'muted', 'aria-live': 'polite' });
  const body = h('tbody');

  return {
    title: 'Runs',
    mount(main) {
      main.append(
        h('h1', { tabindex: '-1' }, 'Runs'),
        h('section', { 'aria-labelledby': 'run-totals-title' }, h('h2', { id: 'run-totals-title', class: 'visually-hidden' }, 'Runs per status'), totals, rate),
        h('section', { 'aria-labelledby': 'run-chart-title' }, h('h2', { id: 'run-chart-title' }, 'Processing time'), chart),
        h('section', { 'aria-labelledby': 'run-missing-title' },
          h('h2', { id: 'run-missing-title' }, 'Callbacks that did not come'),
          form,
          summary,
          h('table', { class: 'list', 'aria-describedby': 'runs-summary' },
            h('caption', { class: 'visually-hidden' }, 'Overdue and lost runs, newest first'),
            h('thead', {}, h('tr', {},
              h('th', { scope: 'col' }, 'Run ID'),
              h('th', { scope: 'col' }, 'Status'),
              h('th', { scope: 'col' }, 'App'),
              h('th', { scope: 'col' }, 'Submitted'),
              h('th', { scope: 'col' }, 'Metadata'))),
            body)),
      );
    },
    async refresh() {
      let overview;
      try {
        overview = await getRunsOverview();
      } catch (error) {
        if (error instanceof ApiError && error.status === 404) {
          replaceKeepingFocus(totals, h('p', { class: 'muted' }, 'Run tracking is off: add a runs section to the config.'));
          return;
        }
        throw error;
      }
      replaceKeepingFocus(totals, STATUSES.map(([key, label]) => total(label, overview.counts[key], key)));
      rate.textContent = overview.completionRate === null
        ? 'No run has finished waiting yet.'
        : `Completion rate: ${(overview.completionRate * 100).toFixed(1)} % of the runs no longer waiting had their callback.`;
      replaceKeepingFocus(chart, durationChart(overview.chart), h('figcaption', {}, 'Median (bar) and 95th percentile (tick) from submission to callback, last hour'));

      /** @type {RunStatus[]} */
      const statuses = status ? [status] : ['overdue', 'lost'];
      const pages = await Promise.all(statuses.map((one) => listRuns({ status: one, limit: PAGE })));
      const runs = pages.flatMap((page) => page.runs)
        .filter((run) => !app || (run.app ?? '').includes(app))
        .sort((a, b) => (a.submittedAt < b.submittedAt ? 1 : -1));
      summary.textContent = `${plural(runs.length, 'run')} ${status || 'overdue or lost'}${app ? ` in apps matching “${app}”` : ''}.`;
      replaceKeepingFocus(
        body,
        runs.length === 0
          ? h('tr', {}, h('td', { colspan: 5, class: 'muted' }, 'None: every callback came.'))
          : runs.map((run) =>
              h('tr', { 'data-run': run.runId },
                h('td', { class: 'key-cell' }, h('code', {}, run.runId)),
                h('td', {}, h('span', { class: `badge status-${run.status}` }, run.status)),
                h('td', {}, run.app ?? '—'),
                h('td', {}, timeAgo(run.submittedAt)),
                h('td', { class: 'key-cell' }, run.metadata ? h('code', {}, JSON.stringify(run.metadata)) : '—'))),
      );
    },
  };
}

/**
 * @param {string} label
 * @param {number} value
 * @param {RunStatus} key
 */
function total(label, value, key) {
  return h('div', { class: `total total-run-${key}${value > 0 ? ' nonzero' : ''}`, 'data-run-count': key }, h('dt', {}, label), h('dd', {}, value.toLocaleString('en')));
}

const WIDTH = 576;
const HEIGHT = 96;
const AXIS = 12;

/**
 * Bars of the median per 5-minute bucket, a tick at the 95th percentile; one image with a text summary.
 * @param {RunsOverview['chart']} chart
 */
function durationChart({ since, until, bucketMs, buckets }) {
  const count = Math.max(1, Math.ceil((until - since) / bucketMs));
  const peak = Math.max(1, ...buckets.map((bucket) => bucket.p95Ms));
  const plot = HEIGHT - AXIS;
  const slot = WIDTH / count;
  const completed = buckets.reduce((sum, bucket) => sum + bucket.completed, 0);
  const marks = buckets.map((bucket) => {
    const index = Math.floor((bucket.at - since) / bucketMs);
    const x = index * slot + 2;
    const width = Math.max(1, slot - 4);
    const median = (bucket.p50Ms / peak) * plot;
    const p95 = plot - (bucket.p95Ms / peak) * plot;
    const time = new Date(bucket.at).toISOString().slice(11, 16);
    return svg('g', { class: 'bar' },
      svg('title', {}, `${time} UTC: ${bucket.completed} completed, median ${seconds(bucket.p50Ms)}, 95th percentile ${seconds(bucket.p95Ms)}`),
      svg('rect', { x, y: plot - median, width, height: median, class: 'ok' }),
      svg('line', { x1: x, x2: x + width, y1: p95, y2: p95, class: 'p95' }));
  });
  // Read only when a run completed, so when there is a bucket.
  const slowest = Math.max(0, ...buckets.map((bucket) => bucket.p95Ms));
  const label = completed === 0
    ? 'No run completed in the last hour'
    : `${plural(completed, 'run')} completed in the last hour; slowest 95th percentile ${seconds(slowest)}`;
  return svg('svg', { class: 'chart run-chart', viewBox: `0 0 ${WIDTH} ${HEIGHT}`, width: WIDTH, height: HEIGHT, role: 'img', 'aria-label': label },
    svg('line', { x1: 0, y1: plot + 0.5, x2: WIDTH, y2: plot + 0.5, class: 'axis' }),
    marks,
    svg('text', { x: 0, y: HEIGHT - 1, class: 'tick' }, '−60 min'),
    svg('text', { x: WIDTH, y: HEIGHT - 1, class: 'tick', 'text-anchor': 'end' }, `now · top ${seconds(peak)}`));
}

/** @param {number} ms */
function seconds(ms) {
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
}
