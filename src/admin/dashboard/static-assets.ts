import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { extname, join, relative, sep } from 'node:path';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

export interface StaticAsset {
  body: Buffer;
  contentType: string;
  etag: string;
}

/**
 * Reads every file under `root` into memory once (the dashboard is a few small files) and
 * returns them by URL path relative to `root` with forward slashes (`views/overview.js`).
 * Only files found here can ever be served: no path from a request touches the disk.
 */
export function loadStaticAssets(root: string): ReadonlyMap<string, StaticAsset> {
  const assets = new Map<string, StaticAsset>();
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        walk(path);
        continue;
      }
      const contentType = CONTENT_TYPES[extname(entry.name)];
      if (!entry.isFile() || !contentType) continue;
      const body = readFileSync(path);
      const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`;
      assets.set(relative(root, path).split(sep).join('/'), { body, contentType, etag });
    }
  };
  walk(root);
  return assets;
}
