// Golden set `models` (../shared/golden/models/README.md), the UNet part: unet.forward,
// unet.backward, swin.mask, swin.layer, timestep_embedding, keys.fullsize.
import * as torch from '../../engine/index.js';
import { registerKind } from '../registry.js';
import type { CaseContext } from '../context.js';
import { timestepEmbedding } from '../../models/unet/timestep.js';
import { calculateMask, relativePositionIndex } from '../../models/unet/swin_mask.js';
import { BasicLayer } from '../../models/unet/swin.js';
import type { Module } from '../../engine/nn/index.js';
import type { Tensor } from '../../engine/index.js';
import { UNetModelSwin } from '../../models/unet/unet.js';
import { fromSinSRConfig, type UNetConfig } from '../../models/unet/config.js';
import { VQModelTorch, type VQConfig } from '../../models/vq/index.js';

function num(ctx: CaseContext, key: string): number {
  const v = ctx.params[key];
  if (typeof v !== 'number') throw new Error(`case ${ctx.case.name}: params.${key} must be a number`);
  return v;
}

// SwinTransformerBlock.calculate_mask / WindowAttention.relative_position_index, with the
// construction-time clamp of the window (quirk 3) applied by the block.
registerKind('swin.mask', (ctx) => {
  torch.scope(() => {
    const res = ctx.params.input_resolution as number[];
    const xs = ctx.params.x_size as number[];
    let ws = num(ctx, 'window_size'), s = num(ctx, 'shift_size');
    if (Math.min(...res) <= ws) { s = 0; ws = Math.min(...res); }
    ctx.compareValue('effective_window_size', ws, ctx.params.effective_window_size);
    ctx.compareValue('effective_shift_size', s, ctx.params.effective_shift_size);
    ctx.compare('attn_mask', calculateMask(xs[0]!, xs[1]!, ws, s));
    ctx.compare('relative_position_index', relativePositionIndex(ws));
    if (s > 0) ctx.compare('attn_mask_buffer', calculateMask(res[0]!, res[1]!, ws, s));
  });
});

registerKind('timestep_embedding', (ctx) => {
  torch.scope(() => {
    const t = ctx.input('timesteps');
    for (const d of ctx.params.dims as number[]) ctx.compare(`emb${d}`, timestepEmbedding(t, d, num(ctx, 'max_period')));
  });
});

/**
 * Loads a case's F16 `w.*` weights into a model, strictly: cast to float32 (they are exactly
 * representable), and the deterministic buffers, which cases do not store, taken as computed.
 */
function loadCaseWeights(model: Module, weights: Map<string, Tensor>, prefix = ''): void {
  torch.scope(() => {
    const sd = new Map<string, Tensor>();
    for (const [k, t] of weights) if (k.startsWith(prefix)) sd.set(k.slice(prefix.length), t.float());
    for (const [k, t] of model.namedBuffers()) if (!sd.has(k)) sd.set(k, t);
    model.loadStateDict(sd);
  });
}

registerKind('swin.layer', (ctx) => {
  const cfg = ctx.params.config as Record<string, unknown>;
  if (cfg.patch_size !== 1) throw new Error(`case ${ctx.case.name}: only patch_size 1 is implemented (UNetModelSwin uses 1)`);
  const layer = new BasicLayer({
    in_chans: cfg.in_chans as number, embed_dim: cfg.embed_dim as number, num_heads: cfg.num_heads as number,
    window_size: cfg.window_size as number, depth: cfg.depth as number, img_size: cfg.img_size as number,
    mlp_ratio: cfg.mlp_ratio as number, patch_norm: cfg.patch_norm as boolean,
  });
  try {
    loadCaseWeights(layer, ctx.weights());
    layer.eval();
    for (const run of ctx.params.runs as { name: string }[]) {
      torch.noGrad(() => torch.scope(() => ctx.compare(`${run.name}.out`, layer.forward(ctx.input(`${run.name}.x`)))));
    }
  } finally {
    layer.dispose();
  }
});

/** A UNet from a case's config: ResShift's constructor arguments, or SinSR's form (class "UNetModelSwin (SinSR)"). */
function unetFromCase(ctx: CaseContext): UNetModelSwin {
  const cfg = ctx.params.config as Record<string, unknown>;
  const sinsr = String(ctx.params.class ?? '').includes('SinSR');
  return new UNetModelSwin(sinsr ? fromSinSRConfig(cfg) : (cfg as Partial<UNetConfig>));
}

registerKind('unet.forward', (ctx) => {
  const model = unetFromCase(ctx);
  try {
    loadCaseWeights(model, ctx.weights());
    model.eval();
    for (const run of ctx.params.runs as { name: string }[]) {
      torch.noGrad(() => torch.scope(() => {
        const r = run.name;
        ctx.compare(`${r}.out`, model.forward(ctx.input(`${r}.x`), ctx.input(`${r}.timesteps`), ctx.input(`${r}.lq`)));
      }));
    }
  } finally {
    model.dispose();
  }
});

// loss = sum(out · grad_out); gradients w.r.t. x, lq and the listed parameters.
registerKind('unet.backward', (ctx) => {
  const model = unetFromCase(ctx);
  try {
    loadCaseWeights(model, ctx.weights());
    model.eval();
    torch.scope(() => {
      const x = ctx.input('x').clone().requiresGrad_(true);
      const lq = ctx.input('lq').clone().requiresGrad_(true);
      const out = model.forward(x, ctx.input('timesteps'), lq);
      ctx.compare('out', out.detach());
      out.mul(ctx.input('grad_out')).sum().backward();
      ctx.compare('grad.x', x.grad!);
      ctx.compare('grad.lq', lq.grad!);
      const params = new Map(model.namedParameters());
      for (const k of ctx.params.grad_params as string[]) {
        const p = params.get(k);
        if (!p) { ctx.fail(`grad_params: model has no parameter ${k}`); continue; }
        const g = p.grad;
        if (!g) { ctx.fail(`${k}: no gradient`); continue; }
        ctx.compare(`grad.${k}`, g);
      }
    });
  } finally {
    model.dispose();
  }
});

type KeyRow = [string, number[], string, 'param' | 'buffer'];

/** The key list of a model as keys.fullsize writes it: state-dict order, shape, dtype, kind. */
function keyRows(model: Module): KeyRow[] {
  const buffers = new Set(model.namedBuffers().map(([k]) => k));
  return [...model.stateDict()].map(([k, t]) => [k, t.shape, TORCH_DTYPE[t.dtype] ?? t.dtype, buffers.has(k) ? 'buffer' : 'param']);
}

// The manifest writes dtypes with safetensors' names.
const TORCH_DTYPE: Partial<Record<torch.DType, string>> = { float32: 'F32', int64: 'I64', float16: 'F16', bfloat16: 'BF16' };

registerKind('keys.fullsize', (ctx) => {
  const cls = String(ctx.params.class ?? '');
  // The VQ-f4 key list is checked with the VQ autoencoder of src/models/vq/, built from the case config.
  const model: Module = cls.startsWith('VQModelTorch') ? new VQModelTorch(ctx.params.config as VQConfig) : unetFromCase(ctx);
  try {
    const rows = keyRows(model);
    const params = model.namedParameters();
    ctx.compareValue('keys', rows);
    ctx.compareValue('num_keys', rows.length);
    ctx.compareValue('num_params', params.reduce((a, [, t]) => a + t.numel, 0));
    ctx.compareValue('num_param_tensors', params.length);
    ctx.compareValue('num_buffer_elements', model.namedBuffers().reduce((a, [, t]) => a + t.numel, 0));
  } finally {
    model.dispose();
  }
});
