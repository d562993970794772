/**
 * docs/api-reference/index.html is generated from spec/openapi.json by scripts/write-api-reference.ts
 * (`npm run docs:api`, which `npm run openapi` runs too); these fail when it drifts, when it could
 * reach the network, when an operation is missing from its text, or when the document stops linting
 * clean.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildApiReference, CONTENT_SECURITY_POLICY, TARGET } from './write-api-reference.js';

const root = new URL('..', import.meta.url);
const read = (path: string) => readFileSync(new URL(path, root), 'utf8');

// Redocly prints a notice that it will drop Node 20; it concerns the runtime, not the document.
const NODE_NOTICE = /Node\.js 20|Node\.js v?20\.|nodejs\.org/;

/** What a reader without JavaScript sees: the page without its scripts, styles and tags. */
function text(html: string): string {
  return html
    .replace(/<script[\s\S]*?<\/script>/g, ' ')
    .replace(/<style[\s\S]*?<\/style>/g, ' ')
    .replace(/<[^>]+>/g, '')
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ');
}

describe('docs/api-reference', () => {
  const committed = read(TARGET);

  it('is built by `npm run docs:api`', () => {
    const script = JSON.parse(read('package.json')).scripts['docs:api'];
    expect(script).toBe('tsx scripts/write-api-reference.ts');
  });

  describe('built afresh', () => {
    let built: ReturnType<typeof buildApiReference>;
    beforeAll(() => {
      built = buildApiReference();
    }, 60_000);

    it('matches spec/openapi.json (run `npm run docs:api`)', () => {
      expect(committed === built.html, `${TARGET} is stale`).toBe(true);
    });

    it('is built without a warning from Redocly', () => {
      const warnings = built.log
        .split('\n')
        .filter((line) => /warn|error|⚠/i.test(line) && !NODE_NOTICE.test(line));
      expect(warnings).toEqual([]);
    });
  });

  it('needs no network: Redoc’s script is inside the page, and its policy refuses every request', () => {
    const head = committed.slice(0, committed.indexOf('</head>'));
    // First in <head>, so that it covers everything after it.
    expect(head.indexOf('http-equiv="Content-Security-Policy"')).toBeLessThan(head.indexOf('<style'));
    expect(head).toContain(`content="${CONTENT_SECURITY_POLICY}"`);
    expect(CONTENT_SECURITY_POLICY).toContain("default-src 'none'");
    expect(CONTENT_SECURITY_POLICY).not.toMatch(/https?:|\*/);
    // The markup with each script's body left out: no script or stylesheet to fetch.
    const markup = committed.replace(/(<script[^>]*>)[\s\S]*?<\/script>/g, '$1');
    expect(markup).not.toMatch(/<script[^>]*\ssrc=|<link\b/);
    expect(committed).not.toMatch(/import\s*\{[^}]*\}\s*from\s*["']https?:/);
    expect(committed).toContain('hydrate(__redoc_definition');
    expect(committed).toContain('"disableTelemetry":true');
  });

  it('names every operation of spec/openapi.json in its text, with its path and id', () => {
    const spec = JSON.parse(read('spec/openapi.json'));
    const shown = text(committed);
    const operations = Object.entries(spec.paths).flatMap(([path, item]) =>
      Object.entries(item as Record<string, { operationId: string; summary: string }>).map(
        ([method, op]) => ({
          line: `${method.toUpperCase()} ${path}`,
          ...op,
        }),
      ),
    );
    expect(operations.length).toBeGreaterThan(20);
    for (const op of operations) {
      // includes(), not toContain(): a failure would print the whole page.
      expect(shown.includes(`${op.line}, operation ${op.operationId}.`), op.line).toBe(true);
      expect(shown.includes(op.summary), op.summary).toBe(true);
    }
    // The descriptions' `code` spans are <code> elements on the page.
    for (const tag of spec.tags)
      expect(shown.includes(tag.description.replace(/`/g, '')), tag.name).toBe(true);
  });

  it('is built from a document that passes `redocly lint` with no errors or warnings', () => {
    const lint = spawnSync(join('node_modules', '.bin', 'redocly'), ['lint', 'relay', '--format=json'], {
      cwd: root,
      encoding: 'utf8',
    });
    expect(lint.status, lint.stderr).toBe(0);
    const report = JSON.parse(lint.stdout);
    expect(report.totals).toMatchObject({ errors: 0, warnings: 0 });
    expect(report.problems).toEqual([]);
  }, 60_000);
});
