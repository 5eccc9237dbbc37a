// GaussianDiffusion of ResShift/SinSR (MODEL_SPEC.md §1.1, §1.3–§1.6, §4): the f64 schedule arrays
// and the per-step tensor arithmetic, with the f64 → f32 casts exactly where upstream makes them.
// Ports ResShift@3ce1d81:models/gaussian_diffusion.py and SinSR@f173549:models/gaussian_diffusion.py
// (the SinSR file adds etas_prev_clipped, ddim_coef1/2 and the deterministic sampler).
import * as torch from '../../engine/index.js';
import { Tensor } from '../../engine/index.js';
import { logCR } from './f64math.js';

export class DiffusionError extends RangeError {
  constructor(message: string) {
    super(message);
    this.name = 'DiffusionError';
  }
}

/**
 * The network call of every sampler and loss: x̂_0 = f(scaled z_t, t, lq) (§4.1). t is int64 [B]
 * (original indices under respacing). It must return a new tensor (the samplers dispose it).
 */
export type Denoiser = (x: Tensor, t: Tensor, lq: Tensor) => Tensor;

/** Timesteps as upstream passes them: an int64 tensor [B], or plain indices. */
export type Timesteps = Tensor | readonly number[];

export interface DiffusionOptions {
  /** `sqrt_etas` (f64) from getNamedEtaSchedule; all arrays are built from it. */
  sqrtEtas: Float64Array | readonly number[];
  kappa: number;
  /** `normalize_input` (true in every preset). */
  normalizeInput?: boolean;
  /** `latent_flag` (true in every preset): scale by the predicted std of z_t. */
  latentFlag?: boolean;
  /** `scale_factor` of the latent (1.0 in every preset). */
  scaleFactor?: number;
  /** Super-resolution factor `sf` (4). */
  sf?: number;
  /** `timestep_map[new] = original index` (respacing, §1.2.6); identity when absent. */
  timestepMap?: readonly number[];
}

/** What p_mean_variance returns (§1.3), plus the inputs the network saw. */
export interface MeanVariance {
  mean: Tensor;
  variance: Tensor;
  logVariance: Tensor;
  predXstart: Tensor;
  /** `_scale_input(x_t, t)`: the network's input. */
  modelInput: Tensor;
  /** The timesteps the network received (original indices). */
  modelT: Tensor;
}

/** The deterministic-sampler coefficients of SinSR's p_mean_variance, [B, 1, 1, 1] f32. */
export interface DdimCoefficients { k: Tensor; m: Tensor; j: Tensor }

function append0(first: number, rest: Float64Array): Float64Array {
  const out = new Float64Array(rest.length + 1);
  out[0] = first;
  out.set(rest, 1);
  return out;
}

const map = (a: Float64Array, f: (v: number, i: number) => number): Float64Array => Float64Array.from(a, f);

export class GaussianDiffusion {
  readonly kappa: number;
  readonly normalizeInput: boolean;
  readonly latentFlag: boolean;
  readonly scaleFactor: number;
  readonly sf: number;
  readonly numTimesteps: number;
  readonly timestepMap: readonly number[];

  // f64 arrays of GaussianDiffusion.__init__ (§1.1), named as upstream.
  readonly sqrtEtas: Float64Array;
  readonly etas: Float64Array;
  readonly etasPrev: Float64Array;
  readonly alpha: Float64Array;
  readonly posteriorVariance: Float64Array;
  readonly posteriorVarianceClipped: Float64Array;
  readonly posteriorLogVarianceClipped: Float64Array;
  readonly posteriorMeanCoef1: Float64Array;
  readonly posteriorMeanCoef2: Float64Array;
  readonly weightLossMse: Float64Array;
  readonly etasPrevClipped: Float64Array;
  readonly ddimCoef1: Float64Array;
  readonly ddimCoef2: Float64Array;
  // Products formed in f64 before lookup (§1.2.4): q_sample's sqrt_etas*kappa, prior's kappa*sqrt_etas.
  private readonly sqrtEtasTimesKappa: Float64Array;
  private readonly kappaTimesSqrtEtas: Float64Array;

  constructor(opts: DiffusionOptions) {
    if (opts === null || typeof opts !== 'object') throw new DiffusionError('GaussianDiffusion: options must be an object');
    const se = opts.sqrtEtas;
    if (!(se instanceof Float64Array) && !Array.isArray(se)) throw new DiffusionError('GaussianDiffusion: sqrtEtas must be a Float64Array or an array of numbers');
    const sqrtEtas = Float64Array.from(se as ArrayLike<number>);
    if (sqrtEtas.length < 1) throw new DiffusionError('GaussianDiffusion: sqrtEtas is empty');
    const kappa = opts.kappa;
    if (typeof kappa !== 'number' || !Number.isFinite(kappa) || !(kappa > 0)) throw new DiffusionError(`GaussianDiffusion: kappa must be a positive number, got ${String(kappa)}`);
    this.kappa = kappa;
    this.normalizeInput = opts.normalizeInput ?? true;
    this.latentFlag = opts.latentFlag ?? true;
    this.scaleFactor = opts.scaleFactor ?? 1.0;
    if (!(this.scaleFactor > 0) || !Number.isFinite(this.scaleFactor)) throw new DiffusionError(`GaussianDiffusion: scaleFactor must be a positive number, got ${String(opts.scaleFactor)}`);
    this.sf = opts.sf ?? 4;
    if (!Number.isInteger(this.sf) || this.sf < 1 || this.sf > 16) throw new DiffusionError(`GaussianDiffusion: sf must be an integer from 1 to 16, got ${String(opts.sf)}`);

    this.sqrtEtas = sqrtEtas;
    this.etas = map(sqrtEtas, (v) => v * v); // numpy's sqrt_etas**2 is a square
    // assert (self.etas > 0).all() and (self.etas <= 1).all()
    this.etas.forEach((e, i) => {
      if (!(e > 0 && e <= 1)) throw new DiffusionError(`GaussianDiffusion: etas must lie in (0, 1], got etas[${i}] = ${e}`);
    });
    const T = this.etas.length;
    this.numTimesteps = T;
    const tm = opts.timestepMap ?? Array.from({ length: T }, (_, i) => i);
    if (tm.length !== T || tm.some((v) => !Number.isInteger(v) || v < 0)) throw new DiffusionError(`GaussianDiffusion: timestepMap must hold ${T} non-negative integers`);
    this.timestepMap = [...tm];

    this.etasPrev = append0(0.0, this.etas.subarray(0, T - 1));
    this.alpha = map(this.etas, (e, i) => e - this.etasPrev[i]!);
    const k2 = kappa * kappa; // Python kappa**2
    // kappa**2 * etas_prev / etas * alpha, left to right
    this.posteriorVariance = map(this.etas, (e, i) => ((k2 * this.etasPrev[i]!) / e) * this.alpha[i]!);
    const pv1 = T > 1 ? this.posteriorVariance[1]! : this.posteriorVariance[0]!;
    this.posteriorVarianceClipped = append0(pv1, this.posteriorVariance.subarray(1));
    this.posteriorLogVarianceClipped = map(this.posteriorVarianceClipped, (v) => logCR(v));
    this.posteriorMeanCoef1 = map(this.etas, (e, i) => this.etasPrev[i]! / e);
    this.posteriorMeanCoef2 = map(this.etas, (e, i) => this.alpha[i]! / e);
    // 0.5 / posterior_variance_clipped * (alpha / etas)**2   (x0 prediction)
    this.weightLossMse = map(this.etas, (e, i) => { const r = this.alpha[i]! / e; return (0.5 / this.posteriorVarianceClipped[i]!) * (r * r); });
    const ep1 = T > 1 ? this.etasPrev[1]! : this.etasPrev[0]!;
    this.etasPrevClipped = append0(ep1, this.etasPrev.subarray(1));
    this.ddimCoef1 = map(this.etas, (e, i) => this.etasPrev[i]! * e);
    this.ddimCoef2 = map(this.etas, (e, i) => this.etasPrev[i]! / e);
    this.sqrtEtasTimesKappa = map(sqrtEtas, (v) => v * kappa);
    this.kappaTimesSqrtEtas = map(sqrtEtas, (v) => kappa * v);
  }

  /** Timestep indices as numbers, checked against [0, T). */
  indices(t: Timesteps, batch?: number): number[] {
    let idx: number[];
    if (t instanceof Tensor) {
      if (t.isDisposed) throw new DiffusionError('timesteps: tensor was disposed');
      if (t.ndim !== 1) throw new DiffusionError(`timesteps: expected a 1-D tensor [B], got shape [${t.shape.join(', ')}]`);
      if (t.dtype !== 'int64' && t.dtype !== 'int32') throw new DiffusionError(`timesteps: expected an int64 tensor, got ${t.dtype}`);
      idx = torch.scope(() => Array.from(t.cpu().toArray() as ArrayLike<number | bigint>, Number));
    } else if (Array.isArray(t)) {
      idx = [...t];
    } else {
      throw new DiffusionError('timesteps: expected an int64 tensor or an array of integers');
    }
    for (const v of idx) {
      if (!Number.isInteger(v) || v < 0 || v >= this.numTimesteps) throw new DiffusionError(`timesteps: index ${v} outside [0, ${this.numTimesteps})`);
    }
    if (batch !== undefined && idx.length !== batch) throw new DiffusionError(`timesteps: ${idx.length} given for a batch of ${batch}`);
    return idx;
  }

  /** An int64 tensor [B] of the given indices on a device. */
  timestepTensor(idx: readonly number[], device = 'cpu'): Tensor {
    if (device === 'cpu') return torch.tensor([...idx], { dtype: 'int64' });
    return torch.scope(() => torch.tensor([...idx], { dtype: 'int64' }).to({ device }));
  }

  /**
   * _extract_into_tensor: arr[t] cast to f32, shaped [B, 1, …, 1] to broadcast against `like`.
   * (Upstream expands to the full shape; broadcasting gives the same elementwise values.)
   */
  extract(arr: Float64Array, t: Timesteps, like: Tensor): Tensor {
    const idx = this.indices(t, like.size(0));
    const v = Float32Array.from(idx, (i) => arr[i]!); // .float(): round to nearest f32
    const shape = [idx.length, ...new Array<number>(like.ndim - 1).fill(1)];
    if (like.device === 'cpu') return torch.fromTypedArray(v, shape);
    return torch.scope(() => torch.fromTypedArray(v, shape).to({ device: like.device }));
  }

  private checkLatent(op: string, name: string, x: unknown, ref?: Tensor): Tensor {
    if (!(x instanceof Tensor) || x.isDisposed) throw new DiffusionError(`${op}: ${name} must be a live Tensor`);
    if (x.ndim !== 4) throw new DiffusionError(`${op}: ${name} must be 4-D [B, C, H, W], got shape [${x.shape.join(', ')}]`);
    if (!torch.isFloating(x.dtype)) throw new DiffusionError(`${op}: ${name} must be floating point, got ${x.dtype}`);
    if (ref && x.shape.join() !== ref.shape.join()) throw new DiffusionError(`${op}: ${name} has shape [${x.shape.join(', ')}], expected [${ref.shape.join(', ')}]`);
    return x;
  }

  /** q_sample: f32(η_t)·(y − x_0) + x_0 + f32(√η_t·κ)·ε (§1.1, this operand order). */
  qSample(xStart: Tensor, y: Tensor, t: Timesteps, noise: Tensor): Tensor {
    this.checkLatent('qSample', 'xStart', xStart);
    this.checkLatent('qSample', 'y', y, xStart);
    this.checkLatent('qSample', 'noise', noise, xStart);
    return torch.scope(() => this.extract(this.etas, t, xStart).mul(y.sub(xStart)).add(xStart)
      .add(this.extract(this.sqrtEtasTimesKappa, t, xStart).mul(noise)));
  }

  /** prior_sample: y + f32(κ·√η_{T−1})·ε. */
  priorSample(y: Tensor, noise: Tensor): Tensor {
    this.checkLatent('priorSample', 'y', y);
    this.checkLatent('priorSample', 'noise', noise, y);
    const last = new Array<number>(y.size(0)).fill(this.numTimesteps - 1);
    return torch.scope(() => y.add(this.extract(this.kappaTimesSqrtEtas, last, y).mul(noise)));
  }

  /** _scale_input: z / sqrt(f32(η_t)·κ² + 1) (latent) or z / (f32(√η_t)·κ·3 + 1) (pixel), in f32. */
  scaleInput(x: Tensor, t: Timesteps): Tensor {
    this.checkLatent('scaleInput', 'x', x);
    if (!this.normalizeInput) return torch.scope(() => x.clone());
    return torch.scope(() => {
      if (this.latentFlag) return x.div(this.extract(this.etas, t, x).mul(this.kappa * this.kappa).add(1).sqrt());
      return x.div(this.extract(this.sqrtEtas, t, x).mul(this.kappa).mul(3).add(1));
    });
  }

  /** The timesteps the network receives: timestep_map[t] (SpacedDiffusion's _WrappedModel). */
  modelTimesteps(t: Timesteps, device: string, batch: number): Tensor {
    return this.timestepTensor(this.indices(t, batch).map((i) => this.timestepMap[i]!), device);
  }

  /** q_posterior_mean_variance's mean: f32(c1_t)·x_t + f32(c2_t)·x_0. */
  posteriorMean(xStart: Tensor, xT: Tensor, t: Timesteps): Tensor {
    return torch.scope(() => this.extract(this.posteriorMeanCoef1, t, xT).mul(xT)
      .add(this.extract(this.posteriorMeanCoef2, t, xT).mul(xStart)));
  }

  /**
   * p_mean_variance for an x_0-predicting network (§1.3): x̂_0 = model(scale_input(x_t, t), map[t], lq),
   * clamped to [−1, 1] only when clipDenoised (false for every latent preset).
   */
  pMeanVariance(model: Denoiser, xT: Tensor, t: Timesteps, lq: Tensor, opts: { clipDenoised?: boolean } = {}): MeanVariance {
    this.checkLatent('pMeanVariance', 'x_t', xT);
    if (typeof model !== 'function') throw new DiffusionError('pMeanVariance: model must be a function (x, t, lq) => x0');
    const idx = this.indices(t, xT.size(0));
    return torch.scope(() => {
      const modelInput = this.scaleInput(xT, idx);
      const modelT = this.modelTimesteps(idx, xT.device, xT.size(0));
      const out = model(modelInput, modelT, lq);
      if (!(out instanceof Tensor) || out.isDisposed || out.shape.join() !== xT.shape.join()) {
        throw new DiffusionError(`pMeanVariance: the model must return a tensor of shape [${xT.shape.join(', ')}], got ${out instanceof Tensor ? `[${out.shape.join(', ')}]` : typeof out}`);
      }
      const predXstart = opts.clipDenoised ? out.clamp(-1, 1) : out;
      return {
        mean: this.posteriorMean(predXstart, xT, idx),
        variance: this.extract(this.posteriorVariance, idx, xT),
        logVariance: this.extract(this.posteriorLogVarianceClipped, idx, xT),
        predXstart,
        modelInput,
        modelT,
      };
    });
  }

  /** SinSR's k, m, j (§1.5): computed in f32 from the f32-cast arrays. */
  ddimCoefficients(t: Timesteps, like: Tensor): DdimCoefficients {
    return torch.scope(() => {
      const c1 = this.extract(this.ddimCoef1, t, like).sqrt();
      const c2 = this.extract(this.ddimCoef2, t, like).sqrt();
      const etasPrev = this.extract(this.etasPrev, t, like);
      // k = (1 - etas_prev + sqrt(ddim_coef1) - sqrt(ddim_coef2)); m = sqrt(ddim_coef2); j = etas_prev - sqrt(ddim_coef1)
      return { k: torch.rsub(etasPrev, 1).add(c1).sub(c2), m: c2, j: etasPrev.sub(c1) };
    });
  }

  /** p_sample's update: mean + [t ≠ 0]·exp(0.5·log σ̃²)·ε (the noise is drawn even at t = 0). */
  pSampleFromMean(out: MeanVariance, t: Timesteps, noise: Tensor): Tensor {
    const idx = this.indices(t, out.mean.size(0));
    this.checkLatent('pSample', 'noise', noise, out.mean);
    return torch.scope(() => {
      const maskVals = Float32Array.from(idx, (i) => (i !== 0 ? 1 : 0));
      let mask = torch.fromTypedArray(maskVals, [idx.length, 1, 1, 1]);
      if (out.mean.device !== 'cpu') mask = mask.to({ device: out.mean.device });
      return out.mean.add(mask.mul(out.logVariance.mul(0.5).exp()).mul(noise));
    });
  }

  /** ddim_sample's update: x̂_0·k + m·x_t + j·y. */
  ddimSampleFromPred(predXstart: Tensor, xT: Tensor, y: Tensor, c: DdimCoefficients): Tensor {
    return torch.scope(() => predXstart.mul(c.k).add(c.m.mul(xT)).add(c.j.mul(y)));
  }
}
