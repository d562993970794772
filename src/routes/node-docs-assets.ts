import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { DocsAsset, DocsAssets } from './docs.js';

// Only the two files the /docs page loads; nothing else in the package is reachable, and no
// name from a request ever reaches the file system.
const FILES: Record<string, string> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
};

/** Swagger UI's files from the installed swagger-ui-dist package, read once and kept in memory. */
export function nodeDocsAssets(): DocsAssets {
  const dir = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
  const cache = new Map<string, Promise<DocsAsset>>();
  return (file) => {
    const contentType = FILES[file];
    if (!contentType) return Promise.resolve(undefined);
    let asset = cache.get(file);
    if (!asset) {
      asset = readFile(join(dir, file)).then((bytes) => ({ body: new Uint8Array(bytes), contentType }));
      cache.set(file, asset);
    }
    return asset;
  };
}
