import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../src/app.js';
import { SWAGGER_UI_VERSION } from '../src/routes/docs.js';
import { nodeDocsAssets } from '../src/routes/node-docs-assets.js';
import { startTestRelay, type TestRelay } from './support/relay.js';

let relay: TestRelay;
beforeAll(async () => {
  relay = await startTestRelay();
});
afterAll(() => relay.close());

describe('GET /docs', () => {
  it('answers 200 HTML that renders /openapi.json, without credentials', async () => {
    const r = await relay.call('GET', '/docs', { token: null });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^text\/html/);
    expect(r.body).toContain("url: '/openapi.json'");
    expect(r.body).toContain('<title>ADMP relay API</title>');
  });

  it('loads a pinned Swagger UI from jsDelivr when the relay serves no copy (the Workers build)', async () => {
    const r = await relay.call('GET', '/docs', { token: null });
    expect(r.body).toContain(
      `https://cdn.jsdelivr.net/npm/swagger-ui-dist@${SWAGGER_UI_VERSION}/swagger-ui-bundle.js`,
    );
  });

  it('pins the Swagger UI version of the installed swagger-ui-dist', () => {
    const manifest = createRequire(import.meta.url).resolve('swagger-ui-dist/package.json');
    expect(JSON.parse(readFileSync(manifest, 'utf8')).version).toBe(SWAGGER_UI_VERSION);
  });
});

describe('GET /docs with the Node entry’s assets', () => {
  const app = () => createApp(relay.deps, { docsAssets: nodeDocsAssets() });

  it('points the page at the relay’s own copy, so it works offline', async () => {
    const html = await (await app().request('/docs')).text();
    expect(html).toContain('src="/docs/assets/swagger-ui-dist/swagger-ui-bundle.js"');
    expect(html).toContain('href="/docs/assets/swagger-ui-dist/swagger-ui.css"');
    expect(html).not.toContain('cdn.jsdelivr.net');
  });

  it('serves the script and the stylesheet with their types', async () => {
    const js = await app().request('/docs/assets/swagger-ui-dist/swagger-ui-bundle.js');
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect(await js.text()).toContain('SwaggerUIBundle');
    const css = await app().request('/docs/assets/swagger-ui-dist/swagger-ui.css');
    expect(css.status).toBe(200);
    expect(css.headers.get('content-type')).toMatch(/^text\/css/);
  });

  it('answers 404 in the SPEC’s shape for any other file, including a path out of the package', async () => {
    for (const file of ['package.json', '..%2F..%2Fpackage.json', 'index.html']) {
      const r = await app().request(`/docs/assets/swagger-ui-dist/${file}`);
      expect(r.status, file).toBe(404);
      expect((await r.json()).error.code).toBe('not_found');
    }
  });
});
