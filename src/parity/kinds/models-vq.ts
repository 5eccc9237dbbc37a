// Golden set `models` (../shared/golden/models/README.md), VQ kinds: vq.encode, vq.decode, vq.quantize.
import * as torch from '../../engine/index.js';
import { Tensor } from '../../engine/index.js';
import { registerKind } from '../registry.js';
import type { CaseContext } from '../context.js';
import { VQModelTorch, VectorQuantizer2, type VQConfig } from '../../models/vq/index.js';

/**
 * Loads a case's F16 weights (exactly representable in f32) into a module. Cases store only the
 * part they exercise (e.g. encoder.* and quant_conv.*): every stored key must exist, and every key
 * under the given prefixes must be stored.
 */
export function loadPartialWeights(model: { loadStateDict: VQModelTorch['loadStateDict']; stateDict: VQModelTorch['stateDict'] },
  weights: Map<string, Tensor>, needPrefixes: string[], strip = ''): void {
  torch.scope(() => {
    const sd = new Map<string, Tensor>();
    for (const [k, t] of weights) if (k.startsWith(strip)) sd.set(k.slice(strip.length), t.float());
    const r = model.loadStateDict(sd, { strict: false });
    if (r.unexpectedKeys.length) throw new Error(`unexpected weights: ${r.unexpectedKeys.slice(0, 5).join(', ')}`);
    const missing = r.missingKeys.filter((k) => needPrefixes.some((p) => k.startsWith(p)));
    if (missing.length) throw new Error(`weights missing from the case: ${missing.slice(0, 5).join(', ')}`);
  });
}

/** A VQModelTorch from a case's config with its weights (the parts given by `need`). */
export function vqFromCase(config: VQConfig, weights: Map<string, Tensor>, need: string[], strip = ''): VQModelTorch {
  const vq = new VQModelTorch(config);
  try {
    loadPartialWeights(vq, weights, need, strip);
  } catch (e) {
    vq.dispose();
    throw e;
  }
  return vq.eval();
}

function withVQ(ctx: CaseContext, need: string[], fn: (vq: VQModelTorch) => void): void {
  const vq = vqFromCase(ctx.params.config as VQConfig, ctx.weights(), need);
  try { torch.noGrad(() => torch.scope(() => fn(vq))); } finally { vq.dispose(); }
}

registerKind('vq.encode', (ctx) => {
  withVQ(ctx, ['encoder.', 'quant_conv.'], (vq) => ctx.compare('h', vq.encode(ctx.input('x'))));
});

registerKind('vq.decode', (ctx) => {
  withVQ(ctx, ['decoder.', 'post_quant_conv.', 'quantize.'], (vq) => {
    const dec = vq.decode(ctx.input('h'), {
      onQuantize: (q) => { ctx.compare('indices', q.indices); ctx.compare('quant', q.zQ); },
    });
    ctx.compare('dec', dec);
  });
});

registerKind('vq.quantize', (ctx) => {
  const p = ctx.params as { n_e: number; e_dim: number; beta: number; legacy: boolean };
  const q = new VectorQuantizer2(p.n_e, p.e_dim, p.beta, { legacy: p.legacy });
  try {
    loadPartialWeights(q, ctx.weights(), ['embedding.'], 'quantize.');
    torch.noGrad(() => torch.scope(() => {
      const r = q.forward(ctx.input('z'));
      ctx.compare('z_q', r.zQ);
      ctx.compare('loss', r.loss);
      ctx.compare('indices', r.indices);
    }));
  } finally {
    q.dispose();
  }
});
