import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as torch from '../../src/engine/index.js';
import { haarDwt, haarIdwt, haarDetails, hfpLoss, hfEnergy } from '../../src/train/haar.js';
import { essLoss, essFromEmbeddings, hingeD, hingeG } from '../../src/train/losses.js';
import { generatorLoss, discriminatorLoss, drawDistill } from '../../src/train/steps.js';
import { tinyNets } from './tiny-nets.js';

const close = (a: number, b: number, tol = 1e-6): void => assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b}`);

test('Haar DWT matches hand-computed 2×2 block values and reconstructs exactly', () => {
  torch.scope(() => {
    // One channel, 2×4: blocks [[1, 2], [3, 4]] and [[5, -1], [0, 2]].
    const x = torch.tensor([[[[1, 2, 5, -1], [3, 4, 0, 2]]]]);
    const b = haarDwt(x);
    const arr = (t: torch.Tensor): number[] => Array.from(t.toFloat32Array());
    // LL = (a+b+c+d)/2, LH = (a+b−c−d)/2, HL = (a−b+c−d)/2, HH = (a−b−c+d)/2
    assert.deepEqual(arr(b.ll), [5, 3]);
    assert.deepEqual(arr(b.lh), [-2, 1]);
    assert.deepEqual(arr(b.hl), [-1, 2]);
    assert.deepEqual(arr(b.hh), [0, 4]);
    const y = torch.randn([2, 3, 8, 6], { generator: new torch.Generator(1) });
    const r = haarIdwt(haarDwt(y));
    assert.ok(r.sub(y).abs().max().item() < 1e-6);
    // Orthonormal: energy is preserved.
    const e = haarDwt(y);
    const tot = [e.ll, e.lh, e.hl, e.hh].reduce((s, t) => s + t.square().sum().item(), 0);
    close(tot, y.square().sum().item(), 1e-3);
    // Odd sizes are reflect-padded; a constant image has no detail.
    const c = torch.full([1, 3, 7, 5], 0.3);
    for (const d of haarDetails(c, 2)) assert.ok(d.abs().max().item() < 1e-7);
    assert.equal(hfEnergy(c).item(), 0);
  });
});

test('HFP: zero for equal images, L1 of detail bands otherwise, Charbonnier option, bad input refused', () => {
  torch.scope(() => {
    const g = new torch.Generator(2);
    const a = torch.randn([2, 3, 8, 8], { generator: g }), b = torch.randn([2, 3, 8, 8], { generator: g });
    assert.equal(hfpLoss(a, a).item(), 0);
    const da = haarDwt(a), db = haarDwt(b);
    const want = torch.cat([da.lh, da.hl, da.hh], 1).sub(torch.cat([db.lh, db.hl, db.hh], 1)).abs().mean().item();
    close(hfpLoss(a, b).item(), want, 1e-6);
    // Adding a low-pass (constant) offset changes nothing.
    close(hfpLoss(a.add(0.7), b).item(), want, 1e-5);
    assert.ok(hfpLoss(a, b, { distance: 'charbonnier' }).item() >= want);
    assert.ok(hfpLoss(a, b, { levels: 2 }).item() > 0);
    assert.throws(() => hfpLoss(a, b.narrow(2, 0, 4)), /differ in shape/);
    assert.throws(() => hfpLoss(a, b, { levels: 0 }), /levels must be/);
  });
});

test('HFP shift: a 4×4 block pattern (unshuffle space) lies in no Haar band unshifted; shifted, it does', () => {
  torch.scope(() => {
    const g = new torch.Generator(3);
    const hr = torch.randn([1, 3, 16, 16], { generator: g });
    // A different constant offset per 4×4 block: the grid an unshuffle-space model can write.
    const blocks = torch.interpolate(torch.randn([1, 3, 4, 4], { generator: g }), { scaleFactor: 4, mode: 'nearest' });
    const pred = hr.add(blocks);
    assert.ok(hfpLoss(pred, hr, { levels: 2 }).item() < 1e-6, 'unshifted two-level Haar is blind to steps on its own grid');
    const shifted = hfpLoss(pred, hr, { levels: 2, shift: true }).item();
    assert.ok(shifted > 0.05, `shifted: ${shifted}`);
    // By definition: the mean of the unshifted loss and the loss on the one-pixel-cropped pair.
    const a = torch.randn([2, 3, 12, 10], { generator: g }), b = torch.randn([2, 3, 12, 10], { generator: g });
    const inner = (x: torch.Tensor): torch.Tensor => x.narrow(2, 1, 10).narrow(3, 1, 8);
    close(hfpLoss(a, b, { levels: 2, shift: true }).item(), (hfpLoss(a, b, { levels: 2 }).item() + hfpLoss(inner(a), inner(b), { levels: 2 }).item()) / 2, 1e-5);
    assert.equal(hfpLoss(a, a, { shift: true }).item(), 0);
    assert.throws(() => hfpLoss(a.narrow(2, 0, 3), b.narrow(2, 0, 3), { shift: true }), /shift needs H, W ≥ 4/);
  });
});

test('ESS: 0 for x vs x, within [0, 2], scale invariant; hinge losses on given logits', () => {
  const nets = tinyNets(3);
  try {
    torch.scope(() => {
      const g = new torch.Generator(3);
      const x = torch.rand([3, 3, 16, 16], { generator: g }).mul(2).sub(1);
      const y = torch.rand([3, 3, 16, 16], { generator: g }).mul(2).sub(1);
      close(essLoss(nets.encoder!, x, x).item(), 0, 1e-6);
      const v = essLoss(nets.encoder!, x, y).item();
      assert.ok(v >= 0 && v <= 2, String(v));
      const e1 = torch.randn([4, 5], { generator: g });
      close(essFromEmbeddings(e1, e1.neg()).item(), 2, 1e-6);
      close(essFromEmbeddings(e1, e1.mul(3.5)).item(), 0, 1e-6);
      const real = torch.tensor([[2, 0.5, -1]]), fake = torch.tensor([[-2, 0, 0.5]]);
      // mean relu(1 − [2, .5, −1]) = (0 + .5 + 2)/3; mean relu(1 + [−2, 0, .5]) = (0 + 1 + 1.5)/3
      close(hingeD(real, fake).item(), 2.5 / 3 + 2.5 / 3, 1e-6);
      close(hingeG(fake).item(), 0.5, 1e-6);
    });
  } finally {
    nets.dispose();
  }
});

test('gradients reach the student and the heads, never a frozen network; the target carries none', () => {
  const nets = tinyNets(4);
  try {
    torch.scope(() => {
      const g = new torch.Generator(4);
      const hr = torch.rand([2, 3, 16, 16], { generator: g }).mul(2).sub(1);
      const lq = torch.rand([2, 3, 4, 4], { generator: g }).mul(2).sub(1);
      const draws = drawDistill(nets.space, [2, 3, 16, 16], g);
      const opts = { weights: { distill: 1, ess: 1, hfp: 1, adv: 0.02, inverse: 1, gt: 1 }, hfp: { levels: 1, distance: 'l1' as const, target: 'hr' as const } };
      const r = generatorLoss(nets, opts, hr, lq, draws);
      assert.deepEqual(Object.keys(r.terms).sort(), ['adv', 'distill', 'ess', 'gt', 'hfp', 'inverse']);
      assert.equal(r.zTeacher.requiresGrad, false);
      r.total.backward();
      const nonzero = (ps: torch.Tensor[]): number => ps.filter((p) => p.grad && p.grad.abs().sum().item() > 0).length;
      assert.ok(nonzero(nets.student.parameters()) > nets.student.parameters().length / 2);
      assert.ok(nonzero(nets.heads!.parameters()) > 0, 'the adversarial term reaches the heads');
      for (const m of [nets.teacher, nets.encoder as unknown as typeof nets.teacher]) {
        for (const p of m.parameters()) assert.equal(p.grad, null);
      }
      for (const p of nets.heads!.parameters()) p.grad = null;
      for (const p of nets.student.parameters()) p.grad = null;
      const ld = discriminatorLoss(nets, r, lq, draws);
      ld.backward();
      // Every head parameter gets a gradient; the output bias's is exactly 0 while all logits lie in
      // (−1, 1): it shifts real and fake logits alike, and the hinge terms' slopes cancel.
      const hp = nets.heads!.namedParameters().filter(([n]) => !n.endsWith('conv_out.bias')).map(([, p]) => p);
      assert.equal(nonzero(hp), hp.length);
      for (const p of nets.student.parameters()) assert.equal(p.grad, null, 'L_D must not reach the student');
      for (const p of nets.teacher.parameters()) assert.equal(p.grad, null);
    });
  } finally {
    nets.dispose();
  }
});
