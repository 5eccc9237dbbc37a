// Performance paths of the models: the in-place activations used in inference must give exactly
// the out-of-place values, never touch a caller's tensor, and step aside when autograd needs the
// value; channels-last must survive a whole UNet forward (a silent NCHW flip costs a copy per layer).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as torch from '../../src/engine/index.js';
import { Tensor } from '../../src/engine/index.js';
import { Sequential, SiLU, GELU, Conv2d } from '../../src/engine/nn/index.js';
import { UNetModelSwin, type UNetConfig } from '../../src/models/unet/index.js';
import { forwardInPlace, normalization } from '../../src/models/unet/resblock.js';
import { Mlp } from '../../src/models/unet/swin.js';

const TINY: Partial<UNetConfig> = {
  image_size: 16, in_channels: 3, model_channels: 32, out_channels: 3, num_res_blocks: [1, 1], attention_resolutions: [8],
  channel_mult: [1, 1], num_head_channels: 16, use_scale_shift_norm: true, swin_depth: 2, swin_embed_dim: 32,
  window_size: 4, mlp_ratio: 4, lq_size: 16,
};

/** Bitwise equality of two tensors (same shape, dtype, values). */
function same(a: Tensor, b: Tensor): boolean {
  return a.shape.join() === b.shape.join() && a.dtype === b.dtype && torch.scope(() => Boolean(a.eq(b).all().item()));
}

test('forwardInPlace equals Sequential.forward bitwise, leaves the input alone, and returns a new tensor', () => {
  torch.manualSeed(3);
  const seq = new Sequential(normalization(32), new SiLU(), new Conv2d(32, 16, 3, { padding: 1 }));
  const act = new Sequential(new GELU(), new SiLU());
  try {
    torch.scope(() => {
      const x = torch.randn([2, 32, 8, 8]);
      const x0 = x.clone();
      torch.noGrad(() => {
        for (const fmt of ['contiguous', 'channels_last'] as const) {
          const xi = x.contiguous(fmt);
          assert.ok(same(forwardInPlace(seq, xi), seq.forward(xi)), fmt);
          // Activations first: x itself must not be overwritten (not fresh), the result is still exact.
          const y = forwardInPlace(act, xi);
          assert.ok(same(y, act.forward(xi)), `${fmt}: activations on the input`);
          assert.notEqual(y, xi);
          assert.ok(same(xi, x0), `${fmt}: input unchanged`);
          // fresh: the caller hands over its own tensor, which is then activated in place.
          const mine = xi.clone();
          const z = forwardInPlace(act, mine, { fresh: true });
          assert.ok(same(z, act.forward(xi)), `${fmt}: fresh`);
          assert.ok(same(mine, z), `${fmt}: fresh input was used in place`);
        }
      });
    });
  } finally { seq.dispose(); act.dispose(); }
});

test('forwardInPlace under autograd stays out of place: gradients equal Sequential\'s', () => {
  torch.manualSeed(4);
  const seq = new Sequential(normalization(32), new SiLU(), new Conv2d(32, 8, 3, { padding: 1 }));
  try {
    torch.scope(() => {
      const x = torch.randn([1, 32, 8, 8]);
      const grads = (f: (t: Tensor) => Tensor): Tensor[] => {
        seq.zeroGrad();
        const xi = x.clone().requiresGrad_();
        f(xi).square().sum().backward();
        return [xi.grad!.clone(), ...seq.parameters().map((p) => p.grad!.clone())];
      };
      const a = grads((t) => seq.forward(t)), b = grads((t) => forwardInPlace(seq, t));
      assert.equal(a.length, b.length);
      a.forEach((g, i) => assert.ok(same(g, b[i]!), `grad ${i}`));
    });
  } finally { seq.dispose(); }
});

test('Swin Mlp: in-place GELU in inference equals the autograd path bitwise', () => {
  torch.manualSeed(5);
  const mlp = new Mlp(32, 128);
  try {
    torch.scope(() => {
      const x = torch.randn([2, 32, 8, 8]).contiguous('channels_last');
      const x0 = x.clone();
      const inf = torch.noGrad(() => mlp.forward(x));
      const ref = mlp.forward(x); // parameters require grad: out-of-place GELU
      assert.ok(ref.requiresGrad);
      assert.ok(same(inf, ref.detach()));
      assert.ok(same(x, x0));
    });
  } finally { mlp.dispose(); }
});

test('tiny UNet: inference (noGrad) equals the autograd forward bitwise and stays channels-last', () => {
  torch.manualSeed(6);
  const model = new UNetModelSwin(TINY);
  try {
    model.eval();
    model.to({ memoryFormat: 'channels_last' });
    torch.scope(() => {
      const g = new torch.Generator(9);
      const x = torch.randn([1, 3, 16, 16], { generator: g }).contiguous('channels_last');
      const lq = torch.randn([1, 3, 16, 16], { generator: g }).clamp(-1, 1).contiguous('channels_last');
      const t = torch.tensor([3], { dtype: 'int64' });
      const inf = torch.noGrad(() => model.forward(x, t, lq));
      const ref = model.forward(x, t, lq);
      assert.ok(same(inf, ref.detach()));
      assert.ok(inf.isContiguous('channels_last') && !inf.isContiguous(), 'UNet output is channels-last');
    });
  } finally { model.dispose(); }
});

test('gelu_ checks its argument and matches gelu for both approximations', () => {
  torch.scope(() => {
    const x = torch.randn([64]);
    for (const a of ['none', 'tanh'] as const) {
      const y = x.clone();
      torch.gelu_(y, a);
      assert.ok(same(y, torch.gelu(x, a)), a);
    }
    assert.throws(() => torch.gelu_(x, 'fast' as 'none'), (e: Error) => /approximate/.test(e.message) && !e.message.includes('\n'));
    assert.throws(() => torch.gelu_(null as unknown as Tensor), (e: Error) => !e.message.includes('\n'));
  });
});
