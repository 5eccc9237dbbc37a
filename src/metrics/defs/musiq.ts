// musiq (KonIQ-10k; alias musiq-koniq), musiq-spaq, musiq-paq2piq, musiq-ava: pyiqa's MUSIQ from its
// weight files. Ids, aliases, files and directions come from the metric table (IQA_METRICS).
import { registerMetric } from '../registry.js';
import { IQA_METRICS, loadIqaMetric } from '../../models/iqa/index.js';
import { iqaWeightFile } from '../backbones.js';

for (const info of IQA_METRICS.filter((m) => m.family === 'musiq')) {
  const weight = iqaWeightFile(info);
  registerMetric({
    id: info.id, aliases: [...info.aliases], kind: 'image', lowerBetter: info.lowerBetter, needsReference: false, weights: [weight],
    description: `pyiqa ${info.id}: ${info.description}, full resolution (computed on the CPU)`,
    create: (ctx) => {
      // The network runs on the CPU whatever ctx.device says (as the iqa scorers do).
      const m = loadIqaMetric(info.id, ctx.weights.get(weight.file)!);
      return { score: (sr) => m.score(sr), dispose: () => m.dispose() };
    },
  });
}
