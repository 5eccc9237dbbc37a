// Output sizes (issue 8 point 3) and the tile chosen from a memory budget (point 5).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as torch from '../../src/engine/index.js';
import { targetSize, resizeTo } from '../../src/api/scale.js';
import { chooseTile, imageBytes, parseMemory } from '../../src/api/memory.js';
import { MemoryError } from '../../src/api/errors.js';
import { BicubicUpscaler } from '../../src/models/bicubic.js';
import { diffusionTileBytes as tileBytes, DEFAULT_TILE, largestTile } from '../../src/models/pipeline.js';

test('targetSize: ×4 by default, --outscale floors as Real-ESRGAN, --width/--height exact or keeping the aspect', () => {
  assert.deepEqual(targetSize(96, 72, {}), [384, 288]);
  assert.deepEqual(targetSize(96, 72, { outscale: 2 }), [192, 144]);
  assert.deepEqual(targetSize(10, 7, { outscale: 3.5 }), [35, 24]);
  assert.deepEqual(targetSize(96, 72, { width: 500 }), [500, 375]);
  assert.deepEqual(targetSize(96, 72, { height: 100 }), [133, 100]);
  assert.deepEqual(targetSize(96, 72, { width: 50, height: 400 }), [50, 400]);
  assert.throws(() => targetSize(9, 9, { outscale: 2, width: 3 }), /outscale cannot be combined with width\/height/);
  assert.throws(() => targetSize(9, 9, { outscale: -1 }), /outscale must be a number in \(0, 64\]/);
  assert.throws(() => targetSize(9, 9, { width: 1.5 }), /width must be an integer/);
  assert.throws(() => targetSize(20000, 10, { outscale: 4 }), /larger than image formats allow/);
});

test('resizeTo: exact sizes, antialiased (a constant stays constant, a checkerboard shrinks to its mean)', () => {
  torch.scope(() => {
    const flat = torch.full([1, 3, 40, 40], 0.25);
    const r = resizeTo(flat, 17, 23);
    assert.deepEqual(r.shape, [1, 3, 23, 17]);
    assert.ok(r.sub(0.25).abs().max().item() < 1e-6);
    const ck = new Float32Array(64 * 64);
    for (let y = 0; y < 64; y++) for (let x = 0; x < 64; x++) ck[y * 64 + x] = (x + y) % 2;
    const small = resizeTo(torch.fromTypedArray(ck, [1, 1, 64, 64]), 16, 16);
    // Without antialiasing a 4:1 shrink of a checkerboard samples one phase (all 0 or all 1).
    const inner = small.narrow(2, 2, 12).narrow(3, 2, 12);
    assert.ok(inner.sub(0.5).abs().max().item() < 0.02, `antialiased mean ${inner.mean().item()}`);
  });
});

test('parseMemory: sizes with units', () => {
  assert.equal(parseMemory('4G'), 4 * 2 ** 30);
  assert.equal(parseMemory('512m'), 512 * 2 ** 20);
  assert.equal(parseMemory('1.5GiB'), 1.5 * 2 ** 30);
  assert.equal(parseMemory('1000'), 1000);
  assert.throws(() => parseMemory('lots'), /max memory must be a size like 4G/);
  assert.throws(() => parseMemory('0'), /must be positive/);
});

/** The tile estimate of the full-size diffusion model (a DiffusionUpscaler's, without loading one). */
const diffusion = (device = 'cpu', bf16 = false) => ({
  device, maxTile: device.startsWith('cuda') ? DEFAULT_TILE.cuda : DEFAULT_TILE.cpu,
  tileBytes: (t: number) => tileBytes(t, bf16 ? 'bf16' : 'fp32'),
});

test('chooseTile: --tile wins; the model\'s tile shrinks with the budget, capped at its maximum; an image that cannot fit is refused', () => {
  const big = { width: 1000, height: 800 };
  const d = diffusion();
  assert.deepEqual(chooseTile(d, { ...big, tile: 96, tileOverlap: 8, maxMemory: 64 * 2 ** 30 }).tile, 96);
  assert.equal(chooseTile(d, { ...big, tile: 96, maxMemory: 64 * 2 ** 30 }).tileOverlap, 16);
  assert.equal(chooseTile(d, { ...big, tile: 0, maxMemory: 2 ** 50 }).tile, 0);
  const roomy = chooseTile(d, { ...big, maxMemory: 64 * 2 ** 30 });
  assert.deepEqual([roomy.tile, roomy.tileOverlap, roomy.reason], [128, 16, 'default']);
  const cuda = chooseTile(diffusion('cuda:0'), { ...big, maxMemory: 512 * 2 ** 30 });
  assert.equal(cuda.tile, 512);
  // A budget between the 64- and 128-px estimates gives 64-px tiles.
  const mid = chooseTile(d, { ...big, maxMemory: imageBytes(4000, 3200) + (tileBytes(64) + tileBytes(128)) / 2 });
  assert.deepEqual([mid.tile, mid.reason], [64, 'budget']);
  assert.ok(tileBytes(64) < tileBytes(128) && tileBytes(128) < tileBytes(192));
  // The calibration of bench/upscale/memory.ts (full-size fp32 CPU peaks: +641 MiB at 64², +2559 MiB at 128²).
  for (const [t, mib] of [[64, 641], [128, 2559]] as const) assert.ok(Math.abs(tileBytes(t) / 2 ** 20 - mib) / mib < 0.05, `tile ${t}: ${tileBytes(t) / 2 ** 20} MiB vs ${mib} measured`);
  // bf16 and auto: above their measured peaks (bf16 +421 / +1827 MiB, auto +413 / +1820 MiB), below fp32's estimate.
  for (const [t, bf, au] of [[64, 421, 413], [128, 1827, 1820]] as const) {
    for (const [dt, mib] of [['bf16', bf], ['auto', au]] as const) {
      const est = tileBytes(t, dt) / 2 ** 20;
      assert.ok(est >= mib && est < 1.3 * mib && est < tileBytes(t) / 2 ** 20, `${dt} tile ${t}: ${est} MiB vs ${mib} measured`);
    }
  }
  // Below the smallest tile's estimate: refused with one line naming the image and the budget.
  assert.throws(() => chooseTile(d, { ...big, maxMemory: 2 ** 30, name: 'big.png' }), (e: unknown) => e instanceof MemoryError && /^big\.png: 1000×800 needs about \d+ MiB even with 64-px tiles, more than the memory budget of 1024 MiB/.test(e.message) && !e.message.includes('\n'));
  assert.throws(() => chooseTile(d, { ...big, tile: 128, maxMemory: 2 ** 30 }), /with tile 128, more than the memory budget/);
  // The whole image fits one tile: no tiling.
  const small = chooseTile(d, { width: 100, height: 60, maxMemory: 64 * 2 ** 30 });
  assert.deepEqual([small.tile, small.reason], [0, 'whole']);
  // bf16 halves the activations, so a budget that fits 64 px in fp32 fits 128 px in bf16.
  const b = imageBytes(4000, 3200) + 2 * 2 ** 30;
  assert.ok(chooseTile(diffusion('cpu', true), { ...big, maxMemory: b }).tile > chooseTile(d, { ...big, maxMemory: b }).tile);
});

test('bicubic honours the budget: tiled within it, refused when the output alone does not fit', () => {
  const up = new BicubicUpscaler();
  // 2000×2000 → 8000×8000: the whole-image buffers (~3.4 GiB) exceed 2 GiB.
  assert.throws(() => chooseTile(up, { width: 2000, height: 2000, maxMemory: 2 * 2 ** 30 }), MemoryError);
  // A budget a little above the buffers leaves room for tiles, not the whole image at once.
  const t = chooseTile(up, { width: 2000, height: 2000, maxMemory: imageBytes(8000, 8000) + up.tileBytes(256) + 1 });
  assert.deepEqual([t.tile, t.reason], [256, 'budget']);
  assert.equal(largestTile(up, up.tileBytes(512)), 512);
  assert.equal(chooseTile(up, { width: 300, height: 200, maxMemory: 2 ** 34 }).reason, 'whole');
});

test('bicubic tiled gives exactly the untiled values (each tile reads a margin)', () => {
  const up = new BicubicUpscaler();
  torch.scope(() => {
    const lr = torch.rand([1, 3, 45, 70], { generator: new torch.Generator(3) });
    const whole = up.upscale(lr, { tile: 0 });
    let calls = 0;
    const tiled = up.upscale(lr, { tile: 16, onTile: () => { calls++; } });
    assert.equal(calls, 3 * 5);
    assert.deepEqual(tiled.shape, [1, 3, 180, 280]);
    assert.equal(tiled.sub(whole).abs().max().item(), 0);
  });
});
