/**
 * One picture of a tree (a TreeShape from session.treeShape): an SVG string, built by plain
 * string concatenation so it runs anywhere (Node, browsers, workers) with no DOM.
 *
 * Each level is a row, the root's at the top, pages left to right in right-link order. A page is
 * a box filled from the bottom in proportion to its bytes used; right links are the arrows
 * between neighbours (drawn when the boxes are wide enough to hold one). Half-dead pages are
 * orange, deleted pages awaiting reclamation red and dashed (placed after their left sibling),
 * an incomplete split has a purple edge, the root a thick one.
 */

import type { TreeShape, TreePage } from './shape.js';
import { invalid } from './errors.js';
import { describe, optionsOf, shown } from './args.js';

export interface SvgOptions {
  /** Width of the picture in pixels (default 1200). */
  width?: number;
  /** Heading above the tree (default: the table uri, page size and counts). */
  title?: string;
}

const SVG_KEYS = new Set(['width', 'title']);

/** Does `v` look like a TreeShape (its two page lists, per level and deleted)? */
function isTreeShape(v: unknown): v is TreeShape {
  try {
    const s = v as TreeShape;
    return s !== null && typeof s === 'object' && Array.isArray(s.levels) && Array.isArray(s.deleted)
      && s.levels.every((l) => l !== null && typeof l === 'object' && Array.isArray(l.pages));
  } catch {
    return false;
  }
}

const COLORS = {
  leaf: '#4a90d9',
  internal: '#3fa66b',
  halfDead: '#f5a623',
  deleted: '#d0021b',
  incomplete: '#8e44ad',
  empty: '#ffffff',
  text: '#222222',
  link: '#555555',
};

const ROW_H = 70;
const BOX_H = 34;
const TOP = 56;
const MARGIN = 16;
const LEGEND_H = 40;

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** A level's pages with the deleted ones of that level placed right after their left sibling. */
function rowOf(pages: TreePage[], deleted: TreePage[]): TreePage[] {
  const row = [...pages];
  for (const d of deleted) {
    const at = row.findIndex((p) => p.page === d.left);
    row.splice(at < 0 ? row.length : at + 1, 0, d);
  }
  return row;
}

function fillColor(p: TreePage): string {
  if (p.flags.includes('DELETED')) return COLORS.deleted;
  if (p.flags.includes('HALF_DEAD')) return COLORS.halfDead;
  return p.level === 0 ? COLORS.leaf : COLORS.internal;
}

/** The SVG document for a tree shape. */
export function renderTreeSvg(shape: TreeShape, opts?: SvgOptions): string {
  if (!isTreeShape(shape)) throw invalid(`renderTreeSvg: shape is ${describe(shape)}, not a tree shape`, 'the object session.treeShape(uri) returns');
  const o = optionsOf(opts, 'renderTreeSvg', SVG_KEYS);
  if (o.width !== undefined && !Number.isFinite(o.width)) throw invalid(`renderTreeSvg: width ${shown(o.width)}`, 'a number of pixels');
  if (o.title !== undefined && typeof o.title !== 'string') throw invalid(`renderTreeSvg: title ${shown(o.title)}`, 'a string');
  const width = Math.max(300, Math.floor(o.width ?? 1200));
  const rows = shape.levels.map((l) => ({
    level: l.level,
    pages: rowOf(l.pages, shape.deleted.filter((d) => d.level === l.level)),
  }));
  // Deleted pages of a level no longer walked (an old root retired by a root shrink).
  const walked = new Set(rows.map((r) => r.level));
  const orphans = shape.deleted.filter((d) => !walked.has(d.level));
  for (const lvl of [...new Set(orphans.map((d) => d.level))].sort((a, b) => b - a)) {
    const at = rows.findIndex((r) => r.level < lvl);
    rows.splice(at < 0 ? rows.length : at, 0, { level: lvl, pages: orphans.filter((d) => d.level === lvl) });
  }
  const height = TOP + rows.length * ROW_H + LEGEND_H;
  const live = shape.levels.reduce((n, l) => n + l.pages.length, 0);
  const halfDead = shape.levels.reduce((n, l) => n + l.pages.filter((p) => p.flags.includes('HALF_DEAD')).length, 0);
  const leaves = shape.levels.find((l) => l.level === 0)?.pages ?? [];
  const entries = leaves.reduce((n, p) => n + p.items, 0);
  const title = o.title ?? `${shape.uri}: ${shape.levels.length} levels, ${live} pages (${halfDead} half-dead, `
    + `${shape.deleted.length} deleted awaiting reclamation), ${entries} entries, ${shape.pageSize}-byte pages`;

  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" `
    + 'font-family="system-ui, sans-serif" font-size="11">');
  out.push('<defs><marker id="lk-arrow" viewBox="0 0 6 6" refX="6" refY="3" markerWidth="5" markerHeight="5" orient="auto">'
    + `<path d="M0,0 L6,3 L0,6 z" fill="${COLORS.link}"/></marker></defs>`);
  out.push(`<rect width="${width}" height="${height}" fill="#fafafa"/>`);
  out.push(`<text x="${MARGIN}" y="22" font-size="14" fill="${COLORS.text}">${esc(title)}</text>`);
  out.push(`<text x="${MARGIN}" y="40" fill="#666">box fill = bytes used / page size; number above a box = page number `
    + '(or in its tooltip); arrows = right links; rows = levels, root at the top</text>');

  const labelW = 64;
  const avail = width - 2 * MARGIN - labelW;
  rows.forEach((row, r) => {
    const y = TOP + r * ROW_H + (ROW_H - BOX_H) / 2;
    out.push(`<text x="${MARGIN}" y="${y + BOX_H / 2 + 4}" fill="${COLORS.text}">level ${row.level}</text>`);
    const dead = row.pages.filter((p) => p.flags.includes('DELETED')).length;
    const liveN = row.pages.length - dead;
    out.push(`<text x="${MARGIN}" y="${y + BOX_H / 2 + 17}" fill="#888" font-size="9">${liveN} page${liveN === 1 ? '' : 's'}</text>`);
    if (dead) out.push(`<text x="${MARGIN}" y="${y + BOX_H / 2 + 28}" fill="${COLORS.deleted}" font-size="9">+${dead} deleted</text>`);
    const n = row.pages.length;
    if (n === 0) return;
    const slot = avail / n;
    const gap = slot >= 12 ? Math.min(14, slot * 0.3) : slot >= 3 ? 1 : 0;
    const w = Math.min(120, slot - gap);
    // Center narrow rows (upper levels) over the full width.
    const x0 = MARGIN + labelW + (avail - n * slot) / 2 + (slot - w) / 2;
    const xs = new Map<number, number>();
    row.pages.forEach((p, i) => xs.set(p.page, x0 + i * slot));
    row.pages.forEach((p, i) => {
      const x = x0 + i * slot;
      const deleted = p.flags.includes('DELETED');
      const frac = Math.max(0, Math.min(1, p.used / shape.pageSize));
      const fh = BOX_H * frac;
      const halfDead = p.flags.includes('HALF_DEAD');
      const stroke = p.flags.includes('INCOMPLETE_SPLIT') ? COLORS.incomplete : deleted ? COLORS.deleted : halfDead ? COLORS.halfDead : '#333';
      const background = deleted ? '#fbe3e3' : halfDead ? '#fdebc8' : COLORS.empty;
      const sw = p.flags.includes('ROOT') || p.flags.includes('INCOMPLETE_SPLIT') || halfDead ? 2.5 : w >= 4 ? 0.8 : 0;
      const tip = `page ${p.page} level ${p.level} [${p.flags.join(' ')}] ${p.items} items, `
        + `${p.used}/${shape.pageSize} bytes (${Math.round(frac * 100)}%), left ${p.left}, right ${p.right}`;
      out.push(`<g><title>${esc(tip)}</title>`);
      out.push(`<rect x="${x.toFixed(1)}" y="${y}" width="${w.toFixed(1)}" height="${BOX_H}" fill="${background}" `
        + `stroke="${stroke}" stroke-width="${sw}"${deleted ? ' stroke-dasharray="3,2"' : ''}/>`);
      out.push(`<rect x="${x.toFixed(1)}" y="${(y + BOX_H - fh).toFixed(1)}" width="${w.toFixed(1)}" height="${fh.toFixed(1)}" `
        + `fill="${fillColor(p)}"${deleted ? ' fill-opacity="0.45"' : ''}/>`);
      // Too narrow to see: mark special pages with a triangle above the box.
      const special = deleted || halfDead || p.flags.includes('INCOMPLETE_SPLIT');
      if (special && w < 10) {
        const cx = x + w / 2;
        out.push(`<path d="M${(cx - 4).toFixed(1)},${y - 9} L${(cx + 4).toFixed(1)},${y - 9} L${cx.toFixed(1)},${y - 2} z" fill="${deleted ? COLORS.deleted : halfDead ? COLORS.halfDead : COLORS.incomplete}"/>`);
      }
      if (w >= 26) {
        out.push(`<text x="${(x + w / 2).toFixed(1)}" y="${y - 3}" text-anchor="middle" font-size="9" fill="#666">${p.page}</text>`);
      }
      out.push('</g>');
      // The right link: an arrow to the next box when it is the right sibling, an arc otherwise.
      if (p.right !== 0 && slot >= 12) {
        const tx = xs.get(p.right);
        const next = row.pages[i + 1];
        if (tx !== undefined && next?.page === p.right) {
          out.push(`<line x1="${(x + w).toFixed(1)}" y1="${y + BOX_H / 2}" x2="${tx.toFixed(1)}" y2="${y + BOX_H / 2}" `
            + `stroke="${COLORS.link}" stroke-width="1" marker-end="url(#lk-arrow)"/>`);
        } else if (tx !== undefined) {
          const x1 = x + w / 2, x2 = tx + w / 2;
          out.push(`<path d="M${x1.toFixed(1)},${y + BOX_H} Q${((x1 + x2) / 2).toFixed(1)},${y + BOX_H + 22} ${x2.toFixed(1)},${y + BOX_H}" `
            + `fill="none" stroke="${COLORS.link}" stroke-width="1" marker-end="url(#lk-arrow)"/>`);
        }
      }
    });
  });

  const ly = TOP + rows.length * ROW_H + 16;
  const legend: [string, string, string][] = [
    ['leaf', COLORS.leaf, ''], ['internal', COLORS.internal, ''], ['half-dead', COLORS.halfDead, ''],
    ['deleted (limbo)', COLORS.deleted, ' stroke-dasharray="3,2"'], ['incomplete split', COLORS.empty, ''],
    ['root', COLORS.empty, ''],
  ];
  let lx = MARGIN;
  for (const [name, color, dash] of legend) {
    const stroke = name === 'incomplete split' ? COLORS.incomplete : name.startsWith('deleted') ? COLORS.deleted : '#333';
    const sw = name === 'root' || name === 'incomplete split' ? 2.5 : 0.8;
    out.push(`<rect x="${lx}" y="${ly}" width="14" height="14" fill="${color}" stroke="${stroke}" stroke-width="${sw}"${dash}/>`);
    out.push(`<text x="${lx + 19}" y="${ly + 11}" fill="${COLORS.text}">${name}</text>`);
    lx += 30 + name.length * 6.5;
  }
  out.push('</svg>');
  return out.join('\n');
}
