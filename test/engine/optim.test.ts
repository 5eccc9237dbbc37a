// optim: AdamW bit for bit against PyTorch 1.13's single-tensor AdamW, state save/restore,
// learning-rate schedules (incl. the trainers' warm-up quirk), clipGradNorm_, EMA, and a small
// training loop through Module + autograd + clip + AdamW + schedule.
// Reference values: test/fixtures/nn-optim/refs.json (scripts/ref/nn_optim_refs.py).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import * as torch from '../../src/engine/index.js';
import { Tensor, nn, optim } from '../../src/engine/index.js';
import { repoRoot } from '../helpers.js';
import { saveSafetensors, loadSafetensors } from '../../src/io/checkpoint/tensors.js';
import { SafetensorsFile } from '../../src/io/checkpoint/safetensors.js';

interface Flat { shape: number[]; dtype: string; data: number[] }
// Small tensors: one thread is fastest, and on a loaded 2-core machine two OpenMP threads can be
// ~70× slower. The references were written with torch.set_num_threads(1) as well.
torch.setNumThreads(1);
const refs = JSON.parse(readFileSync(path.join(repoRoot, 'test', 'fixtures', 'nn-optim', 'refs.json'), 'utf8')) as Record<string, Record<string, unknown>>;

function assertBitwise(t: Tensor, ref: Flat, what: string): void {
  assert.deepEqual(t.shape, ref.shape, `${what}: shape`);
  assert.equal(t.dtype, ref.dtype, `${what}: dtype`);
  const got = ref.dtype === 'float64' ? (t.toArray() as Float64Array) : t.toFloat32Array();
  const want = ref.dtype === 'float64' ? Float64Array.from(ref.data) : Float32Array.from(ref.data);
  let bad = 0, maxDiff = 0;
  for (let i = 0; i < want.length; i++) {
    if (!Object.is(got[i], want[i])) { bad++; maxDiff = Math.max(maxDiff, Math.abs(got[i]! - want[i]!)); }
  }
  assert.equal(bad, 0, `${what}: ${bad} of ${want.length} values differ, max |diff| ${maxDiff}`);
}

const fromFlat = (f: Flat): Tensor => torch.fromTypedArray(f.dtype === 'float64' ? Float64Array.from(f.data) : Float32Array.from(f.data), f.shape);
const leaf = (f: Flat): Tensor => torch.keep(fromFlat(f)).requiresGrad_(true);

interface AdamCase {
  options: { lr: number; betas?: [number, number]; eps?: number; weight_decay?: number; amsgrad?: boolean; maximize?: boolean };
  p0: [Flat, Flat];
  grads: [Flat, Flat | null][];
  after: [Flat, Flat][];
  state: Record<string, { step: number; exp_avg: Flat; exp_avg_sq: Flat; max_exp_avg_sq?: Flat }>;
}

function adamOptions(o: AdamCase['options']): optim.AdamWOptions {
  return { lr: o.lr, betas: o.betas, eps: o.eps, weightDecay: o.weight_decay, amsgrad: o.amsgrad, maximize: o.maximize };
}

function setGrads(params: Tensor[], grads: (Flat | null)[]): void {
  torch.scope(() => params.forEach((p, i) => { const g = grads[i]; p.grad = g ? fromFlat(g) : null; }));
}

for (const name of ['wd', 'defaults', 'amsgrad', 'maximize', 'float64']) {
  test(`AdamW equals PyTorch bit for bit (${name}) at every step, state included`, () => {
    const c = refs.adamw[name] as AdamCase;
    const params = c.p0.map(leaf);
    const opt = new optim.AdamW(params, adamOptions(c.options));
    try {
      c.grads.forEach((g, s) => {
        setGrads(params, g);
        opt.step();
        params.forEach((p, i) => assertBitwise(p, c.after[s]![i]!, `step ${s + 1} param ${i}`));
      });
      const sd = opt.stateDict();
      assert.equal(sd.state.size, Object.keys(c.state).length);
      for (const [i, st] of Object.entries(c.state)) {
        const mine = sd.state.get(Number(i))!;
        assert.equal(mine.step, st.step, `state ${i} step`);
        assertBitwise(mine.exp_avg, st.exp_avg, `state ${i} exp_avg`);
        assertBitwise(mine.exp_avg_sq, st.exp_avg_sq, `state ${i} exp_avg_sq`);
        if (st.max_exp_avg_sq) assertBitwise(mine.max_exp_avg_sq!, st.max_exp_avg_sq, `state ${i} max_exp_avg_sq`);
      }
      assert.equal(sd.param_groups[0]!.weight_decay, c.options.weight_decay ?? 1e-2);
    } finally { opt.dispose(); params.forEach((p) => p.dispose()); }
  });
}

test('AdamW state saved (flat tensors + JSON) and restored continues bit for bit', () => {
  const c = refs.adamw.wd as AdamCase;
  const params = c.p0.map(leaf);
  const opt = new optim.AdamW(params, adamOptions(c.options));
  const split = 3;
  for (let s = 0; s < split; s++) { setGrads(params, c.grads[s]!); opt.step(); }
  // what a checkpoint writer gets: tensors for safetensors, JSON for its metadata
  const flat = optim.flattenOptimizerState(opt.stateDict());
  assert.deepEqual([...flat.tensors.keys()].sort(), ['state.0.exp_avg', 'state.0.exp_avg_sq', 'state.1.exp_avg', 'state.1.exp_avg_sq']);
  const saved = new Map([...flat.tensors].map(([k, t]) => [k, torch.keep(t.clone())] as [string, Tensor]));
  const json = flat.json;
  const savedParams = params.map((p) => torch.keep(p.detach().clone()));
  opt.dispose(); params.forEach((p) => p.dispose());

  const params2 = savedParams.map((p) => p.requiresGrad_(true));
  const opt2 = new optim.AdamW(params2, { lr: 0.5 }); // hyper-parameters come back from the state
  try {
    opt2.loadStateDict(optim.unflattenOptimizerState(saved, json));
    for (const t of saved.values()) t.dispose(); // restored state is a copy
    assert.equal(opt2.paramGroups[0]!.lr, c.options.lr);
    assert.equal(opt2.paramGroups[0]!.weightDecay, c.options.weight_decay);
    for (let s = split; s < c.grads.length; s++) {
      setGrads(params2, c.grads[s]!);
      opt2.step();
      params2.forEach((p, i) => assertBitwise(p, c.after[s]![i]!, `resumed step ${s + 1} param ${i}`));
    }
  } finally { opt2.dispose(); params2.forEach((p) => p.dispose()); }
});

test('AdamW state through a safetensors file (tensors + JSON metadata) resumes bit for bit', () => {
  const c = refs.adamw.amsgrad as AdamCase;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vpdsr-optim-'));
  const file = path.join(dir, 'optim.safetensors');
  try {
    const params = c.p0.map(leaf);
    const opt = new optim.AdamW(params, adamOptions(c.options));
    for (let s = 0; s < 4; s++) { setGrads(params, c.grads[s]!); opt.step(); }
    const flat = optim.flattenOptimizerState(opt.stateDict());
    saveSafetensors(file, flat.tensors, { optimizer: flat.json });
    const savedParams = params.map((p) => torch.keep(p.detach().clone()).requiresGrad_(true));
    opt.dispose(); params.forEach((p) => p.dispose());

    const f = SafetensorsFile.open(file);
    const json = f.metadata['optimizer']!;
    f.close();
    const tensors = torch.scope(() => loadSafetensors(file));
    const opt2 = new optim.AdamW(savedParams);
    try {
      opt2.loadStateDict(optim.unflattenOptimizerState(tensors, json));
      for (const t of tensors.values()) t.dispose(); // the optimizer copied them
      assert.equal(opt2.paramGroups[0]!.amsgrad, true);
      for (let s = 4; s < c.grads.length; s++) {
        setGrads(savedParams, c.grads[s]!);
        opt2.step();
        savedParams.forEach((p, i) => assertBitwise(p, c.after[s]![i]!, `resumed step ${s + 1} param ${i}`));
      }
    } finally { opt2.dispose(); savedParams.forEach((p) => p.dispose()); }
    assert.throws(() => optim.unflattenOptimizerState(new Map(), '{"format":"x"}'), /unflattenOptimizerState\(\): argument 'json' is not a vpdsr AdamW state/);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('AdamW checks its arguments and state dicts; zeroGrad; step allocates nothing lasting', () => {
  const p = torch.keep(torch.ones([2, 2])).requiresGrad_(true);
  const q = torch.keep(torch.ones([3])).requiresGrad_(true);
  const bad: [() => unknown, RegExp][] = [
    [() => new optim.AdamW([p], { lr: -1 }), /AdamW\(\): argument 'lr' must be >= 0/],
    [() => new optim.AdamW([p], { betas: [0.9, 1] }), /AdamW\(\): argument 'betas' must lie in \[0, 1\)/],
    [() => new optim.AdamW([]), /AdamW\(\): argument 'params' is an empty parameter list/],
    [() => new optim.AdamW([p, p]), /appears more than once/],
    [() => torch.scope(() => new optim.AdamW([p.mul(2)])), /can't optimize a non-leaf Tensor/],
  ];
  for (const [f, re] of bad) assert.throws(f, (e: Error) => re.test(e.message) && !e.message.includes('\n'), String(re));
  const opt = new optim.AdamW([p, q], { lr: 0.1 });
  try {
    torch.scope(() => { p.grad = torch.ones([2, 2]); q.grad = torch.ones([3]); });
    opt.step();
    const live = torch.memory().liveTensors;
    for (let i = 0; i < 5; i++) opt.step();
    assert.equal(torch.memory().liveTensors, live, 'steps leave no tensors behind');
    const sd = opt.stateDict();
    const wrongShape = { state: new Map([[0, { step: 1, exp_avg: torch.keep(torch.zeros([4])), exp_avg_sq: torch.keep(torch.zeros([4])) }]]), param_groups: sd.param_groups };
    assert.throws(() => opt.loadStateDict(wrongShape), /AdamW.loadStateDict\(\): argument 'state\[0\].exp_avg' has shape \[4\], the parameter has \[2, 2\]/);
    assert.equal(opt.stateOf(p)!.step, 6, 'a failed load keeps the state');
    wrongShape.state.get(0)!.exp_avg.dispose(); wrongShape.state.get(0)!.exp_avg_sq.dispose();
    assert.throws(() => opt.loadStateDict({ state: new Map(), param_groups: [] }), /has 0 parameter groups, the optimizer has 1/);
    opt.zeroGrad({ setToNone: false });
    const g = p.grad!;
    assert.deepEqual([...g.toFloat32Array()], [0, 0, 0, 0]);
    g.dispose();
    opt.zeroGrad();
    assert.equal(p.grad, null);
    assert.equal(q.grad, null);
    const before = p.toFloat32Array();
    opt.step(); // no gradients: nothing changes
    assert.deepEqual(p.toFloat32Array(), before);
  } finally { opt.dispose(); p.dispose(); q.dispose(); }
});

test('AdamW parameter groups keep their own hyper-parameters', () => {
  const a = torch.keep(torch.ones([2])).requiresGrad_(true);
  const b = torch.keep(torch.ones([2])).requiresGrad_(true);
  const opt = new optim.AdamW([{ params: [a] }, { params: [b], lr: 0, weightDecay: 0 }], { lr: 0.1, weightDecay: 0.5 });
  try {
    torch.scope(() => { a.grad = torch.ones([2]); b.grad = torch.ones([2]); });
    opt.step();
    // a: decayed by (1 − 0.1·0.5) then moved by −lr (the first Adam step is ±lr): 0.95 − 0.1
    for (const v of a.toFloat32Array()) assert.ok(Math.abs(v - 0.85) < 1e-6, `a = ${v}, expected ≈ 0.85`);
    assert.deepEqual([...b.toFloat32Array()], [1, 1], 'lr 0 and no decay: unchanged');
    const sd = opt.stateDict();
    assert.deepEqual(sd.param_groups.map((g) => [g.lr, g.weight_decay, g.params]), [[0.1, 0.5, [0]], [0, 0, [1]]]);
  } finally { opt.dispose(); a.dispose(); b.dispose(); }
});

test('pythonPow is C pow (where Math.pow differs, e.g. 0.9 ** 4)', () => {
  assert.notEqual(Math.pow(0.9, 4), 0.6561); // V8's pow: 0.6561000000000001
  assert.equal(optim.pythonPow(0.9, 4), 0.6561); // CPython and glibc
  assert.equal(optim.pythonPow(0.999, 1), 0.999);
});

/** A stand-in optimizer for schedule tests: the lr a step would use. */
function groups(lr: number): optim.HasParamGroups { return { paramGroups: [{ lr }] }; }

test('WarmupLR multistep/constant equal the trainers\' adjust_lr exactly, incl. the quirk', () => {
  for (const name of ['multistep', 'constant']) {
    const s = refs.schedules[name] as { warmup: number; milestones?: number[]; iterations: number; base: number; lrs: number[] };
    const opt = groups(s.base);
    const sched = new optim.WarmupLR(opt, { warmupIters: s.warmup, after: s.milestones ? { kind: 'multistep', milestones: s.milestones } : { kind: 'constant' } });
    const used: number[] = [];
    for (let k = 1; k <= s.iterations; k++) { used.push(opt.paramGroups[0]!.lr); sched.step(); }
    assert.deepEqual(used, s.lrs, name);
    // hand-computed: iteration 1 at the full base lr, iteration k+1 (k ≤ warm-up) at k/warmup·base
    assert.equal(used[0], s.base);
    for (let k = 1; k <= s.warmup; k++) assert.equal(used[k], (k / s.warmup) * s.base);
    if (s.milestones) {
      assert.equal(used[12], 2.5e-5, 'halved after iteration 12');
      assert.equal(used[11], 5e-5);
    }
  }
});

test('WarmupLR cosine matches PyTorch CosineAnnealingLR after the warm-up, and the closed form', () => {
  const s = refs.schedules.cosine as { warmup: number; iterations: number; base: number; t_max: number; eta_min: number; lrs: number[] };
  const opt = groups(s.base);
  const sched = new optim.WarmupLR(opt, { warmupIters: s.warmup, after: { kind: 'cosine', tMax: s.t_max, etaMin: s.eta_min } });
  const used: number[] = [];
  for (let k = 1; k <= s.iterations; k++) { used.push(opt.paramGroups[0]!.lr); sched.step(); }
  let maxRel = 0;
  used.forEach((v, i) => { maxRel = Math.max(maxRel, Math.abs(v - s.lrs[i]!) / s.lrs[i]!); });
  assert.ok(maxRel <= 4e-16, `max relative difference from PyTorch ${maxRel}`); // Math.cos vs C cos: an ulp at most
  for (let k = 1; k <= s.warmup; k++) assert.equal(used[k], (k / s.warmup) * s.base);
  for (let k = s.warmup + 1; k < s.iterations; k++) {
    const closed = s.eta_min + (s.base - s.eta_min) * (1 + Math.cos(Math.PI * (k - s.warmup) / s.t_max)) / 2;
    assert.ok(Math.abs(used[k]! - closed) < 1e-18, `iteration ${k + 1}: ${used[k]} vs ${closed}`);
  }
});

test('CosineAnnealingLR (past T_max) and MultiStepLR (repeated milestone) follow PyTorch', () => {
  const c = refs.schedules.torch_cosine as { lr: number; t_max: number; eta_min: number; lrs: number[] };
  const o1 = groups(c.lr);
  const cos = new optim.CosineAnnealingLR(o1, { tMax: c.t_max, etaMin: c.eta_min });
  const got: number[] = [];
  for (let i = 0; i < c.lrs.length; i++) { got.push(cos.getLastLr()[0]!); cos.step(); }
  got.forEach((v, i) => assert.ok(Math.abs(v - c.lrs[i]!) <= 1e-15 * c.lr, `epoch ${i}: ${v} vs ${c.lrs[i]}`));
  const m = refs.schedules.torch_multistep as { lr: number; milestones: number[]; gamma: number; lrs: number[] };
  const o2 = groups(m.lr);
  const ms = new optim.MultiStepLR(o2, { milestones: m.milestones, gamma: m.gamma });
  const got2: number[] = [];
  for (let i = 0; i < m.lrs.length; i++) { got2.push(ms.getLastLr()[0]!); ms.step(); }
  assert.deepEqual(got2, m.lrs);
});

test('schedule state save/restore continues the same sequence', () => {
  for (const after of [{ kind: 'cosine', tMax: 20, etaMin: 1e-6 }, { kind: 'multistep', milestones: [4, 9], gamma: 0.5 }] as optim.AfterWarmup[]) {
    const run = (n: number, o: optim.HasParamGroups, s: optim.WarmupLR): number[] => {
      const out: number[] = [];
      for (let i = 0; i < n; i++) { out.push(o.paramGroups[0]!.lr); s.step(); }
      return out;
    };
    const oa = groups(1e-3);
    const full = run(15, oa, new optim.WarmupLR(oa, { warmupIters: 4, after }));
    const ob = groups(1e-3);
    const sb = new optim.WarmupLR(ob, { warmupIters: 4, after });
    const first = run(7, ob, sb);
    const saved = JSON.parse(JSON.stringify({ sched: sb.stateDict(), lr: ob.paramGroups[0]!.lr })) as { sched: optim.WarmupLRState; lr: number };
    const oc = groups(1e-3);
    const sc = new optim.WarmupLR(oc, { warmupIters: 4, after });
    oc.paramGroups[0]!.lr = saved.lr; // what the optimizer's own state dict restores
    sc.loadStateDict(saved.sched);
    assert.deepEqual([...first, ...run(8, oc, sc)], full, after.kind);
  }
  const o = groups(1);
  assert.throws(() => new optim.WarmupLR(o, { warmupIters: -1 }), /WarmupLR\(\): argument 'warmupIters' must be >= 0/);
  assert.throws(() => new optim.WarmupLR(o, { warmupIters: 2 }).loadStateDict({ iteration: 1, base_lrs: [1], cosine: { last_epoch: 0, _step_count: 1, base_lrs: [1], _last_lr: [1] } }), /lacks|has a cosine/);
});

test('clipGradNorm_ equals PyTorch (2-norm, inf-norm, 1-norm; unclipped when under the limit)', () => {
  const r = refs.clip as { grads: (Flat | null)[]; cases: { max_norm: number; norm_type: number | 'inf'; total: number; clipped: (Flat | null)[] }[] };
  const ps = [torch.keep(torch.zeros([3, 4])), torch.keep(torch.zeros([5])), torch.keep(torch.zeros([2]))].map((p) => p.requiresGrad_(true));
  try {
    for (const c of r.cases) {
      setGrads(ps, r.grads);
      const nt = c.norm_type === 'inf' ? Infinity : c.norm_type;
      const total = optim.clipGradNorm_(ps, c.max_norm, nt);
      assert.equal(Math.fround(total), Math.fround(c.total), `total norm (${c.norm_type})`);
      torch.scope(() => ps.forEach((p, i) => {
        const want = c.clipped[i];
        if (!want) { assert.equal(p.grad, null); return; }
        assertBitwise(p.grad!, want, `clipped grad ${i} (max ${c.max_norm}, norm ${c.norm_type})`);
      }));
    }
    assert.equal(optim.clipGradNorm_([ps[2]!], 1), 0, 'no gradients');
    assert.throws(() => optim.clipGradNorm_(ps, -1), /clipGradNorm_\(\): argument 'max_norm' must be >= 0/);
    torch.scope(() => { ps[0]!.grad = torch.full([3, 4], NaN); });
    assert.throws(() => optim.clipGradNorm_(ps, 1, 2, true), /non-finite/);
  } finally { ps.forEach((p) => p.dispose()); }
});

class EmaNet extends nn.Module {
  declare a: Tensor;
  declare relative_position_index: Tensor;
  declare attn_mask: Tensor;
  constructor(a: Tensor, m: Tensor) {
    super();
    this.a = nn.Parameter(a);
    this.registerBuffer('relative_position_index', torch.arange(4));
    this.registerBuffer('attn_mask', m);
  }
}

test('EMA equals update_ema_model bit for bit, excludes relative_position_index, stays allocation-free', () => {
  const r = refs.ema as { rate: number; a0: Flat; attn_mask0: Flat; steps: { src_a: Flat; src_attn_mask: Flat; ema_a: Flat; ema_attn_mask: Flat }[] };
  const net = new EmaNet(fromFlat(r.a0), fromFlat(r.attn_mask0));
  assert.throws(() => new optim.EMA(net), /EMA\(\): argument 'exclude' must name the int64 entry "relative_position_index"/);
  const ema = new optim.EMA(net, { rate: r.rate, exclude: ['relative_position_index'] });
  try {
    const live = torch.memory().liveTensors;
    for (const s of r.steps) {
      torch.scope(() => torch.noGrad(() => { net.a.copy_(fromFlat(s.src_a)); net.attn_mask.copy_(fromFlat(s.src_attn_mask)); }));
      torch.noGrad(() => net.relative_position_index.add_(1)); // excluded: the EMA keeps its own value
      ema.update(net);
      assert.equal(torch.memory().liveTensors, live, 'update allocates nothing lasting');
      assertBitwise(ema.stateDict().get('a')!, s.ema_a, 'ema a');
      assertBitwise(ema.stateDict().get('attn_mask')!, s.ema_attn_mask, 'ema attn_mask');
    }
    assert.deepEqual([...ema.stateDict().get('relative_position_index')!.toArray()], [0n, 1n, 2n, 3n]);
    // copyTo: the model gets the EMA weights
    const target = new EmaNet(torch.zeros([3, 2]), torch.zeros([2]));
    ema.copyTo(target);
    assert.deepEqual(target.a.toFloat32Array(), ema.stateDict().get('a')!.toFloat32Array());
    target.dispose();
  } finally { ema.dispose(); net.dispose(); }
});

test('EMA copy keys follow the model; load/save; hand formula with a BatchNorm model', () => {
  const m = new nn.Sequential(new nn.Linear(2, 2, { generator: new torch.Generator(1) }), new nn.BatchNorm2d(2));
  const ema = new optim.EMA(m, { rate: 0.9, copy: ['running_', 'num_batches_tracked'] });
  try {
    const w0 = m.at(0).stateDict().get('weight')!.toFloat32Array();
    torch.noGrad(() => { m.stateDict().get('0.weight')!.add_(1); m.stateDict().get('1.running_mean')!.fill_(3); m.stateDict().get('1.num_batches_tracked')!.fill_(7); });
    ema.update(m);
    const e = ema.stateDict();
    const got = e.get('0.weight')!.toFloat32Array();
    got.forEach((v, i) => assert.ok(Math.abs(v - (0.9 * w0[i]! + 0.1 * (w0[i]! + 1))) < 1e-6, `ema weight ${i}`));
    assert.deepEqual([...e.get('1.running_mean')!.toFloat32Array()], [3, 3]);
    assert.equal(e.get('1.num_batches_tracked')!.item(), 7);
    const snapshot = new Map([...e].map(([k, t]) => [k, torch.keep(t.clone())] as [string, Tensor]));
    ema.update(m);
    ema.loadStateDict(snapshot);
    assert.deepEqual(ema.stateDict().get('0.weight')!.toFloat32Array(), snapshot.get('0.weight')!.toFloat32Array());
    const wrong = torch.keep(torch.zeros([3]));
    snapshot.get('1.bias')!.dispose();
    snapshot.set('1.bias', wrong);
    assert.throws(() => ema.loadStateDict(snapshot), /size mismatch for 1\.bias: the state dict has shape \[3\], the EMA has \[2\]/);
    for (const t of snapshot.values()) t.dispose();
  } finally { ema.dispose(); m.dispose(); }
});

test('a training loop (Sequential, mse, backward, clip, AdamW, warm-up + cosine) tracks PyTorch', () => {
  const r = refs.train_loop as { init: Record<string, Flat>; x: Flat; y: Flat; losses: number[]; norms: number[]; final: Record<string, Flat> };
  const model = new nn.Sequential(new nn.Linear(3, 4), new nn.SiLU(), new nn.Linear(4, 2));
  torch.scope(() => model.loadStateDict(new Map(Object.entries(r.init).map(([k, f]) => [k, fromFlat(f)]))));
  const x = torch.keep(fromFlat(r.x)), y = torch.keep(fromFlat(r.y));
  const opt = new optim.AdamW(model.parameters(), { lr: 1e-2, weightDecay: 0.05 });
  const sched = new optim.WarmupLR(opt, { warmupIters: 2, after: { kind: 'cosine', tMax: 4, etaMin: 1e-3 } });
  const live = torch.memory().liveTensors;
  try {
    for (let k = 1; k <= 6; k++) {
      const loss = torch.scope(() => {
        opt.zeroGrad();
        const l = torch.mseLoss(model.forward(x), y);
        l.backward();
        const n = optim.clipGradNorm_(model.parameters(), 0.5);
        assert.equal(Math.fround(n), Math.fround(r.norms[k - 1]!), `grad norm at iteration ${k}`);
        opt.step();
        return l.item();
      });
      sched.step();
      assert.equal(Math.fround(loss), Math.fround(r.losses[k - 1]!), `loss at iteration ${k}`);
      if (k === 1) assert.equal(torch.memory().liveTensors, live + 2 * 4, 'only the optimizer state (exp_avg, exp_avg_sq per parameter) stays');
    }
    for (const [k, f] of Object.entries(r.final)) assertBitwise(model.stateDict().get(k)!, f, `final ${k}`);
  } finally { opt.dispose(); model.dispose(); x.dispose(); y.dispose(); }
});

test('300 training steps with AdamW, clipping, schedule and EMA keep the live tensor count constant', () => {
  const model = new nn.Sequential(new nn.Conv2d(3, 8, 3, { padding: 1 }), new nn.GroupNorm(2, 8), new nn.SiLU(), new nn.Conv2d(8, 3, 3, { padding: 1 }));
  const x = torch.keep(torch.randn([2, 3, 8, 8], { generator: new torch.Generator(3) }));
  const opt = new optim.AdamW(model.parameters(), { lr: 1e-3, weightDecay: 0 });
  const sched = new optim.WarmupLR(opt, { warmupIters: 10, after: { kind: 'multistep', milestones: [100, 200] } });
  const ema = new optim.EMA(model);
  const stepOnce = (): number => {
    const loss = torch.scope(() => {
      opt.zeroGrad();
      const l = torch.mseLoss(model.forward(x), x);
      l.backward();
      optim.clipGradNorm_(model.parameters(), 1.0);
      opt.step();
      return l.item();
    });
    ema.update(model);
    sched.step();
    return loss;
  };
  try {
    const first = stepOnce();
    const live = torch.memory().liveTensors;
    let last = first;
    for (let i = 0; i < 299; i++) last = stepOnce();
    assert.equal(torch.memory().liveTensors, live);
    assert.ok(last < first, `loss went from ${first} to ${last}`);
    assert.equal(opt.paramGroups[0]!.lr, 1e-3 * 0.25, 'halved at 100 and 200');
  } finally { ema.dispose(); opt.dispose(); model.dispose(); x.dispose(); }
});
