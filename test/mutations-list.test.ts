/**
 * `npm run mutate` (scripts/mutate.js) applies each mutation of scripts/mutations.js as an exact
 * search/replace. A change to the core that moves an anchor would make that mutation fail to
 * apply, and so silently leave its bug unchecked until someone runs the mutation check: this keeps
 * the list in step with the code in every `npm test`.
 */
import { describe, it, expect } from 'vitest';
import { readFileSync, existsSync } from 'node:fs';
// @ts-expect-error: a plain JavaScript module without types
import { MUTATIONS } from '../scripts/mutations.js';

interface Mutation { name: string; file: string; find: string; replace: string; tests: string[] }
const root = new URL('../', import.meta.url);

describe('the mutation list (npm run mutate)', () => {
  it('has mutations, each with tests that exist', () => {
    expect((MUTATIONS as Mutation[]).length).toBeGreaterThanOrEqual(12);
    for (const m of MUTATIONS as Mutation[]) {
      expect(m.tests.length, m.name).toBeGreaterThan(0);
      for (const t of m.tests) expect(existsSync(new URL(t, root)), `${m.name}: ${t}`).toBe(true);
      expect(m.replace, m.name).not.toBe(m.find);
    }
  });

  it.each((MUTATIONS as Mutation[]).map((m) => [m.name, m] as const))('%s: its anchor occurs exactly once', (_name, m) => {
    const src = readFileSync(new URL(m.file, root), 'utf8');
    expect(src.split(m.find).length - 1).toBe(1);
  });
});
