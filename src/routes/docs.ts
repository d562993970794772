import { swaggerUI } from '@hono/swagger-ui';
import { Hono } from 'hono';
import type { AppEnv } from '../app-env.js';

/**
 * The Swagger UI version /docs loads from jsDelivr when the relay serves no copy of its own; the
 * same as the swagger-ui-dist dependency the Node entry serves (a unit test keeps them equal).
 */
export const SWAGGER_UI_VERSION = '5.35.0';

/** Where the Node entry serves swagger-ui-dist's files (see node-docs-assets.ts). */
export const DOCS_ASSET_PATH = '/docs/assets';

export interface DocsAsset {
  body: Uint8Array<ArrayBuffer>;
  contentType: string;
}

/** Reads one of Swagger UI's files by name; undefined for anything it does not serve. */
export type DocsAssets = (file: string) => Promise<DocsAsset | undefined>;

/**
 * Interactive API docs at /docs, built from the same /openapi.json the relay serves. With `assets`
 * the page loads Swagger UI from the relay itself and works offline; without them (the Workers
 * build, where 1.7 MB of Swagger UI would not fit the bundle) it loads it from jsDelivr.
 */
export function docsRoutes(assets: DocsAssets | undefined) {
  const app = new Hono<AppEnv>();
  app.get(
    '/docs',
    swaggerUI({
      url: '/openapi.json',
      title: 'ADMP relay API',
      // The package appends /swagger-ui-dist[@version] to this base.
      ...(assets ? { baseUrl: DOCS_ASSET_PATH } : { version: SWAGGER_UI_VERSION }),
      persistAuthorization: true,
      displayRequestDuration: true,
    }),
  );
  if (assets) {
    app.get(`${DOCS_ASSET_PATH}/swagger-ui-dist/:file`, async (c) => {
      const asset = await assets(c.req.param('file'));
      if (!asset) return c.notFound();
      // The files change only with the dependency, which changes only with the relay's version.
      c.header('Cache-Control', 'public, max-age=86400');
      return c.body(asset.body, 200, { 'Content-Type': asset.contentType });
    });
  }
  return app;
}
