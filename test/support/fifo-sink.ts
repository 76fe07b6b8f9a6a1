import { startSink, type ReceivedDelivery, type Sink } from './sink.js';

/** A destination taking ~5 ms per request that records how many requests it held at once. */
export interface FifoSink {
  sink: Sink;
  /** Most requests open at the same time. */
  maxInFlight(): number;
  /** Deliveries it answered 2xx, in the order it answered them (by the body's `index`). */
  deliveredOrder(): number[];
}

/** `fails(index, attempt)`: answer 500 instead of 200 (the body's `index`, `hookrelay-attempt`). */
export async function startFifoSink(fails: (index: number, attempt: number) => boolean = () => false): Promise<FifoSink> {
  let open = 0;
  let most = 0;
  const delivered: number[] = [];
  const indexOf = (request: ReceivedDelivery) => Number((JSON.parse(request.body.toString()) as { index: number }).index);
  const sink = await startSink(async (request) => {
    open += 1;
    most = Math.max(most, open);
    await new Promise((resolve) => setTimeout(resolve, 5));
    open -= 1;
    const index = indexOf(request);
    if (fails(index, Number(request.headers['hookrelay-attempt']))) return 500;
    delivered.push(index);
    return 200;
  });
  return { sink, maxInFlight: () => most, deliveredOrder: () => [...delivered] };
}
