/**
 * A relay started by npm (`npx admp serve`, or a script of one's own) runs under `sh -c`, and npm
 * passes a SIGTERM to that shell, which dies of it without passing it on: the relay would keep
 * serving, orphaned, holding its port and its data directory. `npm start` execs the relay, so
 * there npm signals it directly; `npx` cannot be told to. So a relay started under npm stops, as
 * on SIGTERM, when the process that started it goes away.
 *
 * Only under npm, and only if the parent is still there once the relay is up: a relay put in the
 * background on purpose (`nohup … &` in a script) has lost its shell by then and is left alone.
 */
export function stopWhenParentExits(underNpm: boolean, stop: () => void, everyMs = 1000): void {
  const parent = process.ppid;
  if (!underNpm || parent <= 1) return;
  const timer = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(timer);
    stop();
  }, everyMs);
  timer.unref();
}
