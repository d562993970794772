/**
 * Writes docs/api-reference/index.html from spec/openapi.json (`npm run docs:api`; `npm run openapi`
 * runs it after rewriting the spec); scripts/api-reference.test.ts fails when it drifts.
 *
 * Redocly renders the page with Redoc's script embedded (`--inlineBundle`), not loaded from its CDN,
 * so the page works offline and opened from disk. Redoc prerenders only the menu and the overview, so
 * the page also carries every operation as plain HTML in a <noscript> (api-reference-text.ts). A
 * Content-Security-Policy forbids every request the page could make: with the script inline nothing
 * needs one, and Redoc's only remaining one (its logo, from a CDN) is blocked rather than sent.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type OpenApiDocument, plainReference } from './api-reference-text.js';

const root = new URL('..', import.meta.url);
export const TARGET = 'docs/api-reference/index.html';
export const TITLE = 'ADMP relay API reference';

/** Inline scripts and styles only (Redoc's bundle, its styles), images and fonts only as data: URLs. */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'unsafe-inline'",
  "style-src 'unsafe-inline'",
  'img-src data:',
  'font-src data:',
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');

// Without JavaScript, Redoc's prerendered menu and overview would follow the plain text and repeat it.
const PLAIN_STYLE =
  '#redoc { display: none; } #plain-reference { max-width: 60rem; margin: 0 auto; padding: 1rem 1.5rem; ' +
  'font: 16px/1.5 system-ui, sans-serif; } #plain-reference code { font-size: 0.9em; }';

/** Inserts `addition` right after the first `tag`, which must be there. */
function after(html: string, tag: string, addition: string): string {
  const at = html.indexOf(tag);
  if (at < 0) throw new Error(`Redocly's page has no ${tag}`);
  return `${html.slice(0, at + tag.length)}\n${addition}${html.slice(at + tag.length)}`;
}

/** The page, and everything Redocly printed while building it (the test reads it for warnings). */
export function buildApiReference(): { html: string; log: string } {
  const out = mkdtempSync(join(tmpdir(), 'admp-api-reference-'));
  try {
    const args = ['build-docs', 'relay', '--title', TITLE, '--inlineBundle', '-o', join(out, 'index.html')];
    const run = spawnSync(join('node_modules', '.bin', 'redocly'), args, { cwd: root, encoding: 'utf8' });
    const log = `${run.stdout}\n${run.stderr}`;
    if (run.status !== 0) throw new Error(`redocly ${args.join(' ')}:\n${log}`);
    const redoc = readFileSync(join(out, 'index.html'), 'utf8');
    const spec = JSON.parse(readFileSync(new URL('spec/openapi.json', root), 'utf8')) as OpenApiDocument;
    const csp = `  <meta http-equiv="Content-Security-Policy" content="${CONTENT_SECURITY_POLICY}">`;
    const plain = `<noscript>\n<style>${PLAIN_STYLE}</style>\n${plainReference(spec, TITLE)}\n</noscript>`;
    const html = after(after(redoc, '<head>', csp), '<body>', plain);
    return { html, log };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(new URL(TARGET, root), buildApiReference().html);
  console.log(`wrote ${TARGET}`);
}
