// Mixed precision ('auto'): the default dtype per device and CPU flags, the per-module plan
// (parameters kept fp32 at their exact values, state-dict keys unchanged), the plan's effect on a
// tiny model's output, and 'auto' through the options schema, the CLI flags and the worker.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as torch from '../../src/engine/index.js';
import { Tensor } from '../../src/engine/index.js';
import { AUTO_PLAN, castFor, castKeepingFp32, defaultDType, DiffusionUpscaler, loadModelFolder, loadUpscaler, partsFromModel, readModelJson, type LoadedModel, type ModelJson, type PipelineDType } from '../../src/models/index.js';
import { UNetModelSwin, unetConfig, type UNetConfig } from '../../src/models/unet/index.js';
import type { Conv2d } from '../../src/engine/nn/index.js';
import { Namespace } from '../../src/models/vq/layers.js';
import { ResnetBlock } from '../../src/models/vq/resnet.js';
import { AttnBlock } from '../../src/models/vq/attention.js';
import { repoRoot } from '../helpers.js';
import { loadModel, OptionError } from '../../src/api.js';
import { parseFlags } from '../../src/cli/upscale-cli.js';
import { tinyModel } from './tiny-model.js';

let root = '', tiny = '';
before(() => { root = mkdtempSync(path.join(tmpdir(), 'vpdsr-precision-')); tiny = tinyModel(root); });
after(() => rmSync(root, { recursive: true, force: true }));

test('default dtype: auto on CUDA and where the CPU has AVX512_BF16 or AMX, fp32 elsewhere', () => {
  assert.equal(defaultDType('cpu', ['avx2', 'fma', 'avx512f']), 'fp32');
  assert.equal(defaultDType('cpu', []), 'fp32');
  assert.equal(defaultDType('cpu', ['avx2', 'avx512_bf16']), 'auto');
  assert.equal(defaultDType('cpu', ['amx_bf16', 'amx_tile']), 'auto');
  assert.equal(defaultDType('cuda:0', []), 'auto');
  // Without a dtype, loadUpscaler takes this machine's default.
  const up = loadUpscaler({ model: tiny });
  try {
    assert.equal(up.dtype, defaultDType('cpu'));
  } finally {
    up.dispose();
  }
});

test('castKeepingFp32: the plan keeps its modules fp32 at their exact values, the rest bf16, same keys', () => {
  const m = loadModelFolder(tiny);
  try {
    const vq = m.vq!;
    const before = new Map([...vq.stateDict()].map(([k, t]) => [k, torch.keep(t.clone())]));
    castKeepingFp32(vq, ['decoder.conv_out', 'decoder.up.0'], () => vq.to({ dtype: 'bfloat16' }));
    const after = vq.stateDict();
    assert.deepEqual([...after.keys()], [...before.keys()]);
    for (const [k, t] of after) {
      const kept = k.startsWith('decoder.conv_out.') || k.startsWith('decoder.up.0.') || k === 'quantize.embedding.weight';
      assert.equal(t.dtype, kept ? 'float32' : 'bfloat16', k);
      if (kept) assert.equal(torch.scope(() => t.sub(before.get(k)!).abs().max().item()), 0, `${k} keeps its fp32 value`);
    }
    for (const t of before.values()) t.dispose();
    assert.throws(() => castKeepingFp32(vq, ['decoder.up.9'], () => {}), /precision plan: the network has no module "decoder.up.9"/);
  } finally {
    m.unet.dispose(); m.vq?.dispose();
  }
});

test("castKeepingFp32 '#norms': GroupNorms fp32, convolutions bf16; the blocks take and return fp32 and stay near fp32", () => {
  torch.manualSeed(21);
  const build = (): Namespace => {
    torch.manualSeed(22);
    const n = new Namespace();
    n.registerModule('block', new ResnetBlock(32, 64));
    n.registerModule('attn', new AttnBlock(64));
    return n.eval();
  };
  const ref = build(), mixed = build(), bf = build();
  try {
    castKeepingFp32(mixed, ['#norms'], () => mixed.to({ dtype: 'bfloat16' }));
    bf.to({ dtype: 'bfloat16' });
    for (const [k, t] of mixed.stateDict()) assert.equal(t.dtype, /norm/.test(k) ? 'float32' : 'bfloat16', k);
    torch.noGrad(() => torch.scope(() => {
      const x = torch.randn([1, 32, 12, 10]).mul(4).contiguous('channels_last');
      const fwd = (n: Namespace, t: Tensor): Tensor => {
        const blk = n.namedModules().find(([p]) => p === 'block')![1] as ResnetBlock;
        const att = n.namedModules().find(([p]) => p === 'attn')![1] as AttnBlock;
        return att.forward(castFor(att, blk.forward(castFor(blk, t))));
      };
      const want = fwd(ref, x), got = fwd(mixed, x), low = fwd(bf, x);
      assert.equal(got.dtype, 'float32');
      assert.equal(low.dtype, 'bfloat16');
      const rel = (a: Tensor): number => a.float().sub(want).abs().max().item() / want.abs().max().item();
      assert.ok(rel(got) < 1e-2, `mixed ${rel(got)}`);
      assert.ok(rel(got) <= rel(low), `mixed ${rel(got)} vs bf16 ${rel(low)}`);
    }));
    assert.throws(() => castKeepingFp32(mixed, ['nothing#norms'], () => {}), /precision plan: the network has no module "nothing"/);
  } finally {
    for (const n of [ref, mixed, bf]) n.dispose();
  }
});

/** 8-bit PSNR of b against a (both [1, 3, H, W] in [0, 1]). */
function psnr8(a: Tensor, b: Tensor): number {
  return torch.scope(() => {
    const mse = a.mul(255).round().sub(b.mul(255).round()).square().mean().item();
    return mse === 0 ? Infinity : 10 * Math.log10((255 * 255) / mse);
  });
}

test('auto on the tiny SinSR model: the plan runs (its modules fp32, the rest bf16), unlike pure bf16', () => {
  const lr = torch.keep(torch.scope(() => torch.rand([1, 3, 24, 20], { generator: new torch.Generator(3) })));
  const run = (dtype: PipelineDType): { y: Tensor; m: LoadedModel } => {
    const m = loadModelFolder(tiny);
    const y = new DiffusionUpscaler(partsFromModel(m, { device: 'cpu', dtype })).upscale(lr, { seed: 5, tile: 0 });
    return { y, m };
  };
  const bf = run('bf16'), au = run('auto');
  try {
    assert.deepEqual(AUTO_PLAN, {
      vq: ['post_quant_conv', 'decoder.conv_in', 'decoder.mid.block_1', 'decoder.mid.attn_1#norms', 'decoder.mid.block_2', 'decoder.up.2', 'decoder.norm_out', 'decoder.conv_out'],
      unet: ['out'],
    });
    const vq = au.m.vq!;
    assert.equal(vq.decoder.conv_out.weight.dtype, 'float32');
    assert.equal(vq.decoder.mid.block_1.conv1.weight.dtype, 'float32');
    // '#norms': the attention's norm (so its input and residual sum) fp32, its products bf16.
    assert.equal(vq.decoder.mid.attn_1.norm.weight!.dtype, 'float32');
    for (const c of [vq.decoder.mid.attn_1.q, vq.decoder.mid.attn_1.k, vq.decoder.mid.attn_1.v, vq.decoder.mid.attn_1.proj_out]) assert.equal(c.weight.dtype, 'bfloat16');
    assert.equal(vq.decoder.mid.block_2.conv2.weight.dtype, 'float32');
    assert.equal(vq.decoder.up.at(2).block.at(0).conv1.weight.dtype, 'float32');
    assert.equal(vq.decoder.up.at(1).block.at(0).conv1.weight.dtype, 'bfloat16');
    assert.equal(vq.decoder.up.at(0).block.at(0).conv1.weight.dtype, 'bfloat16');
    assert.equal(vq.encoder.conv_in.weight.dtype, 'bfloat16');
    assert.equal((au.m.unet.out.at(2) as Conv2d).weight.dtype, 'float32');
    assert.equal(au.m.unet.dtype, 'bfloat16');
    // (This tiny model's random codebook turns any bf16 difference into other codes: its PSNR to
    // fp32 is ~24 dB in both modes, so the bound is checked on the pixel-space model below.)
    assert.ok(torch.scope(() => au.y.sub(bf.y).abs().max().item()) > 0);
  } finally {
    for (const r of [bf, au]) { r.y.dispose(); r.m.unet.dispose(); r.m.vq?.dispose(); }
    lr.dispose();
  }
});

test('auto on a tiny random pixel-space model: at least 45 dB PSNR from fp32 (8-bit), well above pure bf16', () => {
  // The bundled model's kind (unshuffled pixels, LR residual), narrower, with random weights everywhere.
  const base = readModelJson(path.join(repoRoot, 'models', 'vpdsr-x4'));
  const config = { ...(base.unet.config as object), model_channels: 16, channel_mult: [1, 2], num_res_blocks: [1, 1], swin_embed_dim: 32 };
  const json = { ...base, unet: { ...base.unet, config } } as ModelJson;
  const lr = torch.keep(torch.scope(() => torch.rand([1, 3, 32, 24], { generator: new torch.Generator(3) })));
  const run = (dtype: PipelineDType): Tensor => {
    torch.manualSeed(11);
    const unet = new UNetModelSwin(unetConfig(config as Partial<UNetConfig>)).eval();
    torch.noGrad(() => {
      for (const p of unet.parameters()) if (p.ndim >= 2) { const b = 1 / Math.sqrt(p.shape.slice(1).reduce((x, y) => x * y, 1)); p.uniform_(-b, b); }
    });
    const up = new DiffusionUpscaler(partsFromModel({ json, unet, vq: null }, { device: 'cpu', dtype }));
    try { return up.upscale(lr, { seed: 5, tile: 0 }); } finally { up.dispose(); }
  };
  const fp = run('fp32'), bf = run('bf16'), au = run('auto');
  try {
    const pBf = psnr8(fp, bf), pAu = psnr8(fp, au);
    // Measured: bf16 40.7 dB, auto 49.0 dB (the f32 output layer adds the f32 LR residual).
    assert.ok(pAu >= 45, `auto is ${pAu.toFixed(2)} dB from fp32`);
    assert.ok(pAu > pBf + 5, `auto (${pAu.toFixed(2)} dB) must beat pure bf16 (${pBf.toFixed(2)} dB) by its fp32 modules`);
  } finally {
    for (const t of [fp, bf, au, lr]) t.dispose();
  }
});

test("dtype 'auto' through the schema, the CLI flags and the worker; junk is refused with a did-you-mean", async () => {
  await assert.rejects(loadModel({ model: tiny, dtype: 'atuo' } as never), (e: unknown) => e instanceof OptionError && /dtype must be one of fp32, bf16, auto, got "atuo" \(did you mean auto\?\)/.test(e.message) && !e.message.includes('\n'));
  assert.throws(() => parseFlags({ input: ['a.png'], output: 'o', dtype: 'bf61' }), /--dtype must be one of fp32, bf16, auto, got "bf61" \(did you mean bf16\?\)/);
  assert.equal(parseFlags({ input: ['a.png'], output: 'o', dtype: 'auto' }).model.dtype, 'auto');
  assert.equal(parseFlags({ input: ['a.png'], output: 'o' }).model.dtype, undefined); // resolved per device at load
  assert.throws(() => parseFlags({ input: ['a.png'], output: 'o', dtype: 'auto', fp32: true }), /--fp32 contradicts --dtype auto/);
  // The bicubic model runs in fp32 whatever 'auto' asks.
  const bic = await loadModel({ model: 'bicubic', dtype: 'auto' }, { worker: false });
  assert.equal(bic.dtype, 'fp32');
  bic.dispose();
  // The worker loads it and reports the dtype that runs.
  const m = await loadModel({ model: tiny, dtype: 'auto' });
  try {
    assert.equal(m.thread, 'worker');
    assert.equal(m.dtype, 'auto');
  } finally {
    m.dispose();
  }
});
