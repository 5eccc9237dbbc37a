// Golden set `lpips` (../shared/golden/lpips/README.md): kinds lpips.alex, lpips.vgg and dists on
// random int8-grid trunks shared between cases and the real LPIPS heads / DISTS alpha, beta.
import * as torch from '../../engine/index.js';
import { Tensor } from '../../engine/index.js';
import { registerKind } from '../registry.js';
import type { CaseContext } from '../context.js';
import { loadSafetensors } from '../../io/checkpoint/tensors.js';
import { LPIPS, DISTS } from '../../models/iqa/index.js';

/** A shared trunk file: `w.<key>` (I8 conv weights × `ws.<key>`, F32 biases) → key, float32. */
function trunkWeights(ctx: CaseContext): Map<string, Tensor> {
  const files = ctx.params.weights as string[];
  const out = new Map<string, Tensor>();
  for (const f of files) {
    const raw = loadSafetensors(ctx.resolve(f));
    for (const [k, t] of raw) {
      if (!k.startsWith('w.')) continue;
      const key = k.slice(2);
      const scale = raw.get(`ws.${key}`);
      out.set(key, scale ? t.to({ dtype: 'float32' }).mul(scale) : t.to({ dtype: 'float32' }));
    }
  }
  return out;
}

/** Renames torchvision keys by the case's backbone_key_map (prefix → prefix). */
function mapKeys(sd: Map<string, Tensor>, map: Record<string, string>): Map<string, Tensor> {
  const out = new Map<string, Tensor>();
  for (const [k, t] of sd) {
    const from = Object.keys(map).find((p) => k.startsWith(p));
    if (from === undefined) throw new Error(`trunk key ${k} has no entry in backbone_key_map`);
    out.set(map[from]! + k.slice(from.length), t);
  }
  return out;
}

const image = (ctx: CaseContext, name: string): Tensor => ctx.input(name).to({ dtype: 'float32' }).div(255);

function lpipsKind(net: 'alex' | 'vgg') {
  return (ctx: CaseContext): void => torch.scope(() => {
    const model = new LPIPS(net);
    try {
      const sd = mapKeys(trunkWeights(ctx), ctx.params.backbone_key_map as Record<string, string>);
      for (const [k, t] of ctx.weights()) sd.set(k, t);
      for (const [k, t] of model.scaling_layer.stateDict()) sd.set(`scaling_layer.${k}`, t);
      model.loadStateDict(sd, { strict: true });
      const outs = new Set(ctx.outputNames());
      const x0 = image(ctx, 'x0'), x1 = image(ctx, 'x1');
      const debug = outs.has('diff.0') || outs.has('feat0.0');
      const r = torch.noGrad(() => model.forward(x0, x1, debug));
      if (outs.has('distance')) ctx.compare('distance', r.distance);
      if (outs.has('per_layer')) ctx.compare('per_layer', torch.cat(r.perLayer.map((t) => t.reshape([-1, 1])), 1));
      for (let k = 0; k < 5; k++) {
        if (outs.has(`diff.${k}`)) ctx.compare(`diff.${k}`, r.diffs![k]!);
        if (outs.has(`feat0.${k}`)) ctx.compare(`feat0.${k}`, r.feats0![k]!);
      }
      if (outs.has('grad_x0')) {
        const x = x0.clone().requiresGrad_();
        const d = model.forward(x, x1).distance.sum();
        ctx.compare('grad_x0', torch.grad(d, x)[0]!);
      }
    } finally { model.dispose(); }
  });
}

registerKind('lpips.alex', lpipsKind('alex'));
registerKind('lpips.vgg', lpipsKind('vgg'));

registerKind('dists', (ctx) => torch.scope(() => {
  const model = new DISTS();
  try {
    const sd = mapKeys(trunkWeights(ctx), ctx.params.backbone_key_map as Record<string, string>);
    for (const [k, t] of ctx.weights()) sd.set(k, t);
    const r = model.loadStateDict(sd, { strict: false });
    const stray = r.missingKeys.filter((k) => !/\.filter$|^mean$|^std$/.test(k));
    if (r.unexpectedKeys.length || stray.length) throw new Error(`DISTS weights: unexpected ${r.unexpectedKeys.join(', ')}; missing ${stray.join(', ')}`);
    const filter = model.stage2.stateDict().get('4.filter')!.select(0, 0).select(0, 0);
    ctx.compareValue('l2pool_filter_3x3', Array.from({ length: 3 }, (_, i) => Array.from(filter.select(0, i).toFloat32Array())), ctx.params.l2pool_filter_3x3);
    const x = image(ctx, 'x'), y = image(ctx, 'y');
    ctx.compare('score', torch.noGrad(() => model.forward(x, y)));
    if (ctx.outputNames().includes('grad_x')) {
      const xg = x.clone().requiresGrad_();
      ctx.compare('grad_x', torch.grad(model.forward(xg, y).sum(), xg)[0]!);
    }
  } finally { model.dispose(); }
}));
