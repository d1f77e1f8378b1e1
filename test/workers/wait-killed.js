// What a test's child process does when it has nothing left to do but wait for the test to kill
// it (kill -9 where it stands): never settle. The timer keeps the event loop alive. A promise
// alone does not: with nothing else pending (stdin ended, a connection closed or never opened,
// log: false) the process would end by itself with exit 13, an unsettled top-level await, racing
// the kill (test/workers/ckpt-child.js did, once, in CI).
export function waitToBeKilled() {
  setInterval(() => {}, 60_000);
  return new Promise(() => {});
}
