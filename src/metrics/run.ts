// Scores folders of SR outputs: pairs them with the ground truth by key, reads each pair as 8-bit
// RGB (/255), runs every metric on batches of same-sized images and averages per metric. The
// options arrive checked (src/api/evaluate.ts); this layer trusts them.
import path from 'node:path';
import * as torch from '../engine/index.js';
import { Tensor } from '../engine/index.js';
import { readRgb8 } from '../data/dataset.js';
import './index.js';
import { findMetric, listMetrics, type MetricDef, type MetricInstance } from './registry.js';
import { resolveWeights } from './weights.js';
import { keyedFolder, type KeyedImage } from './pairing.js';

export interface EvalSpec {
  /** Methods: a folder each; `files` (absolute paths inside it) limits a method to those images. */
  sr: { name: string; dir: string; files?: string[] }[];
  hr?: string;
  lr?: string;
  metrics?: string[];
  weightsDir?: string;
  device: string;
  batchSize: number;
  onProgress?: (p: EvalProgress) => void;
  onWarning?: (line: string) => void;
  signal?: AbortSignal;
}

export interface EvalProgress { method: string; done: number; total: number }

export interface ImageScores {
  key: string;
  /** The SR file's name relative to its folder. */
  name: string;
  path: string;
  /** Metric id → value; null when the metric could not score this image. */
  values: Record<string, number | null>;
}

export interface MethodScores {
  name: string;
  dir: string;
  images: ImageScores[];
  mean: Record<string, number | null>;
}

export interface EvalResult {
  metrics: { id: string; lowerBetter: boolean; needsReference: boolean; kind: 'image' | 'set' }[];
  skipped: { id: string; reason: string }[];
  methods: MethodScores[];
  /** key → HR / LR path (for reports). */
  hr?: Record<string, string>;
  lr?: Record<string, string>;
  /** Images that could not be read or scored: one line each. */
  errors: string[];
}

/** The metrics run when none are named: the RealSR table's columns that need no extra model. */
export const DEFAULT_METRICS = ['psnr', 'ssim', 'lpips', 'dists', 'niqe'];

export class EvalError extends Error {
  constructor(message: string) { super(message); this.name = 'EvalError'; }
}

function resolveIds(names: string[] | undefined, haveHr: boolean): MetricDef[] {
  const list = names ?? DEFAULT_METRICS.filter((id) => haveHr || !findMetric(id)!.needsReference);
  const out: MetricDef[] = [];
  for (const n of list) {
    const d = findMetric(n);
    if (!d) throw new EvalError(`--metrics: unknown metric ${JSON.stringify(n)} (known: ${listMetrics().map((m) => m.id).join(', ')})`);
    if (!out.includes(d)) out.push(d);
  }
  if (out.length === 0) throw new EvalError('--metrics: no metric named');
  return out;
}

interface Pair { sr: KeyedImage; hr?: KeyedImage }

async function readPair(p: Pair): Promise<{ sr: Tensor; hr?: Tensor }> {
  const sr = await readRgb8(p.sr.path);
  if (!p.hr) return { sr };
  let hr: Tensor;
  try { hr = await readRgb8(p.hr.path); } catch (e) { sr.dispose(); throw e; }
  if (sr.shape.join() !== hr.shape.join()) {
    const [, h1, w1] = sr.shape, [, h2, w2] = hr.shape;
    sr.dispose(); hr.dispose();
    throw new Error(`${p.sr.path}: size ${w1}×${h1} differs from its ground truth ${p.hr.path} (${w2}×${h2}); nothing is resized`);
  }
  return { sr, hr };
}

/** Runs the evaluation. Wrong folders, unknown metrics, duplicate keys or missing ground truth are EvalErrors. */
export async function runEvaluation(spec: EvalSpec): Promise<EvalResult> {
  const warn = spec.onWarning ?? (() => undefined);
  const defs = resolveIds(spec.metrics, spec.hr !== undefined);
  const hrMap = spec.hr !== undefined ? await keyedFolder(spec.hr, '--hr').catch((e: Error) => { throw new EvalError(e.message); }) : undefined;
  const lrMap = spec.lr !== undefined ? await keyedFolder(spec.lr, '--lr').catch((e: Error) => { throw new EvalError(e.message); }) : undefined;
  const methodsIn: { name: string; dir: string; pairs: Pair[] }[] = [];
  for (const m of spec.sr) {
    const srMap = await keyedFolder(m.dir, '--sr').catch((e: Error) => { throw new EvalError(e.message); });
    const only = m.files ? new Set(m.files.map((f) => path.resolve(f))) : undefined;
    const pairs: Pair[] = [];
    for (const [id, img] of srMap) {
      if (only && !only.has(img.path)) continue;
      const hr = hrMap?.get(id);
      if (hrMap && !hr) throw new EvalError(`--sr ${m.dir}: ${img.name} has no ground truth with key ${img.key} in ${spec.hr}`);
      pairs.push({ sr: img, hr });
    }
    methodsIn.push({ name: m.name, dir: m.dir, pairs });
  }

  const skipped: EvalResult['skipped'] = [];
  const active: { def: MetricDef; inst: MetricInstance }[] = [];
  try {
    for (const def of defs) {
      if (def.needsReference && !hrMap) { skipped.push({ id: def.id, reason: `${def.id}: needs the ground truth (--hr DIR)` }); continue; }
      const w = resolveWeights(def, spec.weightsDir);
      if ('missing' in w) { skipped.push({ id: def.id, reason: w.missing }); continue; }
      try {
        active.push({ def, inst: def.create({ weights: w.files, device: spec.device }) });
      } catch (e) {
        skipped.push({ id: def.id, reason: `${def.id}: ${(e as Error).message.split('\n')[0]}` });
      }
    }

    const errors: string[] = [];
    const methods: MethodScores[] = [];
    for (const m of methodsIn) {
      if (spec.signal?.aborted) throw new EvalError('evaluation aborted');
      methods.push(await scoreMethod(m, active, spec, errors, warn));
    }
    const result: EvalResult = {
      metrics: active.map(({ def }) => ({ id: def.id, lowerBetter: def.lowerBetter, needsReference: def.needsReference, kind: def.kind })),
      skipped, methods, errors,
    };
    if (hrMap) result.hr = Object.fromEntries([...hrMap.values()].map((v) => [v.key, v.path]));
    if (lrMap) result.lr = Object.fromEntries([...lrMap.values()].map((v) => [v.key, v.path]));
    return result;
  } finally {
    for (const a of active) a.inst.dispose();
  }
}

async function scoreMethod(m: { name: string; dir: string; pairs: Pair[] }, active: { def: MetricDef; inst: MetricInstance }[],
  spec: EvalSpec, errors: string[], warn: (l: string) => void): Promise<MethodScores> {
  const images: ImageScores[] = m.pairs.map((p) => ({
    key: p.sr.key, name: p.sr.name, path: p.sr.path,
    values: Object.fromEntries(active.filter((a) => a.def.kind === 'image').map((a) => [a.def.id, null])),
  }));
  const total = m.pairs.length;
  let done = 0;
  // Reads run one image ahead of the computation (sharp decodes off the JS thread).
  const read = (i: number) => (i < total ? readPair(m.pairs[i]!).then((v) => ({ ok: true as const, v }), (e: Error) => ({ ok: false as const, e })) : undefined);
  let next = read(0);
  let batch: { idx: number; sr: Tensor; hr?: Tensor }[] = [];
  const flush = (): void => {
    if (batch.length === 0) return;
    torch.scope(() => {
      const sr = batch.length === 1 ? batch[0]!.sr.unsqueeze(0) : torch.stack(batch.map((b) => b.sr));
      const hr = batch[0]!.hr ? (batch.length === 1 ? batch[0]!.hr!.unsqueeze(0) : torch.stack(batch.map((b) => b.hr!))) : undefined;
      const [, , h, w] = sr.shape as number[];
      for (const { def, inst } of active) {
        if (def.minSize !== undefined && Math.min(h!, w!) < def.minSize) {
          for (const b of batch) warn(`${def.id}: ${images[b.idx]!.path} is smaller than ${def.minSize} px; not scored`);
          continue;
        }
        try {
          if (def.kind === 'set') { inst.add!(sr, hr); continue; }
          const v = inst.score!(sr, hr);
          batch.forEach((b, j) => { images[b.idx]!.values[def.id] = v[j]!; });
        } catch (e) {
          const line = `${def.id}: ${batch.map((b) => images[b.idx]!.name).join(', ')}: ${(e as Error).message.split('\n')[0]}`;
          errors.push(line); warn(line);
        }
      }
    });
    for (const b of batch) { b.sr.dispose(); b.hr?.dispose(); }
    done += batch.length;
    batch = [];
    spec.onProgress?.({ method: m.name, done, total });
  };
  try {
    for (let i = 0; i < total; i++) {
      if (spec.signal?.aborted) throw new EvalError('evaluation aborted');
      const r = await next!;
      next = read(i + 1);
      if (!r.ok) {
        const line = r.e.message.split('\n')[0]!;
        errors.push(line); warn(line);
        flush();
        done++;
        continue;
      }
      const same = batch.length > 0 && batch[0]!.sr.shape.join() === r.v.sr.shape.join();
      if (batch.length > 0 && (!same || batch.length >= spec.batchSize)) flush();
      batch.push({ idx: i, ...r.v });
    }
    flush();
  } finally {
    for (const b of batch) { b.sr.dispose(); b.hr?.dispose(); }
    if (next) { const r = await next; if (r.ok) { r.v.sr.dispose(); r.v.hr?.dispose(); } }
  }
  const mean: Record<string, number | null> = {};
  for (const { def, inst } of active) {
    if (def.kind === 'set') {
      try { mean[def.id] = inst.finish!(); } catch (e) { mean[def.id] = null; const l = `${def.id}: ${m.dir}: ${(e as Error).message.split('\n')[0]}`; errors.push(l); warn(l); }
      continue;
    }
    const vals = images.map((im) => im.values[def.id]).filter((v): v is number => typeof v === 'number');
    // The reference means: per-image values summed in file-name order, divided by the count.
    mean[def.id] = vals.length ? vals.reduce((a, b) => a + b, 0) / vals.length : null;
  }
  return { name: m.name, dir: m.dir, images, mean };
}
