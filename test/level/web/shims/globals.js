// Globals that tape expects of Node, set before tape's modules load (main.js calls this first; a
// function, not a side effect of importing, since the package's "sideEffects" list would let the
// bundler drop a bare import): a `process` with what tape and its streams read (env, cwd,
// nextTick; `browser: true` so tape does not hook process exit), and `__dirname` (tape's
// stack-trace rewriting of failed assertions). nextTick runs its callback as a microtask, as
// browser shims of process do.
export function installNodeGlobals() {
  globalThis.process ??= {
    browser: true,
    env: {},
    argv: [],
    platform: 'browser',
    version: '',
    versions: {},
    cwd: () => '/',
    nextTick: (fn, ...args) => queueMicrotask(() => fn(...args)),
  };
  globalThis.__dirname ??= '/tape';
}
