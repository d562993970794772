import { Hono } from 'hono';
import type { AppEnv } from '../app-env.js';
import { CONSOLE_SCRIPT, CONSOLE_STYLE, CONSOLE_VERSION } from './console-assets.generated.js';

/**
 * Only the relay's own script and stylesheet run, and the page talks only to the relay: no inline
 * script or style (an injected one would not run), no framing, no form posting elsewhere.
 */
export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const SECURITY_HEADERS = {
  'Content-Security-Policy': CONSOLE_CSP,
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
};

// The asset names carry the bundle's hash, so they may be cached for good and a new relay's page
// never runs an old script.
const SCRIPT_PATH = `/console/assets/console-${CONSOLE_VERSION}.js`;
const STYLE_PATH = `/console/assets/console-${CONSOLE_VERSION}.css`;

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>ADMP console</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${STYLE_PATH}">
<script type="module" src="${SCRIPT_PATH}"></script>
</head>
<body>
<div id="app"></div>
<noscript>The ADMP console needs JavaScript.</noscript>
</body>
</html>
`;

/**
 * The web console (SPEC "Console") at /console: a page and its two bundled assets, needing no
 * credentials. Every API call the page makes carries the signed-in key.
 */
export function consoleRoutes() {
  const app = new Hono<AppEnv>();
  app.get('/console', (c) => c.html(PAGE, 200, { ...SECURITY_HEADERS, 'Cache-Control': 'no-cache' }));
  const asset = (path: string, body: string, contentType: string) =>
    app.get(path, (c) =>
      c.body(body, 200, {
        ...SECURITY_HEADERS,
        'Content-Type': contentType,
        'Cache-Control': 'public, max-age=31536000, immutable',
      }),
    );
  asset(SCRIPT_PATH, CONSOLE_SCRIPT, 'text/javascript; charset=utf-8');
  asset(STYLE_PATH, CONSOLE_STYLE, 'text/css; charset=utf-8');
  return app;
}
