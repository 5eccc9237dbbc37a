// Blur kernels of the Real-ESRGAN degradation (BasicSR@8d56e3a basicsr/data/degradations.py) and
// ResShift's per-image kernel draw (ResShift@3ce1d81 basicsr/data/realesrgan_dataset.py,
// RealESRGANDataset.__getitem__). Kernels are computed in float64 in plain JS (they are at most
// 21×21) and become float32 tensors only when handed to the pipeline, as upstream does.
import * as torch from '../../engine/index.js';
import { Tensor } from '../../engine/index.js';
import type { RandomSource } from '../rng.js';

/** A square kernel in float64, row-major (row i = y, column j = x). */
export interface Kernel {
  size: number;
  data: Float64Array;
}

export type KernelType = 'iso' | 'aniso' | 'generalized_iso' | 'generalized_aniso' | 'plateau_iso' | 'plateau_aniso';
export const KERNEL_TYPES: readonly KernelType[] = ['iso', 'aniso', 'generalized_iso', 'generalized_aniso', 'plateau_iso', 'plateau_aniso'];

function checkSize(op: string, k: unknown): number {
  if (typeof k !== 'number' || !Number.isInteger(k) || k < 1 || k > 255 || k % 2 !== 1) throw new RangeError(`${op}(): kernel_size must be an odd integer in [1, 255], got ${String(k)}`);
  return k;
}

function checkPositive(op: string, name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw new RangeError(`${op}(): ${name} must be a finite number > 0, got ${String(v)}`);
  return v;
}

function checkFinite(op: string, name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new RangeError(`${op}(): ${name} must be a finite number, got ${String(v)}`);
  return v;
}

/** sigma_matrix2: R · diag(σx², σy²) · Rᵀ, in numpy's np.dot order. */
export function sigmaMatrix2(sigX: number, sigY: number, theta: number): [number, number, number, number] {
  const d0 = sigX * sigX, d1 = sigY * sigY;
  const c = Math.cos(theta), s = Math.sin(theta);
  // u = [[c, -s], [s, c]]; inner = d · uᵀ = [[d0·c, d0·s], [-d1·s, d1·c]]; u · inner
  const i00 = d0 * c, i01 = d0 * s, i10 = d1 * -s, i11 = d1 * c;
  return [c * i00 + -s * i10, c * i01 + -s * i11, s * i00 + c * i10, s * i01 + c * i11];
}

function inverse2(m: [number, number, number, number]): [number, number, number, number] {
  const [a, b, c, d] = m;
  const det = a * d - b * c;
  if (!(Math.abs(det) > 0) || !Number.isFinite(det)) throw new RangeError('kernel: the covariance matrix is singular');
  return [d / det, -b / det, -c / det, a / det];
}

function covariance(sigX: number, sigY: number, theta: number, isotropic: boolean): [number, number, number, number] {
  return isotropic ? [sigX * sigX, 0, 0, sigX * sigX] : sigmaMatrix2(sigX, sigY, theta);
}

// Q(x, y) = [x y] Σ⁻¹ [x y]ᵀ on mesh_grid(k): x = axis[j] (columns), y = axis[i] (rows).
function quadraticForm(k: number, inv: [number, number, number, number], f: (q: number) => number): Kernel {
  const data = new Float64Array(k * k);
  const half = (k - 1) / 2;
  let sum = 0;
  for (let i = 0; i < k; i++) {
    const y = i - half;
    for (let j = 0; j < k; j++) {
      const x = j - half;
      // np.dot(grid, inv) * grid summed over the last axis
      const q = (x * inv[0] + y * inv[2]) * x + (x * inv[1] + y * inv[3]) * y;
      const v = f(q);
      data[i * k + j] = v;
    }
  }
  for (let n = 0; n < data.length; n++) sum += data[n]!;
  for (let n = 0; n < data.length; n++) data[n] = data[n]! / sum;
  return { size: k, data };
}

/** bivariate_Gaussian: exp(−½·Q), normalised. Isotropic uses only sigX. */
export function bivariateGaussian(kernelSize: number, sigX: number, sigY: number, theta: number, isotropic = true): Kernel {
  const op = 'bivariateGaussian';
  const k = checkSize(op, kernelSize);
  checkPositive(op, 'sig_x', sigX);
  if (!isotropic) { checkPositive(op, 'sig_y', sigY); checkFinite(op, 'theta', theta); }
  const inv = inverse2(covariance(sigX, sigY, theta, isotropic));
  return quadraticForm(k, inv, (q) => Math.exp(-0.5 * q));
}

/** bivariate_generalized_Gaussian: exp(−½·Q^β), normalised. */
export function bivariateGeneralizedGaussian(kernelSize: number, sigX: number, sigY: number, theta: number, beta: number, isotropic = true): Kernel {
  const op = 'bivariateGeneralizedGaussian';
  const k = checkSize(op, kernelSize);
  checkPositive(op, 'sig_x', sigX); checkPositive(op, 'beta', beta);
  if (!isotropic) { checkPositive(op, 'sig_y', sigY); checkFinite(op, 'theta', theta); }
  const inv = inverse2(covariance(sigX, sigY, theta, isotropic));
  return quadraticForm(k, inv, (q) => Math.exp(-0.5 * Math.pow(q, beta)));
}

/** bivariate_plateau: 1 / (Q^β + 1), normalised. */
export function bivariatePlateau(kernelSize: number, sigX: number, sigY: number, theta: number, beta: number, isotropic = true): Kernel {
  const op = 'bivariatePlateau';
  const k = checkSize(op, kernelSize);
  checkPositive(op, 'sig_x', sigX); checkPositive(op, 'beta', beta);
  if (!isotropic) { checkPositive(op, 'sig_y', sigY); checkFinite(op, 'theta', theta); }
  const inv = inverse2(covariance(sigX, sigY, theta, isotropic));
  return quadraticForm(k, inv, (q) => 1 / (Math.pow(q, beta) + 1));
}

// ---- Bessel J1 (port of Cephes j1.c, as scipy.special.j1 uses) ----
const RP = [-8.99971225705559398224e8, 4.52228297998194034323e11, -7.27494245221818276015e13, 3.68295732863852883286e15];
const RQ = [6.20836478118054335476e2, 2.56987256757748830383e5, 8.35146791431949253037e7, 2.21511595479792499675e10,
  4.74914122079991414898e12, 7.84369607876235854894e14, 8.95222336184627338078e16, 5.32278620332680085395e18];
const PP = [7.62125616208173112003e-4, 7.31397056940917570436e-2, 1.12719608129684925192e0, 5.11207951146807644818e0,
  8.42404590141772420927e0, 5.21451598682361504063e0, 1.00000000000000000254e0];
const PQ = [5.71323128072548699714e-4, 6.88455908754495404082e-2, 1.10514232634061696926e0, 5.07386386128601488557e0,
  8.39985554327604159757e0, 5.20982848682361821619e0, 9.99999999999999997461e-1];
const QP = [5.10862594750176621635e-2, 4.98213872951233449420e0, 7.58238284132545283818e1, 3.66779609360150777800e2,
  7.10856304998926107277e2, 5.97489612400613639965e2, 2.11688757100572135698e2, 2.52070205858023719784e1];
const QQ = [7.42373277035675149943e1, 1.05644886038262816351e3, 4.98641058337653607651e3, 9.56231892404756170795e3,
  7.99704160447350683650e3, 2.82619278517639096600e3, 3.36093607810698293419e2];
const Z1 = 1.46819706421238932572e1, Z2 = 4.92184563216946036703e1;
const THPIO4 = 2.35619449019234492885, SQ2OPI = 0.79788456080286535588;

function polevl(x: number, c: number[]): number { let a = c[0]!; for (let i = 1; i < c.length; i++) a = a * x + c[i]!; return a; }
function p1evl(x: number, c: number[]): number { let a = x + c[0]!; for (let i = 1; i < c.length; i++) a = a * x + c[i]!; return a; }

/** Bessel function of the first kind, order 1 (Cephes j1). */
export function besselJ1(x: number): number {
  if (x < 0) return -besselJ1(-x);
  if (x <= 5) {
    const z = x * x;
    const w = polevl(z, RP) / p1evl(z, RQ);
    return w * x * (z - Z1) * (z - Z2);
  }
  const w = 5 / x, z = w * w;
  const p0 = polevl(z, PP) / polevl(z, PQ);
  const q = polevl(z, QP) / p1evl(z, QQ);
  const xn = x - THPIO4;
  const p = p0 * Math.cos(xn) - w * q * Math.sin(xn);
  return (p * SQ2OPI) / Math.sqrt(x);
}

/** Zero-pads a kernel centrally to size `to` (no-op when to <= size), as np.pad. */
export function padKernel(kernel: Kernel, to: number): Kernel {
  if (to <= kernel.size) return kernel;
  if ((to - kernel.size) % 2 !== 0) throw new RangeError(`padKernel(): cannot pad a ${kernel.size}×${kernel.size} kernel centrally to ${to}`);
  const p = (to - kernel.size) / 2;
  const data = new Float64Array(to * to);
  for (let i = 0; i < kernel.size; i++) data.set(kernel.data.subarray(i * kernel.size, (i + 1) * kernel.size), (i + p) * to + p);
  return { size: to, data };
}

/** circular_lowpass_kernel: the 2-D sinc ω_c·J1(ω_c·r)/(2πr), centre ω_c²/(4π), normalised, then padded. */
export function circularLowpassKernel(cutoff: number, kernelSize: number, padTo = 0): Kernel {
  const op = 'circularLowpassKernel';
  const k = checkSize(op, kernelSize);
  checkPositive(op, 'cutoff', cutoff);
  if (!Number.isInteger(padTo) || padTo < 0 || (padTo > k && (padTo - k) % 2 !== 0)) throw new RangeError(`${op}(): pad_to must be 0 or an odd size, got ${padTo}`);
  const data = new Float64Array(k * k);
  const c = (k - 1) / 2;
  for (let i = 0; i < k; i++) {
    for (let j = 0; j < k; j++) {
      const r = Math.sqrt((i - c) ** 2 + (j - c) ** 2);
      data[i * k + j] = (cutoff * besselJ1(cutoff * r)) / (2 * Math.PI * r);
    }
  }
  data[((k - 1) / 2) * k + (k - 1) / 2] = cutoff ** 2 / (4 * Math.PI);
  let sum = 0;
  for (let n = 0; n < data.length; n++) sum += data[n]!;
  for (let n = 0; n < data.length; n++) data[n] = data[n]! / sum;
  return padKernel({ size: k, data }, padTo);
}

/** The k×k pulse (1 at the centre): leaves an image unchanged under filter2D. */
export function pulseKernel(size: number): Kernel {
  const k = checkSize('pulseKernel', size);
  const data = new Float64Array(k * k);
  data[((k - 1) / 2) * k + (k - 1) / 2] = 1;
  return { size: k, data };
}

function renormalise(kernel: Kernel): Kernel {
  let sum = 0;
  for (let n = 0; n < kernel.data.length; n++) sum += kernel.data[n]!;
  const data = new Float64Array(kernel.data.length);
  for (let n = 0; n < data.length; n++) data[n] = kernel.data[n]! / sum;
  return { size: kernel.size, data };
}

// ---- mixed kernels ----

/** Settings of random_mixed_kernels (upstream argument names). */
export interface MixedKernelConfig {
  kernel_list: KernelType[];
  kernel_prob: number[];
  sigma_x_range: [number, number];
  sigma_y_range: [number, number];
  rotation_range: [number, number];
  betag_range: [number, number];
  betap_range: [number, number];
}

/** The values random_mixed_kernels drew (logged per pair; replayed by the golden cases). */
export interface MixedKernelSample {
  type: KernelType;
  sigma_x: number;
  sigma_y?: number;
  rotation?: number;
  /** The uniform that chose the β interval below (< 0.5) or above 1. */
  beta_branch_u?: number;
  beta?: number;
}

function isIsotropic(t: KernelType): boolean { return t === 'iso' || t === 'generalized_iso' || t === 'plateau_iso'; }

/** The draws of random_mixed_kernels (noise_range None), in upstream order. */
export function sampleMixedKernel(rng: RandomSource, cfg: MixedKernelConfig): MixedKernelSample {
  const type = rng.choices(cfg.kernel_list, cfg.kernel_prob);
  const s: MixedKernelSample = { type, sigma_x: rng.uniform(cfg.sigma_x_range[0], cfg.sigma_x_range[1]) };
  if (!isIsotropic(type)) {
    s.sigma_y = rng.uniform(cfg.sigma_y_range[0], cfg.sigma_y_range[1]);
    s.rotation = rng.uniform(cfg.rotation_range[0], cfg.rotation_range[1]);
  }
  if (type !== 'iso' && type !== 'aniso') {
    const range = type.startsWith('generalized') ? cfg.betag_range : cfg.betap_range;
    s.beta_branch_u = rng.random();
    // assume beta_range[0] < 1 < beta_range[1] (upstream's comment)
    s.beta = s.beta_branch_u < 0.5 ? rng.uniform(range[0], 1) : rng.uniform(1, range[1]);
  }
  return s;
}

/** The kernel random_mixed_kernels returns for these draws (built, then divided by its sum again). */
export function mixedKernelFromSample(kernelSize: number, s: MixedKernelSample): Kernel {
  const iso = isIsotropic(s.type);
  const sy = iso ? s.sigma_x : need(s.sigma_y, 'sigma_y', s.type);
  const rot = iso ? 0 : need(s.rotation, 'rotation', s.type);
  let k: Kernel;
  switch (s.type) {
    case 'iso': case 'aniso': k = bivariateGaussian(kernelSize, s.sigma_x, sy, rot, iso); break;
    case 'generalized_iso': case 'generalized_aniso': k = bivariateGeneralizedGaussian(kernelSize, s.sigma_x, sy, rot, need(s.beta, 'beta', s.type), iso); break;
    case 'plateau_iso': case 'plateau_aniso': k = bivariatePlateau(kernelSize, s.sigma_x, sy, rot, need(s.beta, 'beta', s.type), iso); break;
    default: throw new RangeError(`mixed kernel: unknown type ${JSON.stringify(s.type)}`);
  }
  return renormalise(k);
}

function need(v: number | undefined, name: string, type: string): number {
  if (v === undefined) throw new RangeError(`mixed kernel: a ${type} kernel needs ${name}`);
  return v;
}

// ---- ResShift's per-image draw ----

/** The dataset's kernel settings (ResShift config names, data.train.params). */
export interface KernelSamplingConfig {
  blur_kernel_size: number;
  kernel_list: KernelType[];
  kernel_prob: number[];
  sinc_prob: number;
  blur_sigma: [number, number];
  betag_range: [number, number];
  betap_range: [number, number];
  blur_kernel_size2: number;
  kernel_list2: KernelType[];
  kernel_prob2: number[];
  sinc_prob2: number;
  blur_sigma2: [number, number];
  betag_range2: [number, number];
  betap_range2: [number, number];
  final_sinc_prob: number;
}

/** One blur kernel's draw: a sinc (omega_c) or a mixed kernel (the MixedKernelSample fields). */
export interface BlurKernelSample extends Partial<MixedKernelSample> {
  kernel_size: number;
  sinc_u: number;
  sinc: boolean;
  pad_to: number;
  omega_c?: number;
  omega_range?: [number, number];
}

export interface FinalSincSample {
  u: number;
  apply: boolean;
  pad_to: number;
  kernel_size?: number;
  omega_c?: number;
}

export interface KernelSample {
  kernel1: BlurKernelSample;
  kernel2: BlurKernelSample;
  final_sinc: FinalSincSample;
}

/** range(3, n, 2) as a list. */
export function kernelRange(n: number): number[] {
  const out: number[] = [];
  for (let k = 3; k < n; k += 2) out.push(k);
  return out;
}

function sampleBlurKernel(rng: RandomSource, sizes: number[], sincProb: number, padTo: number, mixed: MixedKernelConfig): BlurKernelSample {
  const kernelSize = rng.choice(sizes);
  const sincU = rng.random();
  if (sincU < sincProb) {
    // this sinc filter setting is for kernels ranging from [7, 21] (upstream comment)
    const omegaRange: [number, number] = kernelSize < 13 ? [Math.PI / 3, Math.PI] : [Math.PI / 5, Math.PI];
    return { kernel_size: kernelSize, sinc_u: sincU, sinc: true, pad_to: padTo, omega_c: rng.uniform(omegaRange[0], omegaRange[1]), omega_range: omegaRange };
  }
  return { kernel_size: kernelSize, sinc_u: sincU, sinc: false, pad_to: padTo, ...sampleMixedKernel(rng, mixed) };
}

function mixedConfig(list: KernelType[], prob: number[], sigma: [number, number], betag: [number, number], betap: [number, number]): MixedKernelConfig {
  return { kernel_list: list, kernel_prob: prob, sigma_x_range: sigma, sigma_y_range: sigma, rotation_range: [-Math.PI, Math.PI], betag_range: betag, betap_range: betap };
}

/** RealESRGANDataset.__getitem__'s three kernel draws (after the GT steps), in upstream order. */
export function sampleResShiftKernels(rng: RandomSource, cfg: KernelSamplingConfig): KernelSample {
  const kernel1 = sampleBlurKernel(rng, kernelRange(cfg.blur_kernel_size), cfg.sinc_prob, cfg.blur_kernel_size,
    mixedConfig(cfg.kernel_list, cfg.kernel_prob, cfg.blur_sigma, cfg.betag_range, cfg.betap_range));
  const kernel2 = sampleBlurKernel(rng, kernelRange(cfg.blur_kernel_size2), cfg.sinc_prob2, cfg.blur_kernel_size2,
    mixedConfig(cfg.kernel_list2, cfg.kernel_prob2, cfg.blur_sigma2, cfg.betag_range2, cfg.betap_range2));
  const u = rng.random();
  const finalSinc: FinalSincSample = { u, apply: u < cfg.final_sinc_prob, pad_to: cfg.blur_kernel_size2 };
  if (finalSinc.apply) {
    finalSinc.kernel_size = rng.choice(kernelRange(cfg.blur_kernel_size2));
    finalSinc.omega_c = rng.uniform(Math.PI / 3, Math.PI);
  }
  return { kernel1, kernel2, final_sinc: finalSinc };
}

/** The kernel of one blur draw, zero-padded to its pad_to. */
export function blurKernelFromSample(s: BlurKernelSample): Kernel {
  const k = s.sinc
    ? circularLowpassKernel(need(s.omega_c, 'omega_c', 'sinc'), s.kernel_size, 0)
    : mixedKernelFromSample(s.kernel_size, s as MixedKernelSample);
  return padKernel(k, s.pad_to);
}

export function finalSincFromSample(s: FinalSincSample): Kernel {
  if (!s.apply) return pulseKernel(s.pad_to);
  return circularLowpassKernel(need(s.omega_c, 'omega_c', 'final sinc'), need(s.kernel_size, 'kernel_size', 'final sinc'), s.pad_to);
}

/** A kernel as a tensor: float64 as computed, or float32 (torch.FloatTensor of the float64 array). */
export function kernelTensor(kernel: Kernel, dtype: 'float32' | 'float64' = 'float32'): Tensor {
  const t = torch.fromTypedArray(kernel.data, [kernel.size, kernel.size]);
  if (dtype === 'float64') return t;
  try { return t.to({ dtype: 'float32' }); } finally { t.dispose(); }
}

/** The three kernels of one image as float32 tensors (k1, k2, sinc), as __getitem__ returns them. */
export function resShiftKernelTensors(s: KernelSample): { kernel1: Tensor; kernel2: Tensor; sincKernel: Tensor } {
  return {
    kernel1: kernelTensor(blurKernelFromSample(s.kernel1)),
    kernel2: kernelTensor(blurKernelFromSample(s.kernel2)),
    sincKernel: kernelTensor(finalSincFromSample(s.final_sinc)),
  };
}
