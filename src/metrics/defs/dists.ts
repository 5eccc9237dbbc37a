// dists: DISTS with the torchvision VGG16 trunk from the weights folder and alpha/beta bundled (assets/dists, MIT).
import * as torch from '../../engine/index.js';
import { registerMetric } from '../registry.js';
import { DISTS } from '../../models/iqa/index.js';
import { assetPath } from '../weights.js';
import { loadStateDictFile, disposeAll } from '../load.js';
import { VGG16 } from '../backbones.js';

registerMetric({
  id: 'dists', kind: 'image', lowerBetter: true, needsReference: true, weights: [VGG16], minSize: 32,
  description: 'DISTS (pyiqa dists): VGG16 with L2 pooling, structure and texture similarity',
  create: (ctx) => {
    const model = new DISTS();
    try {
      const file = ctx.weights.get(VGG16.file)!;
      const trunk = loadStateDictFile(file);
      try { model.loadTrunk(trunk); } catch (e) { throw new Error(`${file}: ${(e as Error).message}`); } finally { disposeAll(trunk); }
      const ab = loadStateDictFile(assetPath('dists/weights.pt'));
      try { model.loadAlphaBeta(ab); } finally { disposeAll(ab); }
      model.to({ device: ctx.device, memoryFormat: 'channels_last' });
    } catch (e) { model.dispose(); throw e; }
    return {
      score: (sr, hr) => torch.noGrad(() => torch.scope(() => {
        const a = sr.to({ device: ctx.device }).contiguous('channels_last'), b = hr!.to({ device: ctx.device }).contiguous('channels_last');
        return Array.from(model.forward(a, b).reshape([-1]).to({ device: 'cpu' }).toFloat32Array());
      })),
      dispose: () => model.dispose(),
    };
  },
});
