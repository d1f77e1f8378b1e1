// Small helpers for printing benchmark tables (plain text that is also a Markdown table).

/** 1234567 -> "1.23 M", 45678 -> "45.7 k". */
export function fmtOps(x) {
  if (x >= 1e6) return `${(x / 1e6).toFixed(2)} M`;
  if (x >= 1e3) return `${(x / 1e3).toFixed(1)} k`;
  return x.toFixed(0);
}

export function fmtRatio(r) {
  return `${r.toFixed(2)}x`;
}

/** Prints rows (arrays of cells) under a header as a padded Markdown table. */
export function printTable(header, rows) {
  const all = [header, ...rows].map((r) => r.map(String));
  const w = header.map((_, i) => Math.max(3, ...all.map((r) => r[i].length)));
  const line = (r) => `| ${r.map((c, i) => (i === 0 ? c.padEnd(w[i]) : c.padStart(w[i]))).join(' | ')} |`;
  console.log(line(all[0]));
  console.log(`|${w.map((n, i) => (i === 0 ? '-'.repeat(n + 2) : `${'-'.repeat(n + 1)}:`)).join('|')}|`);
  for (const r of all.slice(1)) console.log(line(r));
}
