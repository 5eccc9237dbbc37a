// The golden tiny network widths, so hostile files can be fed to `convert` in seconds.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fromSinSRConfig, UNetModelSwin, type UNetConfig } from '../../src/models/unet/index.js';
import type { VQConfig } from '../../src/models/vq/index.js';
import { goldenDir } from '../helpers.js';

export function tinyWidths(): { unetConfig: Partial<UNetConfig>; vqConfig: VQConfig; padding: number } {
  const manifest = JSON.parse(fs.readFileSync(path.join(goldenDir('models'), 'manifest.json'), 'utf8')) as { cases: { kind: string; params: Record<string, unknown> }[] };
  const p = manifest.cases.find((c) => c.kind === 'e2e.upscale')!.params;
  return { unetConfig: fromSinSRConfig(p.unet_config as Record<string, unknown>), vqConfig: p.vq_config as VQConfig, padding: 16 };
}

/** The tiny UNet's largest parameter: its name and shape. */
export function tinyUnetParam(): { name: string; shape: number[] } {
  const unet = new UNetModelSwin(tinyWidths().unetConfig);
  try {
    let best = { name: '', shape: [] as number[], numel: -1 };
    for (const [name, t] of unet.stateDict()) if (t.numel > best.numel) best = { name, shape: t.shape, numel: t.numel };
    return { name: best.name, shape: best.shape };
  } finally {
    unet.dispose();
  }
}
