import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

// What a user gets from the registry: `npm pack` (which builds first) → install the tarball into a
// fresh project → import it from ES modules, from CommonJS, and type-check against its .d.ts.
const SDK_DIR = fileURLToPath(new URL('..', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'admp-sdk-pack-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const run = (cmd: string, args: string[], cwd: string) =>
  execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000 });

const EXPECTED = [
  'ADMPClient',
  'APIError',
  'AuthenticationError',
  'PermissionDeniedError',
  'NotFoundError',
  'ConflictError',
  'RateLimitError',
  'ValidationError',
  'APIConnectionError',
  'TimeoutError',
];

const probe = (load: string) => `${load}
const names = ${JSON.stringify(EXPECTED)};
const missing = names.filter((n) => typeof sdk[n] !== 'function');
const client = new sdk.ADMPClient({ relayUrl: 'http://localhost:3030', agentId: 'a', apiKey: 'k' });
const err = new sdk.NotFoundError({ status: 404, code: 'not_found', message: 'gone' });
console.log(JSON.stringify({ missing, agentId: client.agentId, isApiError: err instanceof sdk.APIError, status: err.status }));
`;

describe('the published package', () => {
  it('installs from its npm pack tarball and loads from ESM, CommonJS and TypeScript', () => {
    run('npm', ['pack', '--pack-destination', work, '--silent'], SDK_DIR);
    const tarball = readdirSync(work).find((f) => f.endsWith('.tgz'));
    expect(tarball).toMatch(/^agent-dispatch-client-.*\.tgz$/);

    const project = join(work, 'consumer');
    run('mkdir', ['-p', project], work);
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true }));
    run(
      'npm',
      ['install', join(work, tarball as string), '--no-audit', '--no-fund', '--prefer-offline'],
      project,
    );

    writeFileSync(join(project, 'esm.mjs'), probe("import * as sdk from '@agent-dispatch/client';"));
    writeFileSync(join(project, 'cjs.cjs'), probe("const sdk = require('@agent-dispatch/client');"));
    const expected = { missing: [], agentId: 'a', isApiError: true, status: 404 };
    expect(JSON.parse(run(process.execPath, ['esm.mjs'], project))).toEqual(expected);
    expect(JSON.parse(run(process.execPath, ['cjs.cjs'], project))).toEqual(expected);

    // Both halves of the exports map resolve to declarations under Node's own resolution.
    const usage = (
      ns: string,
    ) => `const c = new ${ns}ADMPClient({ relayUrl: 'http://x', agentId: 'a', apiKey: 'k' });
export const id: Promise<string> = c.send({ to: 'b', type: 'event', subject: 's', body: {} });
export const e: ${ns}APIError = new ${ns}TimeoutError({ code: 'timeout', message: 't' });\n`;
    writeFileSync(
      join(project, 'use.mts'),
      `import * as sdk from '@agent-dispatch/client';\n${usage('sdk.')}`,
    );
    writeFileSync(
      join(project, 'use.cts'),
      `import sdk = require('@agent-dispatch/client');\n${usage('sdk.')}`,
    );
    const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
    const flags = [
      '--noEmit',
      '--strict',
      '--module',
      'node16',
      '--moduleResolution',
      'node16',
      '--lib',
      'es2022,dom',
    ];
    try {
      run(process.execPath, [tsc, ...flags, 'use.mts', 'use.cts'], project);
    } catch (error) {
      throw new Error(`tsc: ${(error as { stdout?: string }).stdout}`);
    }
  }, 180_000);
});
