import { readFileSync } from 'node:fs';

/** hookrelay's version, from package.json (one folder above both src/ and dist/). */
export function hookrelayVersion(): string {
  const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return manifest.version;
}
