#!/usr/bin/env node
// The `admp` command: the CLI's TypeScript run through tsx, as `npm start` runs the relay.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/node-main.ts');
