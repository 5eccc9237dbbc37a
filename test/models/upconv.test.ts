// conv3x3(nearest×2(x)) computed at x's resolution (src/models/upconv.ts) against the two-step form.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as torch from '../../src/engine/index.js';
import { Tensor } from '../../src/engine/index.js';
import { Conv2d } from '../../src/engine/nn/index.js';
import { canUpsampleConv, upsampleConv } from '../../src/models/upconv.js';
import { Upsample } from '../../src/models/vq/layers.js';

const maxRel = (a: Tensor, b: Tensor): number => torch.scope(() => a.sub(b).abs().max().item() / Math.max(b.abs().max().item(), 1e-30));
const twoStep = (conv: Conv2d, x: Tensor): Tensor => torch.scope(() => conv.forward(torch.interpolate(x, { scaleFactor: 2, mode: 'nearest' })));

test('upsampleConv equals conv3x3(nearest×2(x)) to f32 rounding, in both memory formats, with and without bias', () => {
  torch.manualSeed(5);
  torch.noGrad(() => torch.scope(() => {
    for (const bias of [true, false]) {
      const conv = new Conv2d(6, 5, 3, { padding: 1, bias });
      for (const [b, h, w] of [[2, 7, 5], [1, 1, 1], [1, 4, 9]] as const) {
        const x = torch.randn([b, 6, h, w]).mul(3).add(1);
        for (const fmt of ['contiguous', 'channels_last'] as const) {
          const xi = x.contiguous(fmt);
          assert.ok(canUpsampleConv(conv, xi));
          const got = upsampleConv(conv, xi), want = twoStep(conv, xi);
          assert.deepEqual(got.shape, [b, 5, 2 * h, 2 * w]);
          assert.ok(maxRel(got, want) < 1e-5, `${fmt} ${b}x${h}x${w} bias=${bias}: ${maxRel(got, want)}`);
          for (const f of ['contiguous', 'channels_last'] as const) assert.equal(got.isContiguous(f), want.isContiguous(f), `${fmt} ${b}x${h}x${w}: the two-step form's memory format (${f})`);
        }
      }
      conv.dispose();
    }
  }));
});

test('the VQ decoder\'s Upsample takes the phase form in inference only, with the same values', () => {
  torch.manualSeed(6);
  const vq = new Upsample(8, true).eval();
  try {
    torch.scope(() => {
      const x = torch.randn([1, 8, 6, 6]).contiguous('channels_last');
      // Gradient needed (parameters require grad): the two-step form autograd records as upstream.
      assert.equal(canUpsampleConv(vq.conv!, x), false);
      const yg = vq.forward(x);
      assert.ok(yg.requiresGrad);
      torch.noGrad(() => {
        assert.ok(canUpsampleConv(vq.conv!, x));
        assert.ok(maxRel(vq.forward(x), twoStep(vq.conv!, x)) < 1e-5);
        assert.ok(maxRel(vq.forward(x), yg.detach()) < 1e-5);
        // Input and weights of different dtypes: the two-step form.
        assert.equal(canUpsampleConv(vq.conv!, x.to({ dtype: 'bfloat16' })), false);
        // Another kernel or stride: not this form.
        const c5 = new Conv2d(8, 8, 3, { padding: 1, stride: 2 });
        assert.equal(canUpsampleConv(c5, x), false);
        c5.dispose();
      });
    });
  } finally { vq.dispose(); }
});

test('in bf16 the phase form is as close to the f32 result as the two-step bf16 form', () => {
  torch.manualSeed(7);
  const conv = new Conv2d(16, 12, 3, { padding: 1 });
  try {
    torch.noGrad(() => torch.scope(() => {
      const x = torch.randn([1, 16, 9, 7]).mul(2).contiguous('channels_last');
      const cb = new Conv2d(16, 12, 3, { padding: 1 });
      cb.to({ dtype: 'bfloat16' });
      cb.weight.copy_(conv.weight);
      cb.bias!.copy_(conv.bias!);
      const xb = x.to({ dtype: 'bfloat16' });
      assert.ok(canUpsampleConv(cb, xb));
      // The reference: the same bf16-rounded weights and input, in f32.
      const ref = torch.scope(() => {
        const cf = new Conv2d(16, 12, 3, { padding: 1 });
        cf.weight.copy_(cb.weight.float());
        cf.bias!.copy_(cb.bias!.float());
        return torch.keep(twoStep(cf, xb.float()));
      });
      const got = upsampleConv(cb, xb), two = twoStep(cb, xb);
      assert.equal(got.dtype, 'bfloat16');
      assert.ok(got.isContiguous('channels_last'));
      const eGot = maxRel(got.float(), ref), eTwo = maxRel(two.float(), ref);
      assert.ok(eGot < 8e-3 && eGot <= 2 * eTwo + 1e-3, `phase ${eGot} vs two-step ${eTwo}`);
      cb.dispose();
    }));
  } finally { conv.dispose(); }
});
