// Image-quality networks as pyiqa computes them: MUSIQ and MANIQA (no-reference, from pyiqa's weight
// files; `loadMusiq` / `loadManiqa` / `loadIqaMetric` give a scorer for images in [0, 1]), and the
// LPIPS, DISTS and FID Inception networks with upstream state-dict names.
import * as torch from '../../engine/index.js';
import { Tensor } from '../../engine/index.js';
import { MUSIQ, MUSIQ_DEFAULT } from './musiq.js';
import { MANIQA, MANIQA_DEFAULT } from './maniqa.js';
import { IQA_METRICS, MANIQA_SCALE, iqaMetric, type IqaMetricInfo, type ManiqaVariant, type MusiqVariant } from './metrics.js';
import { loadPyiqaWeights, resolveWeightFile } from './weights.js';

export * from './metrics.js';
export { MUSIQ, MUSIQ_DEFAULT, type MusiqConfig } from './musiq.js';
export { MANIQA, MANIQA_DEFAULT, type ManiqaConfig } from './maniqa.js';
export { multiscalePatches, packPatches, hashIndex1d, hashIndex2d, pyRound, type MultiscaleOptions } from './musiq_patches.js';
export { uniformCrop, uniformCropPositions, upscaledSize, legacyRandomCropPositions, LegacyMT19937 } from './crops.js';
export { keyList, loadPyiqaWeights, resolveWeightFile, pyiqaCacheDir } from './weights.js';

/** A loaded no-reference metric. */
export interface IqaScorer {
  readonly info: IqaMetricInfo;
  /** One score per image of a batch [N, 3, H, W] with values in [0, 1] (float32 or float64; computed in float32). */
  score(images01: Tensor): number[];
  dispose(): void;
}

/** pyiqa's input assertion (min > −1e-6, max < 1 + 1e-6), plus shape and dtype; one line naming the problem. */
export function checkImages01(op: string, x: unknown): void {
  if (!(x instanceof Tensor) || x.isDisposed) throw new TypeError(`${op}: images must be a live Tensor [N, 3, H, W]`);
  if (x.ndim !== 4 || x.size(1) !== 3 || x.size(0) < 1 || x.size(2) < 1 || x.size(3) < 1) throw new RangeError(`${op}: images must be [N, 3, H, W] with N, H, W ≥ 1, got [${x.shape.join(', ')}]`);
  if (!torch.isFloating(x.dtype)) throw new TypeError(`${op}: images must be floating point in [0, 1], got ${x.dtype}`);
  const [lo, hi] = torch.scope(() => [x.min().item(), x.max().item()]);
  if (!(lo > -1e-6 && hi < 1 + 1e-6)) throw new RangeError(`${op}: image values must lie in [0, 1], got [${lo}, ${hi}]`);
}

function scorer<M extends MUSIQ | MANIQA>(info: IqaMetricInfo, model: M, run: (m: M, x: Tensor) => Tensor): IqaScorer {
  let disposed = false;
  return {
    info,
    score(images01: Tensor): number[] {
      if (disposed) throw new Error(`${info.id}: the metric was disposed`);
      checkImages01(info.id, images01);
      return torch.noGrad(() => torch.scope(() => {
        const x = images01.dtype === 'float32' && images01.device === 'cpu' ? images01 : images01.to({ dtype: 'float32', device: 'cpu' });
        return [...run(model, x).reshape(-1).toFloat32Array()];
      }));
    },
    dispose(): void { if (!disposed) { disposed = true; model.dispose(); } },
  };
}

const MUSIQ_IDS: Record<MusiqVariant, string> = { koniq10k: 'musiq', spaq: 'musiq-spaq', paq2piq: 'musiq-paq2piq', ava: 'musiq-ava' };
const MANIQA_IDS: Record<ManiqaVariant, string> = { koniq: 'maniqa', kadid: 'maniqa-kadid', pipal: 'maniqa-pipal' };

/**
 * MUSIQ with pyiqa's `pretrained` variant ('koniq10k' — also 'koniq' —, 'spaq', 'paq2piq', 'ava')
 * from `weights` (the file or a folder holding it under pyiqa's name). Scores are the head output
 * (KonIQ/SPAQ/PaQ-2-PiQ MOS) or Σ i·p_i (AVA).
 */
export function loadMusiq(variant: MusiqVariant | 'koniq', weights: string): IqaScorer {
  const v = variant === 'koniq' ? 'koniq10k' : variant;
  if (!(v in MUSIQ_IDS)) throw new Error(`unknown MUSIQ variant ${JSON.stringify(variant)} (koniq10k, spaq, paq2piq, ava)`);
  const info = iqaMetric(MUSIQ_IDS[v]);
  const file = resolveWeightFile(info, weights);
  const model = new MUSIQ({ ...MUSIQ_DEFAULT, num_class: v === 'ava' ? 10 : 1 });
  try {
    loadPyiqaWeights(model, file, info);
  } catch (e) {
    model.dispose();
    throw e;
  }
  model.eval();
  return scorer(info, model, (m, x) => m.forward(x).score);
}

/** MANIQA with pyiqa's `train_dataset` variant ('koniq', 'kadid', 'pipal') from `weights` (file or folder). */
export function loadManiqa(variant: ManiqaVariant, weights: string): IqaScorer {
  if (!(variant in MANIQA_IDS)) throw new Error(`unknown MANIQA variant ${JSON.stringify(variant)} (koniq, kadid, pipal)`);
  const info = iqaMetric(MANIQA_IDS[variant]);
  const file = resolveWeightFile(info, weights);
  const model = new MANIQA({ ...MANIQA_DEFAULT, scale: MANIQA_SCALE[variant] });
  try {
    loadPyiqaWeights(model, file, info);
  } catch (e) {
    model.dispose();
    throw e;
  }
  model.eval();
  return scorer(info, model, (m, x) => m.forward(x));
}

/** Any MUSIQ/MANIQA metric by pyiqa id or alias (clipiqa has its own loader). */
export function loadIqaMetric(id: string, weights: string): IqaScorer {
  const info = iqaMetric(id);
  if (info.family === 'musiq') return loadMusiq(info.variant as MusiqVariant, weights);
  if (info.family === 'maniqa') return loadManiqa(info.variant as ManiqaVariant, weights);
  throw new Error(`${info.id}: not a MUSIQ or MANIQA metric (load it with its own loader)`);
}

/** The MUSIQ and MANIQA entries of the metric table (what loadIqaMetric serves). */
export const MUSIQ_MANIQA_METRICS: readonly IqaMetricInfo[] = IQA_METRICS.filter((m) => m.family !== 'clipiqa');
export { AlexNetSlices, Vgg16Slices, vgg16L2Stages } from './backbones.js';
export { MaxPool2d, L2pooling, mapFeatures } from './layers.js';
export { LPIPS, NetLinLayer, ScalingLayer, normalizeTensor, type LpipsOutput } from './lpips.js';
export { DISTS } from './dists.js';
export { FIDInceptionV3, BasicConv2d } from './inception.js';
