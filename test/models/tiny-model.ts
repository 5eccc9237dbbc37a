// A vpdsr model folder holding the golden e2e tiny networks (SinSR one-step schedule, padding 16),
// for tests that run the diffusion pipeline end to end in seconds.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as torch from '../../src/engine/index.js';
import { Tensor } from '../../src/engine/index.js';
import { loadSafetensors, saveSafetensors } from '../../src/io/checkpoint/tensors.js';
import { getPreset } from '../../src/models/index.js';
import { presetModelJson } from '../../src/models/convert.js';
import { writeModelFolder, UNET_FILE, AUTOENCODER_FILE } from '../../src/models/format.js';
import { UNetModelSwin, fromSinSRConfig } from '../../src/models/unet/index.js';
import { VQModelTorch, type VQConfig } from '../../src/models/vq/index.js';
import { goldenDir } from '../helpers.js';

/** Writes the folder DIR/tiny and returns its path. */
export function tinyModel(dir: string): string {
  const manifest = JSON.parse(readFileSync(path.join(goldenDir('models'), 'manifest.json'), 'utf8')) as { cases: { kind: string; params: Record<string, unknown> }[] };
  const p = manifest.cases.find((c) => c.kind === 'e2e.upscale')!.params;
  const unetConfig = fromSinSRConfig(p.unet_config as Record<string, unknown>), vqConfig = p.vq_config as VQConfig;
  const out = path.join(dir, 'tiny');
  torch.scope(() => {
    const w = loadSafetensors(path.join(goldenDir('models'), 'cases', 'e2e-upscale-sinsr-one-step-24x20.safetensors'));
    const pick = (pre: string): Map<string, Tensor> => new Map([...w].filter(([k]) => k.startsWith(pre)).map(([k, t]) => [k.slice(pre.length), t.float()] as [string, Tensor]));
    const unet = new UNetModelSwin(unetConfig), vq = new VQModelTorch(vqConfig);
    unet.loadStateDict(pick('w.unet.'));
    vq.loadStateDict(pick('w.vq.'));
    writeModelFolder(out, presetModelJson(getPreset('sinsr'), [], 'test', { unetConfig, vqConfig, padding: 16 }), (tmp) => {
      saveSafetensors(path.join(tmp, UNET_FILE), unet.stateDict());
      saveSafetensors(path.join(tmp, AUTOENCODER_FILE), vq.stateDict());
    });
    unet.dispose(); vq.dispose();
  });
  return out;
}
