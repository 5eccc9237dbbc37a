// YCbCr conversions: BT.601 reference points, the inverse, agreement between the numpy-style,
// tensor and ResShift variants, against a float64 JS evaluation of the spec's sums, and argument
// checks. The golden cases run in test/parity.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as torch from '../../src/engine/index.js';
import type { Tensor } from '../../src/engine/index.js';
import { rgb2ycbcr, bgr2ycbcr, ycbcr2rgb, ycbcr2bgr, rgb2ycbcrPt, rgbToY, rgb2ycbcrResShift, rgb2ycbcrTorchResShift } from '../../src/data/color.js';

const u8 = (rows: number[][]): Tensor => torch.tensor([rows], { dtype: 'uint8' }); // [1, W, 3]

test('BT.601 reference points on the 0–255 scale (white, black, primaries)', () => {
  torch.scope(() => {
    const y = rgb2ycbcr(u8([[255, 255, 255], [0, 0, 0], [255, 0, 0], [0, 255, 0], [0, 0, 255]])).toArray() as Uint8Array;
    assert.deepEqual([...y], [235, 128, 128, 16, 128, 128, 81, 90, 240, 145, 54, 34, 41, 240, 110]);
    const yo = rgb2ycbcr(u8([[255, 255, 255], [0, 0, 0]]), true);
    assert.deepEqual(yo.shape, [1, 2]);
    assert.deepEqual([...(yo.toArray() as Uint8Array)], [235, 16]);
  });
});

test('float32 rgb2ycbcr equals the spec sums evaluated in float64 (then float32)', () => {
  torch.scope(() => {
    const img = torch.rand([6, 7, 3], { generator: new torch.Generator(3) });
    const got = rgb2ycbcr(img).toFloat32Array();
    const src = img.toFloat32Array();
    for (let i = 0; i < 6 * 7; i++) {
      const [r, g, b] = [src[3 * i]!, src[3 * i + 1]!, src[3 * i + 2]!];
      const want = [
        (16 + 65.481 * r + 128.553 * g + 24.966 * b) / 255,
        (128 - 37.797 * r - 74.203 * g + 112.0 * b) / 255,
        (128 + 112.0 * r - 93.786 * g - 18.214 * b) / 255,
      ];
      for (let c = 0; c < 3; c++) assert.ok(Math.abs(got[3 * i + c]! - want[c]!) < 1e-7, `pixel ${i} channel ${c}`);
    }
  });
});

test('ycbcr2rgb inverts rgb2ycbcr; BGR forms are the RGB forms with channels swapped', () => {
  torch.scope(() => {
    const img = torch.rand([9, 11, 3], { generator: new torch.Generator(5) });
    const back = ycbcr2rgb(rgb2ycbcr(img));
    assert.ok(back.sub(img).abs().max().item() < 1e-4, 'float round trip');
    const bgr = img.flip(2).contiguous();
    assert.ok(bgr2ycbcr(bgr).sub(rgb2ycbcr(img)).abs().max().item() < 1e-7);
    assert.ok(bgr2ycbcr(bgr, true).sub(rgb2ycbcr(img, true)).abs().max().item() < 1e-7);
    assert.ok(ycbcr2bgr(rgb2ycbcr(img)).sub(bgr).abs().max().item() < 1e-4);
    const q = img.mul(255).round().to({ dtype: 'uint8' });
    const q2 = ycbcr2rgb(rgb2ycbcr(q));
    assert.equal(q2.dtype, 'uint8');
    assert.ok(q2.to({ dtype: 'float32' }).sub(q.to({ dtype: 'float32' })).abs().max().item() <= 2, 'uint8 round trip within 2 levels');
  });
});

test('tensor and ResShift variants agree with the numpy-style functions', () => {
  torch.scope(() => {
    const hwc = torch.rand([8, 10, 3], { generator: new torch.Generator(8) });
    const nchw = hwc.permute([2, 0, 1]).unsqueeze(0).contiguous();
    const ref = rgb2ycbcr(hwc).permute([2, 0, 1]).unsqueeze(0);
    assert.ok(rgb2ycbcrPt(nchw).sub(ref).abs().max().item() < 1e-6);
    const y = rgbToY(nchw);
    assert.deepEqual(y.shape, [1, 1, 8, 10]);
    assert.ok(y.squeeze(0).squeeze(0).sub(rgb2ycbcr(hwc, true)).abs().max().item() < 1e-6);
    assert.ok(rgb2ycbcrResShift(hwc, false).sub(rgb2ycbcr(hwc)).abs().max().item() < 1e-6);
    assert.ok(rgb2ycbcrTorchResShift(nchw, false).sub(ref).abs().max().item() < 1e-6);
    assert.deepEqual(rgb2ycbcrTorchResShift(nchw).shape, [1, 1, 8, 10], 'only_y defaults to true, as upstream');
    // ResShift's tensor form clamps to [0, 1]; BasicSR's does not.
    const hot = torch.full([1, 3, 2, 2], 1.5);
    assert.equal(rgb2ycbcrTorchResShift(hot).max().item(), 1);
    assert.ok(rgb2ycbcrPt(hot, true).max().item() > 1);
  });
});

test('colour functions refuse bad arguments with errors, not crashes', () => {
  torch.scope(() => {
    assert.throws(() => rgb2ycbcr(torch.zeros([4, 4])), /\[H, W, 3\]/);
    assert.throws(() => rgb2ycbcr(torch.zeros([4, 4, 4])), /\[H, W, 3\]/);
    assert.throws(() => rgb2ycbcr(torch.zeros([4, 4, 3], { dtype: 'int64' })), /uint8.*float32/);
    assert.throws(() => rgb2ycbcrPt(torch.zeros([3, 4, 4])), /\[N, 3, H, W\]/);
    assert.throws(() => rgb2ycbcrTorchResShift(torch.zeros([1, 3, 4, 4], { dtype: 'uint8' })), /floating/);
    assert.throws(() => ycbcr2rgb(null as unknown as Tensor), /Tensor/);
  });
});
