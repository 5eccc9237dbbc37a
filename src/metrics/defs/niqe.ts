// niqe: pyiqa niqe with its defaults (YIQ luma), the NIQE release's pristine model (bundled, assets/niqe).
import * as torch from '../../engine/index.js';
import { registerMetric } from '../registry.js';
import { niqe, type NiqePristine } from '../niqe.js';
import { assetPath } from '../weights.js';
import { loadStateDictFile, disposeAll } from '../load.js';

registerMetric({
  id: 'niqe', kind: 'image', lowerBetter: true, needsReference: false, weights: [], minSize: 96,
  description: 'pyiqa niqe (defaults: YIQ luma rounded to 8-bit levels, 96-px blocks, NIQE release pristine model)',
  create: () => {
    // kept: the instance owns its tensors even when created inside a torch.scope
    const sd = loadStateDictFile(assetPath('niqe/niqe_pris_params.safetensors'));
    for (const t of sd.values()) torch.keep(t);
    const pristine: NiqePristine = { mu: sd.get('mu_pris_param')!, cov: sd.get('cov_pris_param')! };
    return { score: (sr) => niqe(sr, pristine), dispose: () => disposeAll(sd) };
  },
});
