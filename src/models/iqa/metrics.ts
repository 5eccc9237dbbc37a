// The no-reference metrics as pyiqa names them (IQA_SPEC §1) — pyiqa@01ae427:pyiqa/default_model_configs.py
// (ids, options, lower_better, score_range), archs/musiq_arch.py and archs/maniqa_arch.py
// (default_model_urls: the weight file names).

/** pyiqa publishes its weight files in this Hugging Face repository (hf_hub_url). */
export const PYIQA_WEIGHTS_BASE = 'https://huggingface.co/chaofengc/IQA-PyTorch-Weights/resolve/main';

export type MusiqVariant = 'koniq10k' | 'spaq' | 'paq2piq' | 'ava';
export type ManiqaVariant = 'koniq' | 'kadid' | 'pipal';
export type IqaFamily = 'musiq' | 'maniqa' | 'clipiqa';

export interface IqaMetricInfo {
  /** pyiqa's metric id. */
  id: string;
  /** Other names accepted for it (older pyiqa ids). */
  aliases: string[];
  family: IqaFamily;
  /** pyiqa's `pretrained` (MUSIQ) / `train_dataset` (MANIQA) value; the backbone for CLIPIQA. */
  variant: string;
  /** Always false here: every one of these is higher-is-better. */
  lowerBetter: boolean;
  /** pyiqa's rough range (informal; nothing is clamped). */
  scoreRange: string;
  /** The file name pyiqa stores the weights under (in `$TORCH_HOME/hub/pyiqa/`, CLIP's under `…/hub/clip/`). */
  weightFile: string;
  /** Where the file is published (vpdsr never downloads). */
  publishedAt: string;
  /** pyiqa's metric_opts for the id, as DEFAULT_CONFIGS has them. */
  metricOpts: Record<string, string | number>;
  /** One line for docs and reports. */
  description: string;
}

/** MUSIQ weight files by `pretrained` value (imagenet_pretrain is a backbone, not a metric). */
export const MUSIQ_WEIGHT_FILES: Record<MusiqVariant | 'imagenet_pretrain', string> = {
  ava: 'musiq_ava_ckpt-e8d3f067.pth',
  koniq10k: 'musiq_koniq_ckpt-e95806b9.pth',
  spaq: 'musiq_spaq_ckpt-358bb6af.pth',
  paq2piq: 'musiq_paq2piq_ckpt-364c0c84.pth',
  imagenet_pretrain: 'musiq_imagenet_pretrain-51d9b0a5.pth',
};

/** MANIQA weight files by `train_dataset` value. */
export const MANIQA_WEIGHT_FILES: Record<ManiqaVariant, string> = {
  pipal: 'MANIQA_PIPAL-ae6d356b.pth',
  koniq: 'ckpt_koniq10k.pt',
  kadid: 'ckpt_kadid10k.pt',
};

/** MANIQA's Swin residual scale per variant (pipal keeps the constructor default 0.13). */
export const MANIQA_SCALE: Record<ManiqaVariant, number> = { koniq: 0.8, kadid: 0.8, pipal: 0.13 };

/** Ids that older pyiqa releases had and the pinned one does not (musiq-koniq survives here as an alias). */
export const LEGACY_PYIQA_IDS = ['musiq-koniq', 'maniqa-koniq'];

const musiq = (id: string, variant: MusiqVariant, aliases: string[], scoreRange: string, description: string): IqaMetricInfo => ({
  id, aliases, family: 'musiq', variant, lowerBetter: false, scoreRange, weightFile: MUSIQ_WEIGHT_FILES[variant],
  publishedAt: `${PYIQA_WEIGHTS_BASE}/${MUSIQ_WEIGHT_FILES[variant]}`, metricOpts: { type: 'MUSIQ', pretrained: variant }, description,
});

const maniqa = (id: string, variant: ManiqaVariant, description: string): IqaMetricInfo => ({
  id, aliases: [], family: 'maniqa', variant, lowerBetter: false, scoreRange: '~0, ~1', weightFile: MANIQA_WEIGHT_FILES[variant],
  publishedAt: `${PYIQA_WEIGHTS_BASE}/${MANIQA_WEIGHT_FILES[variant]}`,
  // pyiqa's config for maniqa-pipal does not set scale (the constructor default 0.13 applies).
  metricOpts: variant === 'pipal' ? { type: 'MANIQA', train_dataset: variant } : { type: 'MANIQA', train_dataset: variant, scale: MANIQA_SCALE[variant] },
  description,
});

/** The metric table, in pyiqa's DEFAULT_CONFIGS order. */
export const IQA_METRICS: readonly IqaMetricInfo[] = [
  musiq('musiq', 'koniq10k', ['musiq-koniq'], '~0, ~100', 'MUSIQ trained on KonIQ-10k: predicted MOS (the SR papers\' "MUSIQ")'),
  musiq('musiq-ava', 'ava', [], '1, 10', 'MUSIQ trained on AVA: expected aesthetic score Σ i·p_i'),
  musiq('musiq-paq2piq', 'paq2piq', [], '~0, ~100', 'MUSIQ trained on PaQ-2-PiQ: predicted MOS'),
  musiq('musiq-spaq', 'spaq', [], '~0, ~100', 'MUSIQ trained on SPAQ: predicted MOS'),
  maniqa('maniqa', 'koniq', 'MANIQA trained on KonIQ-10k: predicted normalised MOS'),
  maniqa('maniqa-kadid', 'kadid', 'MANIQA trained on KADID-10k: predicted normalised DMOS'),
  maniqa('maniqa-pipal', 'pipal', 'MANIQA trained on PIPAL: predicted normalised MOS'),
  {
    id: 'clipiqa', aliases: [], family: 'clipiqa', variant: 'RN50', lowerBetter: false, scoreRange: '0, 1', weightFile: 'RN50.pt',
    publishedAt: 'https://openaipublic.azureedge.net/clip/models/afeb0e10f9e5a86da6080e35cf09123aca3b358a0c3e3b6c78a7b63bc04b6762/RN50.pt',
    metricOpts: { type: 'CLIPIQA' }, description: 'CLIP-IQA with CLIP RN50 and five antonym prompt pairs: probability-like, 0..1',
  },
];

/** The entry for a metric id or alias (case-sensitive, as pyiqa); undefined when unknown. */
export function findIqaMetric(name: string): IqaMetricInfo | undefined {
  return IQA_METRICS.find((m) => m.id === name || m.aliases.includes(name));
}

/** The entry for a metric id or alias; an unknown name is an error listing the known ones. */
export function iqaMetric(name: string): IqaMetricInfo {
  const m = typeof name === 'string' ? findIqaMetric(name) : undefined;
  if (!m) throw new Error(`unknown no-reference metric ${JSON.stringify(name)} (known: ${IQA_METRICS.flatMap((x) => [x.id, ...x.aliases]).join(', ')})`);
  return m;
}
