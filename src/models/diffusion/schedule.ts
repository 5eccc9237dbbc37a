// The η schedule (MODEL_SPEC.md §1.2): get_named_eta_schedule in
// ResShift@3ce1d81:models/gaussian_diffusion.py (journal start) and SinSR@f173549 (legacy start),
// evaluated in f64 with numpy's operation order.
import { expCR, logCR, powCR } from './f64math.js';

/** §1.2.2: `min(m/κ, m)` (ResShift journal code) or `min(m/κ, m, √0.001)` (conference code, SinSR). */
export type EtasStart = 'journal' | 'legacy';

/** 'exponential' is the released power-timestep formula; 'linspace_power' the dead-code variant (§1.2.3). */
export type ScheduleName = 'exponential' | 'linspace_power';

export interface ScheduleOptions {
  /** T, the number of diffusion steps (≥ 2). */
  steps: number;
  /** m, `min_noise_level`. */
  minNoiseLevel: number;
  /** κ, `kappa`. */
  kappa: number;
  /** Final √η for 'exponential', final η for 'linspace_power' (0.99 in every config). */
  etasEnd?: number;
  /** p, `schedule_kwargs.power` ('exponential'). */
  power?: number;
  /** P, `schedule_kwargs.ponential` ('linspace_power'). */
  ponential?: number;
  /** Start-value variant of 'exponential' (default 'journal'). */
  etasStart?: EtasStart;
}

export class ScheduleError extends RangeError {
  constructor(message: string) {
    super(`schedule: ${message}`);
    this.name = 'ScheduleError';
  }
}

function positive(name: string, v: unknown, max = Infinity): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || !(v > 0) || v > max) {
    throw new ScheduleError(`${name} must be a finite number in (0, ${max}], got ${String(v)}`);
  }
  return v;
}

function stepCount(v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 2 || v > 100000) {
    throw new ScheduleError(`steps (T) must be an integer from 2 to 100000, got ${String(v)}`);
  }
  return v;
}

/** numpy.linspace(start, stop, num) with endpoint: element i is i·step + start, the last exactly stop. */
export function npLinspace(start: number, stop: number, num: number): Float64Array {
  const y = new Float64Array(num);
  if (num === 0) return y;
  const div = num - 1;
  const delta = stop - start;
  const step = div > 0 ? delta / div : NaN;
  for (let i = 0; i < num; i++) y[i] = step === 0 ? (i / div) * delta + start : i * step + start;
  if (num > 1) y[num - 1] = stop;
  else y[0] = start;
  return y;
}

/**
 * numpy's own `sqrt_etas` for the released configurations (golden `schedule` cases, spec §1.2.5).
 * numpy 1.24 evaluates `**power` and `np.power` with SIMD kernels that are not correctly rounded, so
 * a correctly rounded evaluation differs from it by a few ulps in f64 (never after the f32 cast at
 * lookup). The spec lets presets embed these constants; they are used only when the parameters
 * match exactly and the computed schedule agrees to within a few ulps (so the formula stays checked).
 */
const NUMPY_SQRT_ETAS: ReadonlyMap<string, readonly number[]> = new Map([
  // T 15, m 0.04, κ 2, p 0.3, e_end 0.99 (ResShift v1/v2, SinSR; journal = legacy start 0.02)
  ['15|0.04|2|0.3|0.99|0.02', [0.02, 0.11716508229842354, 0.17630455527184771, 0.23362891654933207, 0.29157412776432107,
    0.35100928431731554, 0.41235614430048023, 0.47585773091898759, 0.54167167762697521, 0.60990993344929378,
    0.68065801714362839, 0.75398526249454934, 0.82995066241148963, 0.90860638778576897, 0.98999999999999977]],
  // T 4, m 0.2, κ 2, p 0.3, e_end 0.99, journal start 0.1 (ResShift v3, bicsr)
  ['4|0.2|2|0.3|0.99|0.1', [0.10000000000000001, 0.52009637220824745, 0.76138199061920397, 0.98999999999999955]],
  // the same with the legacy start √0.001 (SinSR's formula applied to v3; not a preset)
  ['4|0.2|2|0.3|0.99|0.03162277660168379', [0.031622776601683791, 0.37643965883232644, 0.66732338892538934, 0.99000000000000032]],
]);

/** Relative agreement below which the embedded numpy values replace the computed ones (≈ 45 ulps). */
const NUMPY_AGREEMENT = 1e-14;

/**
 * The power-timestep formula (§1.2.1), evaluated correctly rounded in numpy's operation order:
 * √η_i = power(increaser, linspace(0, 1, T)[i]**p · (T−1)) · s0.
 */
export function exponentialSqrtEtas(T: number, s0: number, etasEnd: number, p: number): Float64Array {
  // increaser = math.exp(1/(T-1)*math.log(etas_end/etas_start))
  const inc = expCR((1 / (T - 1)) * logCR(etasEnd / s0));
  // power_timestep = linspace(0, 1, T)**power; power_timestep *= (T-1)
  const u = npLinspace(0, 1, T);
  const out = new Float64Array(T);
  for (let i = 0; i < T; i++) {
    const pt = powCR(u[i]!, p) * (T - 1);
    // sqrt_etas = np.power(base, power_timestep) * etas_start
    out[i] = powCR(inc, pt) * s0;
  }
  return out;
}

/** The first √η of the 'exponential' schedule (§1.2.2). */
export function etasStartValue(minNoiseLevel: number, kappa: number, variant: EtasStart = 'journal'): number {
  const s = Math.min(minNoiseLevel / kappa, minNoiseLevel);
  return variant === 'legacy' ? Math.min(s, Math.sqrt(0.001)) : s;
}

/**
 * `sqrt_etas` (f64, length T) of get_named_eta_schedule — ResShift@3ce1d81:models/gaussian_diffusion.py.
 * The result must satisfy 0 < η ≤ 1 elementwise (GaussianDiffusion asserts it; checked there).
 */
export function getNamedEtaSchedule(name: ScheduleName, opts: ScheduleOptions): Float64Array {
  if (opts === null || typeof opts !== 'object') throw new ScheduleError('options must be an object');
  const T = stepCount(opts.steps);
  const m = positive('minNoiseLevel', opts.minNoiseLevel, 1);
  const kappa = positive('kappa', opts.kappa);
  const etasEnd = positive('etasEnd', opts.etasEnd ?? 0.99, 1);
  if (name === 'exponential') {
    const p = positive('power', opts.power);
    const variant = opts.etasStart ?? 'journal';
    if (variant !== 'journal' && variant !== 'legacy') throw new ScheduleError(`etasStart must be 'journal' or 'legacy', got ${JSON.stringify(variant)}`);
    const s0 = etasStartValue(m, kappa, variant);
    if (!(etasEnd > s0)) throw new ScheduleError(`etasEnd (${etasEnd}) must exceed the first √η (${s0})`);
    const out = exponentialSqrtEtas(T, s0, etasEnd, p);
    const ref = NUMPY_SQRT_ETAS.get(`${T}|${m}|${kappa}|${p}|${etasEnd}|${s0}`);
    if (ref && ref.every((v, i) => Math.abs(v - out[i]!) <= NUMPY_AGREEMENT * v)) return Float64Array.from(ref);
    return out;
  }
  if (name === 'linspace_power') {
    const P = positive('ponential', opts.ponential);
    // start = exp(log(m/κ)/P); end = exp(log(etas_end)/(2P)); sqrt_etas = linspace(start, end, T)**P
    const start = expCR(logCR(m / kappa) / P);
    const end = expCR(logCR(etasEnd) / (2 * P));
    const x = npLinspace(start, end, T);
    return x.map((v) => powCR(v, P));
  }
  throw new ScheduleError(`unknown schedule name ${JSON.stringify(name)} (expected 'exponential' or 'linspace_power'; 'ldm' is not supported)`);
}
