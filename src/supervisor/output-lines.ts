import type { Readable } from 'node:stream';

/**
 * Passes a child's output on in whole lines, so the supervisor's own lines never land in the
 * middle of one of the relay's (both end up on the supervisor's stdout). Returns a function
 * that writes what is left (a last line without its newline) when the child has exited.
 */
export function forwardLines(from: Readable, write: (text: string) => void): () => void {
  let partial = '';
  from.setEncoding('utf8');
  from.on('data', (chunk: string) => {
    const end = chunk.lastIndexOf('\n');
    if (end === -1) {
      partial += chunk;
      return;
    }
    write(partial + chunk.slice(0, end + 1));
    partial = chunk.slice(end + 1);
  });
  return () => {
    if (partial) write(`${partial}\n`);
    partial = '';
  };
}
