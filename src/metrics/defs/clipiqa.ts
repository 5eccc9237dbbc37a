// clipiqa: pyiqa's CLIP-IQA (model_type 'clipiqa', RN50 from OpenAI's RN50.pt, five antonym prompt
// pairs, the image at full resolution, no positional embedding). Id, file and direction come from
// the metric table (IQA_METRICS); the score is clipiqaScore's.
import * as torch from '../../engine/index.js';
import { registerMetric } from '../registry.js';
import { iqaMetric } from '../../models/iqa/index.js';
import { loadClip, clipiqaScore } from '../../models/clip/index.js';
import { iqaWeightFile } from '../backbones.js';

const info = iqaMetric('clipiqa');
const weight = iqaWeightFile(info);

registerMetric({
  id: info.id, aliases: [...info.aliases], kind: 'image', lowerBetter: info.lowerBetter, needsReference: false, weights: [weight], minSize: 32,
  description: `pyiqa clipiqa: ${info.description}; full resolution`,
  create: (ctx) => {
    const model = loadClip(ctx.weights.get(weight.file)!);
    try { model.to({ device: ctx.device }); } catch (e) { model.dispose(); throw e; }
    return {
      score: (sr) => torch.noGrad(() => torch.scope(() => {
        const x = sr.to({ device: ctx.device });
        return Array.from(clipiqaScore(model, x).reshape([-1]).to({ device: 'cpu' }).toFloat32Array());
      })),
      dispose: () => model.dispose(),
    };
  },
});
