// Presets of the public ResShift/SinSR models (MODEL_SPEC.md §6.1, §6.2).
//
// A released .pth carries no schedule, and v1/v2/v3/SinSR share the same UNet keys (§6.4), so the
// preset — not the file — decides T, κ, p, the minimum noise level, the η start formula, the
// number of steps and the default sampler.

export type SamplerKind = 'one-step' | 'ddim' | 'stochastic';
export const SAMPLER_KINDS: readonly SamplerKind[] = ['one-step', 'ddim', 'stochastic'];

/** The schedule of create_gaussian_diffusion with schedule_name 'exponential' (§1.2). */
export interface ScheduleSpec {
  /** T (`steps`) */
  steps: number;
  kappa: number;
  /** `schedule_kwargs.power` */
  power: number;
  minNoiseLevel: number;
  etasEnd: number;
  /** §1.2.2: journal `min(m/κ, m)` or legacy `min(m/κ, m, √0.001)`. */
  etasStart: 'journal' | 'legacy';
}

export interface Preset {
  name: string;
  /** Other names accepted on the command line. */
  aliases: readonly string[];
  /** The upstream config the values come from. */
  config: string;
  schedule: ScheduleSpec;
  /** The sampler the upstream inference script uses. */
  sampler: SamplerKind;
  /** True for distilled one-step models: multi-step samplers are not what they were trained for. */
  oneStep: boolean;
  /** UNet weight file as published, and where (§6.2). */
  unetFile: string;
  unetUrl: string;
  provenance: string;
}

/** The autoencoder every preset uses (§3, §6.2). */
export const VQ_F4 = {
  kind: 'vq-f4',
  file: 'autoencoder_vq_f4.pth',
  url: 'https://github.com/zsyOAOA/ResShift/releases/download/v2.0/autoencoder_vq_f4.pth',
} as const;

/** Upstream tiling and padding defaults (§1.7). */
export const UPSTREAM_DEFAULTS = { paddingOffset: 64, chopSize: 512, chopStride: 448, seed: 12345 } as const;

const RESSHIFT_RELEASE = 'https://github.com/zsyOAOA/ResShift/releases/download/v2.0';
const SINSR_RELEASE = 'https://github.com/wyf0912/SinSR/releases/download/v1.0';

const V1_SCHEDULE: ScheduleSpec = { steps: 15, kappa: 2.0, power: 0.3, minNoiseLevel: 0.04, etasEnd: 0.99, etasStart: 'legacy' };
const V3_SCHEDULE: ScheduleSpec = { steps: 4, kappa: 2.0, power: 0.3, minNoiseLevel: 0.2, etasEnd: 0.99, etasStart: 'journal' };

export const PRESETS: readonly Preset[] = [
  {
    name: 'resshift-v1', aliases: [], config: 'realsr_swinunet_realesrgan256.yaml', schedule: V1_SCHEDULE,
    sampler: 'stochastic', oneStep: false, unetFile: 'resshift_realsrx4_s15_v1.pth',
    unetUrl: `${RESSHIFT_RELEASE}/resshift_realsrx4_s15_v1.pth`, provenance: 'ResShift conference model, 300k iterations',
  },
  {
    name: 'resshift-v2', aliases: [], config: 'realsr_swinunet_realesrgan256.yaml', schedule: V1_SCHEDULE,
    sampler: 'stochastic', oneStep: false, unetFile: 'resshift_realsrx4_s15_v2.pth',
    unetUrl: `${RESSHIFT_RELEASE}/resshift_realsrx4_s15_v2.pth`, provenance: 'ResShift conference model, 500k iterations',
  },
  {
    name: 'resshift-v3', aliases: [], config: 'realsr_swinunet_realesrgan256_journal.yaml', schedule: V3_SCHEDULE,
    sampler: 'stochastic', oneStep: false, unetFile: 'resshift_realsrx4_s4_v3.pth',
    unetUrl: `${RESSHIFT_RELEASE}/resshift_realsrx4_s4_v3.pth`, provenance: 'ResShift journal model (T = 4, LPIPS)',
  },
  {
    name: 'resshift-bicsr', aliases: [], config: 'bicx4_swinunet_lpips.yaml', schedule: V3_SCHEDULE,
    sampler: 'stochastic', oneStep: false, unetFile: 'resshift_bicsrx4_s4.pth',
    unetUrl: `${RESSHIFT_RELEASE}/resshift_bicsrx4_s4.pth`, provenance: 'ResShift bicubic ×4 model (not real-world)',
  },
  {
    name: 'sinsr-v1', aliases: ['sinsr'], config: 'SinSR.yaml', schedule: V1_SCHEDULE,
    sampler: 'one-step', oneStep: true, unetFile: 'SinSR_v1.pth',
    unetUrl: `${SINSR_RELEASE}/SinSR_v1.pth`, provenance: 'SinSR, distilled from resshift-v1',
  },
  {
    name: 'sinsr-v2', aliases: [], config: 'SinSR.yaml', schedule: V1_SCHEDULE,
    sampler: 'one-step', oneStep: true, unetFile: 'SinSR_v2.pth',
    unetUrl: `${SINSR_RELEASE}/SinSR_v2.pth`, provenance: 'SinSR, "obtained by early stop", used for RealSR',
  },
];

/** Every name --preset accepts, canonical names first. */
export function presetNames(): string[] {
  return [...PRESETS.map((p) => p.name), ...PRESETS.flatMap((p) => p.aliases)];
}

/** The preset of a name or alias; throws one line listing the valid names. */
export function getPreset(name: string): Preset {
  const p = PRESETS.find((q) => q.name === name || q.aliases.includes(name));
  if (!p) throw new Error(`unknown preset ${JSON.stringify(name)}; expected one of ${presetNames().join(', ')}`);
  return p;
}

export interface SamplerChoice {
  sampler: SamplerKind;
  /** Network calls: 1 for one-step, else the schedule's T or a respaced S ≤ T. */
  steps: number;
  /** Set when the choice is allowed but not what the model was trained for. */
  warning?: string;
}

/**
 * The sampler a run uses: the preset's default unless one is asked for. One-step-only models
 * (SinSR, vpdsr-distilled) refuse multi-step samplers; a one-step run of a multi-step teacher is
 * allowed with a warning (diagnostic use, §1.6).
 */
export function chooseSampler(model: { name: string; sampler: SamplerKind; oneStep: boolean; schedule: ScheduleSpec }, asked?: SamplerKind, steps?: number): SamplerChoice {
  const sampler = asked ?? model.sampler;
  if (!SAMPLER_KINDS.includes(sampler)) throw new Error(`unknown sampler ${JSON.stringify(sampler)}; expected one of ${SAMPLER_KINDS.join(', ')}`);
  const T = model.schedule.steps;
  if (sampler === 'one-step') {
    if (steps !== undefined && steps !== 1) throw new Error(`--steps ${steps} does not apply to the one-step sampler (it makes exactly 1 network call)`);
    const warning = model.oneStep ? undefined : `${model.name} is a ${T}-step model; one-step sampling of it is a diagnostic, expect a blurry result`;
    return { sampler, steps: 1, warning };
  }
  if (model.oneStep) throw new Error(`${model.name} is a one-step model; the ${sampler} sampler is not supported for it (use --sampler one-step)`);
  if (steps === undefined || steps === T) return { sampler, steps: T };
  if (!Number.isSafeInteger(steps) || steps < 1 || steps > T) throw new Error(`--steps must be an integer from 1 to ${T} (the schedule's T) for ${model.name}, got ${steps}`);
  // Timestep respacing (§1.2.6, SinSR inference.py --infer_steps): not what the model was trained with.
  return { sampler, steps, warning: `${model.name}: ${steps} of its ${T} steps (respaced schedule, §1.2.6); the released models were trained and evaluated with ${T}` };
}
