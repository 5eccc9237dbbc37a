// Seam visibility of the two tile merges (JSON lines):
//
//   node dist/bench/models/seams.js [--model tiny|full|DIR] [--size 192] [--tile 64] [--overlap 16] [--images 3]
//
// For each sample-photo crop: the untiled result, then the tiled result with upstream's uniform
// average and with vpdsr's feathered merge; per merge, the mean |difference| of neighbouring
// output pixels across tile edges vs everywhere else (tiling.ts seamVisibility; ≈ 1 = invisible)
// and the mean |tiled − untiled|. `tiny` = the golden e2e networks (fast), `full` = the released
// architecture with random weights, DIR = a model folder (e.g. models/vpdsr-x4 at --size 256: 1024² out).
import * as fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import * as torch from '../../src/engine/index.js';
import { Tensor } from '../../src/engine/index.js';
import { loadSafetensors } from '../../src/io/checkpoint/tensors.js';
import { UNetModelSwin, RELEASED_UNET, fromSinSRConfig } from '../../src/models/unet/index.js';
import { VQModelTorch, VQ_F4, type VQConfig } from '../../src/models/vq/index.js';
import { getPreset } from '../../src/models/presets.js';
import { presetModelJson } from '../../src/models/convert.js';
import { partsFromModel, DiffusionUpscaler, loadUpscaler, planTiles, seamVisibility, type TileMerge, type Upscaler } from '../../src/models/index.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const shared = process.env.VPDSR_SHARED ?? path.resolve(here, '..', '..', '..', '..', 'shared');

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : def;
}

function build(kind: string): Upscaler {
  torch.manualSeed(1234);
  if (kind !== 'full' && kind !== 'tiny') return loadUpscaler({ model: kind });
  if (kind === 'full') {
    const json = presetModelJson(getPreset('sinsr-v1'), [], 'bench');
    return new DiffusionUpscaler(partsFromModel({ json, unet: new UNetModelSwin(RELEASED_UNET).eval(), vq: new VQModelTorch(VQ_F4).eval() }, { device: 'cpu', dtype: 'fp32' }));
  }
  const golden = path.join(shared, 'golden', 'models');
  const m = JSON.parse(fs.readFileSync(path.join(golden, 'manifest.json'), 'utf8')) as { cases: { kind: string; params: Record<string, unknown> }[] };
  const p = m.cases.find((c) => c.kind === 'e2e.upscale')!.params;
  const unetConfig = fromSinSRConfig(p.unet_config as Record<string, unknown>), vqConfig = p.vq_config as VQConfig;
  const unet = new UNetModelSwin(unetConfig), vq = new VQModelTorch(vqConfig);
  torch.scope(() => {
    const w = loadSafetensors(path.join(golden, 'cases', 'e2e-upscale-sinsr-one-step-24x20.safetensors'));
    const pick = (pre: string): Map<string, Tensor> => new Map([...w].filter(([k]) => k.startsWith(pre)).map(([k, t]) => [k.slice(pre.length), t.float()] as [string, Tensor]));
    unet.loadStateDict(pick('w.unet.'));
    vq.loadStateDict(pick('w.vq.'));
  });
  const json = presetModelJson(getPreset('sinsr-v1'), [], 'bench', { unetConfig, vqConfig, padding: 16 });
  return new DiffusionUpscaler(partsFromModel({ json, unet: unet.eval(), vq: vq.eval() }, { device: 'cpu', dtype: 'fp32' }));
}

async function crop(file: string, size: number): Promise<Tensor> {
  const img = sharp(file);
  const meta = await img.metadata();
  const left = Math.max(0, Math.floor(((meta.width ?? size) - size) / 2)), top = Math.max(0, Math.floor(((meta.height ?? size) - size) / 2));
  const { data } = await img.removeAlpha().extract({ left, top, width: size, height: size }).raw().toBuffer({ resolveWithObject: true });
  return torch.scope(() => torch.fromBytes(new Uint8Array(data), 'uint8', [size, size, 3]).permute(2, 0, 1).unsqueeze(0).float().div(255).contiguous());
}

async function main(): Promise<void> {
  const kind = arg('model', 'tiny');
  const size = Number(arg('size', '192')), tile = Number(arg('tile', '64')), overlap = Number(arg('overlap', '16'));
  const n = Number(arg('images', '3'));
  torch.setNumThreads(Number(arg('threads', '2')));
  const up = build(kind);
  const plan = planTiles(size, size, tile, overlap);
  const imgs = fs.readdirSync(path.join(shared, 'samples')).filter((f) => /\.(png|jpg)$/.test(f)).sort().slice(0, n);
  for (const f of imgs) {
    const lr = await crop(path.join(shared, 'samples', f), size);
    const t0 = performance.now();
    const whole = up.upscale(lr, { tile: 0, seed: 5 });
    const tWhole = (performance.now() - t0) / 1000;
    const base = seamVisibility(whole, plan, 4); // the same edges measured on the untiled image
    for (const merge of ['average', 'feather'] as TileMerge[]) {
      const t1 = performance.now();
      const y = up.upscale(lr, { tile, tileOverlap: overlap, tileMerge: merge, seed: 5 });
      const s = seamVisibility(y, plan, 4);
      const vsWhole = torch.scope(() => y.sub(whole).abs().mean().item());
      process.stdout.write(JSON.stringify({
        bench: 'models', case: 'seams', model: kind, image: f, lr: size, tile, overlap, tiles: plan.tiles.length, merge,
        border: r5(s.border), inside: r5(s.inside), ratio: r3(s.ratio),
        // The same pixel pairs in the untiled output: what the image itself has there.
        untiled_border: r5(base.border), untiled_inside: r5(base.inside), untiled_ratio: r3(base.ratio),
        // Step added at tile edges by tiling, in units of the untiled image's own neighbour differences.
        seam_excess: r3((s.border - base.border) / base.inside),
        mean_abs_vs_untiled: r5(vsWhole), seconds: r3((performance.now() - t1) / 1000), untiled_seconds: r3(tWhole),
      }) + '\n');
      y.dispose();
    }
    whole.dispose();
    lr.dispose();
  }
  up.dispose();
}

const r3 = (x: number): number => Math.round(x * 1000) / 1000;
const r5 = (x: number): number => Math.round(x * 1e5) / 1e5;

await main();
