// Text forms of an evaluation: the terminal table, the JSON document and CSV.
import type { EvalResult, MethodScores } from './run.js';

/** Digits shown per metric in the table (JSON/CSV keep full precision). */
function fmt(id: string, v: number | null | undefined): string {
  if (v === null || v === undefined) return '-';
  if (!Number.isFinite(v)) return String(v);
  const digits = /^psnr|^fid/.test(id) ? 4 : 6;
  return v.toFixed(digits);
}

function grid(rows: string[][], rightFrom = 1): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  const line = (r: string[]) => r.map((s, c) => (c >= rightFrom ? s.padStart(widths[c]!) : s.padEnd(widths[c]!))).join('  ').trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  return [line(rows[0]!), rule, ...rows.slice(1, -1).map(line), rule, line(rows[rows.length - 1]!)].join('\n');
}

/** The best method's index per metric id (by mean, lower or higher as the metric says). */
export function bestMethods(r: EvalResult): Record<string, number> {
  const best: Record<string, number> = {};
  for (const m of r.metrics) {
    let bi = -1;
    r.methods.forEach((meth, i) => {
      const v = meth.mean[m.id];
      if (typeof v !== 'number' || Number.isNaN(v)) return;
      const b = bi < 0 ? undefined : r.methods[bi]!.mean[m.id] as number;
      if (b === undefined || (m.lowerBetter ? v < b : v > b)) bi = i;
    });
    if (bi >= 0) best[m.id] = bi;
  }
  return best;
}

function arrow(r: EvalResult, id: string): string {
  return r.metrics.find((m) => m.id === id)!.lowerBetter ? '↓' : '↑';
}

/** One table per method (per-image rows, then the mean); with several methods a summary with the best marked *. */
export function formatTable(r: EvalResult): string {
  const ids = r.metrics.map((m) => m.id);
  const perImage = r.metrics.filter((m) => m.kind === 'image').map((m) => m.id);
  const out: string[] = [];
  for (const meth of r.methods) {
    const rows: string[][] = [['image', ...perImage.map((id) => `${id}${arrow(r, id)}`)]];
    for (const im of meth.images) rows.push([im.name, ...perImage.map((id) => fmt(id, im.values[id]))]);
    rows.push([`mean (${meth.images.length})`, ...perImage.map((id) => fmt(id, meth.mean[id]))]);
    out.push(`${meth.name} (${meth.dir})`);
    out.push(grid(rows));
    const sets = r.metrics.filter((m) => m.kind === 'set');
    for (const s of sets) out.push(`${s.id}${arrow(r, s.id)}: ${fmt(s.id, meth.mean[s.id])}`);
    out.push('');
  }
  if (r.methods.length > 1) {
    const best = bestMethods(r);
    const rows: string[][] = [['method', ...ids.map((id) => `${id}${arrow(r, id)}`)]];
    r.methods.forEach((meth, i) => rows.push([meth.name, ...ids.map((id) => fmt(id, meth.mean[id]) + (best[id] === i ? '*' : ' '))]));
    out.push('mean over images (* best)');
    const widths = rows[0]!.map((_, c) => Math.max(...rows.map((row) => row[c]!.length)));
    const line = (row: string[]) => row.map((s, c) => (c >= 1 ? s.padStart(widths[c]!) : s.padEnd(widths[c]!))).join('  ').trimEnd();
    out.push(line(rows[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line), '');
  }
  for (const s of r.skipped) out.push(`skipped ${s.reason}`);
  return out.join('\n').trimEnd() + '\n';
}

function methodJson(r: EvalResult, m: MethodScores): Record<string, unknown> {
  const num = (v: number | null | undefined) => (typeof v === 'number' && Number.isFinite(v) ? v : v === undefined ? null : v === null ? null : String(v));
  const perImage = r.metrics.filter((x) => x.kind === 'image').map((x) => x.id);
  return {
    method: m.name,
    sr: m.dir,
    metrics: r.metrics.map((x) => x.id),
    lower_better: Object.fromEntries(r.metrics.map((x) => [x.id, x.lowerBetter])),
    images: m.images.map((im) => ({ name: im.name, key: im.key, ...Object.fromEntries(perImage.map((id) => [id, num(im.values[id])])) })),
    mean: Object.fromEntries(r.metrics.map((x) => [x.id, num(m.mean[x.id])])),
    skipped: r.skipped,
  };
}

/** `{"metrics", "images": [{"name", "<id>": value…}], "mean"}` per method; a list when there are several. */
export function formatJson(r: EvalResult): string {
  const docs = r.methods.map((m) => methodJson(r, m));
  return JSON.stringify(docs.length === 1 ? docs[0] : docs, null, 2) + '\n';
}

function csvCell(s: string): string {
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** One row per method and image, then one "mean" row per method; values at full precision. */
export function formatCsv(r: EvalResult): string {
  const ids = r.metrics.map((m) => m.id);
  const lines = [['method', 'image', ...ids].map(csvCell).join(',')];
  const v = (x: number | null | undefined) => (x === null || x === undefined ? '' : String(x));
  for (const m of r.methods) {
    for (const im of m.images) lines.push([csvCell(m.name), csvCell(im.name), ...ids.map((id) => v(im.values[id]))].join(','));
    lines.push([csvCell(m.name), 'mean', ...ids.map((id) => v(m.mean[id]))].join(','));
  }
  return lines.join('\n') + '\n';
}
