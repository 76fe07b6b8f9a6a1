// Test-only faults in a relay process, loaded by tests with NODE_OPTIONS=--import=<this file>
// (the relay never loads it). On SIGUSR2 the relay's main thread does what
// HOOKRELAY_TEST_FAULT says and notes it in the file HOOKRELAY_TEST_FAULT_MARKER:
// - block-main: the main event loop is busy for HOOKRELAY_TEST_FAULT_MS (no I/O, no timers);
// - end-delivery-thread: the delivery thread is ended from outside, as a crash would end it.
import { appendFileSync } from 'node:fs';
import { isMainThread, Worker } from 'node:worker_threads';

const marker = process.env.HOOKRELAY_TEST_FAULT_MARKER;
if (isMainThread && marker) {
  // The delivery thread is the worker the main thread sends wake-ups to.
  const deliveryThreads = new Set();
  const postMessage = Worker.prototype.postMessage;
  Worker.prototype.postMessage = function (message, transfer) {
    if (message && message.type === 'wake') deliveryThreads.add(this);
    return postMessage.call(this, message, transfer);
  };
  process.on('SIGUSR2', () => {
    const fault = process.env.HOOKRELAY_TEST_FAULT;
    if (fault === 'block-main') {
      appendFileSync(marker, 'blocked\n');
      const until = Date.now() + Number(process.env.HOOKRELAY_TEST_FAULT_MS ?? 5_000);
      while (Date.now() < until) {
        // busy: the event loop runs nothing meanwhile
      }
      appendFileSync(marker, 'unblocked\n');
    } else if (fault === 'end-delivery-thread') {
      for (const worker of deliveryThreads) void worker.terminate();
      appendFileSync(marker, `ended ${deliveryThreads.size}\n`);
    }
  });
}
