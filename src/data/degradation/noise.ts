// Gaussian and Poisson noise on batches, with grey noise (BasicSR@8d56e3a
// basicsr/data/degradations.py, *_noise_pt). Tensor draws come from a torch.Generator in
// upstream's order; tests inject the drawn tensors instead through the Draw* callbacks.
import * as torch from '../../engine/index.js';
import { Tensor, Generator } from '../../engine/index.js';

/** Where the standard normals come from: 'gray' is the single (H, W) field, 'color' the (N, 3, H, W) one. */
export type GaussianDraw = (shape: number[], which: 'gray' | 'color') => Tensor;
/** Where the Poisson samples come from, for a given rate tensor. */
export type PoissonDraw = (rate: Tensor, which: 'gray' | 'color') => Tensor;

export function gaussianFrom(gen: Generator): GaussianDraw {
  return (shape) => torch.randn(shape, { generator: gen });
}

export function poissonFrom(gen: Generator): PoissonDraw {
  return (rate) => torch.poisson(rate, gen);
}

function checkImage(op: string, img: Tensor): [number, number, number, number] {
  if (!(img instanceof Tensor) || img.ndim !== 4 || img.dtype !== 'float32') throw new RangeError(`${op}(): img must be a float32 (b, c, h, w) tensor`);
  return img.shape as [number, number, number, number];
}

function perSample(op: string, name: string, t: Tensor, b: number): Tensor {
  if (!(t instanceof Tensor) || t.numel !== b) throw new RangeError(`${op}(): ${name} must hold one value per sample (${b})`);
  return t.view(b, 1, 1, 1);
}

/** Upstream's clip / rounds tail of add_*_noise_pt. */
function finish(img: Tensor, noise: Tensor, clip: boolean, rounds: boolean): Tensor {
  const out = img.add(noise);
  if (clip && rounds) return out.mul(255.0).round().clamp(0, 255).div(255.0);
  if (clip) return out.clamp(0, 1);
  if (rounds) return out.mul(255.0).round().div(255.0);
  return out;
}

/**
 * generate_gaussian_noise_pt: colour noise randn(b,c,h,w)·σ/255; when any sample is grey a single
 * randn(h, w) field (drawn first) scaled per sample replaces it for the grey samples.
 * sigma (b) in 0–255 units, gray (b) of 0/1.
 */
export function generateGaussianNoisePt(img: Tensor, sigma: Tensor, gray: Tensor, draw: GaussianDraw): Tensor {
  const op = 'generateGaussianNoisePt';
  const [b, , h, w] = checkImage(op, img);
  return torch.scope(() => {
    const s = perSample(op, 'sigma', sigma, b);
    const g = perSample(op, 'gray', gray, b);
    const calGray = g.sum().item() > 0;
    let noiseGray: Tensor | undefined;
    if (calGray) noiseGray = draw([h, w], 'gray').mul(s).div(255.0).view(b, 1, h, w);
    // always calculate color noise
    let noise = draw(img.shape, 'color').mul(s).div(255.0);
    if (noiseGray) noise = noise.mul(torch.rsub(g, 1)).add(noiseGray.mul(g));
    return noise;
  });
}

export function addGaussianNoisePt(img: Tensor, sigma: Tensor, gray: Tensor, draw: GaussianDraw, clip = true, rounds = false): Tensor {
  return torch.scope(() => finish(img, generateGaussianNoisePt(img, sigma, gray, draw), clip, rounds));
}

/** The per-sample draws of random_generate_*_noise_pt: level = rand·(hi − lo) + lo, grey = rand < p. */
export function sampleNoiseLevels(gen: Generator, b: number, range: [number, number], grayProb: number): { level: Tensor; gray: Tensor } {
  return torch.scope(() => {
    const level = torch.rand([b], { generator: gen }).mul(range[1] - range[0]).add(range[0]);
    const gray = torch.rand([b], { generator: gen }).lt(grayProb).float();
    return { level, gray };
  });
}

/** random_add_gaussian_noise_pt with the torch generator. */
export function randomAddGaussianNoisePt(img: Tensor, sigmaRange: [number, number], grayProb: number, gen: Generator, clip = true, rounds = false): Tensor {
  return torch.scope(() => {
    const { level, gray } = sampleNoiseLevels(gen, img.size(0), sigmaRange, grayProb);
    return addGaussianNoisePt(img, level, gray, gaussianFrom(gen), clip, rounds);
  });
}

/** torchvision 0.14.1 rgb_to_grayscale (num_output_channels=1): 0.2989 R + 0.587 G + 0.114 B, kept as (b, 1, h, w). */
export function rgbToGrayscale(img: Tensor): Tensor {
  return torch.scope(() => {
    const [r, g, bl] = img.unbind(-3) as [Tensor, Tensor, Tensor];
    return r.mul(0.2989).add(g.mul(0.587)).add(bl.mul(0.114)).unsqueeze(-3);
  });
}

/** Distinct values per sample of an 8-bit-quantised (0..255 integer-valued) tensor. */
function uniqueCounts(levels: Tensor): number[] {
  const b = levels.size(0);
  const per = levels.numel / b;
  const v = levels.toFloat32Array();
  const out: number[] = [];
  const seen = new Uint8Array(256);
  for (let i = 0; i < b; i++) {
    seen.fill(0);
    let n = 0;
    for (let j = i * per, e = (i + 1) * per; j < e; j++) {
      const q = v[j]!;
      if (!seen[q]) { seen[q] = 1; n++; }
    }
    out.push(n);
  }
  return out;
}

export interface PoissonNoiseResult {
  noise: Tensor;
  /** The colour rate passed to the sampler: quantised image × vals. */
  rate: Tensor;
  rateGray?: Tensor;
  unique: number[];
  vals: number[];
  uniqueGray?: number[];
  valsGray?: number[];
}

// One branch of generate_poisson_noise_pt: quantise to 8 bit, count levels, sample, noise = out − q.
function poissonBranch(x: Tensor, which: 'gray' | 'color', draw: PoissonDraw): { noise: Tensor; rate: Tensor; unique: number[]; vals: number[] } {
  const b = x.size(0);
  // round and clip image for counting vals correctly
  const levels = x.mul(255.0).round().clamp(0, 255);
  const q = levels.div(255.0);
  const unique = uniqueCounts(levels);
  const vals = unique.map((n) => 2 ** Math.ceil(Math.log2(n)));
  const v = torch.tensor(vals).view(b, 1, 1, 1);
  const rate = q.mul(v);
  const out = draw(rate, which).div(v);
  return { noise: out.sub(q), rate, unique, vals };
}

/** generate_poisson_noise_pt; scale (b), gray (b) of 0/1. Grey samples are drawn before colour ones. */
export function generatePoissonNoisePt(img: Tensor, scale: Tensor, gray: Tensor, draw: PoissonDraw): PoissonNoiseResult {
  const op = 'generatePoissonNoisePt';
  const [b, , h, w] = checkImage(op, img);
  return torch.scope(() => {
    const g = perSample(op, 'gray', gray, b);
    const calGray = g.sum().item() > 0;
    let grayPart: ReturnType<typeof poissonBranch> | undefined;
    if (calGray) grayPart = poissonBranch(rgbToGrayscale(img), 'gray', draw);
    // always calculate color noise
    const color = poissonBranch(img, 'color', draw);
    let noise = color.noise;
    if (grayPart) noise = noise.mul(torch.rsub(g, 1)).add(grayPart.noise.expand(b, 3, h, w).mul(g));
    noise = noise.mul(perSample(op, 'scale', scale, b));
    const r: PoissonNoiseResult = { noise, rate: color.rate, unique: color.unique, vals: color.vals };
    if (grayPart) { r.rateGray = grayPart.rate; r.uniqueGray = grayPart.unique; r.valsGray = grayPart.vals; }
    return r;
  });
}

export function addPoissonNoisePt(img: Tensor, scale: Tensor, gray: Tensor, draw: PoissonDraw, clip = true, rounds = false): Tensor {
  return torch.scope(() => finish(img, generatePoissonNoisePt(img, scale, gray, draw).noise, clip, rounds));
}

/** random_add_poisson_noise_pt with the torch generator. */
export function randomAddPoissonNoisePt(img: Tensor, scaleRange: [number, number], grayProb: number, gen: Generator, clip = true, rounds = false): Tensor {
  return torch.scope(() => {
    const { level, gray } = sampleNoiseLevels(gen, img.size(0), scaleRange, grayProb);
    return addPoissonNoisePt(img, level, gray, poissonFrom(gen), clip, rounds);
  });
}
