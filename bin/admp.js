#!/usr/bin/env node
// The `admp` command. An installed package runs the compiled CLI in dist/. A checkout has src/ and
// runs that through tsx (a dev dependency) instead, so the command always matches the source being
// edited and never a dist/ left behind by an older build.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const source = new URL('../src/cli/node-main.ts', import.meta.url);
const compiled = new URL('../dist/cli/node-main.js', import.meta.url);

async function tsx() {
  try {
    return await import('tsx/esm/api');
  } catch (error) {
    if (error.code === 'ERR_MODULE_NOT_FOUND') return undefined; // no dev dependencies: use the build
    throw error;
  }
}

const loader = existsSync(source) ? await tsx() : undefined;
if (loader) {
  // The checkout's tsconfig, whatever the working directory: its paths resolve
  // @agent-dispatch/client to the SDK's source, which needs no build.
  loader.register({ tsconfig: fileURLToPath(new URL('../tsconfig.json', import.meta.url)) });
  await import(source.href);
} else if (existsSync(compiled)) {
  await import(compiled.href);
} else {
  process.stderr.write('admp: no build in dist/; run `npm run build` first\n');
  process.exit(1);
}
