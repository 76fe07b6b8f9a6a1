/** Collects a request body into one Buffer (what every baseline does before answering). */
export function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** Every target prints this line once it accepts connections; the bench waits for it. */
export function announce(server) {
  process.stdout.write(`${JSON.stringify({ msg: 'listening', port: server.address().port, pid: process.pid })}\n`);
  const stop = () => server.close(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  // An orphaned target (the bench was SIGKILLed) ends with its parent.
  process.on('disconnect', () => process.exit(0));
}
