// Calibrates src/api/memory.ts: the peak memory one untiled full-size one-step run (random
// weights, as bench/models) adds over the loaded model, at S×S LR px, against tileBytes(S).
//   node dist/bench/upscale/memory.js [--sizes 64,128] [--dtype fp32|bf16|auto]   → JSON lines
// Each size runs in its own child process, so maxRSS is its own.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as torch from '../../src/engine/index.js';
import { UNetModelSwin, RELEASED_UNET } from '../../src/models/unet/index.js';
import { VQModelTorch, VQ_F4 } from '../../src/models/vq/index.js';
import { getPreset } from '../../src/models/presets.js';
import { presetModelJson } from '../../src/models/convert.js';
import { partsFromModel, DiffusionUpscaler, type PipelineDType } from '../../src/models/index.js';
import { diffusionTileBytes as tileBytes } from '../../src/models/pipeline.js';

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : def;
}

function child(size: number, dtype: PipelineDType): void {
  torch.setNumThreads(2);
  torch.manualSeed(1234);
  const json = presetModelJson(getPreset('sinsr-v1'), [], 'bench');
  const parts = partsFromModel({ json, unet: new UNetModelSwin(RELEASED_UNET).eval(), vq: new VQModelTorch(VQ_F4).eval() }, { device: 'cpu', dtype });
  const up = new DiffusionUpscaler(parts);
  const loadedRss = process.memoryUsage().rss;
  const peakBefore = process.resourceUsage().maxRSS * 1024;
  const lr = torch.rand([1, 3, size, size]);
  const t0 = performance.now();
  const y = up.upscale(lr, { tile: 0 });
  const seconds = (performance.now() - t0) / 1000;
  const peak = process.resourceUsage().maxRSS * 1024;
  y.dispose(); lr.dispose(); up.dispose();
  const measured = peak - Math.max(loadedRss, peakBefore);
  process.stdout.write(JSON.stringify({ bench: 'upscale-memory', size, dtype, seconds: +seconds.toFixed(2), loadedMiB: +(loadedRss / 2 ** 20).toFixed(0), peakMiB: +(peak / 2 ** 20).toFixed(0), tileMiB: +(measured / 2 ** 20).toFixed(0), estimateMiB: +(tileBytes(size, dtype) / 2 ** 20).toFixed(0) }) + '\n');
}

if (process.argv.includes('--child')) {
  child(Number(arg('size', '64')), arg('dtype', 'fp32') as PipelineDType);
} else {
  const dtype = arg('dtype', 'fp32');
  for (const s of arg('sizes', '64,128').split(',').map(Number)) {
    const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--child', '--size', String(s), '--dtype', dtype], { stdio: ['ignore', 'inherit', 'inherit'] });
    if (r.status !== 0) { process.exitCode = 1; break; }
  }
}
