// The SR pipeline pieces that do not need the networks: presets, padding, bicubic, tiling and the
// merge, the Upscaler contract (with stand-in parts), and input checks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as torch from '../../src/engine/index.js';
import { Tensor } from '../../src/engine/index.js';
import {
  getPreset, presetNames, chooseSampler, PRESETS,
  extractStarts, planTiles, axisWeights, TileMerger, seamVisibility,
  reflectPadBottomRight, padToMultiple, DiffusionUpscaler, BicubicUpscaler, loadUpscaler,
  type DiffusionParts, type LatentSampler, UpscaleAbortedError,
} from '../../src/models/index.js';

// ---------- independent references ----------

/** PyTorch's cubic convolution (A = −0.75), align_corners false, border-clamped taps, in f64. */
function bicubicRef(src: Float64Array, h: number, w: number, s: number): Float64Array {
  const A = -0.75;
  const k = (x: number): number => {
    x = Math.abs(x);
    if (x <= 1) return ((A + 2) * x - (A + 3)) * x * x + 1;
    if (x < 2) return ((A * x - 5 * A) * x + 8 * A) * x - 4 * A;
    return 0;
  };
  const H = h * s, W = w * s, out = new Float64Array(H * W);
  const at = (y: number, x: number): number => src[Math.min(Math.max(y, 0), h - 1) * w + Math.min(Math.max(x, 0), w - 1)]!;
  for (let oy = 0; oy < H; oy++) {
    const sy = (oy + 0.5) / s - 0.5, fy = Math.floor(sy), ty = sy - fy;
    for (let ox = 0; ox < W; ox++) {
      const sx = (ox + 0.5) / s - 0.5, fx = Math.floor(sx), tx = sx - fx;
      let v = 0;
      for (let i = -1; i <= 2; i++) for (let j = -1; j <= 2; j++) v += k(i - ty) * k(j - tx) * at(fy + i, fx + j);
      out[oy * W + ox] = v;
    }
  }
  return out;
}

/** numpy "reflect" (no edge repeat) of index i into [0, n). */
function reflectIndex(i: number, n: number): number {
  if (n === 1) return 0;
  const p = 2 * (n - 1);
  i = ((i % p) + p) % p;
  return i < n ? i : p - i;
}

function values(t: Tensor): number[] { return Array.from(t.toFloat32Array()); }

// ---------- presets ----------

test('presets: names, alias, schedules and samplers of MODEL_SPEC §6.1', () => {
  assert.deepEqual(presetNames().slice(0, 6), ['resshift-v1', 'resshift-v2', 'resshift-v3', 'resshift-bicsr', 'sinsr-v1', 'sinsr-v2']);
  assert.equal(getPreset('sinsr').name, 'sinsr-v1');
  const v3 = getPreset('resshift-v3');
  assert.deepEqual(v3.schedule, { steps: 4, kappa: 2, power: 0.3, minNoiseLevel: 0.2, etasEnd: 0.99, etasStart: 'journal' });
  assert.equal(getPreset('resshift-v1').schedule.steps, 15);
  assert.equal(getPreset('resshift-v1').sampler, 'stochastic');
  assert.equal(getPreset('sinsr-v2').sampler, 'one-step');
  for (const p of PRESETS) assert.match(p.unetUrl, /^https:\/\/github\.com\/(zsyOAOA\/ResShift|wyf0912\/SinSR)\/releases\/download\/v\d\.0\/.+\.pth$/);
  assert.throws(() => getPreset('sinsr-v3'), /unknown preset "sinsr-v3"; expected one of resshift-v1/);
});

test('presets: sampler choice — one-step only for SinSR, warning for one-step on a teacher', () => {
  const sinsr = getPreset('sinsr'), v1 = getPreset('resshift-v1');
  assert.deepEqual(chooseSampler(sinsr), { sampler: 'one-step', steps: 1, warning: undefined });
  assert.throws(() => chooseSampler(sinsr, 'stochastic'), /one-step model; the stochastic sampler is not supported/);
  assert.throws(() => chooseSampler(sinsr, 'ddim'), /use --sampler one-step/);
  assert.deepEqual(chooseSampler(v1), { sampler: 'stochastic', steps: 15 });
  assert.equal(chooseSampler(v1, 'ddim').steps, 15);
  const w = chooseSampler(v1, 'one-step');
  assert.equal(w.steps, 1);
  assert.match(w.warning ?? '', /15-step model; one-step sampling of it is a diagnostic/);
  const r = chooseSampler(v1, 'stochastic', 5);
  assert.equal(r.steps, 5);
  assert.match(r.warning ?? '', /5 of its 15 steps \(respaced schedule/);
  assert.throws(() => chooseSampler(v1, 'stochastic', 16), /--steps must be an integer from 1 to 15/);
  assert.equal(chooseSampler(getPreset('resshift-v3'), 'ddim', 4).warning, undefined);
  assert.throws(() => chooseSampler(sinsr, 'one-step', 3), /does not apply to the one-step sampler/);
});

// ---------- padding and bicubic ----------

test('reflect padding equals numpy reflect, also beyond the size (repeated), and pads to 64', () => {
  torch.scope(() => {
    for (const [h, w, ph, pw] of [[5, 7, 3, 6], [3, 2, 10, 9], [1, 4, 5, 0], [24, 20, 8, 12]] as const) {
      const x = torch.arange(0, h * w, 1, { dtype: 'float32' }).reshape([1, 1, h, w]);
      const y = reflectPadBottomRight(x, ph, pw);
      assert.deepEqual(y.shape, [1, 1, h + ph, w + pw]);
      const got = values(y);
      const want: number[] = [];
      for (let i = 0; i < h + ph; i++) for (let j = 0; j < w + pw; j++) want.push(reflectIndex(i, h) * w + reflectIndex(j, w));
      assert.deepEqual(got, want, `${h}x${w} + ${ph},${pw}`);
    }
    const z = padToMultiple(torch.zeros([1, 3, 65, 64]), 64);
    assert.deepEqual(z.shape, [1, 3, 128, 64]);
  });
});

test('bicubic ×4 baseline equals an independent cubic-convolution reference (A = −0.75, clamped)', () => {
  torch.scope(() => {
    const h = 5, w = 7;
    const g = new torch.Generator(3);
    const x = torch.rand([1, 3, h, w], { generator: g });
    const up = new BicubicUpscaler();
    const y = up.upscale(x);
    assert.deepEqual(y.shape, [1, 3, 4 * h, 4 * w]);
    const xs = x.toFloat32Array(), ys = y.toFloat32Array();
    let maxDiff = 0, overshoot = 0;
    for (let c = 0; c < 3; c++) {
      const ref = bicubicRef(Float64Array.from(xs.subarray(c * h * w, (c + 1) * h * w)), h, w, 4);
      ref.forEach((v, i) => {
        if (v < 0 || v > 1) overshoot++;
        maxDiff = Math.max(maxDiff, Math.abs(Math.min(Math.max(v, 0), 1) - ys[c * 16 * h * w + i]!));
      });
    }
    assert.ok(maxDiff < 1e-6, `max |diff| ${maxDiff}`);
    assert.ok(overshoot > 0, 'the reference overshoots somewhere, so the clamp is exercised');
  });
});

// ---------- tiling ----------

test('tile starts follow ImageSpliterTh.extract_starts', () => {
  assert.deepEqual(extractStarts(100, 128, 112), [0]);
  assert.deepEqual(extractStarts(300, 128, 96), [0, 96, 172]);
  assert.deepEqual(extractStarts(1000, 512, 448), [0, 448, 488]);
  assert.deepEqual(extractStarts(256, 128, 128), [0, 128]);
  const p = planTiles(300, 200, 128, 32);
  assert.deepEqual(p.ys, [0, 96, 172]);
  assert.deepEqual(p.xs, [0, 72]);
  assert.equal(p.tiles.length, 6);
  assert.deepEqual(p.tiles[1], { y: 0, x: 72, h: 128, w: 128 });
  assert.equal(planTiles(100, 120, 128, 16).tiles.length, 1);
  assert.equal(planTiles(300, 200, 0).tiles.length, 1);
  assert.throws(() => planTiles(300, 200, 128, 80), /between 0 and half the tile size/);
});

test('feather weights: neighbours sum to 1 across every overlap, never 0, 1 elsewhere', () => {
  const starts = extractStarts(300, 128, 96), s = 4;
  const total = new Float64Array(300 * s);
  starts.forEach((a, i) => axisWeights(starts, i, 128, s).forEach((v, k) => {
    assert.ok(v > 0);
    total[a * s + k]! += v;
  }));
  for (const v of total) assert.ok(Math.abs(v - 1) < 1e-6, `weight sum ${v}`);
});

/** Stand-in parts: a pointwise "model" (tiles cannot disagree) or one with per-tile statistics. */
function standInParts(kind: 'pointwise' | 'per-tile-mean', calls: { sample: number; shapes: number[][] }): DiffusionParts {
  const sample: LatentSampler = (zy, lq, denoise, noise) => {
    calls.sample++;
    calls.shapes.push(lq.shape);
    const n = noise(zy.shape); // one draw, like the deterministic sampler
    const t = torch.full([zy.size(0)], 14, { dtype: 'int64' });
    // 'pointwise' works on the LR condition alone (bicubic and pooling see tile borders, this does
    // not), so tiles cannot disagree and any merge must reproduce the untiled result.
    return kind === 'pointwise' ? denoise(lq.add(n.mul(0)), t, lq) : denoise(zy.add(n.mul(0)), t, lq);
  };
  return {
    name: `stand-in-${kind}`,
    device: 'cpu',
    dtype: 'fp32',
    padding: 64,
    codec: {
      encode: (x) => torch.avgPool2d(x, 4),
      decode: (z) => torch.interpolate(z, { scaleFactor: 4, mode: 'nearest' }),
    },
    // Mimics GroupNorm: the output depends on the statistics of the whole (padded) tile.
    denoise: (x) => (kind === 'pointwise' ? x.mul(0.9) : x.sub(x.mean()).mul(0.9)),
    sample,
    dispose: () => {},
  };
}

test('Upscaler with stand-in parts: shape, range, padding to 64, one tile per plan entry, progress', () => {
  torch.scope(() => {
    const calls = { sample: 0, shapes: [] as number[][] };
    const up = new DiffusionUpscaler(standInParts('pointwise', calls));
    const x = torch.rand([1, 3, 70, 50], { generator: new torch.Generator(1) });
    const seen: [number, number][] = [];
    const y = up.upscale(x, { tile: 0, onTile: (d, n) => seen.push([d, n]) });
    assert.deepEqual(y.shape, [1, 3, 280, 200]);
    assert.equal(y.dtype, 'float32');
    assert.ok(y.min().item() >= 0 && y.max().item() <= 1);
    assert.deepEqual(calls.shapes, [[1, 3, 128, 64]]);
    assert.deepEqual(seen, [[1, 1]]);
    // Tiled with a pointwise model, both merges give the untiled result exactly (up to rounding).
    for (const tileMerge of ['feather', 'average'] as const) {
      const t = up.upscale(x, { tile: 32, tileOverlap: 8, tileMerge });
      const d = t.sub(y).abs().max().item();
      assert.ok(d < 1e-5, `${tileMerge}: max |tiled − untiled| ${d}`);
    }
    assert.equal(calls.sample, 1 + 2 * planTiles(70, 50, 32, 8).tiles.length);
  });
});

test('seam visibility: feathering removes most of the seam a per-tile model leaves with averaging', () => {
  torch.scope(() => {
    const up = new DiffusionUpscaler(standInParts('per-tile-mean', { sample: 0, shapes: [] }));
    // A smooth ramp: per-tile means differ, so uniform averaging leaves steps at tile edges.
    const yy = torch.arange(0, 96, 1, { dtype: 'float32' }).div(95).reshape([1, 1, 96, 1]);
    const xx = torch.arange(0, 80, 1, { dtype: 'float32' }).div(79).reshape([1, 1, 1, 80]);
    const x = yy.mul(0.6).add(xx.mul(0.3)).expand([1, 3, 96, 80]).contiguous();
    const plan = planTiles(96, 80, 32, 8);
    const avg = seamVisibility(up.upscale(x, { tile: 32, tileOverlap: 8, tileMerge: 'average' }), plan, 4);
    const fea = seamVisibility(up.upscale(x, { tile: 32, tileOverlap: 8, tileMerge: 'feather' }), plan, 4);
    assert.ok(avg.ratio > 2, `average merge seam ratio ${avg.ratio}`);
    assert.ok(fea.ratio < avg.ratio / 2, `feather ${fea.ratio} vs average ${avg.ratio}`);
  });
});

test('TileMerger rejects wrong tile shapes and indices', () => {
  torch.scope(() => {
    const m = new TileMerger(planTiles(64, 64, 32, 8), 3, 4);
    assert.throws(() => m.add(0, torch.zeros([1, 3, 16, 16])), /tile 0: output shape \[1, 3, 16, 16\], expected \[1, 3, 128, 128\]/);
    assert.throws(() => m.add(99, torch.zeros([1, 3, 128, 128])), /out of range/);
    m.dispose();
  });
});

// ---------- the contract: seeds, noise, aborts, bad input ----------

test('seeded noise is reproducible, explicit noise is used, abort stops before a tile', () => {
  torch.scope(() => {
    const parts = standInParts('pointwise', { sample: 0, shapes: [] });
    let drawn: number[] = [];
    parts.sample = (zy, lq, denoise, noise) => {
      const n = noise(zy.shape);
      drawn = values(n).slice(0, 4);
      return zy.add(n.mul(0.01));
    };
    const up = new DiffusionUpscaler(parts);
    const x = torch.rand([1, 3, 16, 16], { generator: new torch.Generator(2) });
    const a = up.upscale(x, { seed: 7 }); const da = drawn;
    const b = up.upscale(x, { seed: 7 }); const db = drawn;
    const c = up.upscale(x, { seed: 8 }); const dc = drawn;
    assert.deepEqual(da, db);
    assert.notDeepEqual(da, dc);
    assert.equal(a.sub(b).abs().max().item(), 0);
    assert.ok(a.sub(c).abs().max().item() > 0);
    const noise = torch.ones([1, 3, 64, 64]);
    up.upscale(x, { noise });
    assert.deepEqual(drawn, [1, 1, 1, 1]);
    assert.throws(() => up.upscale(x, { noise: torch.ones([1, 3, 16, 16]) }), /noise draw 1: shape \[1, 3, 16, 16\], the sampler needs \[1, 3, 64, 64\]/);
    assert.throws(() => up.upscale(torch.rand([1, 3, 100, 100]), { noise, tile: 32 }), /only accepted for an untiled run/);
    const ac = new AbortController();
    ac.abort();
    assert.throws(() => up.upscale(x, { signal: ac.signal }), UpscaleAbortedError);
    up.dispose();
    assert.throws(() => up.upscale(x), /was disposed/);
  });
});

test('bad inputs give one clear error line', () => {
  torch.scope(() => {
    const up = new BicubicUpscaler();
    const cases: [unknown, RegExp][] = [
      [null, /input must be a Tensor \[1, 3, h, w\], got null/],
      [torch.rand([3, 8, 8]), /must have shape \[1, 3, h, w\], got \[3, 8, 8\]/],
      [torch.rand([1, 4, 8, 8]), /got \[1, 4, 8, 8\]/],
      [torch.rand([1, 3, 8, 8]).double(), /must be float32 in \[0, 1\], got float64/],
      [torch.rand([1, 3, 8, 8]).mul(2), /values must lie in \[0, 1\]/],
    ];
    for (const [x, re] of cases) {
      assert.throws(() => up.upscale(x as Tensor), (e: Error) => re.test(e.message) && !e.message.includes('\n'));
    }
    const d = torch.rand([1, 3, 8, 8]);
    d.dispose();
    assert.throws(() => up.upscale(d), /disposed/);
    const s = new DiffusionUpscaler(standInParts('pointwise', { sample: 0, shapes: [] }));
    const x = torch.rand([1, 3, 8, 8]);
    assert.throws(() => s.upscale(x, { tile: 8 }), /tile must be 0 \(no tiling\) or an integer of at least 16/);
    assert.throws(() => s.upscale(x, { tile: 32, tileOverlap: 20 }), /tile overlap must be an integer between 0 and half/);
    assert.throws(() => s.upscale(x, { seed: -1 }), /seed must be a non-negative integer/);
    assert.throws(() => s.upscale(x, { tileMerge: 'median' as 'feather' }), /tile merge must be one of feather, average/);
    assert.throws(() => loadUpscaler({ model: 'bicubic', device: 'tpu' }), /device must be cpu, cuda or cuda:N/);
    if (!torch.cudaAvailable()) assert.throws(() => loadUpscaler({ model: 'bicubic', device: 'cuda' }), /device cuda:0 is not available/);
  });
});
