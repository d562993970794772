import { runCli } from './main.js';

// The process around runCli: real stdout, stderr and environment, and the exit code. `serve`
// keeps the process alive after runCli resolves, so only a failure ends it here.
runCli(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  env: process.env,
}).then(
  (code) => {
    if (code !== 0 || process.argv[2] !== 'serve') process.exitCode = code;
  },
  (error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  },
);
