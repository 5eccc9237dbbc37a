// Degradation presets: every value of MODEL_SPEC §7.13, under upstream's configuration names.
// `train` = ResShift@3ce1d81 configs/realsr_swinunet_realesrgan256_journal.yaml (data.train.params
// and degradation); `test` = ResShift@3ce1d81 configs/degradation_testing_realesrgan.yaml;
// a JSON FILE holds any subset of the keys, applied over `train` (or over the preset it names in
// "base").
import { readFileSync } from 'node:fs';
import { KERNEL_TYPES, type KernelSamplingConfig, type KernelType } from './kernels.js';

export type ResizeMode = 'area' | 'bilinear' | 'bicubic';
export type JpegBackend = 'real' | 'diffjpeg' | 'identity';

/** The trainer's degradation section (prepare_data). */
export interface DegradationConfig {
  sf: number;
  resize_prob: [number, number, number];
  resize_range: [number, number];
  gaussian_noise_prob: number;
  noise_range: [number, number];
  poisson_scale_range: [number, number];
  gray_noise_prob: number;
  jpeg_range: [number, number];
  second_order_prob: number;
  second_blur_prob: number;
  resize_prob2: [number, number, number];
  resize_range2: [number, number];
  gaussian_noise_prob2: number;
  noise_range2: [number, number];
  poisson_scale_range2: [number, number];
  gray_noise_prob2: number;
  jpeg_range2: [number, number];
  resize_back: boolean;
  use_sharp: boolean;
}

/** The dataset's GT preparation (§7.2). */
export interface GtConfig {
  gt_size: number;
  crop_pad_size: number;
  use_hflip: boolean;
  use_rot: boolean;
  rescale_gt: boolean;
}

export interface DegradationPreset extends DegradationConfig, KernelSamplingConfig, GtConfig {
  /** Which JPEG the pipeline uses: real libjpeg via sharp (default), BasicSR's DiffJPEG, or none. */
  jpeg: JpegBackend;
}

const ALL6: KernelType[] = ['iso', 'aniso', 'generalized_iso', 'generalized_aniso', 'plateau_iso', 'plateau_aniso'];

export const TRAIN_PRESET: Readonly<DegradationPreset> = Object.freeze({
  // data.train.params
  gt_size: 256, crop_pad_size: 300, use_hflip: true, use_rot: false, rescale_gt: true,
  blur_kernel_size: 21, kernel_list: ALL6, kernel_prob: [0.45, 0.25, 0.12, 0.03, 0.12, 0.03], sinc_prob: 0.1,
  blur_sigma: [0.2, 3.0], betag_range: [0.5, 4.0], betap_range: [1, 2.0],
  blur_kernel_size2: 15, kernel_list2: ALL6, kernel_prob2: [0.45, 0.25, 0.12, 0.03, 0.12, 0.03], sinc_prob2: 0.1,
  blur_sigma2: [0.2, 1.5], betag_range2: [0.5, 4.0], betap_range2: [1, 2.0],
  final_sinc_prob: 0.8,
  // degradation
  sf: 4,
  resize_prob: [0.2, 0.7, 0.1], resize_range: [0.15, 1.5], gaussian_noise_prob: 0.5, noise_range: [1, 30],
  poisson_scale_range: [0.05, 3.0], gray_noise_prob: 0.4, jpeg_range: [30, 95],
  second_order_prob: 0.5, second_blur_prob: 0.8,
  resize_prob2: [0.3, 0.4, 0.3], resize_range2: [0.3, 1.2], gaussian_noise_prob2: 0.5, noise_range2: [1, 25],
  poisson_scale_range2: [0.05, 2.5], gray_noise_prob2: 0.4, jpeg_range2: [30, 95],
  resize_back: false, use_sharp: false,
  jpeg: 'real',
} as DegradationPreset);

export const TEST_PRESET: Readonly<DegradationPreset> = Object.freeze({
  ...TRAIN_PRESET,
  use_hflip: false,
  blur_kernel_size: 13, kernel_prob: [0.6, 0.4, 0, 0, 0, 0], sinc_prob: 0.1, blur_sigma: [0.2, 0.8], betag_range: [1.0, 1.5], betap_range: [1, 1.2],
  blur_kernel_size2: 7, kernel_prob2: [0.6, 0.4, 0, 0, 0, 0], sinc_prob2: 0.0, blur_sigma2: [0.2, 0.5], betag_range2: [0.5, 0.8], betap_range2: [1, 1.2],
  final_sinc_prob: 0.2,
  resize_prob: [0.2, 0.7, 0.1], resize_range: [0.5, 1.5], noise_range: [1, 15], poisson_scale_range: [0.05, 0.3], jpeg_range: [70, 95],
  second_order_prob: 0.0, second_blur_prob: 0.2, resize_range2: [0.8, 1.2], noise_range2: [1, 10], poisson_scale_range2: [0.05, 0.2], jpeg_range2: [80, 100],
} as DegradationPreset);

export const PRESETS: Readonly<Record<'train' | 'test', Readonly<DegradationPreset>>> = { train: TRAIN_PRESET, test: TEST_PRESET };

type Check = (v: unknown) => string | null;
const num = (min = -Infinity, max = Infinity): Check => (v) => (typeof v === 'number' && Number.isFinite(v) && v >= min && v <= max ? null : `a number in [${min}, ${max}]`);
const int = (min: number, max: number, odd = false): Check => (v) => (typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max && (!odd || v % 2 === 1) ? null : `an ${odd ? 'odd ' : ''}integer in [${min}, ${max}]`);
const bool: Check = (v) => (typeof v === 'boolean' ? null : 'true or false');
const range = (min: number, max: number): Check => (v) => (Array.isArray(v) && v.length === 2 && v.every((x) => typeof x === 'number' && Number.isFinite(x) && x >= min && x <= max) && v[0] <= v[1] ? null : `[lo, hi] with ${min} <= lo <= hi <= ${max}`);
const probs = (n: number): Check => (v) => (Array.isArray(v) && v.length === n && v.every((x) => typeof x === 'number' && x >= 0 && Number.isFinite(x)) && v.some((x) => x > 0) ? null : `${n} non-negative weights, not all zero`);
const kinds: Check = (v) => (Array.isArray(v) && v.length === 6 && v.every((x, i) => x === KERNEL_TYPES[i]) ? null : `the list ${JSON.stringify(KERNEL_TYPES)}`);

const SCHEMA: Record<keyof DegradationPreset, Check> = {
  gt_size: int(16, 8192), crop_pad_size: int(16, 8192), use_hflip: bool, use_rot: (v) => (v === false ? null : 'false (rotation is not supported)'), rescale_gt: bool,
  blur_kernel_size: int(5, 41, true), kernel_list: kinds, kernel_prob: probs(6), sinc_prob: num(0, 1), blur_sigma: range(0.01, 50), betag_range: range(0.01, 20), betap_range: range(0.01, 20),
  blur_kernel_size2: int(5, 41, true), kernel_list2: kinds, kernel_prob2: probs(6), sinc_prob2: num(0, 1), blur_sigma2: range(0.01, 50), betag_range2: range(0.01, 20), betap_range2: range(0.01, 20),
  final_sinc_prob: num(0, 1),
  sf: int(1, 16),
  resize_prob: probs(3), resize_range: range(0.01, 16), gaussian_noise_prob: num(0, 1), noise_range: range(0, 255), poisson_scale_range: range(0, 100), gray_noise_prob: num(0, 1), jpeg_range: range(1, 100),
  second_order_prob: num(0, 1), second_blur_prob: num(0, 1),
  resize_prob2: probs(3), resize_range2: range(0.01, 16), gaussian_noise_prob2: num(0, 1), noise_range2: range(0, 255), poisson_scale_range2: range(0, 100), gray_noise_prob2: num(0, 1), jpeg_range2: range(1, 100),
  resize_back: (v) => (v === false ? null : 'false (resize_back is not used by ResShift)'), use_sharp: bool,
  jpeg: (v) => (v === 'real' || v === 'diffjpeg' || v === 'identity' ? null : '"real", "diffjpeg" or "identity"'),
};

/** Checks every key of a preset; throws one line naming the first bad key. */
export function validatePreset(p: Record<string, unknown>, where = 'preset'): DegradationPreset {
  for (const key of Object.keys(p)) {
    if (!(key in SCHEMA)) throw new Error(`${where}: unknown key "${key}"`);
  }
  for (const [key, check] of Object.entries(SCHEMA) as [keyof DegradationPreset, Check][]) {
    if (!(key in p)) throw new Error(`${where}: missing key "${key}"`);
    const why = check(p[key]);
    if (why) throw new Error(`${where}: "${key}" must be ${why}, got ${JSON.stringify(p[key])}`);
  }
  const q = p as unknown as DegradationPreset;
  if (q.resize_range[0] > 1 || q.resize_range[1] < 1 || q.resize_range2[0] > 1 || q.resize_range2[1] < 1) throw new Error(`${where}: resize ranges must contain 1 (down scales are drawn from [lo, 1), up scales from [1, hi))`);
  return q;
}

/** 'train' | 'test' | a path to a JSON file of overrides (optionally {"base": "test", ...}). */
export function loadPreset(spec: string): DegradationPreset {
  if (spec === 'train' || spec === 'test') return { ...PRESETS[spec] };
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(spec, 'utf8'));
  } catch (e) {
    throw new Error(`--preset ${spec}: not "train", "test" or a readable JSON file (${(e as Error).message.split('\n')[0]})`);
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new Error(`--preset ${spec}: the JSON must be an object of settings`);
  const { base, ...over } = raw as Record<string, unknown>;
  if (base !== undefined && base !== 'train' && base !== 'test') throw new Error(`--preset ${spec}: "base" must be "train" or "test"`);
  return validatePreset({ ...PRESETS[(base as 'train' | 'test' | undefined) ?? 'train'], ...over }, spec);
}
