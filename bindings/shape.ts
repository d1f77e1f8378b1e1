/**
 * The shape of a table's tree: its pages level by level (root first), read from the core
 * (assembly/btree/dump.ts) one shared page latch at a time, so it may be taken while other
 * threads write (then it mixes moments; exact when quiesced). session.treeShape(uri) returns it;
 * renderTreeSvg (svg.ts) draws it.
 */

import { LatchkeyError, Status, errorFromStatus } from './errors.js';
import type { CoreThread } from './core.js';
import {
  PAGE_FLAGS, DUMP_HEADER, DUMP_RECORD, DUMP_LEVEL, DUMP_RESUME, DUMP_RESUME_GEN,
  DUMP_PAGE, DUMP_PAGE_LEVEL, DUMP_FLAGS, DUMP_ITEMS, DUMP_USED, DUMP_RIGHT, DUMP_LEFT,
} from './abi.generated.js';

// Page flags as assembly/page.ts numbers them (generated); the batch layout is btree/dump.ts's.
export { PAGE_FLAGS };
export type PageFlag = keyof typeof PAGE_FLAGS;

export interface TreePage {
  page: number;
  level: number;
  flags: PageFlag[];
  /** Items on the page (on internal pages: downlinks). */
  items: number;
  /** Bytes in use (header, slots, live cells, high key) out of pageSize. */
  used: number;
  /** Right and left siblings' page numbers, 0 for none. */
  right: number;
  left: number;
}

export interface TreeShape {
  uri: string;
  pageSize: number;
  /** Levels from the root's down to the leaves (level 0); pages left to right. */
  levels: { level: number; pages: TreePage[] }[];
  /** The table's deleted pages awaiting reclamation (reachable from no level walk). */
  deleted: TreePage[];
}

/** Level walks restarted because the page a batch ended on was deleted before the next batch. */
const MAX_RESTARTS = 100;

function flagsOf(n: number): PageFlag[] {
  return (Object.keys(PAGE_FLAGS) as PageFlag[]).filter((f) => (n & PAGE_FLAGS[f]) !== 0);
}

/** Reads the batch the core wrote to the OUT area; returns [pages, level, resume, resumeGen]. */
function readBatch(core: CoreThread, n: number): [TreePage[], number, number, number] {
  const dv = core.dv; // the scratch area lies inside the view taken at registration
  const o = core.OUT;
  const pages: TreePage[] = [];
  for (let i = 0, at = o + DUMP_HEADER; i < n; i++, at += DUMP_RECORD) {
    pages.push({
      page: dv.getUint32(at + DUMP_PAGE, true),
      level: dv.getUint32(at + DUMP_PAGE_LEVEL, true),
      flags: flagsOf(dv.getUint32(at + DUMP_FLAGS, true)),
      items: dv.getUint32(at + DUMP_ITEMS, true),
      used: dv.getUint32(at + DUMP_USED, true),
      right: dv.getUint32(at + DUMP_RIGHT, true),
      left: dv.getUint32(at + DUMP_LEFT, true),
    });
  }
  return [pages, dv.getUint32(o + DUMP_LEVEL, true), dv.getUint32(o + DUMP_RESUME, true), dv.getUint32(o + DUMP_RESUME_GEN, true)];
}

/** One level's pages, batch after batch; `level` -1 is the root level. */
function readLevel(core: CoreThread, uri: string, tree: number, level: number): { level: number; pages: TreePage[] } {
  for (let restarts = 0; restarts <= MAX_RESTARTS; restarts++) {
    const pages: TreePage[] = [];
    let at = level;
    let from = 0, gen = 0;
    let restart = false;
    do {
      const r = core.x.lk_dump_level(tree, at, from, gen);
      if (r === Status.NOTFOUND) { restart = true; break; }
      if (r < 0) throw errorFromStatus(r, `treeShape ${uri}`);
      const [batch, lvl, resume, resumeGen] = readBatch(core, r);
      pages.push(...batch);
      at = lvl;
      from = resume;
      gen = resumeGen;
    } while (from !== 0);
    if (!restart) return { level: at, pages };
  }
  throw new LatchkeyError('EBUSY', `treeShape ${uri}: level ${level} kept changing under the walk (${MAX_RESTARTS} restarts)`);
}

/** The tree's shape: every level from the root's down, then the deleted pages in limbo. */
export function readTreeShape(core: CoreThread, uri: string, tree: number): TreeShape {
  const levels: TreeShape['levels'] = [];
  const top = readLevel(core, uri, tree, -1);
  levels.push(top);
  for (let l = top.level - 1; l >= 0; l--) levels.push(readLevel(core, uri, tree, l));
  const deleted: TreePage[] = [];
  let from = 1;
  do {
    const r = core.x.lk_dump_deleted(tree, from);
    if (r < 0) throw errorFromStatus(r, `treeShape ${uri}`);
    const [batch, , resume] = readBatch(core, r);
    deleted.push(...batch);
    from = resume;
  } while (from !== 0);
  return { uri, pageSize: core.x.lk_page_size(), levels, deleted };
}
