// A small inline SVG bar chart: attempts per time bucket over the last hour, delivered
// (solid) stacked under failed (hatched, so it is not told apart by colour alone; the
// #hatch pattern is defined once in index.html).
import { svg } from './dom.js';

const WIDTH = 288;
const HEIGHT = 64;
const AXIS = 12;

/**
 * buckets: [{ at, delivered, failed }] from the store's attempt histogram for one destination;
 * missing buckets are empty. The chart is one image with a text summary for screen readers.
 */
export function attemptChart({ buckets, since, bucketMs, until, label }) {
  const count = Math.max(1, Math.ceil((until - since) / bucketMs));
  const slots = Array.from({ length: count }, (_, index) => ({ at: since + index * bucketMs, delivered: 0, failed: 0 }));
  for (const bucket of buckets) {
    const index = Math.floor((bucket.at - since) / bucketMs);
    if (index >= 0 && index < count) {
      slots[index].delivered += bucket.delivered;
      slots[index].failed += bucket.failed;
    }
  }
  const delivered = slots.reduce((sum, slot) => sum + slot.delivered, 0);
  const failed = slots.reduce((sum, slot) => sum + slot.failed, 0);
  const peak = Math.max(1, ...slots.map((slot) => slot.delivered + slot.failed));
  const plot = HEIGHT - AXIS;
  const slotWidth = WIDTH / count;
  const bars = [];
  slots.forEach((slot, index) => {
    const x = index * slotWidth + 1;
    const width = Math.max(1, slotWidth - 2);
    const okHeight = (slot.delivered / peak) * plot;
    const failHeight = (slot.failed / peak) * plot;
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
    svg('line', { x1: 0, y1: plot + 0.5, x2: WIDTH, y2: plot + 0.5, class: 'axis' }),
    bars,
    svg('text', { x: 0, y: HEIGHT - 1, class: 'tick' }, '−60 min'),
    svg('text', { x: WIDTH, y: HEIGHT - 1, class: 'tick', 'text-anchor': 'end' }, 'now'),
  );
}
