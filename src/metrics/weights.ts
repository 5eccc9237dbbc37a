// Where metric files come from: backbone weights users have (--weights DIR / VPDSR_WEIGHTS, under
// their public names; nothing is downloaded) and the small licensed files bundled in assets/.
import * as fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { MetricDef, WeightFile } from './registry.js';

/** The weights folder in force: the option, else VPDSR_WEIGHTS, else none. */
export function weightsDir(opt?: string): string | undefined {
  if (opt !== undefined && opt !== '') return path.resolve(opt);
  const env = process.env.VPDSR_WEIGHTS;
  return env ? path.resolve(env) : undefined;
}

/** One line naming the missing file, the metric and where the file is published. */
export function missingWeightMessage(def: MetricDef, w: WeightFile, dir: string | undefined): string {
  const where = dir === undefined ? 'no weights folder given (--weights DIR or VPDSR_WEIGHTS)' : `not found in ${dir}`;
  return `${def.id}: needs ${w.file} (${w.what}), ${where}; it is published at ${w.url}`;
}

/**
 * Resolves a metric's weight files: a map file name → path when all are present, else the
 * one-line reason for the first missing one.
 */
export function resolveWeights(def: MetricDef, dir: string | undefined): { files: Map<string, string> } | { missing: string } {
  const files = new Map<string, string>();
  for (const w of def.weights) {
    const p = dir === undefined ? undefined : path.join(dir, w.file);
    let ok = false;
    if (p !== undefined) { try { ok = fs.statSync(p).isFile(); } catch { ok = false; } }
    if (!ok || p === undefined) return { missing: missingWeightMessage(def, w, dir) };
    files.set(w.file, p);
  }
  return { files };
}

let assetsRoot: string | undefined;

/** A file bundled in the package's assets/ folder (LPIPS/DISTS heads, NIQE pristine model). */
export function assetPath(rel: string): string {
  if (assetsRoot === undefined) {
    let dir = path.dirname(fileURLToPath(import.meta.url));
    for (let i = 0; i < 6; i++) {
      if (fs.existsSync(path.join(dir, 'assets')) && fs.existsSync(path.join(dir, 'package.json'))) break;
      dir = path.dirname(dir);
    }
    assetsRoot = path.join(dir, 'assets');
  }
  const p = path.join(assetsRoot, rel);
  if (!fs.existsSync(p)) throw new Error(`${p}: bundled metric file missing (the package is incomplete; reinstall vpdsr)`);
  return p;
}
