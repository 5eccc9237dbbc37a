// PIL's bicubic resize of a float ('F' mode) image, as clean-fid / pyiqa's FID "clean" mode uses it
// (Pillow src/libImaging/Resample.c: precompute_coeffs with bicubic_filter a = −0.5, support 2 ×
// the downscale factor; ImagingResampleHorizontal/Vertical_32bpc accumulate in double and store
// float32; the horizontal pass runs first).
import * as torch from '../engine/index.js';
import { Tensor } from '../engine/index.js';

function bicubicFilter(x: number): number {
  const a = -0.5;
  if (x < 0) x = -x;
  if (x < 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
  if (x < 2) return (((x - 5) * x + 8) * x - 4) * a;
  return 0;
}

/** precompute_coeffs(inSize, 0, inSize, outSize, bicubic) as a dense (outSize, inSize) float64 matrix. */
export function pilCoefficients(inSize: number, outSize: number): Tensor {
  const scale = inSize / outSize;
  const filterscale = Math.max(scale, 1);
  const support = 2 * filterscale;
  const ss = 1 / filterscale;
  const m = new Float64Array(outSize * inSize);
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    // (int) casts truncate toward zero, as in C.
    const xmin = Math.max(Math.trunc(center - support + 0.5), 0);
    const xmax = Math.min(Math.trunc(center + support + 0.5), inSize) - xmin;
    const k = new Float64Array(xmax);
    let ww = 0;
    for (let x = 0; x < xmax; x++) { const w = bicubicFilter((x + xmin - center + 0.5) * ss); k[x] = w; ww += w; }
    for (let x = 0; x < xmax; x++) m[xx * inSize + xmin + x] = ww !== 0 ? k[x]! / ww : k[x]!;
  }
  return torch.fromTypedArray(m, [outSize, inSize]);
}

/** Image.fromarray(x, 'F').resize((outW, outH), BICUBIC) per channel: x (N, C, H, W) float32 → float32. */
export function pilResizeBicubic(x: Tensor, outH: number, outW: number): Tensor {
  return torch.scope(() => {
    const [, , h, w] = x.shape as [number, number, number, number];
    let y = x;
    if (outW !== w) y = torch.matmul(y.to({ dtype: 'float64' }), pilCoefficients(w, outW).t()).to({ dtype: 'float32' });
    if (outH !== h) y = torch.matmul(pilCoefficients(h, outH), y.to({ dtype: 'float64' })).to({ dtype: 'float32' });
    return y === x ? x.clone() : y;
  });
}
