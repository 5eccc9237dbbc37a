// VQModelTorch (MODEL_SPEC §3): the full-size structure against upstream's key list, shapes on odd
// sizes, chunked attention, channels-last, the quantiser against a brute-force nearest search,
// the straight-through gradient, bf16, and input checks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as torch from '../../src/engine/index.js';
import { Tensor } from '../../src/engine/index.js';
import { VQModelTorch, VQ_F4, VQ_F4_PARAMETERS, VQ_F4_KEYS, AttnBlock, VectorQuantizer2, VQError, type VQConfig } from '../../src/models/vq/index.js';
import { Normalize, groupNorm, normSwish, setWelfordGroupNorm } from '../../src/models/vq/layers.js';
import { goldenDir } from '../helpers.js';

/** The reduced-width config of the vq.* golden cases (the released key set, widths 32/64/96). */
const SMALL: VQConfig = {
  ddconfig: { double_z: false, z_channels: 3, resolution: 256, in_channels: 3, out_ch: 3, ch: 32, ch_mult: [1, 2, 3], num_res_blocks: 2, attn_resolutions: [], dropout: 0 },
  n_embed: 512, embed_dim: 3,
};

const maxAbs = (a: Tensor, b: Tensor): number => torch.scope(() => a.float().sub(b.float()).abs().max().item());

test('full-size VQ-f4: 205 keys, 55,322,782 parameters, keys and shapes exactly as upstream', () => {
  const m = JSON.parse(readFileSync(path.join(goldenDir('models'), 'manifest.json'), 'utf8')) as { cases: { kind: string; name: string; expect: { keys: [string, number[], string, string][] } }[] };
  const expected = m.cases.find((c) => c.kind === 'keys.fullsize' && c.name === 'vq-f4')!.expect.keys;
  const vq = new VQModelTorch(VQ_F4);
  try {
    const sd = vq.stateDict();
    assert.equal(sd.size, VQ_F4_KEYS);
    assert.equal(vq.numParameters(), VQ_F4_PARAMETERS);
    assert.equal(vq.namedBuffers().length, 0);
    const got = [...sd].map(([k, t]) => [k, t.shape, t.dtype === 'float32' ? 'F32' : t.dtype, 'param']);
    assert.deepEqual(got, expected);
    // Per part (spec §3.1): encoder 22,337,411, decoder 32,960,771, codebook 24,576, 12 + 12.
    const count = (prefix: string): number => [...sd].filter(([k]) => k.startsWith(prefix)).reduce((a, [, t]) => a + t.numel, 0);
    assert.deepEqual([count('encoder.'), count('decoder.'), count('quantize.'), count('quant_conv.'), count('post_quant_conv.')],
      [22_337_411, 32_960_771, 24_576, 12, 12]);
  } finally {
    vq.dispose();
  }
});

test('encode/decode shapes on odd sizes: latent ⌊⌊H/2⌋/2⌋ (pad 0,1 + stride-2 conv), decode ×4', () => {
  const vq = new VQModelTorch(SMALL).eval();
  try {
    torch.noGrad(() => torch.scope(() => {
      for (const [h, w, lh, lw] of [[32, 24, 8, 6], [31, 17, 7, 4], [9, 6, 2, 1], [4, 4, 1, 1], [5, 7, 1, 1]] as const) {
        const z = vq.encode(torch.randn([2, 3, h, w]));
        assert.deepEqual(z.shape, [2, 3, lh, lw], `encode ${h}×${w}`);
        assert.deepEqual(vq.decode(z).shape, [2, 3, 4 * lh, 4 * lw], `decode ${lh}×${lw}`);
      }
    }));
  } finally {
    vq.dispose();
  }
});

test('mid attention: chunked queries equal the unchunked form', () => {
  const a = new AttnBlock(64).eval();
  try {
    torch.noGrad(() => torch.scope(() => {
      const x = torch.randn([2, 64, 9, 7], { generator: new torch.Generator(3) });
      const full = a.forward(x);
      assert.equal(a.chunkRows(2, 63), 63, 'default budget: one chunk for small N');
      for (const q of [1, 10, 62]) {
        a.queryChunk = q;
        const d = maxAbs(a.forward(x), full);
        assert.ok(d < 1e-5, `chunk ${q}: max |diff| ${d}`);
      }
      // the budget bounds the score matrix: 16384 positions, 2^26 elements → 4096 queries a chunk
      a.queryChunk = undefined;
      assert.equal(a.chunkRows(1, 16384), 4096);
      a.scoreBudget = 1000;
      assert.equal(a.chunkRows(2, 63), 7);
      assert.ok(maxAbs(a.forward(x), full) < 1e-5);
    }));
  } finally {
    a.dispose();
  }
});

test('channels-last end to end gives the contiguous result and stays channels-last', () => {
  const vq = new VQModelTorch(SMALL).eval();
  try {
    torch.noGrad(() => torch.scope(() => {
      const x = torch.randn([1, 3, 24, 20], { generator: new torch.Generator(5) });
      const ref = vq.encode(x);
      const refDec = vq.decode(ref);
      vq.to({ memoryFormat: 'channels_last' });
      const xc = x.contiguous('channels_last');
      const z = vq.encode(xc);
      assert.ok(z.isContiguous('channels_last'), 'latent is channels-last');
      assert.ok(maxAbs(z, ref) < 1e-5);
      const dec = vq.decode(z);
      assert.ok(dec.isContiguous('channels_last'), 'decoded image is channels-last');
      assert.ok(maxAbs(dec, refDec) < 1e-4);
    }));
  } finally {
    vq.dispose();
  }
});

test('quantiser: nearest codebook entry by a brute-force f64 search, first index on ties, legacy loss', () => {
  const q = new VectorQuantizer2(16, 3, 0.25);
  try {
    torch.noGrad(() => torch.scope(() => {
      const E = torch.tensor([[0, 0, 0], [1, 0, 0], [0, 1, 0], [1, 0, 0], ...Array.from({ length: 12 }, (_, i) => [0.3 * i - 2, 0.5, -0.25 * i])]);
      q.embedding.weight.copy_(E);
      const z = torch.randn([2, 3, 3, 4], { generator: new torch.Generator(11) });
      // a sample at exactly codes 1 = 3: the tie goes to the first
      z.select(0, 0).select(1, 0).select(1, 0).copy_(torch.tensor([1, 0, 0]));
      const r = q.forward(z);
      const zs = z.permute(0, 2, 3, 1).reshape(-1, 3).toArray() as Float32Array;
      const es = E.toArray() as Float32Array;
      const idx = Array.from(r.indices.toArray() as BigInt64Array, Number);
      for (let m = 0; m < idx.length; m++) {
        let best = -1, bestD = Infinity;
        for (let e = 0; e < 16; e++) {
          let dd = 0;
          for (let c = 0; c < 3; c++) dd += (zs[m * 3 + c]! - es[e * 3 + c]!) ** 2;
          if (dd < bestD) { bestD = dd; best = e; }
        }
        assert.equal(idx[m], best, `row ${m}`);
      }
      assert.equal(idx[0], 1, 'tie resolved to the first index');
      const zq = torch.embedding(r.indices, E).view(2, 3, 4, 3).permute(0, 3, 1, 2);
      assert.ok(maxAbs(r.zQ, zq) < 1e-6, 'z_q is the codebook entry (straight-through, up to f32 rounding)');
      const mse = zq.sub(z).square().mean().item();
      assert.ok(Math.abs(r.loss.item() - 1.25 * mse) < 1e-6 * Math.max(1, mse), 'legacy loss = (1 + β)·mse');
    }));
  } finally {
    q.dispose();
  }
});

test('decode passes the gradient straight through the quantiser', () => {
  const vq = new VQModelTorch({ ...SMALL, ddconfig: { ...SMALL.ddconfig, ch_mult: [1, 1], num_res_blocks: 1 } }).eval();
  try {
    torch.scope(() => {
      const h = torch.randn([1, 3, 4, 5], { generator: new torch.Generator(2) }).requiresGrad_();
      let zq!: Tensor;
      const out = vq.decode(h, { onQuantize: (q) => { zq = torch.keep(q.zQ.detach().clone()); } });
      out.square().sum().backward();
      const gh = h.grad!;
      const z = zq.requiresGrad_();
      vq.decode(z, { forceNotQuantize: true }).square().sum().backward();
      assert.ok(maxAbs(gh, z.grad!) < 1e-5, 'd decode/dh = d decoder/dz at z_q');
      assert.ok(gh.abs().sum().item() > 0);
      zq.dispose();
      // without the straight-through estimator no gradient reaches h; the codebook gets it
      vq.zeroGrad();
      const h2 = torch.randn([1, 3, 4, 5], { generator: new torch.Generator(2) }).requiresGrad_();
      vq.decode(h2, { straightThrough: false }).square().sum().backward();
      assert.equal(h2.grad, null);
      assert.ok(vq.quantize.embedding.weight.grad!.abs().sum().item() > 0);
    });
  } finally {
    vq.dispose();
  }
});

test('bf16: the module cast to bf16 runs end to end, close to f32; codes of an f32 latent unchanged', () => {
  const vq = new VQModelTorch(SMALL).eval();
  try {
    torch.noGrad(() => torch.scope(() => {
      torch.noGrad(() => vq.quantize.embedding.weight.uniform_(-1.5, 1.5, new torch.Generator(1)));
      const x = torch.rand([1, 3, 32, 32], { generator: new torch.Generator(9) }).mul(2).sub(1);
      const z32 = vq.encode(x);
      let idx32!: Tensor, idx16!: Tensor;
      const d32 = vq.decode(z32, { onQuantize: (q) => { idx32 = torch.keep(q.indices.clone()); } });
      vq.to({ dtype: 'bfloat16', memoryFormat: 'channels_last' });
      assert.equal(vq.quantize.embedding.weight.dtype, 'float32', 'the codebook stays f32');
      assert.equal(vq.encoder.conv_in.weight.dtype, 'bfloat16');
      const z16 = vq.encode(x);
      assert.equal(z16.dtype, 'bfloat16');
      // The channels-last bf16 GroupNorm of LibTorch 1.13 alone gave errors of O(1) here.
      const rel = maxAbs(z16, z32) / Math.max(1e-6, z32.abs().max().item());
      assert.ok(rel < 0.05, `bf16 latent within 5% of the f32 range (relative max diff ${rel})`);
      const d16 = vq.decode(z32, { onQuantize: (q) => { idx16 = torch.keep(q.indices.clone()); } });
      assert.equal(d16.dtype, 'bfloat16');
      assert.deepEqual(d16.shape, [1, 3, 32, 32]);
      assert.ok(idx16.eq(idx32).all().item() === 1, 'an f32 latent is quantised as in f32');
      idx16.dispose(); idx32.dispose();
      const relDec = maxAbs(d16, d32) / Math.max(1e-6, d32.abs().max().item());
      assert.ok(relDec < 0.05, `bf16 decode within 5% (relative max diff ${relDec})`);
    }));
  } finally {
    vq.dispose();
  }
});

test('bf16 GroupNorm (+swish) is normalised in f32: LibTorch 1.13\'s channels-last bf16 kernel is off by O(1)', () => {
  const norm = Normalize(128);
  try {
    torch.noGrad(() => torch.scope(() => {
      norm.to({ dtype: 'bfloat16' });
      const x = torch.randn([1, 128, 128, 128], { generator: new torch.Generator(4) }).add(3).bfloat16().contiguous('channels_last');
      const ref = torch.groupNorm(x.double(), 32, norm.weight!.double(), norm.bias!.double(), 1e-6);
      const rel = (t: Tensor): number => t.double().sub(ref).abs().max().item() / ref.abs().max().item();
      const y = groupNorm(norm, x);
      assert.equal(y.dtype, 'bfloat16');
      assert.ok(y.isContiguous('channels_last'));
      assert.ok(rel(y) < 1e-2, `relative max error ${rel(y)}`);
      const s = normSwish(norm, x), sref = ref.mul(ref.sigmoid());
      assert.ok(s.double().sub(sref).abs().max().item() / sref.abs().max().item() < 1e-2);
    }));
  } finally {
    norm.dispose();
  }
});

test('Welford group norm for channels-last f32: as accurate as the contiguous kernel (the native one is not)', () => {
  const norm = Normalize(128);
  try {
    torch.noGrad(() => torch.scope(() => {
      torch.noGrad(() => { norm.weight!.uniform_(0.5, 1.5, new torch.Generator(1)); norm.bias!.uniform_(-1, 1, new torch.Generator(2)); });
      const x = torch.randn([1, 128, 256, 256], { generator: new torch.Generator(4) }).add(20).contiguous('channels_last');
      const ref = torch.groupNorm(x.double(), 32, norm.weight!.double(), norm.bias!.double(), 1e-6);
      const rel = (t: Tensor): number => t.double().sub(ref).abs().max().item() / ref.abs().max().item();
      const native = rel(groupNorm(norm, x));
      setWelfordGroupNorm(norm, true);
      const y = groupNorm(norm, x);
      assert.ok(y.isContiguous('channels_last'));
      assert.ok(rel(y) < 2e-6, `welford: relative max error ${rel(y)}`);
      assert.ok(native > 10 * rel(y), `native channels-last kernel: ${native} (the reason for the option)`);
    }));
  } finally {
    norm.dispose();
  }
  const vq = new VQModelTorch(SMALL).eval();
  try {
    torch.noGrad(() => torch.scope(() => {
      const x = torch.randn([1, 3, 24, 20], { generator: new torch.Generator(5) });
      const ref = vq.encode(x);
      vq.to({ memoryFormat: 'channels_last' }).setGroupNormMode('welford');
      assert.ok(maxAbs(vq.encode(x), ref) < 1e-5);
      assert.throws(() => vq.setGroupNormMode('fast' as 'native'), /must be 'native' or 'welford'/);
    }));
  } finally {
    vq.dispose();
  }
});

test('bad input gives one clear VQError line, never a native error', () => {
  const vq = new VQModelTorch(SMALL).eval();
  try {
    torch.noGrad(() => torch.scope(() => {
      const cases: [() => unknown, RegExp][] = [
        [() => vq.encode(torch.randn([1, 4, 16, 16])), /encode: input must be \[B, 3, H, W\]/],
        [() => vq.encode(torch.randn([3, 16, 16])), /encode: input must be \[B, 3, H, W\]/],
        [() => vq.encode(torch.zeros([1, 3, 16, 16], { dtype: 'int64' })), /floating point/],
        [() => vq.encode(torch.randn([1, 3, 1, 16])), /too small/],
        [() => { const t = torch.randn([1, 3, 8, 8]); t.dispose(); return vq.encode(t); }, /disposed/],
        [() => vq.encode('image' as unknown as Tensor), /must be a Tensor/],
        [() => vq.decode(torch.randn([1, 4, 4, 4])), /decode: input must be \[B, 3, H, W\]/],
        [() => vq.quantize.forward(torch.randn([1, 5, 2, 2])), /quantize: z must be/],
        [() => new VQModelTorch({ ...SMALL, ddconfig: { ...SMALL.ddconfig, ch: 24 } }), /not divisible by the 32 GroupNorm groups/],
        [() => new VQModelTorch({ ...SMALL, ddconfig: { ...SMALL.ddconfig, double_z: true } }), /double_z/],
        [() => new VQModelTorch({ ...SMALL, n_embed: 0 }), /n_embed must be a positive integer/],
      ];
      for (const [f, re] of cases) {
        assert.throws(f, (e: Error) => {
          assert.ok(e instanceof VQError, `${e.name}: ${e.message}`);
          assert.match(e.message, re);
          assert.ok(!e.message.includes('\n'), 'one line');
          return true;
        });
      }
    }));
  } finally {
    vq.dispose();
  }
});
