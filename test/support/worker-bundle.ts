import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { unstable_readConfig } from 'wrangler';
import type { WorkerBundle, WranglerSettings } from './workerd-context.js';

/** Wrangler without network calls: no request.cf lookup, no usage metrics. */
export const OFFLINE_WRANGLER_ENV = { CLOUDFLARE_CF_FETCH_ENABLED: 'false', WRANGLER_SEND_METRICS: 'false' };

/** Builds exactly what `wrangler deploy` would upload, without uploading it. */
export function buildWorkerBundle(outdir: string): WorkerBundle {
  const wrangler = join('node_modules', '.bin', 'wrangler');
  const result = spawnSync(wrangler, ['deploy', '--dry-run', '--outdir', outdir], {
    encoding: 'utf8',
    env: { ...process.env, ...OFFLINE_WRANGLER_ENV },
  });
  if (result.status !== 0)
    throw new Error(`wrangler deploy --dry-run failed:\n${result.stderr || result.stdout}`);
  const scriptPath = join(outdir, 'worker.js');
  const script = readFileSync(scriptPath);
  return { scriptPath, bytes: script.length, gzipBytes: gzipSync(script).length };
}

export function readWranglerSettings(path = 'wrangler.toml'): WranglerSettings {
  const config = unstable_readConfig({ config: path });
  return {
    compatibilityDate: config.compatibility_date ?? '',
    compatibilityFlags: config.compatibility_flags,
    crons: config.triggers.crons ?? [],
  };
}
