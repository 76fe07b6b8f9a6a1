// @ts-check
// Small DOM helpers: build elements without innerHTML (every value is text, never markup).

/**
 * An attribute's value: text (numbers written as text), `true` for a bare attribute, and
 * false/null/undefined to leave it out; an `on<event>` attribute takes a listener.
 * @typedef {string | number | boolean | null | undefined | ((event: any) => unknown)} AttributeValue
 */
/** @typedef {Record<string, AttributeValue>} Attributes */
/**
 * What may be a child: a node, text (numbers written as text), nothing (null, undefined,
 * false: left out), or lists of these.
 * @typedef {Node | string | number | boolean | null | undefined | ChildList} Child
 */
/** @typedef {readonly Child[]} ChildList */

/**
 * h('a', { href: '#/x', class: 'y' }, 'text', child) -> element. Attributes whose value is
 * false/null/undefined are left out; `on<event>` attributes take listeners.
 * @template {keyof HTMLElementTagNameMap} Tag
 * @param {Tag} tag
 * @param {Attributes} [attrs]
 * @param {...Child} children
 * @returns {HTMLElementTagNameMap[Tag]}
 */
export function h(tag, attrs = {}, ...children) {
  const element = document.createElement(tag);
  setAttributes(element, attrs);
  appendChildren(element, children);
  return element;
}

const SVG_NS = 'http://www.w3.org/2000/svg';

/**
 * As `h`, for SVG elements.
 * @template {keyof SVGElementTagNameMap} Tag
 * @param {Tag} tag
 * @param {Attributes} [attrs]
 * @param {...Child} children
 * @returns {SVGElementTagNameMap[Tag]}
 */
export function svg(tag, attrs = {}, ...children) {
  const element = document.createElementNS(SVG_NS, tag);
  setAttributes(element, attrs);
  appendChildren(element, children);
  return element;
}

/**
 * @param {Element} element
 * @param {Attributes} attrs
 */
function setAttributes(element, attrs) {
  for (const [name, value] of Object.entries(attrs)) {
    if (value === false || value === null || value === undefined) continue;
    if (name.startsWith('on') && typeof value === 'function') {
      element.addEventListener(name.slice(2), value);
    } else {
      element.setAttribute(name, value === true ? '' : String(value));
    }
  }
}

/**
 * @param {Element} element
 * @param {ChildList} children
 */
function appendChildren(element, children) {
  for (const child of flatten(children)) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : String(child));
  }
}

/**
 * Replaces a container's children, keeping keyboard focus on the element with the same
 * `data-key` when the focused element was inside (live updates must not steal focus).
 */
/**
 * @param {Element} container
 * @param {...Child} children
 */
export function replaceKeepingFocus(container, ...children) {
  const active = document.activeElement;
  const key = active && container.contains(active) ? active.getAttribute('data-key') : null;
  container.replaceChildren(...flatten(children).filter((child) => Boolean(child)).map((child) => (child instanceof Node ? child : String(child))));
  if (key) {
    const again = container.querySelector(`[data-key="${CSS.escape(key)}"]`);
    if (again instanceof HTMLElement || again instanceof SVGElement) again.focus({ preventScroll: true });
  }
}

/**
 * Children lists flattened to any depth.
 * @param {ChildList} children
 * @returns {Exclude<Child, ChildList>[]}
 */
function flatten(children) {
  // Typed by hand: `flat(Infinity)` on a recursive type is too deep for the checker.
  return /** @type {Exclude<Child, ChildList>[]} */ (/** @type {unknown[]} */ (children).flat(Infinity));
}

/**
 * The page's element with this id, of the kind the page's HTML gives it.
 * @template {Element} Kind
 * @param {string} id
 * @param {{ new (): Kind; prototype: Kind }} kind
 * @returns {Kind}
 */
export function byId(id, kind) {
  const element = document.getElementById(id);
  if (!(element instanceof kind)) throw new Error(`the page has no ${kind.name} #${id}`);
  return element;
}

/**
 * "3 min ago" style relative time with the exact time in a <time> element.
 * @param {string | number | null | undefined} time
 */
export function timeAgo(time) {
  const ms = toMs(time);
  if (ms === null) return '—';
  const date = new Date(ms);
  return h('time', { datetime: date.toISOString(), title: date.toISOString() }, relative(ms));
}

/**
 * Unix ms from an ISO-8601 string (the admin API's times) or a number; null when unset.
 * @param {string | number | null | undefined} time
 * @returns {number | null}
 */
export function toMs(time) {
  if (time === null || time === undefined || time === '') return null;
  return typeof time === 'number' ? time : Date.parse(time);
}

/** @param {number} ms */
export function relative(ms) {
  const seconds = Math.round((Date.now() - ms) / 1000);
  if (seconds < 5) return 'just now';
  if (seconds < 60) return `${seconds} s ago`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.round(minutes / 60);
  if (hours < 48) return `${hours} h ago`;
  return new Date(ms).toISOString().slice(0, 16).replace('T', ' ');
}

/** @param {string | number | null | undefined} time */
export function isoTime(time) {
  const ms = toMs(time);
  if (ms === null) return '—';
  const date = new Date(ms);
  return h('time', { datetime: date.toISOString() }, date.toISOString().replace('T', ' ').replace('Z', ' UTC'));
}

/**
 * @param {number} count
 * @param {string} word
 * @param {string} [many]
 */
export function plural(count, word, many = `${word}s`) {
  return `${count.toLocaleString('en')} ${count === 1 ? word : many}`;
}

/** @param {number} size */
export function bytes(size) {
  if (size < 1024) return `${size} B`;
  if (size < 1024 * 1024) return `${(size / 1024).toFixed(1)} KiB`;
  return `${(size / 1024 / 1024).toFixed(1)} MiB`;
}

/**
 * A status badge: the word is always visible, colour only repeats it.
 * @param {string} status
 */
export function statusBadge(status) {
  return h('span', { class: `badge status-${status}` }, status.replace('_', ' '));
}

/** Writes a message to the polite live region for screen readers (and the visible toast). */
/** @param {string} message */
export function announce(message) {
  const region = byId('announcer', HTMLElement);
  region.textContent = '';
  // A fresh text node after a tick so repeated identical messages are read again.
  setTimeout(() => (region.textContent = message), 50);
}
