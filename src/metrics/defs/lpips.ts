// lpips (AlexNet, v0.1) and lpips_vgg (VGG16, v0.1): torchvision trunks from the weights folder,
// the v0.1 heads bundled (assets/lpips, BSD-2-Clause).
import * as torch from '../../engine/index.js';
import { registerMetric, type MetricContext, type MetricInstance } from '../registry.js';
import { LPIPS } from '../../models/iqa/index.js';
import { assetPath } from '../weights.js';
import { loadStateDictFile, disposeAll } from '../load.js';
import { ALEXNET, VGG16 } from '../backbones.js';

function create(net: 'alex' | 'vgg', ctx: MetricContext): MetricInstance {
  const model = new LPIPS(net);
  try {
    const trunk = loadStateDictFile(ctx.weights.get((net === 'alex' ? ALEXNET : VGG16).file)!);
    try { model.loadTrunk(trunk); } catch (e) { throw new Error(`${ctx.weights.get((net === 'alex' ? ALEXNET : VGG16).file)}: ${(e as Error).message}`); } finally { disposeAll(trunk); }
    const heads = loadStateDictFile(assetPath(`lpips/v0.1/${net}.pth`));
    try { model.loadHeads(heads); } finally { disposeAll(heads); }
    model.to({ device: ctx.device, memoryFormat: 'channels_last' });
  } catch (e) { model.dispose(); throw e; }
  return {
    // pyiqa's lpips(x, ref) = LPIPS.forward(ref, x): the distance is symmetric.
    score: (sr, hr) => torch.noGrad(() => torch.scope(() => {
      const a = sr.to({ device: ctx.device }).contiguous('channels_last'), b = hr!.to({ device: ctx.device }).contiguous('channels_last');
      return Array.from(model.forward(b, a).distance.reshape([-1]).to({ device: 'cpu' }).toFloat32Array());
    })),
    dispose: () => model.dispose(),
  };
}

registerMetric({
  id: 'lpips', aliases: ['lpips_alex', 'lpips-alex'], kind: 'image', lowerBetter: true, needsReference: true, weights: [ALEXNET], minSize: 32,
  description: 'LPIPS v0.1 with the AlexNet trunk (pyiqa lpips), inputs [0, 1]',
  create: (ctx) => create('alex', ctx),
});

registerMetric({
  id: 'lpips_vgg', aliases: ['lpips-vgg'], kind: 'image', lowerBetter: true, needsReference: true, weights: [VGG16], minSize: 16,
  description: 'LPIPS v0.1 with the VGG16 trunk (pyiqa lpips-vgg)',
  create: (ctx) => create('vgg', ctx),
});
