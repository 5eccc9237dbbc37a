// The Real-ESRGAN second-order degradation as ResShift trains with it
// (ResShift@3ce1d81 trainer.py, TrainerDifIR.prepare_data, training branch; MODEL_SPEC §7.5–§7.11).
//
// Randomness is split as upstream splits it: the batch-level Python `random` choices are drawn
// first from an Rng (samplePipelineChoices, a loggable JSON object), the per-sample tensor draws
// (noise levels, grey flags, noise, JPEG qualities) come from a torch.Generator in upstream's call
// order through TensorDraws — or from injected tensors (the golden cases).
import * as torch from '../../engine/index.js';
import { Tensor, Generator } from '../../engine/index.js';
import type { RandomSource } from '../rng.js';
import { filter2D } from './filter2d.js';
import { addGaussianNoisePt, addPoissonNoisePt, gaussianFrom, poissonFrom, type GaussianDraw, type PoissonDraw } from './noise.js';
import { diffJpeg, jpegCompress, jpegQualityInt } from './jpeg.js';
import type { DegradationConfig, JpegBackend, ResizeMode } from './params.js';

export type UpDown = 'up' | 'down' | 'keep';
export type NoiseKind = 'gaussian' | 'poisson';
export type FinalOrder = 'resize_sinc_then_jpeg' | 'jpeg_then_resize_sinc';

export interface Stage1Choice { updown: UpDown; scale: number; mode: ResizeMode; noise: NoiseKind }
export interface Stage2Choice { apply: boolean; blur?: boolean; updown?: UpDown; scale?: number; mode?: ResizeMode; noise?: NoiseKind }
export interface FinalChoice { order: FinalOrder; mode: ResizeMode }
/** The batch-level choices of one prepare_data call. */
export interface PipelineChoices { stage1: Stage1Choice; stage2: Stage2Choice; final: FinalChoice }

const MODES: ResizeMode[] = ['area', 'bilinear', 'bicubic'];

function sampleResize(rng: RandomSource, prob: [number, number, number], range: [number, number]): { updown: UpDown; scale: number; mode: ResizeMode } {
  const updown = rng.choices<UpDown>(['up', 'down', 'keep'], prob);
  const scale = updown === 'up' ? rng.uniform(1, range[1]) : updown === 'down' ? rng.uniform(range[0], 1) : 1;
  const mode = rng.choice(MODES);
  return { updown, scale, mode };
}

/** prepare_data's Python-random draws, in upstream order. */
export function samplePipelineChoices(rng: RandomSource, cfg: DegradationConfig): PipelineChoices {
  const stage1: Stage1Choice = { ...sampleResize(rng, cfg.resize_prob, cfg.resize_range), noise: rng.random() < cfg.gaussian_noise_prob ? 'gaussian' : 'poisson' };
  let stage2: Stage2Choice = { apply: rng.random() < cfg.second_order_prob };
  if (stage2.apply) {
    const blur = rng.random() < cfg.second_blur_prob;
    stage2 = { apply: true, blur, ...sampleResize(rng, cfg.resize_prob2, cfg.resize_range2), noise: rng.random() < cfg.gaussian_noise_prob2 ? 'gaussian' : 'poisson' };
  }
  const order: FinalOrder = rng.random() < 0.5 ? 'resize_sinc_then_jpeg' : 'jpeg_then_resize_sinc';
  return { stage1, stage2, final: { order, mode: rng.choice(MODES) } };
}

/**
 * The per-sample tensor draws of the pipeline, asked for in upstream's order. The pipeline only
 * reads what these return (inside its own scopes), so a source may hand out tensors it keeps.
 */
export interface TensorDraws {
  /** Noise level (σ or Poisson scale) and grey flags (0/1) for n samples. */
  noiseLevels(stage: 's1' | 's2', kind: NoiseKind, n: number, range: [number, number], grayProb: number): { level: Tensor; gray: Tensor };
  gaussian(stage: 's1' | 's2'): GaussianDraw;
  poisson(stage: 's1' | 's2'): PoissonDraw;
  /** JPEG qualities: new_zeros(n).uniform_(lo, hi). */
  jpegQuality(stage: 's1' | 'final', n: number, range: [number, number]): Tensor;
}

/** Draws from a torch generator in call order (what training and `vpdsr degrade` use). */
export function generatorDraws(gen: Generator): TensorDraws {
  return {
    noiseLevels: (_s, _k, n, range, grayProb) => torch.scope(() => {
      const level = torch.rand([n], { generator: gen }).mul(range[1] - range[0]).add(range[0]);
      const gray = torch.rand([n], { generator: gen }).lt(grayProb).float();
      return { level, gray };
    }),
    gaussian: () => gaussianFrom(gen),
    poisson: () => poissonFrom(gen),
    jpegQuality: (_s, n, range) => torch.zeros([n]).uniform_(range[0], range[1], gen),
  };
}

export interface PipelineOptions {
  jpeg: JpegBackend;
  /** Called with each intermediate (borrowed: valid only during the call). */
  trace?: (name: string, t: Tensor) => void;
  /** Filled with the JPEG qualities used (per stage, per sample) when given. */
  qualities?: { s1?: number[]; final?: number[] };
}

// keep(scope(fn)): the result is owned by the caller even across awaits.
function own<T extends Tensor>(fn: () => T): T { return torch.keep(torch.scope(fn)); }

function trace(opts: PipelineOptions, name: string, t: Tensor): void { if (opts.trace) opts.trace(name, t); }

async function jpegStep(x: Tensor, q: Tensor, backend: JpegBackend): Promise<Tensor> {
  // clamp to [0, 1], otherwise JPEGer will result in unpleasant artifacts (upstream comment)
  const clamped = own(() => x.clamp(0, 1));
  if (backend === 'identity') return clamped;
  try {
    if (backend === 'diffjpeg') return own(() => diffJpeg(clamped, q));
    return torch.keep(await jpegCompress(clamped, Array.from(q.toFloat32Array())));
  } finally {
    clamped.dispose();
  }
}

function addNoise(x: Tensor, stage: 's1' | 's2', kind: NoiseKind, cfg: DegradationConfig, draws: TensorDraws): Tensor {
  const two = stage === 's2';
  const grayProb = two ? cfg.gray_noise_prob2 : cfg.gray_noise_prob;
  return torch.scope(() => {
    if (kind === 'gaussian') {
      const { level, gray } = draws.noiseLevels(stage, kind, x.size(0), two ? cfg.noise_range2 : cfg.noise_range, grayProb);
      return addGaussianNoisePt(x, level, gray, draws.gaussian(stage), true, false);
    }
    const { level, gray } = draws.noiseLevels(stage, kind, x.size(0), two ? cfg.poisson_scale_range2 : cfg.poisson_scale_range, grayProb);
    return addPoissonNoisePt(x, level, gray, draws.poisson(stage), true, false);
  });
}

function recordQualities(opts: PipelineOptions, key: 's1' | 'final', q: Tensor, backend: JpegBackend): void {
  if (!opts.qualities) return;
  const v = Array.from(q.toFloat32Array());
  opts.qualities[key] = backend === 'real' ? v.map(jpegQualityInt) : v;
}

/** Stage 1 (§7.8): blur with kernel1, resize by scale_factor, noise, clamp + JPEG. Returns a new tensor. */
export async function stage1(gt: Tensor, kernel1: Tensor, c: Stage1Choice, cfg: DegradationConfig, draws: TensorDraws, opts: PipelineOptions): Promise<Tensor> {
  const noisy = own(() => {
    const blur = filter2D(gt, kernel1);
    trace(opts, 's1_blur', blur);
    const resized = torch.interpolate(blur, { scaleFactor: c.scale, mode: c.mode });
    trace(opts, 's1_resize', resized);
    return addNoise(resized, 's1', c.noise, cfg, draws);
  });
  try {
    trace(opts, 's1_noisy', noisy);
    const q = own(() => draws.jpegQuality('s1', noisy.size(0), cfg.jpeg_range).clone());
    try {
      recordQualities(opts, 's1', q, opts.jpeg);
      const out = await jpegStep(noisy, q, opts.jpeg);
      trace(opts, 's1', out);
      return out;
    } finally { q.dispose(); }
  } finally { noisy.dispose(); }
}

/** Stage 2 (§7.9): optional blur with kernel2, resize to ⌊H/sf·s⌋ × ⌊W/sf·s⌋, noise. Returns a new tensor. */
export function stage2(x: Tensor, kernel2: Tensor, c: Stage2Choice, gtHW: [number, number], cfg: DegradationConfig, draws: TensorDraws, opts: PipelineOptions): Tensor {
  if (!c.apply) throw new RangeError('stage2(): the stage is not applied in these choices');
  const sf = cfg.sf;
  return own(() => {
    let out = x;
    if (c.blur) { out = filter2D(out, kernel2); trace(opts, 's2_blur', out); }
    const size: [number, number] = [Math.trunc((gtHW[0] / sf) * c.scale!), Math.trunc((gtHW[1] / sf) * c.scale!)];
    out = torch.interpolate(out, { size, mode: c.mode! });
    trace(opts, 's2_resize', out);
    out = addNoise(out, 's2', c.noise!, cfg, draws);
    trace(opts, 's2', out);
    return out;
  });
}

export interface FinalResult { preRound: Tensor; lq: Tensor }

/** The final stage (§7.10): resize to GT/sf + sinc and JPEG in the chosen order, then 8-bit quantisation. */
export async function finalStage(x: Tensor, sincKernel: Tensor, c: FinalChoice, gtHW: [number, number], cfg: DegradationConfig, draws: TensorDraws, opts: PipelineOptions): Promise<FinalResult> {
  const size: [number, number] = [Math.floor(gtHW[0] / cfg.sf), Math.floor(gtHW[1] / cfg.sf)];
  const resizeSinc = (t: Tensor): Tensor => own(() => {
    const r = torch.interpolate(t, { size, mode: c.mode });
    trace(opts, 'final_resize', r);
    const s = filter2D(r, sincKernel);
    trace(opts, 'final_sinc', s);
    return s;
  });
  let pre: Tensor;
  if (c.order === 'resize_sinc_then_jpeg') {
    const s = resizeSinc(x);
    try {
      const q = own(() => draws.jpegQuality('final', s.size(0), cfg.jpeg_range2).clone());
      try { recordQualities(opts, 'final', q, opts.jpeg); pre = await jpegStep(s, q, opts.jpeg); } finally { q.dispose(); }
    } finally { s.dispose(); }
  } else {
    const q = own(() => draws.jpegQuality('final', x.size(0), cfg.jpeg_range2).clone());
    let j: Tensor;
    try { recordQualities(opts, 'final', q, opts.jpeg); j = await jpegStep(x, q, opts.jpeg); } finally { q.dispose(); }
    try { trace(opts, 'final_jpeg', j); pre = resizeSinc(j); } finally { j.dispose(); }
  }
  trace(opts, 'pre_round', pre);
  // clamp and round: the only 8-bit quantisation of LQ
  const lq = own(() => pre.mul(255.0).round().clamp(0, 255).div(255.0));
  trace(opts, 'lq', lq);
  return { preRound: pre, lq };
}

/** Smallest GT side for which every step of this configuration is defined (reflect padding, sizes ≥ 1). */
export function minGtSide(cfg: DegradationConfig & { blur_kernel_size: number; blur_kernel_size2: number }): number {
  const p1 = Math.floor(cfg.blur_kernel_size / 2), p2 = Math.floor(cfg.blur_kernel_size2 / 2);
  for (let s = 1; s < 1 << 16; s++) {
    const s1 = Math.floor(s * cfg.resize_range[0]);
    const s2 = Math.trunc((s / cfg.sf) * cfg.resize_range2[0]);
    const fin = Math.floor(s / cfg.sf);
    if (s > p1 && fin > p2 && (cfg.second_order_prob === 0 || (s1 > p2 && s2 >= 1))) return s;
  }
  return 1 << 16;
}

export interface DegradeInput {
  gt: Tensor;          // (n, 3, H, W) in [0, 1]
  kernel1: Tensor;     // (n, k1, k1)
  kernel2: Tensor;     // (n, k2, k2)
  sincKernel: Tensor;  // (n, k2, k2)
}

/**
 * One prepare_data call: GT (n, 3, H, W) → LQ (n, 3, H/sf, W/sf) in [0, 1], 8-bit levels.
 * The caller owns the returned tensor.
 */
export async function degradeBatch(input: DegradeInput, choices: PipelineChoices, cfg: DegradationConfig, draws: TensorDraws, opts: PipelineOptions): Promise<Tensor> {
  const { gt } = input;
  if (!(gt instanceof Tensor) || gt.ndim !== 4 || gt.size(1) !== 3 || gt.dtype !== 'float32') throw new RangeError('degradeBatch(): gt must be a float32 (n, 3, H, W) tensor');
  const gtHW: [number, number] = [gt.size(2), gt.size(3)];
  if (cfg.use_sharp) throw new RangeError('degradeBatch(): use_sharp is not supported by this pipeline (ResShift does not sharpen)');
  let x = await stage1(gt, input.kernel1, choices.stage1, cfg, draws, opts);
  if (choices.stage2.apply) {
    const s1 = x;
    try { x = stage2(s1, input.kernel2, choices.stage2, gtHW, cfg, draws, opts); } finally { s1.dispose(); }
  }
  try {
    const { preRound, lq } = await finalStage(x, input.sincKernel, choices.final, gtHW, cfg, draws, opts);
    preRound.dispose();
    return lq;
  } finally {
    x.dispose();
  }
}
