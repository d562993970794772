import { createExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, inject, it } from 'vitest';
import worker, { CRON_SWEEPS, type Env } from '../src/entry/worker.js';

// Workers on the paid plan take 10 MB gzipped, the free plan 3 MB; staying far below either
// keeps cold starts short. Raise this on purpose, never by accident.
const GZIP_BUDGET_BYTES = 400 * 1024;

describe('the deploy bundle', () => {
  it('builds with wrangler deploy --dry-run and stays within its size budget', () => {
    const bundle = inject('workerBundle');
    expect(bundle.bytes).toBeGreaterThan(0);
    expect(bundle.gzipBytes).toBeLessThan(GZIP_BUDGET_BYTES);
  });

  it('needs no Node.js compatibility flag', () => {
    expect(inject('wrangler').compatibilityFlags.filter((flag) => flag.startsWith('nodejs'))).toEqual([]);
  });

  it('has a sweep for every Cron Trigger in wrangler.toml, and a trigger for every sweep', () => {
    expect(inject('wrangler').crons.sort()).toEqual(Object.keys(CRON_SWEEPS).sort());
    expect(new Set(Object.values(CRON_SWEEPS).flat())).toEqual(new Set(['leases', 'ttl']));
  });
});

describe('bindings', () => {
  const get = async (bindings: Env, path = '/health') => {
    const request = new Request(`http://relay.test${path}`) as Parameters<typeof worker.fetch>[0];
    const response = await worker.fetch(request, bindings, createExecutionContext());
    return { status: response.status, body: (await response.json()) as any };
  };

  it('answer 503 without DATABASE_URL, since a Worker has no embedded database', async () => {
    const r = await get({ ...env, DATABASE_URL: '' });
    expect(r).toMatchObject({ status: 503, body: { error: { code: 'unavailable' } } });
  });

  it('answer 503 in production without API_KEY rather than fall back to the development key', async () => {
    const r = await get({ ...env, NODE_ENV: 'production', API_KEY: '' }, '/v1/agents');
    expect(r).toMatchObject({ status: 503, body: { error: { code: 'unavailable' } } });
  });

  it('are read again when they change', async () => {
    expect((await get({ ...env })).status).toBe(200);
    const other = await get({ ...env, DATABASE_URL: env.DATABASE_URL.replace(/\/[^/]*$/, '/no_such_db') });
    expect(other).toMatchObject({ status: 503, body: { status: 'unhealthy' } });
    expect((await get({ ...env })).status).toBe(200);
  });
});
