// Golden set `data` (../shared/golden/data/README.md): the colour conventions — BasicSR color_util
// (rgb2ycbcr, bgr2ycbcr, ycbcr2rgb on HWC uint8/float32, rgb2ycbcr_pt on NCHW) and ResShift's
// util_image variants (rgb2ycbcr, rgb2ycbcrTorch).
import * as torch from '../../engine/index.js';
import { bgr2ycbcr, rgb2ycbcr, rgb2ycbcrPt, rgb2ycbcrResShift, rgb2ycbcrTorchResShift, ycbcr2rgb } from '../../data/color.js';
import { registerKind } from '../registry.js';
import type { CaseContext } from '../context.js';

function flag(ctx: CaseContext, key: string): boolean {
  const v = ctx.params[key];
  if (typeof v !== 'boolean') throw new Error(`params.${key} must be a boolean, got ${JSON.stringify(v)}`);
  return v;
}

/** The case's declared dtype must be the input's (the functions infer it from the tensor). */
function checkDtype(ctx: CaseContext): void {
  const d = ctx.params.dtype;
  if (d !== undefined && d !== ctx.input('img').dtype) throw new Error(`params.dtype ${JSON.stringify(d)} but in.img is ${ctx.input('img').dtype}`);
}

registerKind('color.rgb2ycbcr', (ctx) => torch.scope(() => { checkDtype(ctx); ctx.compare('img', rgb2ycbcr(ctx.input('img'), flag(ctx, 'y_only'))); }));
registerKind('color.bgr2ycbcr', (ctx) => torch.scope(() => { checkDtype(ctx); ctx.compare('img', bgr2ycbcr(ctx.input('img'), flag(ctx, 'y_only'))); }));
registerKind('color.ycbcr2rgb', (ctx) => torch.scope(() => { checkDtype(ctx); ctx.compare('img', ycbcr2rgb(ctx.input('img'))); }));
registerKind('color.rgb2ycbcr_pt', (ctx) => torch.scope(() => { ctx.compare('img', rgb2ycbcrPt(ctx.input('img'), flag(ctx, 'y_only'))); }));
registerKind('color.rgb2ycbcr_resshift', (ctx) => torch.scope(() => { checkDtype(ctx); ctx.compare('img', rgb2ycbcrResShift(ctx.input('img'), flag(ctx, 'only_y'))); }));
registerKind('color.rgb2ycbcr_torch_resshift', (ctx) => torch.scope(() => { ctx.compare('img', rgb2ycbcrTorchResShift(ctx.input('img'), flag(ctx, 'only_y'))); }));
