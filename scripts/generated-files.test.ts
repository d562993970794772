import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openApiJson } from '../src/openapi.js';
import { CONSOLE_ASSETS_PATH, consoleAssetsModule } from './console-bundle.js';
import { initDbSql } from './init-sql.js';
import { DASHBOARD_PATH, dashboard } from './write-grafana-dashboard.js';

const read = (path: string) => readFileSync(new URL(`../${path}`, import.meta.url), 'utf8');

describe('generated files', () => {
  it('spec/openapi.json matches the routes (run `npm run openapi`)', () => {
    expect(read('spec/openapi.json')).toBe(openApiJson());
  });

  it('deploy/grafana/dashboard.json matches its script (run `npm run grafana`)', () => {
    expect(JSON.parse(read(DASHBOARD_PATH))).toEqual(dashboard());
  });

  it('the console bundle matches console/src (run `npm run console`)', async () => {
    expect(read(CONSOLE_ASSETS_PATH)).toBe(await consoleAssetsModule());
  });

  it('deploy/init-db.sql matches the migrations (run `npm run db:generate`)', () => {
    expect(read('deploy/init-db.sql')).toBe(initDbSql());
  });

  it('drizzle/ holds a migration for every change to src/db/schema.ts (run `npm run db:generate`)', () => {
    const out = mkdtempSync(join(tmpdir(), 'admp-drizzle-'));
    try {
      cpSync(new URL('../drizzle', import.meta.url), out, { recursive: true });
      const before = readdirSync(out).sort();
      const log = execFileSync('node_modules/.bin/drizzle-kit', ['generate'], {
        // drizzle-kit reads `out` relative to the working directory, whatever its form.
        env: { ...process.env, DRIZZLE_OUT: relative(process.cwd(), out) },
        encoding: 'utf8',
      });
      expect(log).toContain('No schema changes');
      expect(readdirSync(out).sort()).toEqual(before);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }, 60_000);
});
