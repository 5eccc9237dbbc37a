// UNetModelSwin: the full-size structure (parameter count, keys, shapes), forward on sizes other
// than the training size, input checks, strict state-dict loading, and the Swin buffers checked
// against closed-form rules written independently of the port (MODEL_SPEC §2.4.2, §2.4.5).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as torch from '../../src/engine/index.js';
import { Tensor } from '../../src/engine/index.js';
import {
  UNetModelSwin, UNetInputError, UNetConfigError, RELEASED_UNET, RELEASED_UNET_PARAMETERS, unetConfig, fromSinSRConfig,
  calculateMaskData, relativePositionIndexData, windowPartition, windowReverse, GroupNorm32, type UNetConfig,
} from '../../src/models/unet/index.js';
import { goldenDir } from '../helpers.js';

/** The network inside the sampler golden cases (tiny-s): 2 levels, Swin at the lower level only. */
const TINY: Partial<UNetConfig> = {
  image_size: 16, in_channels: 3, model_channels: 32, out_channels: 3, num_res_blocks: [1, 1], attention_resolutions: [8],
  channel_mult: [1, 1], num_head_channels: 16, use_scale_shift_norm: true, swin_depth: 2, swin_embed_dim: 32,
  window_size: 4, mlp_ratio: 4, lq_size: 16,
};

function inputs(B: number, H: number, W: number, lqScale = 1): { x: Tensor; t: Tensor; lq: Tensor } {
  const g = new torch.Generator(7);
  return {
    x: torch.randn([B, 3, H, W], { generator: g }),
    t: torch.tensor(Array.from({ length: B }, (_, i) => i + 1), { dtype: 'int64' }),
    lq: torch.randn([B, 3, H * lqScale, W * lqScale], { generator: g }).clamp(-1, 1),
  };
}

// ---------- full size ----------

test('full-size UNet: 118,593,583 parameters, 564 keys with 24 buffers, keys and shapes as upstream', () => {
  const model = new UNetModelSwin(RELEASED_UNET);
  try {
    assert.equal(model.numParameters(), RELEASED_UNET_PARAMETERS);
    const sd = model.stateDict();
    const buffers = model.namedBuffers();
    assert.equal(sd.size, 564);
    assert.equal(model.namedParameters().length, 540);
    assert.equal(buffers.length, 24);
    assert.equal(buffers.filter(([k]) => k.endsWith('relative_position_index')).length, 18);
    assert.deepEqual(buffers.filter(([k]) => k.endsWith('attn_mask')).map(([k, t]) => [k, t.shape]), [
      ['input_blocks.1.1.blocks.1.attn_mask', [64, 64, 64]], ['input_blocks.4.1.blocks.1.attn_mask', [16, 64, 64]],
      ['input_blocks.7.1.blocks.1.attn_mask', [4, 64, 64]], ['output_blocks.3.1.blocks.1.attn_mask', [4, 64, 64]],
      ['output_blocks.6.1.blocks.1.attn_mask', [16, 64, 64]], ['output_blocks.9.1.blocks.1.attn_mask', [64, 64, 64]],
    ]);
    // Per-block counts of MODEL_SPEC §2.7 (they localise a structural mistake).
    const per = (prefix: string): number => model.namedParameters().filter(([k]) => k.startsWith(prefix)).reduce((a, [, t]) => a + t.numel, 0);
    assert.deepEqual(
      Array.from({ length: 12 }, (_, i) => per(`input_blocks.${i}.`)),
      [8800, 1621100, 666880, 230560, 2861580, 2255360, 921920, 3271180, 2255360, 921920, 7697740, 8197120]);
    assert.equal(per('middle_block.'), 17533260);
    assert.deepEqual(
      Array.from({ length: 12 }, (_, i) => per(`output_blocks.${i}.`)),
      [13843660, 12704640, 14343040, 5423180, 3382720, 4304640, 4398540, 3382720, 3792320, 2159500, 948960, 948960]);
    // The exact list (order, shapes, dtypes) that upstream's state_dict() gives, from the golden manifest.
    const manifest = JSON.parse(readFileSync(path.join(goldenDir('models'), 'manifest.json'), 'utf8')) as { cases: { kind: string; name: string; expect: { keys: [string, number[], string, string][] } }[] };
    const want = manifest.cases.find((c) => c.kind === 'keys.fullsize' && c.name === 'resshift-v3-unet')!.expect.keys;
    const bufferKeys = new Set(buffers.map(([k]) => k));
    const got = [...sd].map(([k, t]) => [k, t.shape, t.dtype === 'int64' ? 'I64' : 'F32', bufferKeys.has(k) ? 'buffer' : 'param']);
    assert.deepEqual(got, want);
    // The Swin configuration is static: no shift at the resolution-8 layers.
    assert.equal(model.stateDict().has('middle_block.1.blocks.1.attn_mask'), false);
    // The released model needs latents that are multiples of 64 (8 × window 8 at the deepest level).
    assert.equal(model.sizeMultiple, 64);
    const { x, t, lq } = inputs(1, 24, 32);
    assert.throws(() => model.forward(x, t, lq), (e: Error) => e instanceof UNetInputError && /latent size 24×32 must be a multiple of 64/.test(e.message) && !e.message.includes('\n'));
    [x, t, lq].forEach((v) => v.dispose());
  } finally {
    model.dispose();
  }
});

test('SinSR constructor form (in_channels 6, no lq_size) gives the ResShift config', () => {
  const { in_channels: _, lq_size: __, swin_mask: ___, ...rest } = RELEASED_UNET;
  const cfg = fromSinSRConfig({ ...rest, in_channels: 6, dims: 2, use_fp16: false });
  assert.deepEqual(cfg, unetConfig(RELEASED_UNET));
  assert.throws(() => fromSinSRConfig({ ...rest, in_channels: 3 }), UNetConfigError);
});

// ---------- forward ----------

test('forward at sizes other than the training size, H ≠ W, with a batch', () => {
  const model = new UNetModelSwin(TINY).eval();
  try {
    assert.equal(model.sizeMultiple, 8); // ×2 once, window 4 at level 1
    for (const [H, W] of [[24, 32], [16, 40], [8, 8]] as const) {
      torch.noGrad(() => torch.scope(() => {
        const { x, t, lq } = inputs(2, H, W);
        const y = model.forward(x, t, lq);
        assert.deepEqual(y.shape, [2, 3, H, W]);
        assert.equal(y.dtype, 'float32');
        assert.equal(y.isfinite().all().item(), 1);
        // Batch elements are independent: element 1 alone gives the same result.
        const y1 = model.forward(x.narrow(0, 1, 1), t.narrow(0, 1, 1), lq.narrow(0, 1, 1));
        assert.ok(y1.sub(y.narrow(0, 1, 1)).abs().max().item() < 1e-5);
      }));
    }
  } finally {
    model.dispose();
  }
});

test('the LQ feature extractor path takes lq at lq_size/image_size × the latent size', () => {
  const model = new UNetModelSwin({ ...TINY, lq_size: 64 }).eval();
  try {
    assert.equal(model.lqChannels, 64);
    assert.deepEqual(model.stateDict().get('input_blocks.0.0.weight')!.shape, [32, 67, 3, 3]);
    assert.deepEqual(model.stateDict().get('feature_extractor.3.weight')!.shape, [32, 32, 3, 3]);
    torch.noGrad(() => torch.scope(() => {
      const { x, t, lq } = inputs(1, 16, 24, 4);
      assert.deepEqual(model.forward(x, t, lq).shape, [1, 3, 16, 24]);
      const bad = inputs(1, 16, 24, 1);
      assert.throws(() => model.forward(bad.x, bad.t, bad.lq), /lq must be \[1, 3, 64, 96\] for a 16×24 latent/);
    }));
  } finally {
    model.dispose();
  }
});

// ---------- bad input ----------

test('bad inputs give one clear error line, never a native error', () => {
  const model = new UNetModelSwin(TINY).eval();
  try {
    torch.noGrad(() => torch.scope(() => {
      const { x, t, lq } = inputs(2, 16, 16);
      const check = (f: () => unknown, re: RegExp): void => {
        assert.throws(f, (e: Error) => e instanceof UNetInputError && re.test(e.message) && !e.message.includes('\n'), re.source);
      };
      check(() => model.forward(torch.randn([2, 6, 16, 16]), t, lq), /x has 6 channels, the model takes 3/);
      check(() => model.forward(torch.randn([2, 3, 16]), t, lq), /x must be \[B, 3, H, W\]/);
      check(() => model.forward(torch.randn([2, 3, 20, 16]), t, torch.randn([2, 3, 20, 16])), /latent size 20×16 must be a multiple of 8/);
      check(() => model.forward(torch.randn([2, 3, 12, 16]), t, torch.randn([2, 3, 12, 16])), /multiple of 8/);
      check(() => model.forward(x, torch.tensor([1], { dtype: 'int64' }), lq), /timesteps must be 1-D \[2\]/);
      check(() => model.forward(x, t, torch.randn([2, 3, 8, 8])), /lq must be \[2, 3, 16, 16\]/);
      check(() => model.forward(x, t, torch.randn([2, 4, 16, 16])), /lq must be/);
      check(() => model.forward(x.long(), t, lq), /x must be floating point/);
      const d = torch.randn([2, 3, 16, 16]);
      d.dispose();
      check(() => model.forward(d, t, lq), /x is a disposed tensor/);
      check(() => model.forward(x, t, null as unknown as Tensor), /lq must be a Tensor/);
    }));
  } finally {
    model.dispose();
  }
});

test('bad configurations are refused with the argument named', () => {
  assert.throws(() => new UNetModelSwin({ ...TINY, model_channels: 40 }), /level width 40 .* divisible by 32/);
  assert.throws(() => new UNetModelSwin({ ...TINY, swin_embed_dim: 48 }), /swin_embed_dim 48 .*divisible/);
  assert.throws(() => new UNetModelSwin({ ...TINY, lq_size: 24 }), /lq_size 24/);
  assert.throws(() => new UNetModelSwin({ ...TINY, colour: 1 } as Partial<UNetConfig>), /unknown argument colour/);
  assert.throws(() => new UNetModelSwin({ ...TINY, num_res_blocks: [1] }), /num_res_blocks has 1 entries/);
  assert.throws(() => new UNetModelSwin({ ...TINY, swin_mask: 'textbook' as 'upstream' }), /swin_mask/);
  assert.throws(() => new UNetModelSwin({ ...TINY, image_size: undefined }), /image_size is required/);
});

// ---------- state dicts ----------

test('strict state-dict load: missing, unexpected and mis-shaped keys are errors; buffers optional and checked', () => {
  const a = new UNetModelSwin(TINY), b = new UNetModelSwin(TINY);
  try {
    torch.scope(() => {
      const params = new Map(a.namedParameters());
      // Parameters alone load (buffers are deterministic), and the values arrive.
      b.loadStateDict(params);
      const key = 'input_blocks.3.1.blocks.1.attn.qkv.weight';
      assert.equal(b.stateDict().get(key)!.sub(params.get(key)!).abs().max().item(), 0);
      // The full state dict (with buffers) loads too.
      b.loadStateDict(a.stateDict());

      const missing = new Map(params); missing.delete('out.2.bias');
      assert.throws(() => b.loadStateDict(missing), /missing keys: out\.2\.bias/);
      const extra = new Map(params); extra.set('out.3.weight', torch.zeros([3]));
      assert.throws(() => b.loadStateDict(extra), /unexpected keys: out\.3\.weight/);
      const shaped = new Map(params); shaped.set('out.2.weight', torch.zeros([3, 32, 1, 1]));
      assert.throws(() => b.loadStateDict(shaped), /out\.2\.weight: the state dict has shape \[3, 32, 1, 1\], the model has \[3, 32, 3, 3\]/);

      const rpiKey = 'middle_block.1.blocks.0.attn.relative_position_index';
      const badIndex = new Map(a.stateDict()); badIndex.set(rpiKey, a.stateDict().get(rpiKey)!.flip(0));
      assert.throws(() => b.loadStateDict(badIndex), /relative_position_index differs from the relative position index of a 4×4 window/);

      const maskKey = 'middle_block.1.blocks.1.attn_mask';
      const warnings: string[] = [];
      const badMask = new Map(a.stateDict()); badMask.set(maskKey, torch.zerosLike(a.stateDict().get(maskKey)!));
      b.loadStateDict(badMask, { onWarning: (m) => warnings.push(m) });
      assert.equal(warnings.length, 1);
      assert.match(warnings[0]!, /attn_mask differs from the shifted-window mask rule/);
    });
  } finally {
    a.dispose(); b.dispose();
  }
});

// ---------- Swin buffers against independent closed forms ----------

test('shifted-window mask follows the upstream rule (last window row, split by in-window column)', () => {
  // MODEL_SPEC §2.4.5's equivalent rule, verified upstream for these sizes.
  for (const [H, W] of [[8, 8], [16, 16], [64, 64], [16, 40], [48, 24], [128, 64]] as const) {
    const ws = 8, s = 4, nWr = H / ws, nWc = W / ws, N = 64;
    const m = calculateMaskData(H, W, ws, s);
    assert.equal(m.length, nWr * nWc * N * N);
    let bad = 0;
    for (let n = 0; n < nWr * nWc; n++) {
      const lastRow = Math.floor(n / nWc) === nWr - 1;
      for (let p = 0; p < N; p++) for (let q = 0; q < N; q++) {
        const want = lastRow && (p % 8 < 4) !== (q % 8 < 4) ? -100 : 0;
        if (m[(n * N + p) * N + q] !== want) bad++;
      }
    }
    assert.equal(bad, 0, `${H}×${W}`);
  }
  // Shift 0 gives no mask at all; sizes off the window grid are refused.
  assert.ok(calculateMaskData(16, 8, 8, 0).every((v) => v === 0));
  assert.throws(() => calculateMaskData(12, 8, 8, 4), /12×8 is not a multiple of the window size 8/);
  // The textbook mask differs (it also separates the last window column).
  assert.notDeepEqual(calculateMaskData(16, 16, 8, 4, 'correct'), calculateMaskData(16, 16, 8, 4));
});

test('relative position index is (Δr + ws − 1)(2ws − 1) + Δc + ws − 1', () => {
  const idx = relativePositionIndexData(8);
  assert.equal(idx[0], 112n); // Δ = (0, 0) → 7·15 + 7
  assert.equal(idx[63], 0n); // p = (0, 0), q = (7, 7)
  assert.equal(idx[63 * 64], 224n); // p = (7, 7), q = (0, 0)
  assert.equal(Math.max(...Array.from(idx, Number)), 224);
});

test('window partition and reverse are inverses, windows row-major per image', () => {
  torch.scope(() => {
    const x = torch.arange(0, 2 * 3 * 16 * 8, 1, { dtype: 'float32' }).reshape(2, 3, 16, 8);
    const w = windowPartition(x, 4);
    assert.deepEqual(w.shape, [2 * 4 * 2, 16, 3]);
    // window 1 of image 0 = rows 0..3, columns 4..7; its token 5 = (1, 1) → pixel (1, 5)
    assert.equal(w.select(0, 1).select(0, 5).select(0, 0).item(), x.select(0, 0).select(0, 0).select(0, 1).select(0, 5).item());
    assert.equal(windowReverse(w, 4, 16, 8).sub(x).abs().max().item(), 0);
  });
});

// ---------- layouts and dtypes ----------

test('channels-last weights and inputs give the contiguous result; bf16 runs close to fp32', () => {
  const model = new UNetModelSwin(TINY).eval();
  try {
    torch.noGrad(() => torch.scope(() => {
      const { x, t, lq } = inputs(2, 24, 32);
      const ref = model.forward(x, t, lq);
      model.to({ memoryFormat: 'channels_last' });
      const cl = model.forward(x.contiguous('channels_last'), t, lq.contiguous('channels_last'));
      assert.ok(cl.isContiguous('channels_last'), 'stays channels-last end to end');
      assert.ok(cl.sub(ref).abs().max().item() < 2e-5);
      model.to({ dtype: 'bfloat16' });
      assert.equal(model.dtype, 'bfloat16');
      const bf = model.forward(x.contiguous('channels_last'), t, lq.contiguous('channels_last'));
      assert.equal(bf.dtype, 'float32'); // output in the input's dtype
      const rel = bf.sub(ref).abs().mean().item() / ref.abs().mean().item();
      assert.ok(rel < 0.05, `bf16 mean relative error ${rel}`);
      assert.ok(rel > 0, 'bf16 really computed in bf16');
    }));
  } finally {
    model.dispose();
  }
});

test('backward in channels-last matches contiguous (the in-place adds keep autograd valid)', () => {
  const model = new UNetModelSwin(TINY).eval();
  try {
    torch.scope(() => {
      const { x, t, lq } = inputs(2, 16, 16);
      const grads = (cl: boolean): Tensor[] => {
        model.zeroGrad();
        const xi = (cl ? x.contiguous('channels_last') : x.clone()).requiresGrad_(true);
        model.forward(xi, t, cl ? lq.contiguous('channels_last') : lq).square().sum().backward();
        return [xi.grad!, ...['input_blocks.0.0.weight', 'input_blocks.3.1.blocks.1.attn.relative_position_bias_table', 'out.2.bias']
          .map((k) => new Map(model.namedParameters()).get(k)!.grad!)];
      };
      const a = grads(false);
      model.to({ memoryFormat: 'channels_last' });
      const b = grads(true);
      a.forEach((g, i) => {
        const scale = g.abs().max().item();
        assert.ok(scale > 0);
        assert.ok(b[i]!.sub(g).abs().max().item() <= 1e-4 * scale, `gradient ${i}`);
      });
    });
  } finally {
    model.dispose();
  }
});

test('GroupNorm32.forwardSiLU: f32 equals norm then SiLU exactly; bf16 rounds silu(f32 norm) once', () => {
  torch.manualSeed(31);
  const norm = new GroupNorm32(8, 32);
  try {
    torch.noGrad(() => torch.scope(() => {
      norm.weight.copy_(torch.rand([32]).add(0.5));
      norm.bias.copy_(torch.randn([32]).mul(0.3));
      const x = torch.randn([2, 32, 9, 7]).mul(3).add(1).contiguous('channels_last');
      // f32: the very ops of norm, then SiLU.
      const two = torch.silu(norm.forward(x));
      assert.equal(norm.forwardSiLU(x).sub(two).abs().max().item(), 0);
      // With the scale-shift affine in between.
      const s = torch.rand([2, 32, 1, 1]), b = torch.randn([2, 32, 1, 1]);
      assert.equal(norm.forwardSiLU(x, (h) => { h.mul_(s).add_(b); }).sub(torch.silu(norm.forward(x).mul(s).add(b))).abs().max().item(), 0);
      // bf16: the f32 normalisation's SiLU, rounded once (the norm's parameters cast to bf16 as under a bf16 module).
      const xb = x.to({ dtype: 'bfloat16' });
      norm.to({ dtype: 'bfloat16' });
      const got = norm.forwardSiLU(xb);
      assert.equal(got.dtype, 'bfloat16');
      const want = torch.silu(torch.groupNorm(xb.float(), 8, norm.weight.float(), norm.bias.float(), 1e-5)).to({ dtype: 'bfloat16' });
      assert.equal(got.float().sub(want.float()).abs().max().item(), 0);
      // … closer to the f32 result than norm, round, SiLU (two roundings).
      const ref = torch.silu(torch.groupNorm(xb.float(), 8, norm.weight.float(), norm.bias.float(), 1e-5));
      const twice = torch.silu(norm.forward(xb));
      const err = (t: Tensor): number => t.float().sub(ref).abs().mean().item();
      assert.ok(err(got) < err(twice), `once ${err(got)} vs twice ${err(twice)}`);
    }));
  } finally {
    norm.dispose();
  }
});
