// maniqa (KonIQ-10k), maniqa-kadid, maniqa-pipal (the "MANIQA" column of OSEDiff-style tables):
// pyiqa's MANIQA from its weight files, 20 deterministic 224² crops. Ids, files and directions come
// from the metric table (IQA_METRICS).
import { registerMetric } from '../registry.js';
import { IQA_METRICS, loadIqaMetric } from '../../models/iqa/index.js';
import { iqaWeightFile } from '../backbones.js';

for (const info of IQA_METRICS.filter((m) => m.family === 'maniqa')) {
  const weight = iqaWeightFile(info);
  registerMetric({
    id: info.id, aliases: [...info.aliases], kind: 'image', lowerBetter: info.lowerBetter, needsReference: false, weights: [weight],
    description: `pyiqa ${info.id}: ${info.description} (20 uniform 224² crops, computed on the CPU)`,
    create: (ctx) => {
      const m = loadIqaMetric(info.id, ctx.weights.get(weight.file)!);
      return { score: (sr) => m.score(sr), dispose: () => m.dispose() };
    },
  });
}
