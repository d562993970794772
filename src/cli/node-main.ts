import { readFileSync } from 'node:fs';
import { runCli } from './main.js';

// The process around runCli: real stdout, stderr, stdin, files and environment, and the exit
// code. `serve` keeps the process alive after runCli resolves, so only a failure ends it here.
runCli(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  env: process.env,
  readText: (path) => readFileSync(path === '-' ? 0 : path, 'utf8'),
  onInterrupt: (handler) =>
    process.once('SIGINT', () => {
      handler();
      process.exit(0);
    }),
}).then(
  (code) => {
    if (code !== 0 || process.argv[2] !== 'serve') process.exitCode = code;
  },
  (error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  },
);
