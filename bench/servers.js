// The benchmarks' servers: test/servers.ts itself (nats-server and etcd started from their
// binaries on 127.0.0.1, fresh data directories, stopped by pid), so a bench and the tests share
// one harness. Node 20 runs no TypeScript: the file is transpiled here (typescript, a dev
// dependency; types dropped, nothing checked) into a temporary module and imported from there.
//
//   const { startNats, startEtcd, onPath } = await loadServers();

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import ts from 'typescript';

let loaded;
/** test/servers.ts's exports (startNats, startEtcd, onPath). */
export function loadServers() {
  return loaded ??= (async () => {
    const source = readFileSync(new URL('../test/servers.ts', import.meta.url), 'utf8');
    const { outputText } = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.ES2022, target: ts.ScriptTarget.ES2022 } });
    const dir = mkdtempSync(join(tmpdir(), 'latchkey-bench-servers-'));
    const file = join(dir, 'servers.mjs');
    writeFileSync(file, outputText);
    try {
      return await import(pathToFileURL(file).href);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  })();
}
