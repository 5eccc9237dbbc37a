// The experiment's evaluation rows: PSNR/SSIM and NIQE from the metric registry.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as torch from '../../src/engine/index.js';
import { evaluate, markdownTable } from '../../src/train/evaluate.js';
import { StandInEncoder } from '../../src/train/encoder.js';
import { ImageMetrics } from '../../src/train/val-metrics.js';

/** PSNR on Y of YCbCr (ITU-R BT.601, pyiqa's ycbcr), computed here element by element. */
function psnrYRef(a: Float32Array, b: Float32Array, hw: number): number {
  const y = (d: Float32Array, p: number): number => (65.481 * d[p]! + 128.553 * d[hw + p]! + 24.966 * d[2 * hw + p]! + 16) / 255;
  let s = 0;
  for (let p = 0; p < hw; p++) s += (y(a, p) - y(b, p)) ** 2;
  return 10 * Math.log10(1 / (s / hw + 1e-8));
}

test('evaluate: PSNR-Y as computed independently, NIQE on crops ≥ 96 px and null below', () => {
  const enc = new StandInEncoder({ widths: [8], embed_dim: 4, num_classes: 2 });
  enc.requiresGrad_(false).eval();
  try {
    torch.scope(() => torch.noGrad(() => {
      const g = new torch.Generator(11);
      const big = [0, 1].map((i) => ({ name: `b${i}`, hr: torch.rand([1, 3, 96, 96], { generator: g }), lq: torch.rand([1, 3, 24, 24], { generator: g }) }));
      const rows = evaluate(big, [{ name: 'bicubic', kind: 'bicubic' }], enc, 'none', 1);
      assert.equal(rows.length, 1);
      const r = rows[0]!;
      let ref = 0;
      for (const it of big) {
        const sr = torch.interpolate(it.lq, { scaleFactor: 4, mode: 'bicubic', alignCorners: false }).clamp(0, 1);
        ref += psnrYRef(sr.contiguous().toFloat32Array(), it.hr.contiguous().toFloat32Array(), 96 * 96);
      }
      assert.ok(Math.abs(r.psnr_y - ref / 2) < 1e-3, `${r.psnr_y} vs ${ref / 2}`);
      assert.ok(r.ssim_y > -1 && r.ssim_y < 1);
      assert.ok(r.niqe !== null && Number.isFinite(r.niqe) && r.niqe > 0, String(r.niqe));
      assert.equal(r.mse_to_teacher, null);
      assert.match(markdownTable(rows), /\| NIQE ↓ \|/);
      const small = [{ name: 's', hr: torch.rand([1, 3, 16, 16], { generator: g }), lq: torch.rand([1, 3, 4, 4], { generator: g }) }];
      const s = evaluate(small, [{ name: 'bicubic', kind: 'bicubic' }], enc, 'none', 1)[0]!;
      assert.equal(s.niqe, null);
      assert.match(markdownTable([s]), /\| — \|/);
    }));
  } finally {
    enc.dispose();
  }
  assert.throws(() => new ImageMetrics(['lpips']), /lpips is not a per-image metric without weight files/);
  assert.throws(() => new ImageMetrics(['nope']), /nope/);
});
