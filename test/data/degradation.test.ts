// The degradation building blocks and the seeded pipeline. Golden parity of every degradation
// kind is checked at the end (the same cases `vpdsr parity --golden ../shared/golden/data` runs).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as torch from '../../src/engine/index.js';
import {
  besselJ1, bivariateGaussian, circularLowpassKernel, padKernel, pulseKernel, sampleResShiftKernels, resShiftKernelTensors,
  sampleMixedKernel, kernelRange, type Kernel,
} from '../../src/data/degradation/kernels.js';
import { filter2D } from '../../src/data/degradation/filter2d.js';
import { jpegCompress, jpegQualityInt, qualityToFactor } from '../../src/data/degradation/jpeg.js';
import { samplePipelineChoices, degradeBatch, generatorDraws, minGtSide } from '../../src/data/degradation/pipeline.js';
import { loadPreset, TRAIN_PRESET, TEST_PRESET } from '../../src/data/degradation/params.js';
import { randomAddPoissonNoisePt, randomAddGaussianNoisePt } from '../../src/data/degradation/noise.js';
import { Rng, ScriptedSource, deriveSeed } from '../../src/data/rng.js';
import { sampleGtPrep, applyGtPrep, modCrop } from '../../src/data/gt.js';
import { runGolden, formatReport } from '../../src/parity/runner.js';
import { goldenDir } from '../helpers.js';

const sum = (k: Kernel): number => k.data.reduce((a, b) => a + b, 0);

test('Bessel J1 matches scipy.special.j1 to 1e-14 on both branches', () => {
  const ref: [number, number][] = [[0.1, 0.049937526036242], [1, 0.44005058574493355], [2.5, 0.497094102464274], [5, -0.3275791375914653],
    [5.0001, -0.3275903440013772], [7.3, 0.08257043049325785], [10, 0.04347274616886141], [20, 0.0668331241758502], [44, -0.08280335937602906]];
  for (const [x, y] of ref) {
    assert.ok(Math.abs(besselJ1(x) - y) < 1e-14, `J1(${x}) = ${besselJ1(x)}, scipy ${y}`);
    assert.ok(Math.abs(besselJ1(-x) + y) < 1e-14, 'J1 is odd');
  }
});

test('kernels: normalised, isotropic ones symmetric, padding central, bad sizes rejected', () => {
  const g = bivariateGaussian(9, 1.3, 1.3, 0, true);
  assert.ok(Math.abs(sum(g) - 1) < 1e-12);
  for (let i = 0; i < 9; i++) for (let j = 0; j < 9; j++) assert.ok(Math.abs(g.data[i * 9 + j]! - g.data[j * 9 + i]!) < 1e-15);
  const s = circularLowpassKernel(Math.PI / 2, 7, 15);
  assert.equal(s.size, 15);
  assert.ok(Math.abs(sum(s) - 1) < 1e-12);
  assert.equal(s.data[0], 0);
  const p = padKernel(pulseKernel(3), 7);
  assert.equal(p.data[3 * 7 + 3], 1);
  assert.equal(sum(p), 1);
  assert.throws(() => bivariateGaussian(8, 1, 1, 0), /odd integer/);
  assert.throws(() => bivariateGaussian(7, -1, 1, 0), /sig_x/);
  assert.deepEqual(kernelRange(21), [3, 5, 7, 9, 11, 13, 15, 17, 19]);
});

test('Rng: deterministic per seed, in range, choices follow the weights', () => {
  const a = new Rng(42), b = new Rng(42), c = new Rng(43);
  const xa = Array.from({ length: 5 }, () => a.random()), xb = Array.from({ length: 5 }, () => b.random());
  assert.deepEqual(xa, xb);
  assert.notDeepEqual(xa, Array.from({ length: 5 }, () => c.random()));
  const r = new Rng(1);
  const counts = [0, 0, 0];
  for (let i = 0; i < 20000; i++) {
    const v = r.random();
    assert.ok(v >= 0 && v < 1);
    const k = r.randint(2, 4);
    assert.ok(k >= 2 && k <= 4 && Number.isInteger(k));
    counts[['up', 'down', 'keep'].indexOf(r.choices(['up', 'down', 'keep'], [0.2, 0.7, 0.1]))]!++;
  }
  assert.ok(Math.abs(counts[0]! / 20000 - 0.2) < 0.02 && Math.abs(counts[1]! / 20000 - 0.7) < 0.02, `choices frequencies ${counts}`);
  assert.equal(r.choices(['a', 'b'], [0, 1]), 'b');
  assert.notEqual(deriveSeed(1, 'item', 'a.png'), deriveSeed(1, 'item', 'b.png'));
  assert.equal(deriveSeed(1, 'item', 'a.png'), deriveSeed(1, 'item', 'a.png'));
});

test('ScriptedSource rejects a replay that calls in another order', () => {
  const src = new ScriptedSource([{ fn: 'np.random.uniform', args: [0.2, 3.0], value: 1 }]);
  assert.throws(() => sampleMixedKernel(src, {
    kernel_list: ['iso', 'aniso', 'generalized_iso', 'generalized_aniso', 'plateau_iso', 'plateau_aniso'], kernel_prob: [1, 0, 0, 0, 0, 0],
    sigma_x_range: [0.2, 3], sigma_y_range: [0.2, 3], rotation_range: [-Math.PI, Math.PI], betag_range: [0.5, 4], betap_range: [1, 2],
  }), /upstream called np.random.uniform/);
});

test('kernel sampling stays within the §7.3 settings (train and test presets)', () => {
  const rng = new Rng(5);
  for (let i = 0; i < 300; i++) {
    const s = sampleResShiftKernels(rng, TRAIN_PRESET);
    assert.ok(s.kernel1.kernel_size >= 3 && s.kernel1.kernel_size <= 19 && s.kernel1.pad_to === 21);
    assert.ok(s.kernel2.kernel_size >= 3 && s.kernel2.kernel_size <= 13 && s.kernel2.pad_to === 15);
    if (!s.kernel1.sinc) assert.ok(s.kernel1.sigma_x! >= 0.2 && s.kernel1.sigma_x! <= 3.0);
    if (!s.kernel2.sinc) assert.ok(s.kernel2.sigma_x! >= 0.2 && s.kernel2.sigma_x! <= 1.5);
    if (s.kernel1.beta !== undefined && s.kernel1.type!.startsWith('plateau')) assert.ok(s.kernel1.beta >= 1 && s.kernel1.beta <= 2);
    const t = TEST_PRESET;
    const u = sampleResShiftKernels(rng, t);
    assert.ok(u.kernel1.kernel_size <= 11 && u.kernel2.kernel_size <= 5 && !u.kernel2.sinc);
    assert.ok(u.kernel1.sinc || u.kernel1.type === 'iso' || u.kernel1.type === 'aniso');
    torch.scope(() => {
      const k = resShiftKernelTensors(u);
      assert.deepEqual([k.kernel1.shape, k.kernel2.shape, k.sincKernel.shape], [[13, 13], [7, 7], [7, 7]]);
      assert.ok(Math.abs(k.kernel1.sum().item() - 1) < 1e-5);
    });
  }
});

test('pipeline choices: probabilities and ranges of §7.5/§7.9/§7.10', () => {
  const rng = new Rng(11);
  let stage2 = 0, blur = 0, orderA = 0;
  const n = 4000;
  for (let i = 0; i < n; i++) {
    const c = samplePipelineChoices(rng, TRAIN_PRESET);
    if (c.stage1.updown === 'down') assert.ok(c.stage1.scale >= 0.15 && c.stage1.scale <= 1);
    if (c.stage1.updown === 'up') assert.ok(c.stage1.scale >= 1 && c.stage1.scale <= 1.5);
    if (c.stage1.updown === 'keep') assert.equal(c.stage1.scale, 1);
    if (c.stage2.apply) { stage2++; if (c.stage2.blur) blur++; }
    if (c.final.order === 'resize_sinc_then_jpeg') orderA++;
    assert.equal(samplePipelineChoices(rng, TEST_PRESET).stage2.apply, false, 'test preset has second_order_prob 0');
  }
  assert.ok(Math.abs(stage2 / n - 0.5) < 0.04, `stage 2 in ${stage2 / n}`);
  assert.ok(Math.abs(blur / stage2 - 0.8) < 0.04, `stage-2 blur in ${blur / stage2}`);
  assert.ok(Math.abs(orderA / n - 0.5) < 0.04);
});

test('filter2D: a pulse is the identity; clear errors for bad input', () => torch.scope(() => {
  const x = torch.rand([2, 3, 16, 20], { generator: new torch.Generator(3) });
  const pulse = torch.tensor([[0, 0, 0], [0, 1, 0], [0, 0, 0]]).unsqueeze(0);
  assert.ok(filter2D(x, pulse).eq(x).all().item());
  assert.throws(() => filter2D(x, torch.ones([2, 4, 4])), /odd/);
  assert.throws(() => filter2D(torch.rand([1, 3, 4, 4]), torch.ones([1, 11, 11])), /too small/);
  assert.throws(() => filter2D(x, torch.ones([3, 3, 3])), /kernel batch/);
}));

test('noise: seeded draws repeat; Poisson output stays in [0, 1]', () => torch.scope(() => {
  const x = torch.rand([2, 3, 24, 24], { generator: new torch.Generator(1) });
  const a = randomAddPoissonNoisePt(x, [0.05, 3], 0.4, new torch.Generator(9));
  const b = randomAddPoissonNoisePt(x, [0.05, 3], 0.4, new torch.Generator(9));
  assert.ok(a.eq(b).all().item());
  assert.ok(a.min().item() >= 0 && a.max().item() <= 1);
  const g = randomAddGaussianNoisePt(x, [1, 30], 0.4, new torch.Generator(9));
  assert.ok(g.sub(x).abs().max().item() > 0);
  assert.throws(() => torch.poisson(torch.tensor([-1, 2])), /non-negative/);
}));

test('real JPEG: integer quality, 8-bit output, close to the input at high quality', async () => {
  assert.equal(jpegQualityInt(94.99), 94);
  assert.equal(jpegQualityInt(30), 30);
  assert.equal(qualityToFactor(25), 2);
  assert.equal(qualityToFactor(75), 0.5);
  const x = torch.keep(torch.scope(() => torch.rand([1, 3, 1, 1], { generator: new torch.Generator(2) }).expand(2, 3, 32, 40).contiguous()));
  try {
    const y = await jpegCompress(x, [95, 30]);
    try {
      assert.deepEqual(y.shape, [2, 3, 32, 40]);
      torch.scope(() => {
        assert.ok(y.mul(255).sub(y.mul(255).round()).abs().max().item() < 1e-4, 'output on 8-bit levels');
        assert.ok(y.sub(x).abs().max().item() < 0.02, 'a flat image survives JPEG');
      });
    } finally { y.dispose(); }
    await assert.rejects(jpegCompress(x, [90]), /need 2 qualities/);
  } finally { x.dispose(); }
});

test('GT preparation: 256² from a 481×321 photo, small images padded, mod-crop', () => torch.scope(() => {
  const img = torch.rand([3, 321, 481], { generator: new torch.Generator(4) });
  const s = sampleGtPrep(new Rng(3), 321, 481, TRAIN_PRESET);
  assert.equal(s.crop_pad_size, 321);
  assert.ok(s.left >= 0 && s.left <= 160 && s.top === 0);
  assert.deepEqual(applyGtPrep(img, s).shape, [3, 256, 256]);
  const small = torch.rand([3, 100, 70], { generator: new torch.Generator(4) });
  const t = sampleGtPrep(new Rng(3), 100, 70, TRAIN_PRESET);
  assert.deepEqual(t.padded_hw, [256, 256]);
  assert.equal(t.resize_to, null);
  const out = applyGtPrep(small, { ...t, hflip: false });
  assert.ok(out.slice(1, 0, 100).slice(2, 0, 70).eq(small).all().item(), 'the original sits top-left, unchanged');
  assert.ok(out.select(1, 100).slice(1, 0, 70).eq(small.select(1, 98)).all().item(), 'reflect-101: row 100 mirrors row 98');
  assert.deepEqual(modCrop(img, 4).shape, [3, 320, 480]);
}));

test('presets: train/test, JSON overrides, one-line errors', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'vpdsr-preset-'));
  try {
    assert.equal(loadPreset('train').second_order_prob, 0.5);
    assert.equal(loadPreset('test').jpeg_range2[0], 80);
    const f = path.join(dir, 'p.json');
    writeFileSync(f, JSON.stringify({ base: 'test', jpeg: 'diffjpeg', noise_range: [1, 5] }));
    const p = loadPreset(f);
    assert.equal(p.jpeg, 'diffjpeg');
    assert.deepEqual(p.noise_range, [1, 5]);
    assert.equal(p.blur_kernel_size, 13);
    writeFileSync(f, JSON.stringify({ noise_rnage: [1, 5] }));
    assert.throws(() => loadPreset(f), /unknown key "noise_rnage"/);
    writeFileSync(f, JSON.stringify({ blur_kernel_size: 20 }));
    assert.throws(() => loadPreset(f), /"blur_kernel_size" must be an odd integer/);
    writeFileSync(f, '{');
    assert.throws(() => loadPreset(f), /readable JSON/);
    assert.equal(minGtSide(TRAIN_PRESET), 54);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

async function degradeOnce(seed: number, jpeg: 'real' | 'diffjpeg'): Promise<Uint8Array> {
  const preset = { ...TRAIN_PRESET, jpeg, second_order_prob: 1 };
  const rng = new Rng(seed);
  const gt = torch.keep(torch.scope(() => torch.rand([2, 3, 64, 64], { generator: new torch.Generator(seed) })));
  const ks = [sampleResShiftKernels(rng, preset), sampleResShiftKernels(rng, preset)].map(resShiftKernelTensors);
  const stackKept = (f: (t: (typeof ks)[number]) => torch.Tensor): torch.Tensor => torch.keep(torch.scope(() => torch.stack(ks.map(f))));
  const k = { kernel1: stackKept((t) => t.kernel1), kernel2: stackKept((t) => t.kernel2), sincKernel: stackKept((t) => t.sincKernel) };
  for (const t of ks) { t.kernel1.dispose(); t.kernel2.dispose(); t.sincKernel.dispose(); }
  const choices = samplePipelineChoices(rng, preset);
  try {
    const lq = await degradeBatch({ gt, ...k }, choices, preset, generatorDraws(new torch.Generator(seed)), { jpeg });
    try {
      assert.deepEqual(lq.shape, [2, 3, 16, 16]);
      torch.scope(() => assert.ok(lq.min().item() >= 0 && lq.max().item() <= 1));
      return lq.toBytes();
    } finally { lq.dispose(); }
  } finally { gt.dispose(); k.kernel1.dispose(); k.kernel2.dispose(); k.sincKernel.dispose(); }
}

test('the pipeline is seeded: same seed, same bytes; other seed, other output (real JPEG and DiffJPEG)', async () => {
  const before = torch.memory().liveTensors;
  for (const jpeg of ['real', 'diffjpeg'] as const) {
    const a = await degradeOnce(5, jpeg), b = await degradeOnce(5, jpeg), c = await degradeOnce(6, jpeg);
    assert.deepEqual(a, b);
    assert.notDeepEqual(a, c);
  }
  assert.equal(torch.memory().liveTensors, before, 'no tensor leaked by the pipeline');
});

const MY_KINDS = ['kernel.bivariate_gaussian', 'kernel.generalized_gaussian', 'kernel.plateau', 'kernel.circular_lowpass', 'kernel.mixed',
  'kernel.sample_resshift', 'gt.prepare_resshift', 'filter2D', 'noise.gaussian', 'noise.poisson', 'usm_sharp', 'jpeg.diffjpeg', 'degrade.pipeline'];

test('golden parity: every degradation case of the data set passes', async () => {
  const reports = await runGolden(goldenDir('data'), { kinds: MY_KINDS });
  assert.equal(reports.length, 63, 'all 63 degradation cases ran');
  const failed = reports.filter((r) => !r.pass);
  assert.equal(failed.length, 0, failed.map(formatReport).join('\n'));
});
