// Training configuration files (YAML or JSON), one schema per command, checked before any work:
// an error names the key path and the allowed values.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { parse as parseYaml } from 'yaml';

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

const posInt = z.number().int().positive();
const nonNegInt = z.number().int().nonnegative();
const nonNeg = z.number().nonnegative().finite();
const prob01 = z.number().min(0).max(1);

const schedule = z.strictObject({
  steps: z.number().int().min(2).max(1000),
  kappa: z.number().positive().finite(),
  power: z.number().positive().finite(),
  minNoiseLevel: z.number().positive().finite(),
  etasEnd: z.number().positive().max(1),
  etasStart: z.enum(['journal', 'legacy']).default('journal'),
});

/** Overrides of the Real-ESRGAN degradation preset (src/data), on a named base. */
const degradation = z.looseObject({ base: z.enum(['train', 'test']).default('test') });

const data = z.strictObject({
  /** HR folder: random crops, degraded on the fly. */
  hr: z.string().min(1).optional(),
  /** LR/HR pairs as `vpdsr degrade` writes them. */
  pairs: z.strictObject({ hr: z.string().min(1), lr: z.string().min(1) }).optional(),
  crop: posInt.refine((v) => v % 4 === 0, 'must be a multiple of 4 (the ×4 scale)'),
  batch: posInt,
  /** Loader worker threads (0: the main thread). */
  workers: z.number().int().min(0).max(16).default(1),
  degradation: degradation.default({ base: 'test' }),
}).refine((d) => (d.hr === undefined) !== (d.pairs === undefined), { message: 'give exactly one of data.hr (an HR folder) or data.pairs ({ hr, lr })' });

const val = z.strictObject({
  hr: z.string().min(1),
  lr: z.string().min(1),
  /** Validate every this many iterations (0: only at the end). */
  every: nonNegInt.default(0),
  /** Images used (the first in name order). */
  max: posInt.default(16),
  /** Images in the preview grid. */
  preview: nonNegInt.default(4),
  /** Prior-noise seed of the validation samples. */
  seed: nonNegInt.default(1234),
});

const optim = z.strictObject({
  lr: z.number().positive().finite(),
  betas: z.tuple([prob01, prob01]).default([0.9, 0.999]),
  weightDecay: nonNeg.default(0),
  warmup: nonNegInt.default(0),
  schedule: z.enum(['constant', 'cosine']).default('constant'),
  /** cosine: the final learning rate. */
  minLr: nonNeg.default(0),
  /** Gradient-norm clipping (0: off). */
  gradClip: nonNeg.default(0),
});

const common = {
  /** The run folder: checkpoints, logs, previews, the model. */
  out: z.string().min(1),
  seed: nonNegInt.default(123456),
  iterations: posInt,
  dtype: z.enum(['fp32', 'bf16']).default('fp32'),
  device: z.string().regex(/^(cpu|cuda(:\d+)?)$/, 'must be cpu, cuda or cuda:N').default('cpu'),
  /** Intra-op threads (0: LibTorch's default). */
  threads: z.number().int().min(0).max(1024).default(0),
  log: z.strictObject({ every: posInt.default(10) }).default({ every: 10 }),
  checkpoint: z.strictObject({ every: nonNegInt.default(0), keep: posInt.default(2) }).default({ every: 0, keep: 2 }),
  preview: z.strictObject({ every: nonNegInt.default(0) }).default({ every: 0 }),
};

const unet = z.record(z.string(), z.unknown());

export const teacherSchema = z.strictObject({
  kind: z.literal('teacher'),
  ...common,
  space: z.enum(['pixel', 'unshuffle', 'latent']),
  /** latent space: a model folder whose VQ autoencoder is used (frozen). */
  vq: z.string().min(1).optional(),
  schedule,
  unet,
  data,
  val: val.optional(),
  optim,
  ema: prob01.default(0.999),
}).refine((c) => c.space !== 'latent' || c.vq !== undefined, { message: 'space "latent" needs vq (a model folder holding the VQ autoencoder)', path: ['vq'] });

const weights = z.strictObject({
  distill: nonNeg.default(1),
  ess: nonNeg.default(0),
  hfp: nonNeg.default(0),
  adv: nonNeg.default(0),
  inverse: nonNeg.default(0),
  gt: nonNeg.default(0),
});

export const distillSchema = z.strictObject({
  kind: z.literal('distill'),
  ...common,
  /** The teacher's model folder (train-teacher's out/model). */
  teacher: z.string().min(1),
  /** The stand-in encoder for ESS (train-encoder's out/encoder.safetensors). */
  encoder: z.string().min(1).optional(),
  /** CLIP weights for ESS instead of the stand-in (OpenAI .pt, Hugging Face or open_clip); patch: β_patch of the patch-token term (ViT, default 0); heads: the image tower's attention heads when its width is not a multiple of 64. */
  clip: z.strictObject({ file: z.string().min(1), heads: posInt.optional(), patch: nonNeg.default(0) }).optional(),
  losses: weights,
  hfp: z.strictObject({
    levels: z.number().int().min(1).max(4).default(1),
    distance: z.enum(['l1', 'charbonnier']).default('l1'),
    target: z.enum(['hr', 'teacher']).default('hr'),
    /** Also on the images shifted by one pixel: edges between the Haar grid's blocks are seen too (unshuffle-space models write 4×4 blocks). */
    shift: z.boolean().default(false),
  }).default({ levels: 1, distance: 'l1', target: 'hr', shift: false }),
  heads: z.strictObject({ width: posInt.default(128), groups: posInt.default(32) }).default({ width: 128, groups: 32 }),
  data,
  val: val.optional(),
  optim,
  discOptim: optim.optional(),
  ema: prob01.default(0.999),
}).refine((c) => !(c.losses.ess > 0) || c.encoder !== undefined || c.clip !== undefined, { message: 'losses.ess > 0 needs clip.file (CLIP weights) or encoder (train one with vpdsr train-encoder)', path: ['encoder'] })
  .refine((c) => c.encoder === undefined || c.clip === undefined, { message: 'give one ESS encoder: clip or encoder, not both', path: ['clip'] })
  .refine((c) => Object.values(c.losses).some((v) => v > 0), { message: 'at least one loss weight must be positive', path: ['losses'] });

export const encoderSchema = z.strictObject({
  kind: z.literal('encoder'),
  ...common,
  /** HR folder: each file is one class. */
  data: z.strictObject({ hr: z.string().min(1), crop: posInt, batch: posInt }),
  encoder: z.strictObject({ widths: z.array(posInt).min(1).max(8).default([32, 64, 128, 128]), embed_dim: posInt.default(64) }).default({ widths: [32, 64, 128, 128], embed_dim: 64 }),
  optim,
});

export type TeacherConfig = z.infer<typeof teacherSchema>;
export type DistillConfig = z.infer<typeof distillSchema>;
export type EncoderConfig = z.infer<typeof encoderSchema>;
export type DataConfig = z.infer<typeof data>;
export type ValConfig = z.infer<typeof val>;
export type OptimConfig = z.infer<typeof optim>;
export type TrainConfig = TeacherConfig | DistillConfig | EncoderConfig;
export type TrainKind = TrainConfig['kind'];

const SCHEMAS = { teacher: teacherSchema, distill: distillSchema, encoder: encoderSchema } as const;

/** One line: the file, then per problem the key path, what is wrong, the allowed values. */
function describeIssues(where: string, err: z.ZodError): string {
  const parts = err.issues.slice(0, 5).map((i) => {
    const key = i.path.length ? i.path.map(String).join('.') : '(top level)';
    if (i.code === 'unrecognized_keys' && 'keys' in i) return `unknown key ${(i.keys as string[]).map((k) => (i.path.length ? `${i.path.join('.')}.${k}` : k)).join(', ')}`;
    let msg = i.message;
    if (i.code === 'invalid_value' && 'values' in i) msg = `must be one of ${(i.values as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
    else if (i.code === 'invalid_type' && /received undefined/.test(i.message)) msg = 'is required';
    return `${key}: ${msg}`;
  });
  return `${where}: ${parts.join('; ')}${err.issues.length > 5 ? ` (and ${err.issues.length - 5} more)` : ''}`;
}

/** Validates a parsed config object for a command; relative paths are resolved against `baseDir`. */
export function checkConfig<K extends TrainKind>(kind: K, raw: unknown, where = 'config', baseDir = '.'): Extract<TrainConfig, { kind: K }> {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new ConfigError(`${where}: must be a mapping of settings`);
  const obj = { kind, ...(raw as Record<string, unknown>) };
  if (obj.kind !== kind) throw new ConfigError(`${where}: kind: must be "${kind}" for this command, got ${JSON.stringify(obj.kind)}`);
  const r = SCHEMAS[kind].safeParse(obj);
  if (!r.success) throw new ConfigError(describeIssues(where, r.error));
  return resolvePaths(r.data, baseDir) as Extract<TrainConfig, { kind: K }>;
}

function resolvePaths<T extends TrainConfig>(c: T, base: string): T {
  const abs = (p: string): string => path.resolve(base, p);
  const out = structuredClone(c) as TrainConfig;
  out.out = abs(out.out);
  if (out.kind === 'encoder') {
    out.data.hr = abs(out.data.hr);
  } else {
    if (out.data.hr) out.data.hr = abs(out.data.hr);
    if (out.data.pairs) out.data.pairs = { hr: abs(out.data.pairs.hr), lr: abs(out.data.pairs.lr) };
    if (out.val) { out.val.hr = abs(out.val.hr); out.val.lr = abs(out.val.lr); }
    if (out.kind === 'teacher' && out.vq) out.vq = abs(out.vq);
    if (out.kind === 'distill') {
      out.teacher = abs(out.teacher);
      if (out.encoder) out.encoder = abs(out.encoder);
      if (out.clip) out.clip.file = abs(out.clip.file);
    }
  }
  return out as T;
}

/** Reads FILE (.yaml, .yml or .json) and validates it for a command. */
export function loadConfig<K extends TrainKind>(kind: K, file: string, overrides: { iterations?: number; out?: string; clip?: string } = {}): Extract<TrainConfig, { kind: K }> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError(`${file}: cannot read the config (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  let raw: unknown;
  try {
    raw = /\.json$/i.test(file) ? JSON.parse(text) : parseYaml(text);
  } catch (e) {
    throw new ConfigError(`${file}: not valid ${/\.json$/i.test(file) ? 'JSON' : 'YAML'} (${(e as Error).message.split('\n')[0]})`);
  }
  if (raw !== null && typeof raw === 'object' && !Array.isArray(raw)) {
    const r = raw as Record<string, unknown>;
    if (overrides.iterations !== undefined) r.iterations = overrides.iterations;
    if (overrides.out !== undefined) r.out = overrides.out;
    // --clip FILE: CLIP as the ESS encoder in place of any stand-in the file names.
    if (overrides.clip !== undefined && kind === 'distill') {
      const prev = r.clip !== null && typeof r.clip === 'object' && !Array.isArray(r.clip) ? r.clip : {};
      r.clip = { ...prev, file: path.resolve(overrides.clip) };
      delete r.encoder;
    }
  }
  const c = checkConfig(kind, raw, file, path.dirname(path.resolve(file)));
  // A command-line --out is relative to the working folder, not to the config file.
  if (overrides.out !== undefined) c.out = path.resolve(overrides.out);
  return c;
}
