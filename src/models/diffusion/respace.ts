// Timestep respacing (MODEL_SPEC.md §1.2.6): space_timesteps and SpacedDiffusion of
// ResShift@3ce1d81:models/respace.py (identical in SinSR@f173549), and create_gaussian_diffusion
// of models/script_util.py, which always returns a SpacedDiffusion.
import { GaussianDiffusion, DiffusionError, type DiffusionOptions } from './gaussian.js';
import { getNamedEtaSchedule, type ScheduleName, type EtasStart } from './schedule.js';

/** space_timesteps(T, S) = { int((T/S)·x) : x = 0 … S−1 }, ascending. */
export function spaceTimesteps(numTimesteps: number, sampleTimesteps: number): number[] {
  if (!Number.isInteger(numTimesteps) || numTimesteps < 1) throw new DiffusionError(`spaceTimesteps: T must be a positive integer, got ${String(numTimesteps)}`);
  if (!Number.isInteger(sampleTimesteps) || sampleTimesteps < 1 || sampleTimesteps > numTimesteps) {
    throw new DiffusionError(`spaceTimesteps: the number of sampling steps must be an integer from 1 to ${numTimesteps}, got ${String(sampleTimesteps)}`);
  }
  const set = new Set<number>();
  for (let x = 0; x < sampleTimesteps; x++) set.add(Math.trunc((numTimesteps / sampleTimesteps) * x));
  return [...set].sort((a, b) => a - b);
}

/**
 * SpacedDiffusion: keeps the √η of `useTimesteps` (ascending original index) and rebuilds every
 * array from them; timestepMap[new] = original index is what the network receives.
 */
export function spacedDiffusion(useTimesteps: Iterable<number>, opts: DiffusionOptions): GaussianDiffusion {
  const base = new GaussianDiffusion(opts);
  const keep = new Set(useTimesteps);
  const sqrtEtas: number[] = [];
  const timestepMap: number[] = [];
  base.sqrtEtas.forEach((v, ii) => {
    if (keep.has(ii)) { sqrtEtas.push(v); timestepMap.push(ii); }
  });
  if (sqrtEtas.length === 0) throw new DiffusionError('spacedDiffusion: no timestep kept');
  return new GaussianDiffusion({ ...opts, sqrtEtas: Float64Array.from(sqrtEtas), timestepMap });
}

/** The fields of create_gaussian_diffusion that vpdsr supports (predict_type xstart, MSE loss). */
export interface CreateDiffusionOptions {
  steps: number;
  kappa: number;
  minNoiseLevel: number;
  etasEnd?: number;
  /** schedule_kwargs.power ('exponential') */
  power?: number;
  /** schedule_kwargs.ponential ('linspace_power') */
  ponential?: number;
  scheduleName?: ScheduleName;
  etasStart?: EtasStart;
  /** null/undefined = T (identity map, every preset). */
  timestepRespacing?: number | null;
  normalizeInput?: boolean;
  latentFlag?: boolean;
  scaleFactor?: number;
  sf?: number;
}

/** create_gaussian_diffusion — ResShift@3ce1d81:models/script_util.py. */
export function createGaussianDiffusion(o: CreateDiffusionOptions): GaussianDiffusion {
  if (o === null || typeof o !== 'object') throw new DiffusionError('createGaussianDiffusion: options must be an object');
  const sqrtEtas = getNamedEtaSchedule(o.scheduleName ?? 'exponential', {
    steps: o.steps, minNoiseLevel: o.minNoiseLevel, kappa: o.kappa, etasEnd: o.etasEnd ?? 0.99,
    power: o.power, ponential: o.ponential, etasStart: o.etasStart,
  });
  const S = o.timestepRespacing ?? o.steps;
  return spacedDiffusion(spaceTimesteps(o.steps, S), {
    sqrtEtas, kappa: o.kappa, normalizeInput: o.normalizeInput ?? true, latentFlag: o.latentFlag ?? true,
    scaleFactor: o.scaleFactor ?? 1.0, sf: o.sf ?? 4,
  });
}
