// @ts-check
// A small inline SVG bar chart: attempts per time bucket over the last hour, delivered
// (solid) stacked under failed (hatched, so it is not told apart by colour alone; the
// #hatch pattern is defined once in index.html). The y scale (attempts per 5-minute bar)
// runs from 0 to a round number at or above the tallest bar.
import { svg } from './dom.js';

/** @typedef {import('../../../api-types.js').AttemptBucket} AttemptBucket */

const WIDTH = 288;
const HEIGHT = 76;
/** Below the plot: the time labels. Left of it: the attempt-count labels. */
const AXIS = 12;
const Y_LABELS = 26;

/**
 * The smallest 1, 2 or 5 × 10^n at or above `value`: the y scale's top, so its labels are round.
 * @param {number} value
 */
export function niceCeiling(value) {
  if (value <= 1) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 5, 10]) if (step * power >= value) return step * power;
  return 10 * power;
}

/**
 * buckets: [{ at, delivered, failed }] from the store's attempt histogram for one destination;
 * missing buckets are empty. The chart is one image with a text summary for screen readers.
 * @param {{ buckets: readonly Pick<AttemptBucket, 'at' | 'delivered' | 'failed'>[], since: number, until: number, bucketMs: number, label: string }} chart
 */
export function attemptChart({ buckets, since, bucketMs, until, label }) {
  const count = Math.max(1, Math.ceil((until - since) / bucketMs));
  const slots = Array.from({ length: count }, (_, index) => ({ at: since + index * bucketMs, delivered: 0, failed: 0 }));
  for (const bucket of buckets) {
    const index = Math.floor((bucket.at - since) / bucketMs);
    const slot = slots[index];
    if (slot) {
      slot.delivered += bucket.delivered;
      slot.failed += bucket.failed;
    }
  }
  const delivered = slots.reduce((sum, slot) => sum + slot.delivered, 0);
  const failed = slots.reduce((sum, slot) => sum + slot.failed, 0);
  const peak = niceCeiling(Math.max(1, ...slots.map((slot) => slot.delivered + slot.failed)));
  const plot = HEIGHT - AXIS;
  const top = 4;
  const plotHeight = plot - top;
  const slotWidth = (WIDTH - Y_LABELS) / count;
  /** @type {SVGGElement[]} */
  const bars = [];
  // The y scale: 0, half and the top, with faint grid lines (the half only when it is whole).
  const ticks = [0, ...(Number.isInteger(peak / 2) ? [peak / 2] : []), peak];
  const scale = ticks.map((value) => {
    const y = plot - (value / peak) * plotHeight;
    return svg('g', { class: 'y-tick', 'data-value': value },
      svg('line', { x1: Y_LABELS, y1: y + 0.5, x2: WIDTH, y2: y + 0.5, class: value === 0 ? 'axis' : 'grid' }),
      svg('text', { x: Y_LABELS - 4, y: y + 3, class: 'tick', 'text-anchor': 'end' }, value.toLocaleString('en')));
  });
  slots.forEach((slot, index) => {
    const x = Y_LABELS + index * slotWidth + 1;
    const width = Math.max(1, slotWidth - 2);
    const okHeight = (slot.delivered / peak) * plotHeight;
    const failHeight = (slot.failed / peak) * plotHeight;
    const time = new Date(slot.at).toISOString().slice(11, 16);
    const title = svg('title', {}, `${time} UTC: ${slot.delivered} delivered, ${slot.failed} failed`);
    bars.push(
      svg('g', { class: 'bar' }, title,
        svg('rect', { x, y: plot - okHeight, width, height: okHeight, class: 'ok' }),
        svg('rect', { x, y: plot - okHeight - failHeight, width, height: failHeight, class: 'fail' })),
    );
  });
  const summary = `${label}: ${delivered} delivered and ${failed} failed attempts in the last hour`;
  return svg(
    'svg',
    { class: 'chart', viewBox: `0 0 ${WIDTH} ${HEIGHT}`, width: WIDTH, height: HEIGHT, role: 'img', 'aria-label': summary },
    scale,
    bars,
    svg('text', { x: Y_LABELS, y: HEIGHT - 1, class: 'tick' }, '−60 min'),
    svg('text', { x: WIDTH, y: HEIGHT - 1, class: 'tick', 'text-anchor': 'end' }, 'now'),
  );
}
