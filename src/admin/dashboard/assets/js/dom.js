// Small DOM helpers: build elements without innerHTML (every value is text, never markup).

/**
 * h('a', { href: '#/x', class: 'y' }, 'text', child) -> element. Attributes whose value is
 * false/null/undefined are left out; `on<event>` attributes take listeners.
 */
export function h(tag, attrs = {}, ...children) {
  const element = document.createElement(tag);
  setAttributes(element, attrs);
  appendChildren(element, children);
  return element;
}

const SVG_NS = 'http://www.w3.org/2000/svg';

export function svg(tag, attrs = {}, ...children) {
  const element = document.createElementNS(SVG_NS, tag);
  setAttributes(element, attrs);
  appendChildren(element, children);
  return element;
}

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

function appendChildren(element, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : String(child));
  }
}

/**
 * Replaces a container's children, keeping keyboard focus on the element with the same
 * `data-key` when the focused element was inside (live updates must not steal focus).
 */
export function replaceKeepingFocus(container, ...children) {
  const active = document.activeElement;
  const key = active && container.contains(active) ? active.getAttribute('data-key') : null;
  container.replaceChildren(...children.flat(Infinity).filter(Boolean));
  if (key) {
    const again = container.querySelector(`[data-key="${CSS.escape(key)}"]`);
    if (again) again.focus({ preventScroll: true });
  }
}

/** "3 min ago" style relative time with the exact time in a <time> element. */
export function timeAgo(time) {
  const ms = toMs(time);
  if (ms === null) return '—';
  const date = new Date(ms);
  return h('time', { datetime: date.toISOString(), title: date.toISOString() }, relative(ms));
}

/** Unix ms from an ISO-8601 string (the admin API's times) or a number; null when unset. */
export function toMs(time) {
  if (time === null || time === undefined || time === '') return null;
  return typeof time === 'number' ? time : Date.parse(time);
}

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

export function isoTime(time) {
  const ms = toMs(time);
  if (ms === null) return '—';
  const date = new Date(ms);
  return h('time', { datetime: date.toISOString() }, date.toISOString().replace('T', ' ').replace('Z', ' UTC'));
}

export function plural(count, word, many = `${word}s`) {
  return `${count.toLocaleString('en')} ${count === 1 ? word : many}`;
}

export function bytes(size) {
  if (size < 1024) return `${size} B`;
  if (size < 1024 * 1024) return `${(size / 1024).toFixed(1)} KiB`;
  return `${(size / 1024 / 1024).toFixed(1)} MiB`;
}

/** A status badge: the word is always visible, colour only repeats it. */
export function statusBadge(status) {
  return h('span', { class: `badge status-${status}` }, status.replace('_', ' '));
}

/** Writes a message to the polite live region for screen readers (and the visible toast). */
export function announce(message) {
  const region = document.getElementById('announcer');
  region.textContent = '';
  // A fresh text node after a tick so repeated identical messages are read again.
  setTimeout(() => (region.textContent = message), 50);
}
