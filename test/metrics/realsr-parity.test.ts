// Per-image PSNR, SSIM and NIQE of the RealSR ×4 subset (OSEDiff's outputs and vpdsr's bicubic)
// against pyiqa's numbers in ../shared/data/realsr-x4/pyiqa-metrics.json.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as torch from '../../src/engine/index.js';
import { Tensor } from '../../src/engine/index.js';
import { readRgb8 } from '../../src/data/dataset.js';
import { BicubicUpscaler } from '../../src/models/bicubic.js';
import { toUint8 } from '../../src/io/image/index.js';
import { findMetric } from '../../src/metrics/index.js';
import { sharedDir } from '../helpers.js';

const DATA = path.join(sharedDir, 'data', 'realsr-x4');
interface Ref {
  images: string[];
  results: Record<string, Record<string, { per_image: Record<string, number>; mean: number }>>;
  bicubic_uint8_sha256: { per_image: Record<string, string> };
}
const ref = JSON.parse(readFileSync(path.join(DATA, 'pyiqa-metrics.json'), 'utf8')) as Ref;
const TOL: Record<string, number> = { psnr: 1e-3, ssim: 1e-4, niqe: 1e-2, psnr_rgb: 1e-3, psnr_basicsr: 1e-3 };
const IDS = ['psnr', 'ssim', 'niqe', 'psnr_rgb', 'psnr_basicsr'];
/** The reference row for each id: psnr_rgb is pyiqa's bare psnr; psnr_basicsr is pyiqa's psnr with crop 4 in float64 instead of float32. */
const ROW: Record<string, string> = { psnr: 'psnr', ssim: 'ssim', niqe: 'niqe', psnr_rgb: 'psnr_default', psnr_basicsr: 'psnr_crop4' };

/** vpdsr's bicubic as an 8-bit image, read back as /255 (the two-step convention). */
function bicubic8(lr: Tensor, name: string): Tensor {
  return torch.scope(() => {
    const up = new BicubicUpscaler().upscale(lr.unsqueeze(0));
    const u8 = toUint8(up);
    const hwc = Buffer.from(u8.squeeze(0).permute([1, 2, 0]).contiguous().toBytes());
    const sha = createHash('sha256').update(hwc).digest('hex');
    assert.equal(sha, ref.bicubic_uint8_sha256.per_image[name], `bicubic ${name}: uint8 bytes differ from PyTorch's`);
    return u8.to({ dtype: 'float32' }).div(255).squeeze(0);
  });
}

async function check(method: 'osediff-sr' | 'bicubic'): Promise<void> {
  const inst = IDS.map((id) => findMetric(id)!.create({ weights: new Map(), device: 'cpu' }));
  const got: Record<string, number[]> = Object.fromEntries(IDS.map((id) => [id, []]));
  const worst: Record<string, number> = Object.fromEntries(IDS.map((id) => [id, 0]));
  try {
    const names = ref.images;
    for (let i = 0; i < names.length; i += 5) {
      const chunk = names.slice(i, i + 5);
      const srs: Tensor[] = [], hrs: Tensor[] = [];
      for (const n of chunk) {
        hrs.push(await readRgb8(path.join(DATA, 'hr', n)));
        if (method === 'osediff-sr') srs.push(await readRgb8(path.join(DATA, 'osediff-sr', n)));
        else { const lr = await readRgb8(path.join(DATA, 'lr', n)); srs.push(bicubic8(lr, n)); lr.dispose(); }
      }
      torch.scope(() => {
        const sr = torch.stack(srs), hr = torch.stack(hrs);
        IDS.forEach((id, k) => {
          const v = inst[k]!.score!(sr, hr);
          chunk.forEach((n, j) => {
            const e = ref.results[method]![ROW[id]!]!.per_image[n]!;
            const d = Math.abs(v[j]! - e);
            worst[id] = Math.max(worst[id]!, d);
            assert.ok(d <= TOL[id]!, `${method} ${n} ${id}: ${v[j]} vs pyiqa ${e} (|diff| ${d})`);
            got[id]!.push(v[j]!);
          });
        });
      });
      for (const t of [...srs, ...hrs]) t.dispose();
    }
  } finally { for (const m of inst) m.dispose(); }
  for (const id of IDS) {
    const mean = got[id]!.reduce((a, b) => a + b, 0) / got[id]!.length;
    const e = ref.results[method]![ROW[id]!]!.mean;
    assert.ok(Math.abs(mean - e) <= TOL[id]!, `${method} mean ${id}: ${mean} vs ${e}`);
  }
  process.stdout.write(`# ${method} max |diff| vs pyiqa: ${IDS.map((id) => `${id} ${worst[id]!.toExponential(2)}`).join(', ')}\n`);
}

test('RealSR x4: OSEDiff outputs match pyiqa (psnr, ssim, niqe, psnr_rgb, psnr_basicsr per image and mean)', async () => { await check('osediff-sr'); });
test("RealSR x4: vpdsr's bicubic is PyTorch's bit for bit and its metrics match pyiqa", async () => { await check('bicubic'); });
