/**
 * The script of a worker thread that lives beside the calling module (`callerUrl`: its
 * `import.meta.url`), e.g. `threadScript('./store-worker.js', import.meta.url)`. A thread runs
 * JavaScript only: when the caller is its TypeScript source (tests import src/ under the test
 * runner), the thread runs the build's copy of the script in dist/ (`npm test` builds first).
 */
export function threadScript(name: string, callerUrl: string): URL {
  const beside = new URL(name, callerUrl);
  if (!callerUrl.endsWith('.ts')) return beside;
  const sourceRoot = new URL('./', import.meta.url);
  return new URL(beside.href.slice(sourceRoot.href.length), new URL('../dist/', sourceRoot));
}
