/** Writes spec/openapi.json from the route definitions (`npm run openapi`); a test fails when it drifts. */
import { writeFileSync } from 'node:fs';
import { openApiJson } from '../src/openapi.js';

const target = new URL('../spec/openapi.json', import.meta.url);
writeFileSync(target, openApiJson());
console.log(`wrote ${target.pathname}`);
