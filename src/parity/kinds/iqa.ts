// Golden set `iqa` (../shared/golden/iqa/README.md): pyiqa's MUSIQ and MANIQA — the metric table,
// MUSIQ's patch input and forward, MANIQA's crops and forward, and the full-size key lists.
import * as torch from '../../engine/index.js';
import { Tensor } from '../../engine/index.js';
import { loadSafetensors } from '../../io/checkpoint/tensors.js';
import { registerKind } from '../registry.js';
import { compareTensors, type CaseContext, type Tolerance } from '../context.js';
import {
  IQA_METRICS, LEGACY_PYIQA_IDS, MANIQA_WEIGHT_FILES, MUSIQ_WEIGHT_FILES, findIqaMetric,
} from '../../models/iqa/metrics.js';
import { hashIndex1d, hashIndex2d, multiscalePatches, packPatches, type MultiscaleOptions } from '../../models/iqa/musiq_patches.js';
import { MUSIQ, MUSIQ_DEFAULT, type MusiqConfig } from '../../models/iqa/musiq.js';
import { MANIQA, MANIQA_DEFAULT, type ManiqaConfig } from '../../models/iqa/maniqa.js';
import { legacyRandomCropPositions, uniformCrop, uniformCropPositions, upscaledSize } from '../../models/iqa/crops.js';
import { keyList } from '../../models/iqa/weights.js';

/** JSON with object keys sorted, so that key order (not meaningful) does not decide equality. */
function canonical(x: unknown): unknown {
  if (Array.isArray(x)) return x.map(canonical);
  if (x && typeof x === 'object') return Object.fromEntries(Object.keys(x).sort().map((k) => [k, canonical((x as Record<string, unknown>)[k])]));
  return x;
}

/** The case's weight files merged into one state dict; I8 tensors times their power-of-two ws.* scale. */
function caseWeights(ctx: CaseContext): Map<string, Tensor> {
  const files = ctx.params.weights;
  if (!Array.isArray(files) || files.length === 0) throw new Error('params.weights must list weight files');
  const raw = new Map<string, Tensor>();
  for (const f of files) for (const [k, t] of loadSafetensors(ctx.resolve(String(f)))) torch.keep(t), raw.set(k, t);
  const out = new Map<string, Tensor>();
  try {
    for (const [k, t] of raw) {
      if (!k.startsWith('w.')) continue;
      const key = k.slice(2);
      if (t.dtype === 'int8') {
        const s = raw.get(`ws.${key}`);
        if (!s) throw new Error(`weight ${key} is int8 without ws.${key}`);
        out.set(key, torch.keep(torch.scope(() => t.float().mul(s))));
      } else {
        out.set(key, torch.keep(torch.scope(() => t.dtype === 'int64' ? t.clone() : t.float())));
      }
    }
  } finally {
    for (const t of raw.values()) t.dispose();
  }
  return out;
}

function loadStrict(model: { loadStateDict(sd: Map<string, Tensor>, o: { strict: boolean }): unknown }, sd: Map<string, Tensor>): void {
  try { model.loadStateDict(sd, { strict: true }); } finally { for (const t of sd.values()) t.dispose(); }
}

/** x = float32(uint8) / 255, or a float input as is. */
function image01(ctx: CaseContext): Tensor {
  const x = ctx.input('image');
  return x.dtype === 'uint8' ? x.float().div(255) : x;
}

/** Compares an exposed intermediate with dbg.<name> under params.debug_tol (README: optional, looser). */
function compareDebug(ctx: CaseContext, name: string, got: Tensor): void {
  const exp = ctx.all().get(`dbg.${name}`);
  if (!exp) return;
  const tol = ctx.params.debug_tol as Tolerance | undefined;
  if (!tol) return;
  const r = compareTensors(got, exp, tol);
  if (!r.pass) ctx.fail(`dbg.${name}: ${r.detail}`);
}

registerKind('iqa.metric_ids', (ctx) => {
  const configs: Record<string, unknown> = {};
  for (const m of IQA_METRICS) configs[m.id] = { metric_opts: m.metricOpts, metric_mode: 'NR', lower_better: m.lowerBetter, score_range: m.scoreRange };
  const expect = ctx.case.expect ?? {};
  ctx.compareValue('configs', canonical(configs), canonical(expect.configs));
  ctx.compareValue('musiq_weight_files', canonical(MUSIQ_WEIGHT_FILES), canonical(expect.musiq_weight_files));
  ctx.compareValue('maniqa_weight_files', canonical(MANIQA_WEIGHT_FILES), canonical(expect.maniqa_weight_files));
  // Legacy ids are not primary ids of the table (musiq-koniq is accepted as an alias of musiq).
  const absent = LEGACY_PYIQA_IDS.filter((id) => !IQA_METRICS.some((m) => m.id === id));
  ctx.compareValue('absent_ids', absent);
  if (findIqaMetric('musiq-koniq')?.id !== 'musiq') ctx.fail('musiq-koniq must be an alias of musiq');
  if (findIqaMetric('maniqa-koniq') !== undefined) ctx.fail('maniqa-koniq must not be accepted (maniqa is the KonIQ model)');
});

registerKind('musiq.hash_index', (ctx) => {
  const g = ctx.params.grid_size as number;
  const counts = ctx.params.counts as number[];
  const pairs = ctx.params.pairs as [number, number][];
  const h1: Record<string, number[]> = {};
  for (const n of counts) h1[String(n)] = hashIndex1d(g, n);
  ctx.compareValue('hash_1d', canonical(h1), canonical(ctx.case.expect?.hash_1d));
  ctx.compareValue('index_2d', pairs.map(([h, w]) => ({ count_hw: [h, w], index: hashIndex2d(g, h, w) })));
});

registerKind('musiq.preprocess', (ctx) => torch.scope(() => {
  const p = ctx.params;
  const o: MultiscaleOptions = {
    patch_size: p.patch_size as number, patch_stride: p.patch_stride as number, hse_grid_size: p.hse_grid_size as number,
    longer_side_lengths: p.longer_side_lengths as number[], max_seq_len_from_original_res: p.max_seq_len_from_original_res as number | null,
  };
  const xn = image01(ctx).sub(0.5).mul(2);
  const r = multiscalePatches(xn, o);
  ctx.compare('patch_tensor', packPatches(r));
  ctx.compare('spatial_positions', r.spatial);
  ctx.compare('scale_positions', r.scale);
  ctx.compare('mask', r.mask);
}));

function musiqConfig(c: Record<string, unknown>): MusiqConfig {
  return { ...MUSIQ_DEFAULT, ...(c as Partial<MusiqConfig>) };
}

registerKind('musiq.forward', (ctx) => {
  const model = new MUSIQ(musiqConfig(ctx.params.config as Record<string, unknown>));
  try {
    loadStrict(model, caseWeights(ctx));
    model.eval();
    torch.noGrad(() => torch.scope(() => {
      const { score, dist } = model.forward(image01(ctx), {
        embedded: (t) => compareDebug(ctx, 'embedded', t),
        encoded: (t) => compareDebug(ctx, 'encoded', t),
        head: (t) => compareDebug(ctx, 'head', t),
      });
      ctx.compare('score', score);
      if (ctx.outputNames().includes('dist')) ctx.compare('dist', dist);
    }));
  } finally {
    model.dispose();
  }
});

registerKind('musiq.keys', (ctx) => {
  const c = ctx.params.config as { num_class: number };
  const model = new MUSIQ({ ...MUSIQ_DEFAULT, num_class: c.num_class });
  try {
    compareKeys(ctx, keyList(model));
  } finally {
    model.dispose();
  }
});

function compareKeys(ctx: CaseContext, keys: [string, string, number[]][]): void {
  ctx.compareValue('keys', keys);
  ctx.compareValue('num_tensors', keys.length);
  ctx.compareValue('num_elements', keys.reduce((a, [, , s]) => a + s.reduce((x, y) => x * y, 1), 0));
}

registerKind('maniqa.crops', (ctx) => torch.scope(() => {
  const e = ctx.case.expect ?? {};
  if (Array.isArray(ctx.params.entries)) {
    const results = (ctx.params.entries as { hw: [number, number]; crop_size: number; crop_num: number }[]).map((en) => {
      const up = upscaledSize(en.hw[0], en.hw[1], en.crop_size);
      const r: Record<string, unknown> = { ...en, resized_hw: up.size, positions: uniformCropPositions(up.size[0], up.size[1], en.crop_size, en.crop_num) };
      if (up.scaleFactor !== null) r.debug_scale_factor = up.scaleFactor;
      return r;
    });
    ctx.compareValue('results', canonical(results), canonical(e.results));
    return;
  }
  const x = ctx.input('image');
  const r = uniformCrop(x, ctx.params.crop_size as number, ctx.params.crop_num as number);
  ctx.compare('resized', r.resized);
  ctx.compare('crops', r.crops);
  ctx.compareValue('resized_hw', [r.resized.size(2), r.resized.size(3)]);
  ctx.compareValue('positions', r.positions);
}));

registerKind('maniqa.crops_legacy_random', (ctx) => {
  const seed = ctx.params.seed as number;
  const exp = (ctx.case.expect?.results ?? []) as { hw: [number, number] }[];
  const results = exp.map((en) => {
    const up = upscaledSize(en.hw[0], en.hw[1], 224);
    return { ...en, resized_hw: up.size, positions: legacyRandomCropPositions(up.size[0], up.size[1], 224, 20, seed) };
  });
  if (results.length === 0) ctx.fail('expect.results is empty');
  ctx.compareValue('results', canonical(results), canonical(exp));
});

function maniqaConfig(c: Record<string, unknown>, scale: number): ManiqaConfig {
  const vit = c.vit as Record<string, number>;
  return {
    ...MANIQA_DEFAULT,
    embed_dim: c.embed_dim as number, dim_mlp: c.dim_mlp as number, num_heads: c.num_heads as number[], depths: c.depths as number[],
    window_size: c.window_size as number, img_size: c.img_size as number, patch_size: c.patch_size as number, num_tab: c.num_tab as number,
    test_sample: c.test_sample as number, num_outputs: c.num_outputs as number, scale,
    vit: { embed_dim: vit.embed_dim!, depth: vit.depth!, num_heads: vit.num_heads!, mlp_ratio: vit.mlp_ratio!, num_classes: vit.num_classes! },
  };
}

registerKind('maniqa.forward', (ctx) => {
  const model = new MANIQA(maniqaConfig(ctx.params.config as Record<string, unknown>, ctx.params.scale as number));
  try {
    loadStrict(model, caseWeights(ctx));
    model.eval();
    torch.noGrad(() => torch.scope(() => {
      const score = model.forward(image01(ctx), {
        perPatch: (s, w) => { compareDebug(ctx, 'per_patch_score', s); compareDebug(ctx, 'per_patch_weight', w); },
        featToken0: (t) => compareDebug(ctx, 'feat_token0', t),
        vitBlock6Crop0: (t) => compareDebug(ctx, 'vit_block6_crop0', t),
        swin1Pixel00: (t) => compareDebug(ctx, 'swin1_pixel00', t),
        swin2Pixel00: (t) => compareDebug(ctx, 'swin2_pixel00', t),
      });
      ctx.compare('score', score);
    }));
  } finally {
    model.dispose();
  }
});

registerKind('maniqa.keys', (ctx) => {
  const model = new MANIQA(MANIQA_DEFAULT);
  try {
    compareKeys(ctx, keyList(model));
  } finally {
    model.dispose();
  }
});
