// lpips, lpips_vgg, dists and fid through evaluate(), with seeded random backbones written under
// their public file names, against pyiqa's values for the same weights and images
// (test/fixtures/metrics/refs.json, written by scripts/ref/metrics_refs.py).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import * as torch from '../../src/engine/index.js';
import { Tensor } from '../../src/engine/index.js';
import { evaluate } from '../../src/api.js';
import { saveSafetensors } from '../../src/io/checkpoint/tensors.js';
import { AlexNetSlices, Vgg16Slices, FIDInceptionV3 } from '../../src/models/iqa/index.js';
import { repoRoot, sharedDir } from '../helpers.js';

interface Refs {
  seeds: Record<'alexnet' | 'vgg16' | 'inception', number>;
  crop_ltrb: [number, number, number, number];
  pair_names: string[]; fid_names: string[];
  lpips: Record<string, number>; lpips_vgg: Record<string, number>; dists: Record<string, number>; ssim_rgb: Record<string, number>; fid: number;
}
const refs = JSON.parse(readFileSync(path.join(repoRoot, 'test', 'fixtures', 'metrics', 'refs.json'), 'utf8')) as Refs;
const DATA = path.join(sharedDir, 'data', 'realsr-x4');
let root = '';

/** scripts/ref/metrics_refs.py seeded_state: the same rule and the same generator stream. */
function seededState(shapes: [string, number[]][], seed: number): Map<string, Tensor> {
  const g = new torch.Generator(seed);
  const out = new Map<string, Tensor>();
  for (const [k, shape] of [...shapes].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))) {
    if (k.endsWith('num_batches_tracked')) continue;
    let t: Tensor;
    if (shape.length === 4) t = torch.randn(shape, { generator: g }).mul(Math.sqrt(2.0 / (shape[1]! * shape[2]! * shape[3]!)));
    else if (k.endsWith('bn.weight')) t = torch.randn(shape, { generator: g }).mul(0.1).add(1);
    else if (k.endsWith('bn.bias') || k.endsWith('running_mean')) t = torch.randn(shape, { generator: g }).mul(0.1);
    else if (k.endsWith('running_var')) t = torch.rand(shape, { generator: g }).mul(0.5).add(0.75);
    else t = torch.randn(shape, { generator: g }).mul(0.01);
    out.set(k, t);
  }
  return out;
}

/** torchvision `features.<i>.{weight,bias}` shapes from our slices' own keys. */
function featureShapes(m: AlexNetSlices | Vgg16Slices): [string, number[]][] {
  return [...m.stateDict()].map(([k, t]) => [k.replace(/^slice\d+\./, 'features.'), [...t.shape]]);
}

before(async () => {
  root = mkdtempSync(path.join(tmpdir(), 'vpdsr-metric-nets-'));
  for (const d of ['sr', 'hr', 'weights']) mkdirSync(path.join(root, d));
  const [l, t, r, b] = refs.crop_ltrb;
  for (const n of refs.fid_names) {
    await sharp(path.join(DATA, 'osediff-sr', `${n}_LR4.png`)).extract({ left: l, top: t, width: r - l, height: b - t }).png().toFile(path.join(root, 'sr', `${n}.png`));
    await sharp(path.join(DATA, 'hr', `${n}_LR4.png`)).extract({ left: l, top: t, width: r - l, height: b - t }).png().toFile(path.join(root, 'hr', `${n}.png`));
  }
  torch.scope(() => {
    const alex = new AlexNetSlices(), vgg = new Vgg16Slices(), inc = new FIDInceptionV3();
    try {
      const w = (f: string) => path.join(root, 'weights', f);
      saveSafetensors(w('alexnet-owt-7be5be79.pth'), seededState(featureShapes(alex), refs.seeds.alexnet));
      saveSafetensors(w('vgg16-397923af.pth'), seededState(featureShapes(vgg), refs.seeds.vgg16));
      saveSafetensors(w('pt_inception-2015-12-05-6726825d.pth'), seededState([...inc.stateDict()].map(([k, x]) => [k, [...x.shape]]), refs.seeds.inception));
    } finally { alex.dispose(); vgg.dispose(); inc.dispose(); }
  });
});
after(() => rmSync(root, { recursive: true, force: true }));

const close = (got: number, want: number, rtol: number, atol: number): boolean => Math.abs(got - want) <= atol + rtol * Math.abs(want);

test('lpips, lpips_vgg, dists, fid (random backbones) and ssim_rgb match pyiqa', async () => {
  const r = await evaluate({ sr: path.join(root, 'sr'), hr: path.join(root, 'hr'), metrics: 'lpips,lpips_vgg,dists,fid,ssim_rgb', weights: path.join(root, 'weights'), batchSize: 2 });
  assert.deepEqual(r.skipped, []);
  assert.deepEqual(r.errors, []);
  const m = r.methods[0]!;
  const worst: Record<string, number> = {};
  for (const id of ['lpips', 'lpips_vgg', 'dists', 'ssim_rgb'] as const) {
    for (const n of refs.pair_names) {
      const got = m.images.find((i) => i.name === `${n}.png`)!.values[id] as number;
      const want = refs[id][n]!;
      worst[id] = Math.max(worst[id] ?? 0, Math.abs(got - want));
      assert.ok(close(got, want, 1e-4, 1e-6), `${id} ${n}: ${got} vs pyiqa ${want}`);
    }
  }
  const fid = m.mean.fid as number;
  worst.fid = Math.abs(fid - refs.fid);
  assert.ok(close(fid, refs.fid, 1e-3, 1e-4), `fid: ${fid} vs pyiqa ${refs.fid}`);
  process.stdout.write(`# max |diff| vs pyiqa: ${Object.entries(worst).map(([k, v]) => `${k} ${v.toExponential(2)}`).join(', ')}\n`);
});

test('a weight file that is not the backbone: the metric is skipped with a line naming the file', async () => {
  const bad = path.join(root, 'bad-weights');
  mkdirSync(bad);
  writeFileSync(path.join(bad, 'alexnet-owt-7be5be79.pth'), 'garbage');
  torch.scope(() => saveSafetensors(path.join(bad, 'vgg16-397923af.pth'), new Map([['features.0.weight', torch.zeros([64, 3, 3, 3])]])));
  const r = await evaluate({ sr: path.join(root, 'sr'), hr: path.join(root, 'hr'), metrics: 'psnr,lpips,dists', weights: bad });
  assert.deepEqual(r.metrics.map((x) => x.id), ['psnr']);
  assert.match(r.skipped.find((s) => s.id === 'lpips')!.reason, /^lpips: .*alexnet-owt-7be5be79\.pth: /);
  assert.match(r.skipped.find((s) => s.id === 'dists')!.reason, /^dists: .*vgg16-397923af\.pth: trunk weights lack features\.0\.bias/);
});
