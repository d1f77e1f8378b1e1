/**
 * The package's types as a user's TypeScript sees them: test/types/formats.ts (imports 'latchkey'
 * by name) compiled with `tsc --noEmit`. A cursor's key and value types must follow its table's
 * formats; each `@ts-expect-error` line there must be an error (an unused one fails tsc too).
 */
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const TSC = createRequire(import.meta.url).resolve('typescript/bin/tsc');

describe('types', () => {
  it("a cursor's key and value types follow the table's formats (tsc --noEmit on test/types)", () => {
    const r = spawnSync(process.execPath, [TSC, '-p', 'test/types', '--pretty', 'false'], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});
