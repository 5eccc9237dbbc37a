// `vpdsr train-encoder`: the recipe's stand-in for CLIP (VPDSR_METHOD §8.3), trained by instance
// classification on clean HR crops: each training photo is its own class.
import fs from 'node:fs';
import path from 'node:path';
import * as torch from '../engine/index.js';
import { Tensor } from '../engine/index.js';
import { DataParallel } from '../engine/nn/parallel.js';
import { joinGroup, localBatch, rankSlice } from './parallel.js';
import { clipGradNorm_ } from '../engine/optim/index.js';
import { listImages, readRgb8 } from '../data/dataset.js';
import { loadSafetensors, saveSafetensors } from '../io/checkpoint/tensors.js';
import { SafetensorsFile } from '../io/checkpoint/index.js';
import { ConfigError, type EncoderConfig } from './config.js';
import { section, putSection } from './checkpoint.js';
import { makeOptimizer, saveOptimizer, loadOptimizer, runPhase, type Phase, type TrainOptions, type TrainResult } from './run.js';
import { setupRun } from './common.js';
import { StandInEncoder, type StandInConfig } from './encoder.js';

const META = 'vpdsr_stand_in_encoder';
export const ENCODER_FILE = 'encoder.safetensors';

/** Loads a stand-in encoder file (frozen, eval mode). */
export function loadEncoder(file: string): StandInEncoder {
  let cfg: StandInConfig;
  try {
    const f = SafetensorsFile.open(file);
    try {
      const m = f.metadata[META];
      if (!m) throw new Error('not a stand-in encoder file (vpdsr train-encoder writes one)');
      cfg = JSON.parse(m) as StandInConfig;
    } finally {
      f.close();
    }
  } catch (e) {
    throw new Error(`${file}: ${(e as Error).message}`);
  }
  const enc = new StandInEncoder(cfg);
  const sd = loadSafetensors(file);
  try {
    enc.loadStateDict(sd);
  } finally {
    for (const t of sd.values()) t.dispose();
  }
  return enc.requiresGrad_(false).eval();
}

export function saveEncoder(file: string, enc: StandInEncoder): void {
  saveSafetensors(file, enc.stateDict(), { [META]: JSON.stringify(enc.config) });
}

/** Random crops of in-memory photos (uint8), with flips; the label is the photo's index. */
class CropSampler {
  private constructor(readonly images: Tensor[]) {}

  static async open(dir: string, crop: number): Promise<CropSampler> {
    const names = (await listImages(dir)).sort();
    if (names.length < 2) throw new ConfigError(`data.hr: ${dir} must hold at least 2 images (one class each)`);
    const images: Tensor[] = [];
    for (const n of names) {
      const img = await readRgb8(path.join(dir, n));
      if (img.size(1) < crop || img.size(2) < crop) { img.dispose(); for (const t of images) t.dispose(); throw new ConfigError(`data.hr: ${n} is smaller than the ${crop}-pixel crop`); }
      images.push(torch.keep(torch.scope(() => img.mul(255).round().to({ dtype: 'uint8' }))));
      img.dispose();
    }
    return new CropSampler(images);
  }

  batch(b: number, crop: number, g: torch.Generator): { x: Tensor; y: Tensor } {
    return torch.scope(() => {
      const u = torch.rand([b, 3], { generator: g, dtype: 'float64' }).toArray() as Float64Array;
      const labels: number[] = [];
      const crops: Tensor[] = [];
      for (let i = 0; i < b; i++) {
        const k = Math.min(this.images.length - 1, Math.floor(u[3 * i]! * this.images.length));
        const img = this.images[k]!;
        const top = Math.floor(u[3 * i + 1]! * (img.size(1) - crop + 1));
        const left = Math.floor(u[3 * i + 2]! * (img.size(2) - crop + 1));
        let c = img.narrow(1, top, crop).narrow(2, left, crop);
        if ((k + top + left) % 2 === 1) c = c.flip(2);
        crops.push(c.float().div(255));
        labels.push(k);
      }
      return { x: torch.stack(crops), y: torch.tensor(labels, { dtype: 'int64' }) };
    });
  }

  dispose(): void { for (const t of this.images) t.dispose(); }
}

export async function trainEncoder(cfg: EncoderConfig, o: TrainOptions = {}): Promise<TrainResult> {
  setupRun(cfg);
  const sampler = await CropSampler.open(cfg.data.hr, cfg.data.crop);
  const enc = new StandInEncoder({ widths: cfg.encoder.widths, embed_dim: cfg.encoder.embed_dim, num_classes: sampler.images.length });
  const opt = makeOptimizer(enc.parameters(), cfg.optim, cfg.iterations);
  const g = new torch.Generator(cfg.seed);
  const dist = await joinGroup();
  localBatch(cfg.data.batch, dist);
  const dp = dist ? new DataParallel(dist.pg, enc) : null;
  let synced = false;
  const phase: Phase = {
    async step() {
      // Every rank starts from rank 0's weights (DDP's initial broadcast).
      if (dp && !synced) { await dp.syncParameters(); synced = true; }
      // The global batch is drawn on every rank; each computes its rows.
      const r = torch.scope(() => {
        const b = sampler.batch(cfg.data.batch, cfg.data.crop, g);
        const x = rankSlice(b.x, dist), y = rankSlice(b.y, dist);
        opt.opt.zeroGrad();
        const logits = enc.logits(x);
        const loss = logits.logSoftmax(1).gather(1, y.unsqueeze(1)).mean().neg();
        loss.backward();
        return { ce: loss.item(), acc: logits.argmax(1).eq(y).float().mean().item() };
      });
      await dp?.reduceGradients();
      torch.scope(() => {
        if (cfg.optim.gradClip > 0) clipGradNorm_(enc.parameters(), cfg.optim.gradClip);
        opt.opt.step();
        opt.sched.step();
      });
      return r;
    },
    saveState() {
      const tensors = new Map<string, Tensor>();
      putSection(tensors, 'model', enc.stateDict());
      tensors.set('rng', g.getState());
      const json: Record<string, unknown> = {};
      saveOptimizer(tensors, json, 'optim', opt);
      return { tensors, json };
    },
    loadState(tensors, json) {
      enc.loadStateDict(section(tensors, 'model'));
      g.setState(tensors.get('rng')!);
      loadOptimizer(tensors, json, 'optim', opt);
    },
    async finish() {
      fs.mkdirSync(cfg.out, { recursive: true });
      const file = path.join(cfg.out, ENCODER_FILE);
      saveEncoder(file, enc);
      return file;
    },
    dist,
    async dispose() {
      sampler.dispose();
      opt.opt.dispose();
      enc.dispose();
    },
  };
  return runPhase(cfg, phase, o);
}
