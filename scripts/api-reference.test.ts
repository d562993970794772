/**
 * docs/api-reference/index.html is generated from spec/openapi.json by Redocly (`npm run docs:api`,
 * which `npm run openapi` runs too); these fail when it drifts or when the document stops linting
 * clean.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = new URL('..', import.meta.url);
const redocly = join('node_modules', '.bin', 'redocly');
const TARGET = 'docs/api-reference/index.html';
const BUILD = ['build-docs', 'relay', '--title', 'ADMP relay API reference'];

/** Runs Redocly; fails on a non-zero exit, and returns stdout and stderr. */
function run(args: string[]) {
  const result = spawnSync(redocly, args, { cwd: root, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`redocly ${args.join(' ')}:\n${result.stderr}${result.stdout}`);
  return { stdout: result.stdout, stderr: result.stderr };
}

// Redocly prints a notice that it will drop Node 20; it concerns the runtime, not the document.
const NODE_NOTICE = /Node\.js 20|Node\.js v?20\.|nodejs\.org/;

describe('docs/api-reference', () => {
  it('is built by `npm run docs:api` with the arguments checked here', () => {
    const script = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')).scripts['docs:api'];
    expect(script).toBe(`redocly ${BUILD.slice(0, 2).join(' ')} --title '${BUILD[3]}' -o ${TARGET}`);
  });

  it('matches spec/openapi.json (run `npm run docs:api`)', () => {
    const out = mkdtempSync(join(tmpdir(), 'admp-api-reference-'));
    try {
      const { stdout, stderr } = run([...BUILD, '-o', join(out, 'index.html')]);
      const warnings = `${stdout}\n${stderr}`
        .split('\n')
        .filter((line) => /warn|error|⚠/i.test(line) && !NODE_NOTICE.test(line));
      expect(warnings).toEqual([]);
      const built = readFileSync(join(out, 'index.html'), 'utf8');
      expect(readFileSync(new URL(TARGET, root), 'utf8') === built, `${TARGET} is stale`).toBe(true);
      // Prerendered: the operations are readable without running Redoc's script.
      expect(built).toContain('Send a message to an agent');
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }, 60_000);

  it('is built from a document that passes `redocly lint` with no errors or warnings', () => {
    const report = JSON.parse(run(['lint', 'relay', '--format=json']).stdout);
    expect(report.totals).toMatchObject({ errors: 0, warnings: 0 });
    expect(report.problems).toEqual([]);
  }, 60_000);
});
