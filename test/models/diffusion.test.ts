// Diffusion (MODEL_SPEC §1, §4, §5): the reference tables of §1.2.5 exactly, numpy's linspace,
// the correctly rounded libm, the linspace_power variant, respacing, argument errors, the
// samplers' draw order and seed reproducibility, reflect padding and the distillation loss terms.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as torch from '../../src/engine/index.js';
import { Tensor } from '../../src/engine/index.js';
import {
  getNamedEtaSchedule, npLinspace, expCR, logCR, powCR, GaussianDiffusion, createGaussianDiffusion, spaceTimesteps,
  spacedDiffusion, pSampleLoop, ddimSampleLoop, ddimInverseLoop, oneStepSample, seededNoise, tensorNoise, reflectPadBottomRight,
  trainingLossesDistill, ScheduleError, DiffusionError, type Denoiser, type NoiseSource, type FirstStage,
} from '../../src/models/diffusion/index.js';
import { exponentialSqrtEtas } from '../../src/models/diffusion/schedule.js';

// §1.2.5, T = 15, m = 0.04, κ = 2, p = 0.3: t, √η, η, c1, c2, σ̃², √(η·κ² + 1)
const T15 = `
0 0.02 0.00040000000000000002 0 1 0 1.0007996802557444
1 0.11716508229842354 0.013727656509996361 0.029138258209529318 0.97086174179047069 0.0015533787868647533 1.0270884217242375
2 0.17630455527184771 0.031083296209604004 0.44164095137872922 0.55835904862127073 0.030659844914884646 1.0603457855050946
3 0.23362891654933207 0.054582470648014768 0.5694739692171582 0.4305260307828418 0.05352867256307265 1.1037798161735242
4 0.29157412776432107 0.085015471981524621 0.64202984910648397 0.35797015089351603 0.07815558101604303 1.1576104214830214
5 0.35100928431731554 0.12320751767695405 0.69001854419656694 0.30998145580343306 0.1054128790825959 1.2218142537668384
6 0.41235614430048023 0.17003758974235847 0.72458988546966874 0.27541011453033121 0.13573038621763089 1.2962061406155403
7 0.47585773091898759 0.2264405800753676 0.75091483022064254 0.24908516977935749 0.16941536763939238 1.3804935060700105
8 0.54167167762697521 0.29340820634322173 0.77175953221459304 0.22824046778540694 0.20673161568800319 1.47432453190364
9 0.60990993344929378 0.37199012692012196 0.78875267140147987 0.21124732859852016 0.24792679911555587 1.5773270135518787
10 0.68065801714362839 0.4632953363018959 0.80292223506804961 0.19707776493195039 0.29324393116068076 1.6891362719471699
11 0.75398526249454934 0.56849377605897444 0.8149523456767529 0.18504765432324707 0.34292686096626296 1.8094129170081377
12 0.82995066241148963 0.68881810203727045 0.82531770634014856 0.17468229365985147 0.39722318693332648 1.9378525248710443
13 0.90860638778576897 0.82556556792510316 0.8343590488741911 0.16564095112580893 0.45638594229651197 2.0741895457504391
14 0.98999999999999977 0.98009999999999953 0.84232789299571831 0.15767210700428164 0.52067465025974957 2.2181974664127622`;

// T = 4, m = 0.2, κ = 2, p = 0.3, journal start (ResShift v3)
const T4 = `
0 0.10000000000000001 0.010000000000000002 0 1 0 1.019803902718557
1 0.52009637220824745 0.27050023638417986 0.036968544403774319 0.96303145559622561 0.038521258223849039 1.4429140464825754
2 0.76138199061920397 0.57970253563926166 0.46661903261452564 0.53338096738547436 0.57711871104237333 1.821760177014814
3 0.98999999999999955 0.98009999999999908 0.59147284525993493 0.40852715474006507 0.94729690992123505 2.2181974664127622`;

/** Same shape and bit-equal values. */
const same = (a: Tensor, b: Tensor): boolean => a.shape.join() === b.shape.join() && torch.scope(() => a.eq(b).all().item() === 1);

const rows = (s: string): number[][] => s.trim().split('\n').map((l) => l.trim().split(/\s+/).map(Number));

function checkTable(d: GaussianDiffusion, table: string): void {
  for (const [t, se, e, c1, c2, pv, sc] of rows(table)) {
    const i = t!;
    assert.equal(d.sqrtEtas[i], se, `√η[${i}]`);
    assert.equal(d.etas[i], e, `η[${i}]`);
    assert.equal(d.posteriorMeanCoef1[i], c1, `c1[${i}]`);
    assert.equal(d.posteriorMeanCoef2[i], c2, `c2[${i}]`);
    assert.equal(d.posteriorVariance[i], pv, `σ̃²[${i}]`);
    assert.equal(Math.sqrt(d.etas[i]! * d.kappa ** 2 + 1), sc, `√(ηκ²+1)[${i}]`);
    // …and what the samplers use: the f32 casts at lookup
    assert.equal(Math.fround(d.etas[i]!), Math.fround(e!));
  }
}

test('§1.2.5 reference tables come out exactly (T = 15 legacy = journal; T = 4 journal)', () => {
  for (const etasStart of ['journal', 'legacy'] as const) {
    checkTable(createGaussianDiffusion({ steps: 15, kappa: 2, minNoiseLevel: 0.04, power: 0.3, etasStart }), T15);
  }
  const d15 = createGaussianDiffusion({ steps: 15, kappa: 2, minNoiseLevel: 0.04, power: 0.3 });
  assert.equal(2 * d15.sqrtEtas[14]!, 1.9799999999999995, 'κ√η_14, the prior noise scale');
  checkTable(createGaussianDiffusion({ steps: 4, kappa: 2, minNoiseLevel: 0.2, power: 0.3, etasStart: 'journal' }), T4);
  // the deterministic-sampler coefficients k, m, j (f64 in the spec, f32 after lookup here)
  const K = [1, 0.831243981, 0.342368361, 0.255471555, 0.212270026, 0.186656205, 0.170304861, 0.159631849, 0.152819622, 0.148845243, 0.147090678, 0.147163667, 0.148806811, 0.151847807, 0.156170526];
  const M = [0, 0.170699321, 0.664560721, 0.754634991, 0.801267651, 0.830673549, 0.851228457, 0.86655342, 0.878498453, 0.888117487, 0.896059281, 0.902747111, 0.908469981, 0.913432564, 0.91778423];
  const J = [0, -0.00194330165, -0.00692908122, -0.010106546, -0.0135376769, -0.0173297539, -0.0215333174, -0.0261852694, -0.0313180753, -0.0369627305, -0.043149959, -0.0499107774, -0.057276792, -0.0652803714, -0.073954756];
  torch.scope(() => {
    const c = d15.ddimCoefficients([...Array(15).keys()], torch.zeros([15, 1, 1, 1]));
    const [k, m, j] = [c.k, c.m, c.j].map((t) => Array.from(t.toArray() as Float32Array));
    for (let i = 0; i < 15; i++) {
      assert.ok(Math.abs(k[i]! - K[i]!) < 3e-7 && Math.abs(m[i]! - M[i]!) < 3e-7 && Math.abs(j[i]! - J[i]!) < 3e-8, `k, m, j at ${i}: ${k[i]}, ${m[i]}, ${j[i]}`);
    }
  });
  // the legacy start applied to v3 (wrong for v3): 0.0316227766, 0.3764396588, 0.6673233889, 0.99
  const legacy = getNamedEtaSchedule('exponential', { steps: 4, kappa: 2, minNoiseLevel: 0.2, power: 0.3, etasStart: 'legacy' });
  [0.0316227766, 0.3764396588, 0.6673233889, 0.99].forEach((v, i) => assert.ok(Math.abs(legacy[i]! - v) < 5e-11, `legacy √η[${i}] ${legacy[i]}`));
});

test('the formula itself (correctly rounded) lands within a few ulps of numpy, equal after the f32 cast', () => {
  for (const [T, s0, table] of [[15, 0.02, T15], [4, 0.1, T4]] as const) {
    const got = exponentialSqrtEtas(T, s0, 0.99, 0.3);
    for (const r of rows(table)) {
      const ref = r[1]!, v = got[r[0]!]!;
      assert.ok(Math.abs(v - ref) <= 8 * Number.EPSILON * ref, `T=${T} √η[${r[0]}] ${v} vs ${ref}`);
      assert.equal(Math.fround(v), Math.fround(ref));
    }
  }
});

test('numpy linspace: element i is i·(1/(T−1)), the last exactly the end', () => {
  const y = npLinspace(0, 1, 15);
  for (let i = 0; i < 14; i++) assert.equal(y[i], i * (1 / 14));
  assert.equal(y[14], 1);
  assert.ok([...Array(14).keys()].some((i) => i * (1 / 14) !== i / 14), 'i/(T−1) differs somewhere (why the form matters)');
  assert.deepEqual([...npLinspace(2, 2, 3)], [2, 2, 2]);
});

test('correctly rounded exp/log/pow agree with known values and limits', () => {
  assert.equal(expCR(0), 1);
  assert.equal(logCR(1), 0);
  assert.equal(expCR(1), Math.E);
  assert.equal(logCR(Math.E), 1);
  assert.equal(powCR(2, 10), 1024);
  assert.equal(powCR(0, 0.3), 0);
  assert.equal(powCR(9, 0.5), 3);
  assert.equal(logCR(0.99 / 0.02), 3.9019726695746448); // Python: math.log(49.5)
  for (let k = 0; k < 200; k++) {
    const x = 0.05 + k * 0.37;
    assert.ok(Math.abs(expCR(logCR(x)) - x) <= 2 * Number.EPSILON * x);
  }
});

test('linspace_power (dead-code variant): √η_0 = m/κ, final η = e_end', () => {
  const s = getNamedEtaSchedule('linspace_power', { steps: 10, minNoiseLevel: 0.04, kappa: 2, ponential: 2 });
  assert.ok(Math.abs(s[0]! - 0.02) < 1e-16);
  assert.ok(Math.abs(s[9]! ** 2 - 0.99) < 1e-15);
  for (let i = 1; i < 10; i++) assert.ok(s[i]! > s[i - 1]!);
});

test('respacing: space_timesteps, the kept chain, and the original index passed to the network', () => {
  assert.deepEqual(spaceTimesteps(15, 5), [0, 3, 6, 9, 12]);
  assert.deepEqual(spaceTimesteps(15, 15), [...Array(15).keys()]);
  assert.deepEqual(spaceTimesteps(4, 3), [0, 1, 2]);
  const base = createGaussianDiffusion({ steps: 15, kappa: 2, minNoiseLevel: 0.04, power: 0.3 });
  const d = createGaussianDiffusion({ steps: 15, kappa: 2, minNoiseLevel: 0.04, power: 0.3, timestepRespacing: 5 });
  assert.equal(d.numTimesteps, 5);
  assert.deepEqual(d.timestepMap, [0, 3, 6, 9, 12]);
  assert.deepEqual([...d.sqrtEtas], [0, 3, 6, 9, 12].map((i) => base.sqrtEtas[i]));
  assert.equal(d.etasPrev[3], base.etas[6], 'etas_prev is the previous kept step');
  const seen: number[][] = [];
  torch.scope(() => {
    const model: Denoiser = (x, t) => { seen.push(Array.from(t.toArray() as BigInt64Array, Number)); return x.mul(0.5); };
    ddimSampleLoop(d, torch.zeros([2, 3, 4, 4]), torch.zeros([2, 3, 4, 4]), model, { noise: seededNoise(1) });
  });
  assert.deepEqual(seen, [[12, 12], [9, 9], [6, 6], [3, 3], [0, 0]]);
  assert.throws(() => spaceTimesteps(15, 16), DiffusionError);
  assert.throws(() => spacedDiffusion([], { sqrtEtas: base.sqrtEtas, kappa: 2 }), /no timestep kept/);
});

test('bad schedule and diffusion arguments give clear errors', () => {
  const ok = { steps: 15, kappa: 2, minNoiseLevel: 0.04, power: 0.3 };
  const bad: [() => unknown, RegExp][] = [
    [() => getNamedEtaSchedule('exponential', { ...ok, steps: 1 }), /steps \(T\) must be an integer from 2/],
    [() => getNamedEtaSchedule('exponential', { ...ok, steps: 4.5 }), /steps \(T\)/],
    [() => getNamedEtaSchedule('exponential', { ...ok, minNoiseLevel: 0 }), /minNoiseLevel must be/],
    [() => getNamedEtaSchedule('exponential', { ...ok, kappa: -1 }), /kappa must be/],
    [() => getNamedEtaSchedule('exponential', { ...ok, power: Number.NaN }), /power must be/],
    [() => getNamedEtaSchedule('exponential', { ...ok, etasEnd: 1.5 }), /etasEnd must be/],
    [() => getNamedEtaSchedule('exponential', { ...ok, etasEnd: 0.01 }), /must exceed the first/],
    [() => getNamedEtaSchedule('exponential', { ...ok, etasStart: 'new' as 'journal' }), /etasStart must be/],
    [() => getNamedEtaSchedule('ldm' as 'exponential', ok), /unknown schedule name "ldm"/],
    [() => new GaussianDiffusion({ sqrtEtas: [0.1, 1.2], kappa: 2 }), /etas must lie in \(0, 1\], got etas\[1\]/],
    [() => new GaussianDiffusion({ sqrtEtas: [0, 0.5], kappa: 2 }), /etas must lie in \(0, 1\], got etas\[0\] = 0/],
    [() => new GaussianDiffusion({ sqrtEtas: [0.1, 0.5], kappa: 0 }), /kappa must be a positive number/],
    [() => createGaussianDiffusion({ ...ok, timestepRespacing: 0 }), /sampling steps must be an integer from 1 to 15/],
  ];
  for (const [f, re] of bad) {
    assert.throws(f, (e: Error) => {
      assert.ok(e instanceof ScheduleError || e instanceof DiffusionError, `${e.name}: ${e.message}`);
      assert.match(e.message, re);
      assert.ok(!e.message.includes('\n'));
      return true;
    });
  }
  const d = createGaussianDiffusion(ok);
  torch.scope(() => {
    const x = torch.zeros([2, 3, 4, 4]);
    assert.throws(() => d.qSample(x, x, [0, 15], x), /index 15 outside \[0, 15\)/);
    assert.throws(() => d.qSample(x, x, [0], x), /1 given for a batch of 2/);
    assert.throws(() => d.qSample(x, torch.zeros([2, 3, 4, 5]), [0, 1], x), /y has shape/);
    assert.throws(() => d.scaleInput(x, torch.tensor([0.5, 1])), /expected an int64 tensor/);
    assert.throws(() => d.priorSample(torch.zeros([3, 4, 4]), x), /must be 4-D/);
  });
});

/** Counts the draws a sampler makes, delegating to another source. */
function counting(src: NoiseSource): NoiseSource & { count: number } {
  const f = ((shape: number[]) => { f.count++; return src(shape); }) as NoiseSource & { count: number };
  f.count = 0;
  return f;
}

const toyModel: Denoiser = (x, t, lq) => torch.scope(() => x.mul(0.7).add(lq.mul(0.1)).add(t.float().view(-1, 1, 1, 1).mul(0.01)));

test('samplers: upstream draw counts, seeds reproducible run to run, the last step returns x̂_0', () => {
  const d = createGaussianDiffusion({ steps: 4, kappa: 2, minNoiseLevel: 0.2, power: 0.3 });
  torch.scope(() => {
    const zY = torch.randn([2, 3, 8, 8], { generator: new torch.Generator(1) });
    const lq = torch.randn([2, 3, 8, 8], { generator: new torch.Generator(2) });
    const run = (f: typeof pSampleLoop, seed: number): [Tensor, number] => {
      const n = counting(seededNoise(seed));
      const z = f(d, zY, lq, toyModel, { noise: n });
      return [z, n.count];
    };
    const [a1, c1] = run(pSampleLoop, 12345), [a2] = run(pSampleLoop, 12345), [a3] = run(pSampleLoop, 7);
    assert.equal(c1, 5, 'stochastic: T + 1 draws');
    assert.ok(same(a1, a2), 'same seed, same result');
    assert.ok(!same(a1, a3), 'another seed, another result');
    const [b1, c2] = run(ddimSampleLoop, 12345), [b2] = run(ddimSampleLoop, 12345);
    assert.equal(c2, 1, 'ddim: one draw');
    assert.ok(same(b1, b2));
    const [o1, c3] = run(oneStepSample, 12345);
    assert.equal(c3, 2, 'one-step: the prior and the discarded draw');
    // one-step = x̂_0 of the network at T−1 on the prior sample of the first draw
    const eps = torch.randn([2, 3, 8, 8], { generator: new torch.Generator(12345) });
    const xT = d.priorSample(zY, eps);
    const ref = toyModel(d.scaleInput(xT, [3, 3]), torch.tensor([3, 3], { dtype: 'int64' }), lq);
    assert.ok(same(o1, ref));
    // the stochastic sampler's last step (t = 0) returns μ = 0·z + 1·x̂_0 exactly
    let lastPred: Tensor | undefined;
    const z = pSampleLoop(d, zY, lq, toyModel, { noise: seededNoise(3), onStep: (r) => { if (r.index === 0) lastPred = torch.keep(r.predXstart.clone()); } });
    assert.ok(lastPred && same(z, lastPred));
    lastPred.dispose();
    // explicit noise is handed out in order and checked
    assert.throws(() => pSampleLoop(d, zY, lq, toyModel, { noise: tensorNoise([eps]) }), /asked for draw 2, only 1 given/);
    assert.throws(() => ddimSampleLoop(d, zY, lq, toyModel, { noise: tensorNoise([torch.zeros([2, 3, 4, 4])]) }), /draw 1 has shape/);
  });
});

test('ddim: the deterministic step follows the derivation x̂_0 + η_{i−1}(y − x̂_0) + κ√η_{i−1}·ε̂', () => {
  const d = createGaussianDiffusion({ steps: 15, kappa: 2, minNoiseLevel: 0.04, power: 0.3, etasStart: 'legacy' });
  torch.scope(() => {
    const g = new torch.Generator(4);
    const x = torch.randn([1, 3, 4, 4], { generator: g }), y = torch.randn([1, 3, 4, 4], { generator: g }), x0 = torch.randn([1, 3, 4, 4], { generator: g });
    for (const i of [14, 7, 1]) {
      const got = d.ddimSampleFromPred(x0, x, y, d.ddimCoefficients([i], x)).double();
      const [e, ep] = [d.etas[i]!, d.etasPrev[i]!];
      const epsHat = x.double().sub(x0.double()).sub(y.double().sub(x0.double()).mul(e)).div(2 * Math.sqrt(e));
      const ref = x0.double().add(y.double().sub(x0.double()).mul(ep)).add(epsHat.mul(2 * Math.sqrt(ep)));
      assert.ok(got.sub(ref).abs().max().item() < 1e-5, `step ${i}`);
    }
    assert.ok(same(d.ddimSampleFromPred(x0, x, y, d.ddimCoefficients([0], x)), x0), 'i = 0 gives x̂_0');
  });
});

test('ddim inverse loop: the deterministic sampler regenerates the HR latent from its x_T', () => {
  const d = createGaussianDiffusion({ steps: 15, kappa: 2, minNoiseLevel: 0.04, power: 0.3, etasStart: 'legacy' });
  torch.scope(() => {
    const g = new torch.Generator(6);
    const zX = torch.randn([1, 3, 4, 4], { generator: g }), zY = torch.randn([1, 3, 4, 4], { generator: g }), c = torch.randn([1, 3, 4, 4], { generator: g });
    const model: Denoiser = () => c.clone(); // x̂_0 independent of the input: the steps invert exactly
    const xT = ddimInverseLoop(d, zX, zY, zY, model);
    let afterStep1: Tensor | undefined;
    ddimSampleLoop(d, zY, zY, model, { noise: tensorNoise([]), zT: xT, onStep: (r) => { if (r.index === 1) afterStep1 = torch.keep(r.sample.clone()); } });
    const err = afterStep1!.sub(zX).abs().max().item();
    afterStep1!.dispose();
    assert.ok(err < 1e-4, `x_0 regenerated within ${err}`);
  });
});

test('reflect padding bottom/right, repeated where upstream would fail (pad ≥ size)', () => {
  torch.scope(() => {
    const x = torch.tensor([[[[1, 2, 3]]]]);
    assert.deepEqual(Array.from(reflectPadBottomRight(x, 0, 2).toArray() as Float32Array), [1, 2, 3, 2, 1]);
    // numpy.pad([1, 2, 3], (0, 5), 'reflect') = 1 2 3 2 1 2 3 2
    assert.deepEqual(Array.from(reflectPadBottomRight(x, 0, 5).toArray() as Float32Array), [1, 2, 3, 2, 1, 2, 3, 2]);
    const y = torch.arange(0, 12).reshape(1, 1, 3, 4).float();
    const p = reflectPadBottomRight(y, 4, 1);
    assert.deepEqual(p.shape, [1, 1, 7, 5]);
    assert.ok(same(p.narrow(2, 0, 5), torch.pad(torch.pad(y, [0, 1, 0, 0], 'reflect'), [0, 0, 0, 2], 'reflect')));
    assert.throws(() => reflectPadBottomRight(torch.zeros([1, 1, 1, 4]), 3, 0), /at least 2 pixels/);
  });
});

test('distillation loss: terms as defined, gradient only through the student calls', () => {
  const d = createGaussianDiffusion({ steps: 4, kappa: 2, minNoiseLevel: 0.2, power: 0.3 });
  // A first stage that is a fixed linear map (4× average pooling), and scalar-weight networks.
  const fs: FirstStage = { encode: (x) => torch.avgPool2d(x, 4), decode: (z) => torch.interpolate(z, { scaleFactor: 4, mode: 'nearest' }) };
  torch.scope(() => {
    const ws = torch.keep(torch.tensor([0.8]).requiresGrad_());
    const wt = torch.keep(torch.tensor([0.6]).requiresGrad_());
    const student: Denoiser = (x, t, lq) => x.mul(ws).add(lq.mul(0.1)).add(t.float().view(-1, 1, 1, 1).mul(0.05));
    const teacher: Denoiser = (x, t, lq) => x.mul(wt).add(lq.mul(0.1));
    const g = new torch.Generator(8);
    const xStart = torch.randn([2, 3, 32, 32], { generator: g }), y = torch.randn([2, 3, 8, 8], { generator: g }), noise = torch.randn([2, 3, 8, 8], { generator: g });
    let teacherSteps = 0;
    const r = trainingLossesDistill(d, { student, teacher, firstStage: fs, xStart, y, t: [3, 3], noise, onTeacherStep: () => { teacherSteps++; } });
    assert.equal(teacherSteps, 4);
    assert.deepEqual(r.loss.shape, [2]);
    assert.ok(r.loss.sub(r.mse.add(r.mse_xT!).add(r.mse_gt!)).abs().max().item() < 1e-6);
    // mse by hand: student(x_T / s, T−1) against the teacher's DDIM result
    const s = Math.sqrt(Math.fround(d.etas[3]!) * 4 + 1);
    const s1 = student(r.zT.div(s), torch.tensor([3, 3], { dtype: 'int64' }), y);
    const mse = r.zStartTeacher.sub(s1).square().mean([1, 2, 3]);
    assert.ok(mse.sub(r.mse).abs().max().item() < 1e-6);
    r.loss.mean().backward();
    assert.ok(ws.grad && Math.abs(ws.grad.item()) > 0, 'the student gets a gradient');
    assert.equal(wt.grad, null, 'the teacher gets none');
    ws.dispose(); wt.dispose();
  });
});
