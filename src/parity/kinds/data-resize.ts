// Golden set `data` (../shared/golden/data/README.md): the resize conventions — `imresize`
// (BasicSR MATLAB bicubic), `interpolate` (F.interpolate with the case's exact kwargs) and
// `resize.cv2_area` (cv2.resize INTER_AREA on an HWC float image).
import * as torch from '../../engine/index.js';
import { calculateWeightsIndices, imresize, resizeAreaHWC } from '../../data/resize.js';
import { registerKind } from '../registry.js';
import type { CaseContext } from '../context.js';

function num(ctx: CaseContext, key: string): number {
  const v = ctx.params[key];
  if (typeof v !== 'number') throw new Error(`params.${key} must be a number, got ${JSON.stringify(v)}`);
  return v;
}

registerKind('imresize', (ctx) => torch.scope(() => {
  const scale = num(ctx, 'scale');
  const aa = ctx.params.antialiasing;
  if (typeof aa !== 'boolean') throw new Error('params.antialiasing must be a boolean');
  const img = ctx.input('img');
  const [, h, w] = img.shape as [number, number, number];
  const outH = Math.ceil(h * scale), outW = Math.ceil(w * scale);
  const wh = calculateWeightsIndices(h, outH, scale, 4, aa);
  const ww = calculateWeightsIndices(w, outW, scale, 4, aa);
  ctx.compare('weights_h', wh.weights);
  ctx.compare('indices_h', wh.indices);
  ctx.compare('weights_w', ww.weights);
  ctx.compare('indices_w', ww.indices);
  ctx.compareValue('sym_len_hs', wh.symLenS);
  ctx.compareValue('sym_len_he', wh.symLenE);
  ctx.compareValue('sym_len_ws', ww.symLenS);
  ctx.compareValue('sym_len_we', ww.symLenE);
  const out = imresize(img, scale, aa);
  ctx.compareValue('out_shape', out.shape);
  ctx.compare('img', out);
}));

registerKind('interpolate', (ctx) => torch.scope(() => {
  const p = ctx.params;
  const known = new Set(['mode', 'size', 'scale_factor', 'align_corners', 'antialias']);
  for (const k of Object.keys(p)) if (!known.has(k)) throw new Error(`params.${k} is not an interpolate keyword this kind knows`);
  const mode = p.mode as torch.InterpolateMode;
  const opts: torch.InterpolateOptions = { mode };
  if (p.size !== undefined) opts.size = p.size as [number, number];
  if (p.scale_factor !== undefined) opts.scaleFactor = num(ctx, 'scale_factor');
  if (p.align_corners !== undefined) opts.alignCorners = p.align_corners as boolean;
  if (p.antialias !== undefined) opts.antialias = p.antialias as boolean;
  const y = torch.interpolate(ctx.input('x'), opts);
  ctx.compareValue('out_shape', y.shape);
  ctx.compare('y', y);
}));

registerKind('resize.cv2_area', (ctx) => torch.scope(() => {
  if (ctx.params.layout !== 'HWC') throw new Error(`params.layout ${JSON.stringify(ctx.params.layout)} is not HWC`);
  const dsize = ctx.params.dsize as [number, number];
  const out = resizeAreaHWC(ctx.input('img'), dsize);
  ctx.compareValue('out_shape', out.shape);
  ctx.compare('img', out);
}));
