import type { TestProject } from 'vitest/node';
import { LiveRelay } from './live-relay.js';

/** One relay process on PGlite for the whole sdk-js project; tests that restart a relay start their own. */
export default async function setup(project: TestProject) {
  const live = new LiveRelay();
  await live.start();
  project.provide('sdkRelayUrl', live.url);
  return () => live.dispose();
}
