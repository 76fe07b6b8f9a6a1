#!/usr/bin/env node
// Prints a part of the image's recipe for .ci/image-check.sh, read from where it is written:
//   node .ci/image-parts.mjs healthcheck      the Dockerfile's HEALTHCHECK `node -e` script
//   node .ci/image-parts.mjs compose-config   docs/deployment.md's hookrelay.yaml for the compose example
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');

function healthcheck() {
  const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
  const match = /^HEALTHCHECK[^\n]*\\\n\s*CMD (\[.*\])\s*$/m.exec(dockerfile);
  if (!match) throw new Error('no "HEALTHCHECK ... \\ CMD [...]" in the Dockerfile');
  const argv = JSON.parse(match[1]);
  if (argv[0] !== 'node' || argv[1] !== '-e' || argv.length !== 3) throw new Error(`HEALTHCHECK is not ["node", "-e", script]: ${match[1]}`);
  return argv[2];
}

function composeConfig() {
  const guide = readFileSync(join(root, 'docs/deployment.md'), 'utf8');
  const match = /`hookrelay\.yaml` \(the same file for every relay[^]*?\n```yaml\n([^]*?)\n```/.exec(guide);
  if (!match) throw new Error('no hookrelay.yaml example for the compose deployment in docs/deployment.md');
  return `${match[1]}\n`;
}

const parts = { healthcheck, 'compose-config': composeConfig };
const part = parts[process.argv[2]];
if (!part) {
  console.error(`usage: node .ci/image-parts.mjs ${Object.keys(parts).join('|')}`);
  process.exit(2);
}
process.stdout.write(part());
