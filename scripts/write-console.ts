/** Writes the console's bundle (`npm run console`); a test fails when it drifts from console/src. */
import { writeFileSync } from 'node:fs';
import { CONSOLE_ASSETS_PATH, consoleAssetsModule } from './console-bundle.js';

const target = new URL(`../${CONSOLE_ASSETS_PATH}`, import.meta.url);
writeFileSync(target, await consoleAssetsModule());
console.log(`wrote ${target.pathname}`);
