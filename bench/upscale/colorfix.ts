// Does --color-fix help? PSNR (the vpdsr `psnr` id of ../shared/data/README.md: Y of BT.601
// YCbCr, unrounded, float32, 10·log10(1 / (MSE + 1e-8))) on the RealSR ×4 subset, for bicubic and
// for the OSEDiff authors' one-step diffusion outputs, each without and with the AdaIN and wavelet
// fixes (style = bicubic ×4 of the LR, as the fix is applied in `vpdsr upscale`). Outputs are
// quantised to 8 bits first, as the evaluation convention requires. The bicubic row is checked
// against the reference mean in pyiqa-metrics.json. NIQE is not implemented in vpdsr yet.
//   node dist/bench/upscale/colorfix.js [SHARED_DIR]   → JSON lines
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import * as torch from '../../src/engine/index.js';
import type { Tensor } from '../../src/engine/index.js';
import { readImage, toUint8 } from '../../src/io/image/index.js';
import { applyColorFix, COLOR_FIXES } from '../../src/models/colorfix.js';
import { bicubicX4 } from '../../src/models/pipeline.js';

const shared = process.argv[2] ?? path.resolve(process.cwd(), '..', 'shared');
const set = path.join(shared, 'data', 'realsr-x4');

function psnrY(x: Tensor, ref: Tensor): number {
  return torch.scope(() => {
    const w = torch.tensor([65.481, 128.553, 24.966]).reshape([1, 3, 1, 1]);
    const y = (t: Tensor): Tensor => t.mul(w).sum(1).add(16).div(255);
    const mse = y(x).sub(y(ref)).square().mean().item();
    return 10 * Math.log10(1 / (mse + 1e-8));
  });
}

const quant = (t: Tensor): Tensor => torch.scope(() => toUint8(t).float().div(255));

async function main(): Promise<void> {
  const names = readdirSync(path.join(set, 'lr')).filter((f) => f.endsWith('.png')).sort();
  const sums: Record<string, number> = {};
  for (const n of names) {
    const [lr, hr, od] = await Promise.all(['lr', 'hr', 'osediff-sr'].map((d) => readImage(path.join(set, d, n))));
    torch.scope(() => {
      const style = bicubicX4(lr!.data).clamp(0, 1);
      for (const [method, out] of [['bicubic', quant(style)], ['osediff', od!.data]] as const) {
        for (const fix of COLOR_FIXES.filter((f) => f !== 'auto') as Exclude<typeof COLOR_FIXES[number], 'auto'>[]) {
          const y = fix === 'none' ? out : quant(applyColorFix(fix, out, style));
          const key = `${method}+${fix}`;
          sums[key] = (sums[key] ?? 0) + psnrY(y, hr!.data);
        }
      }
    });
    for (const im of [lr, hr, od]) im!.data.dispose();
  }
  const ref = JSON.parse(readFileSync(path.join(set, 'pyiqa-metrics.json'), 'utf8')) as { results: Record<string, { psnr: { per_image: Record<string, number> } }> };
  const refMean = (m: string): number => { const v = Object.values(ref.results[m]!.psnr.per_image); return v.reduce((a, b) => a + b, 0) / v.length; };
  for (const [k, s] of Object.entries(sums)) {
    const [method, fix] = k.split('+');
    const row: Record<string, unknown> = { bench: 'colorfix', set: 'realsr-x4', images: names.length, method, colorFix: fix, psnr: +(s / names.length).toFixed(4) };
    if (fix === 'none') row.psnrReference = +refMean(method === 'bicubic' ? 'bicubic' : 'osediff-sr').toFixed(4);
    process.stdout.write(JSON.stringify(row) + '\n');
  }
}

main().catch((e: unknown) => { process.stderr.write(`colorfix bench: ${(e as Error).message}\n`); process.exitCode = 1; });
