// Training-data sources: HR folders with on-the-fly degradation (ResShift's RealESRGANDataset
// __getitem__ + TrainerDifIR.prepare_data, MODEL_SPEC §7.1) and paired HR/LR folders with random
// crops (BasicSR paired_random_crop). Everything random is a function of an explicit seed, so a
// batch comes out the same whichever thread or process computes it.
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import * as torch from '../engine/index.js';
import { Tensor, Generator } from '../engine/index.js';
import { readImage } from '../io/image/index.js';
import { Rng, deriveSeed, type RandomSource } from './rng.js';
import { prepareGt, modCrop, type GtPrepSample } from './gt.js';
import { sampleResShiftKernels, resShiftKernelTensors, type KernelSample } from './degradation/kernels.js';
import { samplePipelineChoices, degradeBatch, generatorDraws, minGtSide, type PipelineChoices } from './degradation/pipeline.js';
import type { DegradationPreset } from './degradation/params.js';

export const IMAGE_EXTENSIONS: readonly string[] = ['.png', '.jpg', '.jpeg', '.webp', '.tif', '.tiff', '.gif', '.avif', '.bmp'];

/** Image files under dir (recursively), as sorted '/'-separated relative paths. Hidden entries are skipped. */
export async function listImages(dir: string): Promise<string[]> {
  const st = await stat(dir).catch(() => undefined);
  if (!st) throw new Error(`${dir}: no such folder`);
  if (!st.isDirectory()) throw new Error(`${dir}: not a folder`);
  const out: string[] = [];
  const walk = async (rel: string): Promise<void> => {
    const entries = await readdir(path.join(dir, rel), { withFileTypes: true });
    for (const e of entries) {
      if (e.name.startsWith('.')) continue;
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) await walk(r);
      else if (e.isFile() && IMAGE_EXTENSIONS.includes(path.extname(e.name).toLowerCase())) out.push(r);
    }
  };
  await walk('');
  return out.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * Decodes an image as 8-bit-level RGB (3, H, W) float32 in [0, 1], as cv2.imdecode(IMREAD_COLOR)
 * sees it: grey is replicated, alpha dropped, 16-bit samples rounded to 8 bit.
 */
export async function readRgb8(file: string): Promise<Tensor> {
  const img = await readImage(file);
  try {
    return torch.scope(() => {
      const chw = img.data.select(0, 0);
      let rgb = img.channels <= 2 ? chw.narrow(0, 0, 1).repeat(3, 1, 1) : chw.narrow(0, 0, 3);
      if (img.bitDepth === 16) rgb = rgb.mul(255).round().div(255);
      return rgb.contiguous();
    });
  } finally {
    img.data.dispose();
  }
}

/** Rounds a [0, 1] image to 8-bit levels (what a PNG of it holds). */
export function quantize8(x: Tensor): Tensor {
  return torch.scope(() => x.clamp(0, 1).mul(255).round().div(255));
}

// ---------------------------------------------------------------- HR folder + degradation

/** What one item's preparation drew (for params.jsonl and reproducibility). */
export interface ItemParams {
  name: string;
  /** §7.2 GT preparation, or null for the whole image mod-cropped to the scale. */
  gt_prep: GtPrepSample | null;
  source_hw: [number, number];
  gt_hw: [number, number];
  kernels: KernelSample;
}

export interface PreparedItem {
  gt: Tensor; // (3, H, W), 8-bit levels
  kernel1: Tensor;
  kernel2: Tensor;
  sincKernel: Tensor;
  params: ItemParams;
}

export interface HrItemOptions {
  /** Apply the §7.2 GT preparation (flip, crop / pad, area resize to gt_size); else mod-crop to sf. */
  gtPrep: boolean;
}

/** RealESRGANDataset.__getitem__ for one file: decode, GT, the three kernels. The caller owns the tensors. */
export async function prepareItem(root: string, name: string, rng: RandomSource, preset: DegradationPreset, opts: HrItemOptions): Promise<PreparedItem> {
  const img = await readRgb8(path.join(root, name));
  try {
    const sourceHW: [number, number] = [img.size(1), img.size(2)];
    const { gt, sample } = torch.scope(() => {
      if (opts.gtPrep) {
        const r = prepareGt(img, rng, preset);
        // The GT is written as 8-bit PNG: degrade exactly what is written.
        return { gt: quantize8(r.gt), sample: r.sample as GtPrepSample | null };
      }
      return { gt: modCrop(img, preset.sf), sample: null };
    });
    torch.keep(gt);
    const min = minGtSide(preset);
    if (Math.min(gt.size(1), gt.size(2)) < min) {
      const hw = `${gt.size(1)}×${gt.size(2)}`;
      gt.dispose();
      throw new Error(`image ${hw} (after ${opts.gtPrep ? 'GT preparation' : 'mod-crop'}) is smaller than the ${min}-pixel side this preset needs`);
    }
    const kernels = sampleResShiftKernels(rng, preset);
    const k = resShiftKernelTensors(kernels);
    for (const t of [k.kernel1, k.kernel2, k.sincKernel]) torch.keep(t);
    return { gt, ...k, params: { name, gt_prep: sample, source_hw: sourceHW, gt_hw: [gt.size(1), gt.size(2)], kernels } };
  } finally {
    img.dispose();
  }
}

export interface DegradedBatch {
  gt: Tensor;  // (n, 3, H, W) in [0, 1]
  lq: Tensor;  // (n, 3, H/sf, W/sf) in [0, 1], 8-bit levels
  names: string[];
  items: ItemParams[];
  choices: PipelineChoices;
  jpeg_quality: { s1?: number[]; final?: number[] };
}

/** prepare_data for prepared items of one size: stack, draw the batch choices, degrade. */
export async function degradeItems(items: PreparedItem[], batchSeed: number, preset: DegradationPreset): Promise<DegradedBatch> {
  if (items.length === 0) throw new RangeError('degradeItems(): no items');
  const hw = items[0]!.gt.shape.slice(1).join('×');
  for (const it of items) if (it.gt.shape.slice(1).join('×') !== hw) throw new RangeError(`degradeItems(): a batch needs one GT size, got ${hw} and ${it.gt.shape.slice(1).join('×')}`);
  const rng = new Rng(deriveSeed(batchSeed, 'batch'));
  const gen = new Generator(deriveSeed(batchSeed, 'torch'));
  const choices = samplePipelineChoices(rng, preset);
  const input = torch.keep(torch.scope(() => torch.stack(items.map((i) => i.gt))));
  const k1 = torch.keep(torch.scope(() => torch.stack(items.map((i) => i.kernel1))));
  const k2 = torch.keep(torch.scope(() => torch.stack(items.map((i) => i.kernel2))));
  const ks = torch.keep(torch.scope(() => torch.stack(items.map((i) => i.sincKernel))));
  const qualities: { s1?: number[]; final?: number[] } = {};
  try {
    const lq = await degradeBatch({ gt: input, kernel1: k1, kernel2: k2, sincKernel: ks }, choices, preset, generatorDraws(gen), { jpeg: preset.jpeg, qualities });
    return { gt: input, lq, names: items.map((i) => i.params.name), items: items.map((i) => i.params), choices, jpeg_quality: qualities };
  } catch (e) {
    input.dispose();
    throw e;
  } finally {
    k1.dispose(); k2.dispose(); ks.dispose();
  }
}

export function disposeItem(it: PreparedItem): void {
  for (const t of [it.gt, it.kernel1, it.kernel2, it.sincKernel]) t.dispose();
}

/** Seed of item `name` (a stable function of the run seed and the file's relative path). */
export function itemSeed(seed: number, name: string): number { return deriveSeed(seed, 'item', name); }

/** One degraded pair from one file (`vpdsr degrade`): its own streams, so files are independent. */
export async function degradeFile(root: string, name: string, seed: number, preset: DegradationPreset, opts: HrItemOptions): Promise<DegradedBatch> {
  const s = itemSeed(seed, name);
  const item = await prepareItem(root, name, new Rng(s), preset, opts);
  try {
    return await degradeItems([item], s, preset);
  } finally {
    disposeItem(item);
  }
}

/** A training batch from an HR folder: §7.2 GT for each file, then one prepare_data call. */
export async function degradeHrBatch(root: string, names: string[], batchSeed: number, preset: DegradationPreset): Promise<DegradedBatch> {
  const items: PreparedItem[] = [];
  try {
    for (let i = 0; i < names.length; i++) items.push(await prepareItem(root, names[i]!, new Rng(deriveSeed(batchSeed, 'item', i)), preset, { gtPrep: true }));
    return await degradeItems(items, batchSeed, preset);
  } finally {
    for (const it of items) disposeItem(it);
  }
}

// ---------------------------------------------------------------- paired folders

export interface PairedOptions {
  scale: number;
  /** GT patch side (LQ patch = gtSize / scale); null = whole images (a batch then needs equal sizes). */
  gtSize: number | null;
  useHflip: boolean;
}

export interface PairedBatch {
  gt: Tensor;
  lq: Tensor;
  names: string[];
  crops: { top: number; left: number; hflip: boolean }[];
}

/** Names present in both hr/ and lr/ (the layout `vpdsr degrade` writes). */
export async function listPairs(hrDir: string, lrDir: string): Promise<string[]> {
  const [hr, lr] = await Promise.all([listImages(hrDir), listImages(lrDir)]);
  const stem = (n: string): string => n.slice(0, n.length - path.extname(n).length);
  const lrByStem = new Map(lr.map((n) => [stem(n), n]));
  const missing = hr.filter((n) => !lrByStem.has(stem(n)));
  if (missing.length) throw new Error(`${lrDir}: no LR image for ${missing.length} HR image(s), e.g. ${missing[0]}`);
  return hr;
}

/**
 * BasicSR paired_random_crop (+ augment's horizontal flip): an LQ patch of gtSize/scale at
 * top = randint(0, h_lq − p), left = randint(0, w_lq − p), and the GT patch at scale× those.
 */
export async function loadPairedBatch(hrDir: string, lrDir: string, names: string[], batchSeed: number, opts: PairedOptions): Promise<PairedBatch> {
  const gts: Tensor[] = [], lqs: Tensor[] = [];
  const crops: PairedBatch['crops'] = [];
  const lrNames = await listImages(lrDir);
  const stem = (n: string): string => n.slice(0, n.length - path.extname(n).length);
  const lrByStem = new Map(lrNames.map((n) => [stem(n), n]));
  try {
    for (let i = 0; i < names.length; i++) {
      const name = names[i]!;
      const rng = new Rng(deriveSeed(batchSeed, 'item', i));
      const lrName = lrByStem.get(stem(name));
      if (!lrName) throw new Error(`${lrDir}: no LR image for ${name}`);
      const [hr, lr] = await Promise.all([readRgb8(path.join(hrDir, name)), readRgb8(path.join(lrDir, lrName))]);
      try {
        const [hl, wl] = [lr.size(1), lr.size(2)];
        if (hr.size(1) !== hl * opts.scale || hr.size(2) !== wl * opts.scale) throw new Error(`${name}: HR ${hr.size(1)}×${hr.size(2)} is not ${opts.scale}× LR ${hl}×${wl}`);
        let top = 0, left = 0;
        const p = opts.gtSize === null ? 0 : Math.floor(opts.gtSize / opts.scale);
        if (opts.gtSize !== null) {
          if (p < 1 || hl < p || wl < p) throw new Error(`${name}: LR ${hl}×${wl} is smaller than the patch ${p}×${p}`);
          top = rng.randint(0, hl - p);
          left = rng.randint(0, wl - p);
        }
        const hflip = opts.useHflip && rng.random() < 0.5;
        const { g, l } = torch.scope(() => {
          let g = hr, l = lr;
          if (opts.gtSize !== null) {
            g = hr.slice(1, top * opts.scale, (top + p) * opts.scale).slice(2, left * opts.scale, (left + p) * opts.scale);
            l = lr.slice(1, top, top + p).slice(2, left, left + p);
          }
          if (hflip) { g = g.flip(2); l = l.flip(2); }
          return { g: g.contiguous(), l: l.contiguous() };
        });
        gts.push(torch.keep(g));
        lqs.push(torch.keep(l));
        crops.push({ top, left, hflip });
      } finally {
        hr.dispose(); lr.dispose();
      }
    }
    const gt = torch.keep(torch.scope(() => torch.stack(gts)));
    const lq = torch.keep(torch.scope(() => torch.stack(lqs)));
    return { gt, lq, names, crops };
  } finally {
    for (const t of [...gts, ...lqs]) t.dispose();
  }
}
