// @ts-check
// The admin API's `GET /events/:id` answer as the event page shows it.

/** @typedef {import('../../../api-types.js').EventDetail} EventDetail */

/**
 * The event's facts, its body as received (`bodyPreview`) with what to say about it
 * (`bodyNote`: base64, cut short), and its deliveries each with its attempt log, as sent.
 * @typedef {object} EventPageDetail
 * @property {Omit<EventDetail['event'], 'body' | 'bodyEncoding' | 'bodyTruncated'> & { bodyPreview: string, bodyNote: string }} event
 * @property {EventDetail['deliveries']} deliveries
 */

/**
 * @param {EventDetail} answer
 * @returns {EventPageDetail}
 */
export function eventPageDetail({ event, deliveries }) {
  return {
    event: {
      id: event.id,
      source: event.source,
      dedupeKey: event.dedupeKey,
      contentType: event.contentType,
      receivedAt: event.receivedAt,
      size: event.size,
      bodyPreview: event.body,
      bodyNote: [event.bodyEncoding === 'base64' ? 'base64' : null, event.bodyTruncated ? 'cut short' : null].filter(Boolean).join(', '),
    },
    deliveries,
  };
}
