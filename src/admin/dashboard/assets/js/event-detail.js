// Shapes the admin API's `GET /events/:id` answer for the event page.

export function normalizeEventDetail(answer) {
  const event = answer.event ?? answer;
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
    deliveries: (answer.deliveries ?? event.deliveries ?? []).map((delivery) => ({
      ...delivery,
      attemptLog: Array.isArray(delivery.attempts) ? delivery.attempts : delivery.attemptLog ?? [],
      attempts: Array.isArray(delivery.attempts) ? delivery.attempts.length : delivery.attempts,
    })),
  };
}
