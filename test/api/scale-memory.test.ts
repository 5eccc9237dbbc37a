// Output sizes (issue 8 point 3) and the tile chosen from a memory budget (point 5).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as torch from '../../src/engine/index.js';
import { targetSize, resizeTo } from '../../src/api/scale.js';
import { chooseTile, imageBytes, parseMemory, tileBytes } from '../../src/api/memory.js';

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

test('chooseTile: --tile wins; bicubic never tiles; a diffusion tile shrinks with the budget, capped at the device default', () => {
  const big = { kind: 'diffusion' as const, device: 'cpu', width: 1000, height: 800 };
  assert.deepEqual(chooseTile({ ...big, tile: 96, tileOverlap: 8 }).tile, 96);
  assert.equal(chooseTile({ ...big, tile: 96 }).tileOverlap, 16);
  assert.equal(chooseTile({ ...big, tile: 0 }).tile, 0);
  assert.throws(() => chooseTile({ ...big, tile: 8 }), /at least 16 LR pixels/);
  assert.throws(() => chooseTile({ ...big, tile: 64, tileOverlap: 40 }), /more than half the tile/);
  assert.equal(chooseTile({ kind: 'bicubic', device: 'cpu', width: 5000, height: 5000, maxMemory: 1 }).tile, 0);
  const roomy = chooseTile({ ...big, maxMemory: 64 * 2 ** 30 });
  assert.deepEqual([roomy.tile, roomy.tileOverlap, roomy.reason], [128, 16, 'default']);
  const cuda = chooseTile({ ...big, device: 'cuda:0', maxMemory: 512 * 2 ** 30 });
  assert.equal(cuda.tile, 512);
  // A budget between the 64- and 128-px estimates gives 64-px tiles.
  const mid = chooseTile({ ...big, maxMemory: imageBytes(4000, 3200) + (tileBytes(64) + tileBytes(128)) / 2 });
  assert.deepEqual([mid.tile, mid.reason], [64, 'budget']);
  assert.ok(tileBytes(64) < tileBytes(128) && tileBytes(128) < tileBytes(192));
  // The calibration of bench/upscale/memory.ts (full-size fp32 CPU peaks: +641 MiB at 64², +2559 MiB at 128²).
  for (const [t, mib] of [[64, 641], [128, 2559]] as const) assert.ok(Math.abs(tileBytes(t) / 2 ** 20 - mib) / mib < 0.05, `tile ${t}: ${tileBytes(t) / 2 ** 20} MiB vs ${mib} measured`);
  const tiny = chooseTile({ ...big, maxMemory: 2 ** 20 });
  assert.deepEqual([tiny.tile, tiny.reason], [64, 'minimum']);
  // The whole image fits one tile: no tiling.
  const small = chooseTile({ kind: 'diffusion', device: 'cpu', width: 100, height: 60, maxMemory: 64 * 2 ** 30 });
  assert.deepEqual([small.tile, small.reason], [0, 'whole']);
  // bf16 halves the activations, so a budget that fits 64 px in fp32 fits 128 px in bf16.
  const b = 2 * 2 ** 30;
  assert.ok(chooseTile({ ...big, maxMemory: b, bf16: true }).tile >= chooseTile({ ...big, maxMemory: b }).tile);
});
