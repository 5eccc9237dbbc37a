// fid: FID between the SR folder and the HR folder (pyiqa fid, mode 'clean'), with pytorch-fid's
// Inception weights from the weights folder. One number per folder, not per image.
import * as torch from '../../engine/index.js';
import { Tensor } from '../../engine/index.js';
import { registerMetric } from '../registry.js';
import { FIDInceptionV3 } from '../../models/iqa/index.js';
import { loadStateDictFile, disposeAll } from '../load.js';
import { PT_INCEPTION } from '../backbones.js';
import { featureStats, fidFeatures, frechetDistance } from '../fid.js';

registerMetric({
  id: 'fid', kind: 'set', lowerBetter: true, needsReference: true, weights: [PT_INCEPTION], minSize: 1,
  description: "FID between the SR and HR folders (pyiqa fid, 'clean' mode: PIL bicubic to 299², pytorch-fid Inception)",
  create: (ctx) => {
    const model = new FIDInceptionV3();
    try {
      const file = ctx.weights.get(PT_INCEPTION.file)!;
      const sd = loadStateDictFile(file);
      try { model.loadFid(sd); } catch (e) { throw new Error(`${file}: ${(e as Error).message}`); } finally { disposeAll(sd); }
      model.to({ device: ctx.device, memoryFormat: 'channels_last' });
    } catch (e) { model.dispose(); throw e; }
    let a: Tensor[] = [], b: Tensor[] = [];
    const reset = (): void => { for (const t of [...a, ...b]) t.dispose(); a = []; b = []; };
    return {
      add: (sr, hr) => {
        a.push(torch.keep(fidFeatures(model, sr, ctx.device)));
        b.push(torch.keep(fidFeatures(model, hr!, ctx.device)));
      },
      finish: () => {
        try {
          if (a.length === 0) throw new Error('no images');
          return torch.scope(() => {
            const fa = torch.cat(a, 0), fb = torch.cat(b, 0);
            if (fa.size(0) < 2) throw new Error('FID needs at least 2 images per folder');
            const s1 = featureStats(fa), s2 = featureStats(fb);
            return frechetDistance(s1.mu, s1.sigma, s2.mu, s2.sigma);
          });
        } finally { reset(); }
      },
      dispose: () => { reset(); model.dispose(); },
    };
  },
});
