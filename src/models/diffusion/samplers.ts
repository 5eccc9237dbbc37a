// The three samplers (MODEL_SPEC.md §1.4–§1.7, §4.2): ResShift's stochastic p_sample_loop,
// SinSR's deterministic ddim_sample_loop and one-step sampling, in latent space and end to end
// (sample_func: pad, bicubic ×4, encode, sample, decode, crop, clamp).
// Ports ResShift@3ce1d81:models/gaussian_diffusion.py p_sample_loop_progressive,
// SinSR@f173549:models/gaussian_diffusion.py ddim_sample_loop_progressive / p_sample_loop(one_step)
// and the sample_func of ResShift@3ce1d81:sampler.py / SinSR@f173549:sampler.py.
//
// Noise is a NoiseSource: the sampler asks for each draw in upstream's order (prior first, then one
// per step for the stochastic sampler, one discarded draw for one-step), so a seeded source
// reproduces the run, and a source of given tensors makes a run testable without RNG parity.
import * as torch from '../../engine/index.js';
import { Tensor } from '../../engine/index.js';
import { GaussianDiffusion, DiffusionError, type Denoiser, type MeanVariance } from './gaussian.js';

/** Standard normal noise of a shape (f32, on the latent's device), one call per upstream draw. */
export type NoiseSource = (shape: number[]) => Tensor;

/**
 * Draws from one torch.Generator seeded once (upstream seeds once per sampler, never per image):
 * the CPU stream, moved to the device, so a seed gives the same noise on every device.
 */
export function seededNoise(seed: number, device = 'cpu'): NoiseSource {
  if (!Number.isSafeInteger(seed) || seed < 0) throw new DiffusionError(`seed must be a non-negative integer, got ${String(seed)}`);
  return generatorNoise(new torch.Generator(seed), device);
}

/** Draws from a caller's generator (its stream continues across calls, tiles and images). */
export function generatorNoise(g: torch.Generator, device = 'cpu'): NoiseSource {
  if (!(g instanceof torch.Generator)) throw new DiffusionError('generatorNoise: expected a torch.Generator');
  return (shape) => (device === 'cpu' ? torch.randn(shape, { generator: g }) : torch.scope(() => torch.randn(shape, { generator: g }).to({ device })));
}

/**
 * Hands out the given tensors in order (parity: upstream's draws, injected). Draws past the end
 * are an error, except that `extra: 'zeros'` answers them with zeros (for draws upstream discards,
 * such as one-step's second).
 */
export function tensorNoise(tensors: readonly Tensor[], opts: { extra?: 'error' | 'zeros' } = {}): NoiseSource {
  let i = 0;
  return (shape) => {
    const t = tensors[i++];
    if (!t) {
      if (opts.extra === 'zeros') return torch.zeros(shape);
      throw new DiffusionError(`noise: the sampler asked for draw ${i}, only ${tensors.length} given`);
    }
    if (!(t instanceof Tensor) || t.isDisposed) throw new DiffusionError(`noise: draw ${i} is not a live Tensor`);
    if (t.shape.join() !== shape.join()) throw new DiffusionError(`noise: draw ${i} has shape [${t.shape.join(', ')}], the sampler needs [${shape.join(', ')}]`);
    return t.clone();
  };
}

/** One reverse step as the progress callbacks see it. The tensors are valid during the call only. */
export interface StepRecord {
  /** Position in the loop (0 = first network call). */
  step: number;
  /** Diffusion index i (T−1 … 0). */
  index: number;
  /** The network's input, timesteps and output. */
  modelInput: Tensor;
  modelT: Tensor;
  predXstart: Tensor;
  /** Posterior mean (stochastic sampler only). */
  mean?: Tensor;
  /** The new latent (x̂_0 for the last step and for one-step). */
  sample: Tensor;
}

export interface LoopOptions {
  noise: NoiseSource;
  /** Clamp x̂_0 to [−1, 1] (upstream: only without an autoencoder; false for every latent preset). */
  clipDenoised?: boolean;
  /** Start from this x_T instead of the prior sample (ddim_sample_loop's zT). */
  zT?: Tensor;
  onPrior?: (xT: Tensor) => void;
  onStep?: (r: StepRecord) => void;
}

function checkLatents(zY: Tensor, lq: Tensor): void {
  if (!(zY instanceof Tensor) || zY.isDisposed || zY.ndim !== 4) throw new DiffusionError('sampler: z_y must be a live 4-D latent tensor');
  if (!(lq instanceof Tensor) || lq.isDisposed || lq.ndim !== 4) throw new DiffusionError('sampler: lq must be a live 4-D image tensor');
  if (lq.size(0) !== zY.size(0)) throw new DiffusionError(`sampler: lq has batch ${lq.size(0)}, z_y ${zY.size(0)}`);
}

/** x_T: the given zT, or prior_sample(z_y, ε_T) with ε_T the first draw. */
function start(d: GaussianDiffusion, zY: Tensor, opts: LoopOptions): Tensor {
  let z: Tensor;
  if (opts.zT) {
    if (opts.zT.shape.join() !== zY.shape.join()) throw new DiffusionError(`sampler: zT has shape [${opts.zT.shape.join(', ')}], z_y [${zY.shape.join(', ')}]`);
    z = opts.zT.clone();
  } else {
    z = torch.scope(() => d.priorSample(zY, opts.noise(zY.shape)));
  }
  opts.onPrior?.(z);
  return z;
}

/** Runs step(i) for i = T−1 … 0 (or only T−1), each in its own scope, replacing z. */
function loop(d: GaussianDiffusion, z0: Tensor, steps: number, step: (z: Tensor, index: number, k: number) => Tensor): Tensor {
  let z = z0;
  for (let k = 0; k < steps; k++) {
    const index = d.numTimesteps - 1 - k;
    const next = torch.scope(() => step(z, index, k));
    z.dispose();
    z = next;
  }
  return z;
}

/** ResShift's stochastic sampler (§1.4): T network calls, T + 1 draws (the i = 0 draw is multiplied by 0). */
export function pSampleLoop(d: GaussianDiffusion, zY: Tensor, lq: Tensor, denoise: Denoiser, opts: LoopOptions): Tensor {
  checkLatents(zY, lq);
  return torch.noGrad(() => {
    const xT = start(d, zY, opts);
    return loop(d, xT, d.numTimesteps, (z, index, k) => {
      const t = new Array<number>(z.size(0)).fill(index);
      const out: MeanVariance = d.pMeanVariance(denoise, z, t, lq, { clipDenoised: opts.clipDenoised });
      const noise = opts.noise(z.shape);
      const sample = d.pSampleFromMean(out, t, noise);
      opts.onStep?.({ step: k, index, modelInput: out.modelInput, modelT: out.modelT, predXstart: out.predXstart, mean: out.mean, sample });
      return sample;
    });
  });
}

/** SinSR's deterministic sampler (§1.5): T network calls, one draw (the prior). */
export function ddimSampleLoop(d: GaussianDiffusion, zY: Tensor, lq: Tensor, denoise: Denoiser, opts: LoopOptions): Tensor {
  checkLatents(zY, lq);
  return torch.noGrad(() => {
    const xT = start(d, zY, opts);
    return loop(d, xT, d.numTimesteps, (z, index, k) => {
      const t = new Array<number>(z.size(0)).fill(index);
      const out = d.pMeanVariance(denoise, z, t, lq, { clipDenoised: opts.clipDenoised });
      const sample = d.ddimSampleFromPred(out.predXstart, z, zY, d.ddimCoefficients(t, z));
      opts.onStep?.({ step: k, index, modelInput: out.modelInput, modelT: out.modelT, predXstart: out.predXstart, sample });
      return sample;
    });
  });
}

/**
 * One-step sampling (§1.6): x̂_0 = model(x_T scaled at T−1, T−1, lq). Like upstream's p_sample it
 * makes (and discards) a second draw after the network call, so a seeded stream continues as
 * upstream's does for the next tile or image.
 */
export function oneStepSample(d: GaussianDiffusion, zY: Tensor, lq: Tensor, denoise: Denoiser, opts: LoopOptions): Tensor {
  checkLatents(zY, lq);
  return torch.noGrad(() => {
    const xT = start(d, zY, opts);
    return loop(d, xT, 1, (z, index, k) => {
      const t = new Array<number>(z.size(0)).fill(index);
      const out = d.pMeanVariance(denoise, z, t, lq, { clipDenoised: opts.clipDenoised });
      opts.noise(z.shape).dispose();
      opts.onStep?.({ step: k, index, modelInput: out.modelInput, modelT: out.modelT, predXstart: out.predXstart, sample: out.predXstart });
      return out.predXstart;
    });
  });
}

/**
 * SinSR's ddim_inverse_loop (§1.5; no config uses it): from the HR latent x_0 = zX, for
 * i = 1 … T−1, x_i = (x_{i−1} − k_i·x̂_0 − j_i·z_y) / m_i with x̂_0 evaluated on x_{i−1} at index i.
 * Returns x_{T−1}, the x_T from which the deterministic sampler regenerates zX.
 */
export function ddimInverseLoop(d: GaussianDiffusion, zX: Tensor, zY: Tensor, lq: Tensor, denoise: Denoiser, opts: { onStep?: (r: StepRecord) => void } = {}): Tensor {
  checkLatents(zY, lq);
  if (!(zX instanceof Tensor) || zX.isDisposed || zX.shape.join() !== zY.shape.join()) throw new DiffusionError('ddimInverseLoop: zX must be a live tensor of z_y\'s shape');
  return torch.noGrad(() => {
    let z = zX.clone();
    for (let i = 1; i < d.numTimesteps; i++) {
      const next = torch.scope(() => {
        const t = new Array<number>(z.size(0)).fill(i);
        const out = d.pMeanVariance(denoise, z, t, lq, { clipDenoised: false });
        const c = d.ddimCoefficients(t, z);
        // sample = (x - pred_xstart * ddim_k - ddim_j * y) / ddim_m
        const sample = z.sub(out.predXstart.mul(c.k)).sub(c.j.mul(zY)).div(c.m);
        opts.onStep?.({ step: i - 1, index: i, modelInput: out.modelInput, modelT: out.modelT, predXstart: out.predXstart, sample });
        return sample;
      });
      z.dispose();
      z = next;
    }
    return z;
  });
}

export type SamplerKind = 'stochastic' | 'ddim' | 'one-step';
export const SAMPLERS: Record<SamplerKind, typeof pSampleLoop> = { stochastic: pSampleLoop, ddim: ddimSampleLoop, 'one-step': oneStepSample };

/** A sampler as the pipeline calls it: z_0 = sample(z_y, lq, denoise, noise). */
export function latentSampler(d: GaussianDiffusion, kind: SamplerKind, opts: { clipDenoised?: boolean } = {}): (zY: Tensor, lq: Tensor, denoise: Denoiser, noise: NoiseSource) => Tensor {
  const f = SAMPLERS[kind];
  if (!f) throw new DiffusionError(`unknown sampler ${JSON.stringify(kind)} (expected ${Object.keys(SAMPLERS).join(', ')})`);
  return (zY, lq, denoise, noise) => f(d, zY, lq, denoise, { noise, clipDenoised: opts.clipDenoised });
}

// ---- end to end (sample_func) ----

/** What the samplers need of the autoencoder (VQModelTorch satisfies it). */
export interface FirstStage {
  encode(x: Tensor): Tensor;
  decode(z: Tensor, opts?: { onQuantize?: (q: { indices: Tensor }) => void }): Tensor;
}

/**
 * F.pad(x, (0, pw, 0, ph), mode='reflect'): bottom/right, mirror without repeating the edge. Where
 * upstream fails (pad ≥ size) it reflects again in chunks of at most size − 1 (vpdsr, §1.7 4a).
 */
export function reflectPadBottomRight(x: Tensor, padH: number, padW: number): Tensor {
  if (!Number.isInteger(padH) || !Number.isInteger(padW) || padH < 0 || padW < 0) throw new DiffusionError(`reflect padding must be non-negative integers, got ${padH}, ${padW}`);
  return torch.scope(() => {
    let y = x;
    for (const [dim, total] of [[3, padW], [2, padH]] as const) {
      let left = total;
      while (left > 0) {
        const n = y.size(dim);
        if (n < 2) throw new DiffusionError(`reflect padding needs at least 2 pixels along each side, got ${n}`);
        const p = Math.min(left, n - 1);
        y = torch.pad(y, dim === 3 ? [0, p, 0, 0] : [0, 0, 0, p], 'reflect');
        left -= p;
      }
    }
    return y === x ? x.clone() : y;
  });
}

export interface SampleImageOptions {
  kind: SamplerKind;
  firstStage: FirstStage;
  denoise: Denoiser;
  noise: NoiseSource;
  /** Pad the LR image to a multiple of this (64 = `padding_offset` / `desired_min_size`). */
  padTo?: number;
  clipDenoised?: boolean;
  onPrior?: (xT: Tensor) => void;
  onStep?: (r: StepRecord) => void;
  /** Sees the padded LR, z_y and the decoder's quantiser indices. Valid during the call only. */
  onStage?: (name: 'lq_padded' | 'z_y' | 'z_0' | 'dec_indices', t: Tensor) => void;
}

/**
 * sample_func for one batch of LR images y in [−1, 1] (§1.7 step 4): pad, z_y = encode(bicubic×sf(y)),
 * sample, decode, crop to sf·(h, w), clamp to [−1, 1]. Returns the SR batch in [−1, 1].
 */
export function sampleImage(d: GaussianDiffusion, y: Tensor, o: SampleImageOptions): Tensor {
  if (!(y instanceof Tensor) || y.isDisposed || y.ndim !== 4 || y.size(1) !== 3) throw new DiffusionError(`sampleImage: y must be a live [B, 3, h, w] tensor${y instanceof Tensor && !y.isDisposed ? `, got [${y.shape.join(', ')}]` : ''}`);
  const f = SAMPLERS[o.kind];
  if (!f) throw new DiffusionError(`sampleImage: unknown sampler ${JSON.stringify(o.kind)}`);
  const pad = o.padTo ?? 64;
  if (!Number.isInteger(pad) || pad < 1) throw new DiffusionError(`sampleImage: padTo must be a positive integer, got ${String(o.padTo)}`);
  const [, , h, w] = y.shape as [number, number, number, number];
  return torch.noGrad(() => torch.scope(() => {
    const ph = Math.ceil(h / pad) * pad - h, pw = Math.ceil(w / pad) * pad - w;
    const yPad = ph > 0 || pw > 0 ? reflectPadBottomRight(y, ph, pw) : y;
    o.onStage?.('lq_padded', yPad);
    const zY = encodeFirstStage(d, o.firstStage, yPad, true);
    o.onStage?.('z_y', zY);
    const z0 = f(d, zY, yPad, o.denoise, { noise: o.noise, clipDenoised: o.clipDenoised, onPrior: o.onPrior, onStep: o.onStep });
    o.onStage?.('z_0', z0);
    const out = decodeFirstStage(d, o.firstStage, z0, o.onStage ? (q) => o.onStage!('dec_indices', q.indices) : undefined);
    const sf = d.sf;
    const cropped = ph > 0 || pw > 0 ? out.narrow(2, 0, sf * h).narrow(3, 0, sf * w) : out;
    return cropped.clamp(-1, 1);
  }));
}

/** encode_first_stage: (bicubic ×sf if upSample) → encode → · scale_factor, in y's dtype. */
export function encodeFirstStage(d: GaussianDiffusion, fs: FirstStage, y: Tensor, upSample: boolean): Tensor {
  return torch.scope(() => {
    const x = upSample ? torch.interpolate(y, { scaleFactor: d.sf, mode: 'bicubic', alignCorners: false }) : y;
    let z = fs.encode(x);
    if (d.scaleFactor !== 1) z = z.mul(d.scaleFactor);
    return z.dtype === y.dtype ? z : z.to({ dtype: y.dtype });
  });
}

/** decode_first_stage: decode(z / scale_factor) (quantises), in z's dtype. */
export function decodeFirstStage(d: GaussianDiffusion, fs: FirstStage, z: Tensor, onQuantize?: (q: { indices: Tensor }) => void): Tensor {
  return torch.scope(() => {
    const zin = d.scaleFactor !== 1 ? z.mul(1 / d.scaleFactor) : z;
    const out = fs.decode(zin, onQuantize ? { onQuantize } : undefined);
    return out.dtype === z.dtype ? out : out.to({ dtype: z.dtype });
  });
}
