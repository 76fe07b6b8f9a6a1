// @ts-check
// The dashboard's entry point: hash routes, focus on navigation, and short polling so counts
// and lists update without a reload.
import { getMeta, getStats } from './api.js';
import { announce, byId, h } from './dom.js';
import { deadLettersView } from './views/dead-letters.js';
import { eventView } from './views/event.js';
import { eventsView } from './views/events.js';
import { overviewView } from './views/overview.js';
import { runsView } from './views/runs.js';

/** @typedef {import('../../../api-types.js').DashboardMeta} DashboardMeta */
/** @typedef {import('../../../api-types.js').StatsAnswer} StatsAnswer */

/**
 * A page of the dashboard: built once per visit, mounted into <main>, then refreshed on every
 * poll with the stats read for the nav badge.
 * @typedef {object} View
 * @property {string} title
 * @property {(main: HTMLElement) => void} mount
 * @property {(stats?: StatsAnswer) => Promise<void>} refresh
 */
/**
 * Goes to a route with query parameters (empty values left out).
 * @callback Navigate
 * @param {string} name
 * @param {Record<string, string | FormDataEntryValue | null>} [params]
 * @returns {void}
 */
/**
 * @callback MakeView
 * @param {URLSearchParams} params the route's query
 * @param {Navigate} navigate
 * @param {string | undefined} id the event page's event id
 * @param {DashboardMeta} meta
 * @returns {View}
 */

const POLL_MS = 2000;

const main = byId('main', HTMLElement);
const deadBadge = byId('nav-dead-count', HTMLElement);
/** @type {View | null} */
let current = null;
let generation = 0;
/** @type {DashboardMeta} */
let meta = { destinations: [], destinationUrls: {}, sources: [], tokenRequired: false };

/** @returns {{ name: string, params: URLSearchParams, id?: string, make: MakeView }} */
function parseRoute() {
  const hash = location.hash.replace(/^#/, '') || '/';
  const [path = '', search = ''] = hash.split('?');
  const params = new URLSearchParams(search);
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  if (parts[0] === 'events' && parts[1]) return { name: 'event', params, id: parts[1], make: eventView };
  if (parts[0] === 'events') return { name: 'events', params, make: eventsView };
  if (parts[0] === 'dead-letters') return { name: 'dead-letters', params, make: deadLettersView };
  if (parts[0] === 'runs') return { name: 'runs', params, make: runsView };
  return { name: 'overview', params, make: overviewView };
}

/** @type {Navigate} */
export function navigate(name, params = {}) {
  const search = new URLSearchParams(/** @type {[string, string][]} */ (Object.entries(params).filter(([, value]) => value)));
  const text = search.toString();
  location.hash = `#/${name === 'overview' ? '' : name}${text ? '?' + text : ''}`;
}

/** @param {{ focus: boolean }} options */
async function show({ focus }) {
  const route = parseRoute();
  const mine = ++generation;
  const view = route.make(route.params, navigate, route.id, meta);
  current = view;
  main.replaceChildren();
  view.mount(main);
  document.title = `${view.title} · hookrelay`;
  for (const link of document.querySelectorAll('[data-nav]')) {
    const active = link.getAttribute('data-nav') === (route.name === 'event' ? 'events' : route.name);
    active ? link.setAttribute('aria-current', 'page') : link.removeAttribute('aria-current');
  }
  await refresh(mine);
  if (focus && mine === generation) {
    // Move focus to the new page's heading so keyboard and screen-reader users start there.
    main.querySelector('h1')?.focus();
    announce(`${view.title} page`);
  }
}

let failing = false;
/** One stats read per tick, shared by the nav badge and the view (the overview shows it). */
async function refresh(mine = generation) {
  try {
    const stats = await getStats();
    if (mine !== generation) return;
    updateBadge(stats);
    await current?.refresh(stats);
    if (failing) {
      failing = false;
      setProblem(null);
    }
  } catch (error) {
    if (mine !== generation) return;
    failing = true;
    setProblem(`Could not update: ${/** @type {Error} */ (error).message}. Retrying…`);
  }
}

/** @param {StatsAnswer} stats */
function updateBadge(stats) {
  const dead = stats.deliveries.dead;
  deadBadge.textContent = dead > 0 ? dead.toLocaleString('en') : '';
  deadBadge.hidden = dead === 0;
}

/** @param {string | null} text */
function setProblem(text) {
  let banner = document.getElementById('problem');
  if (!text) {
    banner?.remove();
    return;
  }
  if (!banner) {
    banner = h('p', { id: 'problem', class: 'problem', role: 'alert' });
    document.body.insertBefore(banner, main);
  }
  banner.textContent = text;
}

/**
 * Short polling: every POLL_MS, but never more than a tenth of the time in reads (a slow
 * answer on a huge database stretches the interval instead of loading the relay), and not
 * while the tab is hidden or a confirmation is open.
 */
async function poll() {
  const started = performance.now();
  if (document.visibilityState === 'visible' && !byId('confirm', HTMLDialogElement).open && current) await refresh();
  setTimeout(poll, Math.max(POLL_MS, 10 * (performance.now() - started)));
}

/**
 * Sign-out is a JSON post like every state-changing request to the admin listener.
 * @param {SubmitEvent} submit
 */
async function signOut(submit) {
  submit.preventDefault();
  try {
    await fetch('/logout', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}', credentials: 'same-origin' });
  } finally {
    location.assign('/');
  }
}

async function start() {
  try {
    meta = await getMeta();
  } catch (error) {
    setProblem(`Could not load the dashboard: ${/** @type {Error} */ (error).message}`);
  }
  const logout = byId('logout', HTMLFormElement);
  logout.hidden = !meta.tokenRequired;
  logout.addEventListener('submit', signOut);
  window.addEventListener('hashchange', () => void show({ focus: true }));
  await show({ focus: false });
  setTimeout(poll, POLL_MS);
}

void start();
