// nn.Module and layers: state-dict structure and order against PyTorch 1.13, strict/non-strict
// loading, train/eval, to(), dispose, default initialisation (bitwise under manualSeed) and layers.
// Reference values: test/fixtures/nn-optim/refs.json (scripts/ref/nn_optim_refs.py).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { readFileSync } from 'node:fs';
import * as torch from '../../src/engine/index.js';
import { Tensor, nn } from '../../src/engine/index.js';
import { repoRoot } from '../helpers.js';

interface Flat { shape: number[]; dtype: string; data: number[] }
// Small tensors: one thread is fastest, and on a loaded 2-core machine two OpenMP threads can be
// ~70× slower. The references were written with torch.set_num_threads(1) as well.
torch.setNumThreads(1);
const refs = JSON.parse(readFileSync(path.join(repoRoot, 'test', 'fixtures', 'nn-optim', 'refs.json'), 'utf8')) as Record<string, Record<string, unknown>>;

/** Bitwise equality of a float32 tensor with reference values; the message gives the max |diff|. */
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

function assertClose(t: Tensor, ref: Flat, atol: number, what: string): void {
  assert.deepEqual(t.shape, ref.shape, `${what}: shape`);
  const got = t.toFloat32Array();
  let maxDiff = 0;
  ref.data.forEach((v, i) => { maxDiff = Math.max(maxDiff, Math.abs(got[i]! - v)); });
  assert.ok(maxDiff <= atol, `${what}: max |diff| ${maxDiff} > ${atol}`);
}

const fromFlat = (f: Flat): Tensor => torch.fromTypedArray(f.dtype === 'float64' ? Float64Array.from(f.data) : Float32Array.from(f.data), f.shape);

// The nested model of the reference script, with the same attribute names.
class Block extends nn.Module {
  norm = new nn.GroupNorm(2, 4);
  layers = new nn.ModuleList<nn.Module>([
    new nn.Sequential(new nn.Conv2d(4, 4, 3, { padding: 1 }), new nn.SiLU(), new nn.Conv2d(4, 4, 1, { bias: false })),
    new nn.Identity(),
  ]);
  declare attn_mask: Tensor;
  declare scratch: Tensor;
  bn = new nn.BatchNorm2d(4);
  head = new nn.ModuleDict({ proj: new nn.Linear(4, 2), ln: new nn.LayerNorm(2) });
  emb = new nn.Embedding(5, 4);
  constructor() {
    super();
    this.registerBuffer('attn_mask', torch.zeros([2, 2]));
    this.registerBuffer('scratch', torch.zeros([1]), false);
  }
}

class Net extends nn.Module {
  conv_in = new nn.Conv2d(3, 4, 3, { padding: 1 });
  blocks = new nn.ModuleList([new Block(), new Block()]);
  up = new nn.ConvTranspose2d(4, 2, 4, { stride: 2, padding: 1 });
  scale = nn.Parameter(torch.ones([1]));
  notState = torch.keep(torch.zeros([3])); // a plain tensor attribute is not state, as in PyTorch
  override dispose(): void { super.dispose(); this.notState.dispose(); }
}

test('nested model: state-dict keys, order, shapes and dtypes equal PyTorch', () => {
  const net = new Net();
  try {
    const got = [...net.stateDict()].map(([k, v]) => [k, v.shape, v.dtype]);
    assert.deepEqual(got, refs.nested_state_dict);
    assert.deepEqual(net.namedParameters().map(([k]) => k), refs.nested_named_parameters);
    assert.deepEqual(net.namedBuffers().map(([k]) => k), refs.nested_named_buffers);
    assert.ok(net.namedBuffers().some(([k]) => k === 'blocks.0.scratch'), 'non-persistent buffer listed');
    assert.ok(!net.stateDict().has('blocks.0.scratch'), 'non-persistent buffer not in the state dict');
    assert.deepEqual(net.namedChildren().map(([k]) => k), ['conv_in', 'blocks', 'up']);
    assert.equal(net.namedModules()[0]![0], '');
    assert.ok(net.namedModules().some(([k]) => k === 'blocks.1.layers.0.2'));
    assert.equal(net.parameters().every((p) => p.requiresGrad), true);
  } finally { net.dispose(); }
});

test('parameters and buffers made in a constructor survive the scope; dispose frees everything', () => {
  const before = torch.memory().liveTensors;
  const net = torch.scope(() => new Net());
  const sd = net.stateDict();
  assert.ok([...sd.values()].every((t) => !t.isDisposed), 'a scope freed module state');
  assert.ok(torch.memory().liveTensors > before);
  net.dispose();
  assert.ok([...sd.values()].every((t) => t.isDisposed));
  assert.equal(torch.memory().liveTensors, before, 'live tensors after dispose');
});

test('loadStateDict strict: missing, unexpected and shape mismatch name the key and both shapes; nothing is copied', () => {
  const a = new Net(), b = new Net();
  try {
    const w0 = b.conv_in.weight.toFloat32Array();
    const sd = new Map(a.stateDict());
    sd.delete('up.bias');
    assert.throws(() => b.loadStateDict(sd), (e: Error) => /missing keys: up\.bias/.test(e.message) && !e.message.includes('\n'));
    const extra = torch.zeros([2]);
    const sd2 = new Map(a.stateDict()); sd2.set('blocks.0.extra', extra);
    assert.throws(() => b.loadStateDict(sd2), /unexpected keys: blocks\.0\.extra/);
    const wrong = torch.zeros([4, 3, 5, 5]);
    const sd3 = new Map(a.stateDict()); sd3.set('conv_in.weight', wrong);
    assert.throws(() => b.loadStateDict(sd3), /size mismatch for conv_in\.weight: the state dict has shape \[4, 3, 5, 5\], the model has \[4, 3, 3, 3\]/);
    // a shape mismatch is an error even when not strict (as PyTorch)
    assert.throws(() => b.loadStateDict(sd3, { strict: false }), /size mismatch for conv_in\.weight/);
    assert.deepEqual(b.conv_in.weight.toFloat32Array(), w0, 'a failed load changed the model');
    assert.throws(() => b.loadStateDict(null as unknown as Map<string, Tensor>), /loadStateDict\(\): argument 'state'/);
    extra.dispose(); wrong.dispose();
  } finally { a.dispose(); b.dispose(); }
});

test('loadStateDict copies values; non-strict returns missing and unexpected keys', () => {
  const a = new Net(), b = new Net();
  try {
    b.loadStateDict(a.stateDict());
    for (const [k, t] of a.stateDict()) assert.deepEqual(b.stateDict().get(k)!.toArray(), t.toArray(), k);
    assert.notEqual(b.conv_in.weight, a.conv_in.weight, 'copied, not shared');
    const c = new Net();
    const sd = new Map(c.stateDict());
    sd.delete('scale');
    const extra = torch.ones([1]);
    sd.set('nope', extra);
    const r = b.loadStateDict(sd, { strict: false });
    assert.deepEqual(r, { missingKeys: ['scale'], unexpectedKeys: ['nope'] });
    assert.deepEqual(b.up.weight.toFloat32Array(), c.up.weight.toFloat32Array());
    assert.deepEqual(b.scale.toFloat32Array(), a.scale.toFloat32Array(), 'a missing key leaves the value');
    assert.equal(b.scale.requiresGrad, true, 'loading keeps requiresGrad');
    c.dispose(); extra.dispose();
  } finally { a.dispose(); b.dispose(); }
});

test('train()/eval() reach every submodule; Dropout is the identity in eval', () => {
  const drop = new nn.Dropout(0.5);
  const net = new nn.Sequential(new nn.Linear(4, 4), drop);
  const net2 = new Net();
  try {
    assert.equal(net.training, true);
    net.eval();
    assert.ok(net.modules().every((m) => m.training === false));
    net2.eval();
    assert.ok(net2.modules().every((m) => !m.training));
    net2.train();
    assert.ok(net2.modules().every((m) => m.training));
    torch.scope(() => {
      const x = torch.ones([1000]);
      assert.deepEqual(drop.forward(x).toFloat32Array(), x.toFloat32Array());
      drop.train();
      const y = drop.forward(x).toFloat32Array();
      const zeros = y.filter((v) => v === 0).length;
      assert.ok(zeros > 350 && zeros < 650, `dropout zeroed ${zeros} of 1000`);
      assert.ok(y.every((v) => v === 0 || v === 2));
    });
  } finally { net.dispose(); net2.dispose(); }
});

test('default initialisation equals PyTorch bit for bit under manualSeed', () => {
  const r = refs.init_modules as Record<string, Flat>;
  torch.manualSeed(0);
  const conv = new nn.Conv2d(3, 8, 3);
  const lin = new nn.Linear(5, 4);
  const convt = new nn.ConvTranspose2d(4, 6, 3, { groups: 2 });
  const emb = new nn.Embedding(7, 3, { paddingIdx: 2 });
  try {
    assertBitwise(conv.weight, r['conv.weight']!, 'Conv2d.weight');
    assertBitwise(conv.bias!, r['conv.bias']!, 'Conv2d.bias');
    assertBitwise(lin.weight, r['lin.weight']!, 'Linear.weight');
    assertBitwise(lin.bias!, r['lin.bias']!, 'Linear.bias');
    assertBitwise(convt.weight, r['convt.weight']!, 'ConvTranspose2d.weight');
    assertBitwise(convt.bias!, r['convt.bias']!, 'ConvTranspose2d.bias');
    assertBitwise(emb.weight, r['emb.weight']!, 'Embedding.weight');
  } finally { for (const m of [conv, lin, convt, emb]) m.dispose(); }
});

test('nn.init functions equal PyTorch bit for bit; calculateGain', () => {
  const f = refs.init_functions as { seed: number; shape: number[]; values: Record<string, Flat> };
  torch.manualSeed(f.seed);
  const a = torch.empty(f.shape);
  try {
    nn.init.kaimingNormal_(a, { mode: 'fan_out', nonlinearity: 'relu' }); assertBitwise(a, f.values['kaiming_normal_fan_out_relu']!, 'kaimingNormal_');
    nn.init.kaimingUniform_(a); assertBitwise(a, f.values['kaiming_uniform_default']!, 'kaimingUniform_');
    nn.init.xavierUniform_(a, 0.5); assertBitwise(a, f.values['xavier_uniform_0.5']!, 'xavierUniform_');
    nn.init.xavierNormal_(a); assertBitwise(a, f.values['xavier_normal']!, 'xavierNormal_');
    nn.init.truncNormal_(a, 0.1, 0.02, -0.5, 0.5); assertBitwise(a, f.values['trunc_normal']!, 'truncNormal_');
  } finally { a.dispose(); }
  const g = refs.gains as Record<string, number>;
  assert.equal(nn.init.calculateGain('linear'), g['linear']);
  assert.equal(nn.init.calculateGain('relu'), g['relu']);
  assert.equal(nn.init.calculateGain('tanh'), g['tanh']);
  assert.equal(nn.init.calculateGain('leaky_relu'), g['leaky_relu']);
  assert.equal(nn.init.calculateGain('leaky_relu', Math.sqrt(5)), g['leaky_relu:sqrt5']);
  assert.equal(nn.init.calculateGain('selu'), g['selu']);
  assert.equal(nn.init.calculateGain('sigmoid'), g['sigmoid']);
  assert.throws(() => nn.init.calculateGain('swish' as nn.init.Nonlinearity), /calculateGain\(\): argument 'nonlinearity'/);
});

test('default-init statistics: Conv2d/Linear bounds 1/sqrt(fan_in), uniform variance; norms ones/zeros; seeded generators', () => {
  const g = new torch.Generator(123);
  const conv = new nn.Conv2d(64, 32, 3, { generator: g });
  const lin = new nn.Linear(256, 128, { generator: g });
  const gn = new nn.GroupNorm(8, 64);
  const ln = new nn.LayerNorm([4, 8]);
  try {
    for (const [w, fanIn] of [[conv.weight, 64 * 9], [lin.weight, 256]] as const) {
      const v = w.toFloat32Array();
      const bound = 1 / Math.sqrt(fanIn);
      const max = v.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
      const mean = v.reduce((s, x) => s + x, 0) / v.length;
      const vr = v.reduce((s, x) => s + (x - mean) ** 2, 0) / v.length;
      assert.ok(max <= bound && max > 0.99 * bound, `max |w| ${max} vs bound ${bound}`);
      assert.ok(Math.abs(mean) < 0.02 * bound, `mean ${mean}`);
      assert.ok(Math.abs(vr / (bound * bound / 3) - 1) < 0.03, `variance ratio ${vr / (bound * bound / 3)}`);
    }
    const bmax = conv.bias!.toFloat32Array().reduce((m, x) => Math.max(m, Math.abs(x)), 0);
    assert.ok(bmax <= 1 / Math.sqrt(64 * 9));
    assert.ok(gn.weight!.toFloat32Array().every((x) => x === 1) && gn.bias!.toFloat32Array().every((x) => x === 0));
    assert.ok(ln.weight!.toFloat32Array().every((x) => x === 1) && ln.bias!.toFloat32Array().every((x) => x === 0));
    const a = new nn.Linear(8, 8, { generator: new torch.Generator(5) });
    const b = new nn.Linear(8, 8, { generator: new torch.Generator(5) });
    const c = new nn.Linear(8, 8, { generator: new torch.Generator(6) });
    assert.deepEqual(a.weight.toFloat32Array(), b.weight.toFloat32Array());
    assert.notDeepEqual(a.weight.toFloat32Array(), c.weight.toFloat32Array());
    a.dispose(); b.dispose(); c.dispose();
  } finally { conv.dispose(); lin.dispose(); gn.dispose(); ln.dispose(); }
});

test('BatchNorm2d: train mode updates running stats and num_batches_tracked as PyTorch; eval uses them', () => {
  const r = refs.batchnorm as Record<string, Flat> & { num_batches_tracked: number };
  const bn = new nn.BatchNorm2d(3, { momentum: 0.2 });
  const cma = new nn.BatchNorm2d(3, { momentum: null });
  torch.scope(() => {
    const x1 = fromFlat(r.x1), x2 = fromFlat(r.x2);
    assertClose(bn.forward(x1), r.y1, 1e-6, 'train y1');
    assertClose(bn.forward(x2), r.y2, 1e-6, 'train y2');
    assertClose(bn.running_mean!, r.running_mean, 1e-6, 'running_mean');
    assertClose(bn.running_var!, r.running_var, 1e-6, 'running_var');
    assert.equal(bn.num_batches_tracked!.item(), r.num_batches_tracked);
    assert.equal(bn.num_batches_tracked!.dtype, 'int64');
    bn.eval();
    assertClose(bn.forward(x1), r.y_eval, 1e-6, 'eval');
    assert.equal(bn.num_batches_tracked!.item(), 2, 'eval does not count batches');
    cma.forward(x1); cma.forward(x2);
    assertClose(cma.running_mean!, r.cma_running_mean, 1e-6, 'cumulative running_mean');
    assertClose(cma.running_var!, r.cma_running_var, 1e-6, 'cumulative running_var');
    assert.throws(() => bn.forward(torch.zeros([3, 4])), /BatchNorm2d\(\): argument 'input' expected 4D input, got 2D/);
  });
  bn.dispose(); cma.dispose();
});

test('to(): dtype for floating state only, channels_last for 4-D; requiresGrad kept', () => {
  const bn = new nn.Sequential(new nn.Conv2d(3, 4, 3), new nn.BatchNorm2d(4));
  const before = torch.memory().liveTensors;
  try {
    bn.to({ dtype: 'float64' });
    const sd = bn.stateDict();
    assert.equal(sd.get('0.weight')!.dtype, 'float64');
    assert.equal(sd.get('1.running_var')!.dtype, 'float64');
    assert.equal(sd.get('1.num_batches_tracked')!.dtype, 'int64');
    assert.equal(sd.get('0.weight')!.requiresGrad, true);
    assert.equal(torch.memory().liveTensors, before, 'old tensors freed');
    bn.to({ memoryFormat: 'channels_last' });
    assert.ok(sd.get('0.weight')!.isDisposed);
    assert.ok(bn.stateDict().get('0.weight')!.isContiguous('channels_last'));
    const y = torch.scope(() => bn.forward(torch.ones([1, 3, 5, 5], { dtype: 'float64' })));
    assert.deepEqual(y.shape, [1, 4, 3, 3]);
    y.dispose();
  } finally { bn.dispose(); }
});

test('to() converts a tied (shared) parameter once; both owners see the new tensor', () => {
  class Tied extends nn.Module {
    a = new nn.Linear(3, 3);
    b = new nn.Linear(3, 3);
    constructor() { super(); this.b.weight.dispose(); this.b.weight = this.a.weight; }
  }
  const m = new Tied();
  try {
    assert.deepEqual(m.namedParameters().map(([k]) => k), ['a.weight', 'a.bias', 'b.bias'], 'shared parameter listed once');
    assert.deepEqual([...m.stateDict().keys()], ['a.weight', 'a.bias', 'b.weight', 'b.bias'], 'state dict lists it under both names');
    m.to({ dtype: 'float64' });
    assert.equal(m.a.weight, m.b.weight);
    assert.equal(m.a.weight.dtype, 'float64');
  } finally { m.dispose(); }
});

test('ModuleList and Sequential name children 0…n−1 in numeric order; ModuleDict by key', () => {
  const list = new nn.ModuleList(Array.from({ length: 12 }, () => new nn.Linear(1, 1, { bias: false })));
  const dict = new nn.ModuleDict({ z: new nn.Identity(), a: new nn.Linear(1, 1, { bias: false }) });
  try {
    assert.deepEqual([...list.stateDict().keys()], Array.from({ length: 12 }, (_, i) => `${i}.weight`));
    assert.equal(list.at(-1), [...list][11]);
    assert.deepEqual([...dict.stateDict().keys()], ['a.weight']);
    assert.deepEqual(dict.keys(), ['z', 'a']);
    assert.throws(() => dict.get('q'), /ModuleDict: no module named "q"/);
    assert.throws(() => list.at(12), /ModuleList: index 12 out of range for 12 modules/);
    list.registerParameter('gain', torch.ones([1]));
    assert.equal([...list.stateDict().keys()][0], 'gain', "a container's own parameter comes before its children");
  } finally { list.dispose(); dict.dispose(); }
});

test('requiresGrad_, zeroGrad, apply, numParameters', () => {
  const m = new nn.Linear(3, 2);
  try {
    m.requiresGrad_(false);
    assert.ok(m.parameters().every((p) => !p.requiresGrad));
    m.requiresGrad_(true);
    torch.scope(() => m.forward(torch.ones([4, 3])).sum().backward());
    const g = m.weight.grad!;
    assert.deepEqual([...g.toFloat32Array()], new Array(6).fill(4));
    g.dispose();
    m.zeroGrad({ setToNone: false });
    const z = m.weight.grad!;
    assert.deepEqual([...z.toFloat32Array()], new Array(6).fill(0));
    z.dispose();
    m.zeroGrad();
    assert.equal(m.weight.grad, null);
    const seen: string[] = [];
    new nn.Sequential(new nn.ReLU(), new nn.SiLU()).apply((x) => seen.push(x.constructor.name));
    assert.deepEqual(seen, ['ReLU', 'SiLU', 'Sequential']);
    assert.equal(m.numParameters(), 8);
  } finally { m.dispose(); }
});

test('layers compute what the functional ops compute; Sequential frees intermediates', () => {
  torch.scope(() => {
    const x = torch.randn([2, 3, 6, 6], { generator: new torch.Generator(1) });
    const conv = new nn.Conv2d(3, 4, 3, { padding: 1, paddingMode: 'reflect', stride: 2 });
    const ref = torch.conv2d(torch.pad(x, [1, 1, 1, 1], 'reflect'), conv.weight, conv.bias, { stride: 2 });
    assert.deepEqual(conv.forward(x).toFloat32Array(), ref.toFloat32Array());
    const same = new nn.Conv2d(3, 4, 5, { padding: 'same', bias: false });
    assert.deepEqual(same.forward(x).shape, [2, 4, 6, 6]);
    assert.equal(same.bias, null);
    const grouped = new nn.Conv2d(4, 8, 3, { groups: 2, dilation: 2 });
    assert.deepEqual(grouped.weight.shape, [8, 2, 3, 3]);
    const ct = new nn.ConvTranspose2d(3, 2, 4, { stride: 2, padding: 1 });
    assert.deepEqual(ct.forward(x).shape, [2, 2, 12, 12]);
    const gelu = new nn.GELU({ approximate: 'tanh' });
    assert.deepEqual(gelu.forward(x).toFloat32Array(), torch.gelu(x, 'tanh').toFloat32Array());
    const ident = new nn.Identity();
    assert.deepEqual(ident.forward(x).toFloat32Array(), x.toFloat32Array());
    const emb = new nn.Embedding(5, 3, { paddingIdx: 0 });
    assert.deepEqual([...emb.weight.select(0, 0).toFloat32Array()], [0, 0, 0]);
    const e = emb.forward(torch.tensor([[1, 0]], { dtype: 'int64' }));
    assert.deepEqual(e.shape, [1, 2, 3]);
    assert.throws(() => emb.forward(torch.tensor([7], { dtype: 'int64' })), /embedding\(\): argument 'input' indices must lie in \[0, 5\)/);
    for (const m of [conv, same, grouped, ct, emb]) m.dispose();

    const seq = new nn.Sequential(new nn.Linear(4, 8), new nn.SiLU(), new nn.Linear(8, 2));
    const inp = torch.ones([3, 4]);
    const live = torch.memory().liveTensors;
    const out = seq.forward(inp);
    assert.equal(torch.memory().liveTensors, live + 1, 'only the output stays alive');
    const manual = seq.at(2).forward(torch.silu(seq.at(0).forward(inp)));
    assert.deepEqual(out.toFloat32Array(), manual.toFloat32Array());
    assert.equal(seq.length, 3);
    seq.dispose();
  });
});

test('constructor and forward arguments are checked with one clear error line', () => {
  const bad: [() => unknown, RegExp][] = [
    [() => new nn.Conv2d(3, 4, 0), /Conv2d\(\): argument 'kernel_size\[0\]' must be >= 1/],
    [() => new nn.Conv2d(3, 4, 3, { groups: 2 }), /Conv2d\(\): argument 'groups' \(2\) must divide in_channels \(3\)/],
    [() => new nn.Conv2d(3, 4, 3, { stride: 2, padding: 'same' }), /'same' is not supported for strided/],
    [() => new nn.Linear(-1, 2), /Linear\(\): argument 'in_features' must be >= 0/],
    [() => new nn.GroupNorm(3, 4), /GroupNorm\(\): argument 'num_groups' \(3\) must divide num_channels \(4\)/],
    [() => new nn.Dropout(1.5), /Dropout\(\): argument 'p' must be <= 1/],
    [() => new nn.ModuleList([{} as nn.Module]), /ModuleList.append\(\): argument 'modules\[0\]' must be a Module/],
    [() => nn.Parameter(torch.keep(torch.zeros([2], { dtype: 'int64' }))), /Parameter\(\): argument 'data' must be floating point/],
  ];
  for (const [f, re] of bad) assert.throws(f, (e: Error) => re.test(e.message) && !e.message.includes('\n'), String(re));
  const lin = new nn.Linear(3, 2);
  try {
    torch.scope(() => assert.throws(() => lin.forward(torch.ones([2, 5])), Error));
    const m = new nn.Module();
    m.registerBuffer('b', torch.zeros([1]));
    assert.throws(() => m.registerBuffer('a.b', null), /registerBuffer\(\): argument 'name' must be a non-empty string without '\.'/);
    assert.deepEqual([...m.stateDict().keys()], ['b']);
    m.registerParameter('w', torch.ones([2]));
    m.registerModule('layer1', new nn.Linear(1, 1));
    assert.deepEqual([...m.stateDict().keys()], ['w', 'b', 'layer1.weight', 'layer1.bias'], 'params, buffers, then children');
    assert.throws(() => m.registerParameter('b', null), /registerParameter\(\): argument 'name' "b" is already a buffer/);
    assert.throws(() => m.registerModule('dispose', null), /"dispose" is a reserved Module attribute/);
    assert.throws(() => m.registerModule('train', null), /registerModule\(\): argument 'name' "train" is a reserved Module attribute/);
    m.dispose();
  } finally { lin.dispose(); }
});
