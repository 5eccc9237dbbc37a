// Op results against independently computed values (issue 2, item 11): hand-computed numbers and
// small JavaScript references of PyTorch's formulas (direct convolution, interpolation, DFT, …).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as torch from '../../src/engine/index.js';
import { Tensor } from '../../src/engine/index.js';

/** The values of t as JS numbers (int64 via BigInt, float16/bfloat16 through float32). */
function vals(t: Tensor): number[] {
  const a = t.dtype === 'float16' || t.dtype === 'bfloat16' ? t.toFloat32Array() : t.toArray();
  return Array.from(a as ArrayLike<number | bigint>, (v) => Number(v));
}

function close(got: ArrayLike<number>, want: ArrayLike<number>, atol: number, what: string): void {
  assert.equal(got.length, want.length, `${what}: ${got.length} values, expected ${want.length}`);
  let worst = 0, at = -1;
  for (let i = 0; i < got.length; i++) {
    const d = Math.abs(got[i]! - want[i]!);
    if (!(d <= worst)) { worst = d; at = i; }
  }
  assert.ok(worst <= atol, `${what}: max |diff| ${worst} at [${at}] (got ${got[at]}, expected ${want[at]}), atol ${atol}`);
}

const seq = (n: number, f: (i: number) => number = (i) => i) => Array.from({ length: n }, (_, i) => f(i));
const rnd = (shape: number[], seed = 1, dtype: torch.DType = 'float64') => torch.randn(shape, { dtype, generator: new torch.Generator(seed) });

// ---------------------------------------------------------------------------------------------
test('creation: zeros, ones, full, arange, linspace, eye, tensor', () => torch.scope(() => {
  assert.deepEqual(vals(torch.zeros([2, 2])), [0, 0, 0, 0]);
  assert.equal(torch.ones([3], { dtype: 'int32' }).dtype, 'int32');
  assert.deepEqual(vals(torch.full([2], 2.5)), [2.5, 2.5]);
  const a = torch.arange(0, 5);
  assert.equal(a.dtype, 'int64', 'integer arguments give int64 (as PyTorch)');
  assert.deepEqual(vals(a), [0, 1, 2, 3, 4]);
  const f = torch.arange(0, 1, 0.25);
  assert.equal(f.dtype, 'float32');
  assert.deepEqual(vals(f), [0, 0.25, 0.5, 0.75]);
  assert.deepEqual(vals(torch.arange(5, 0, -2)), [5, 3, 1]);
  close(vals(torch.linspace(-1, 1, 5)), [-1, -0.5, 0, 0.5, 1], 1e-7, 'linspace');
  assert.deepEqual(vals(torch.eye(2, 3)), [1, 0, 0, 0, 1, 0]);
  const t = torch.tensor([[1, 2, 3], [4, 5, 6]]);
  assert.deepEqual(t.shape, [2, 3]);
  assert.equal(t.dtype, 'float32');
  assert.equal(torch.tensor([true, false]).dtype, 'bool');
  assert.deepEqual(vals(torch.tensor([7, -8], { dtype: 'int64' })), [7, -8]);
}));

test('random: seeded generators repeat; PyTorch CPU stream for seed 0', () => torch.scope(() => {
  const a = torch.randn([4], { generator: new torch.Generator(0) });
  const b = torch.randn([4], { generator: new torch.Generator(0) });
  assert.deepEqual(vals(a), vals(b));
  // torch.manual_seed(0); torch.randn(4) = [1.5410, -0.2934, -2.1788, 0.5684]
  close(vals(a), [1.5410, -0.2934, -2.1788, 0.5684], 1e-4, 'randn seed 0');
  const r = torch.randint(0, 10, [1000], { generator: new torch.Generator(3) });
  const v = vals(r);
  assert.ok(v.every((x) => Number.isInteger(x) && x >= 0 && x < 10));
}));

// ---------------------------------------------------------------------------------------------
test('shape ops against index arithmetic', () => torch.scope(() => {
  const x = torch.arange(0, 24).reshape([2, 3, 4]);
  // permute(2, 0, 1): out[k][i][j] = x[i][j][k] = 12i + 4j + k
  const p = x.permute(2, 0, 1);
  assert.deepEqual(p.shape, [4, 2, 3]);
  const want: number[] = [];
  for (let k = 0; k < 4; k++) for (let i = 0; i < 2; i++) for (let j = 0; j < 3; j++) want.push(12 * i + 4 * j + k);
  assert.deepEqual(vals(p.contiguous()), want);
  assert.deepEqual(vals(x.transpose(0, 2).contiguous()), seq(24, (n) => { const i = n % 2, j = Math.floor(n / 2) % 3, k = Math.floor(n / 6); return 12 * i + 4 * j + k; }));
  assert.deepEqual(vals(x.slice(2, 1, null, 2)), [1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23]);
  assert.deepEqual(vals(x.slice(2, -3, -1)), [1, 2, 5, 6, 9, 10, 13, 14, 17, 18, 21, 22]);
  assert.deepEqual(vals(x.narrow(1, 1, 1)), [4, 5, 6, 7, 16, 17, 18, 19]);
  assert.deepEqual(vals(x.select(0, 1).select(0, 2)), [20, 21, 22, 23]);
  assert.deepEqual(vals(torch.cat([torch.arange(0, 2), torch.arange(5, 7)])), [0, 1, 5, 6]);
  assert.deepEqual(torch.stack([torch.zeros([2]), torch.ones([2])], 1).shape, [2, 2]);
  assert.deepEqual(vals(torch.stack([torch.zeros([2]), torch.ones([2])], 1)), [0, 1, 0, 1]);
  assert.deepEqual(torch.arange(0, 10).split(4).map((t) => vals(t)), [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]);
  assert.deepEqual(torch.arange(0, 10).split([3, 7]).map((t) => t.numel), [3, 7]);
  assert.deepEqual(torch.arange(0, 10).chunk(3).map((t) => vals(t)), [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]);
  assert.deepEqual(vals(torch.arange(0, 5).roll(2, 0)), [3, 4, 0, 1, 2]);
  assert.deepEqual(vals(torch.arange(0, 6).reshape([2, 3]).roll([1, -1], [0, 1])), [4, 5, 3, 1, 2, 0]);
  assert.deepEqual(vals(torch.arange(0, 6).reshape([2, 3]).flip([0, 1])), [5, 4, 3, 2, 1, 0]);
  assert.deepEqual(vals(torch.tensor([1, 2]).repeat(2, 2)), [1, 2, 1, 2, 1, 2, 1, 2]);
  const e = torch.tensor([[1], [2]]).expand(2, 3);
  assert.deepEqual(vals(e), [1, 1, 1, 2, 2, 2]);
  assert.deepEqual(e.stride(), [1, 0], 'expand is a view with stride 0');
  assert.deepEqual(x.view(-1, 6).shape, [4, 6]);
  assert.deepEqual(x.flatten(1).shape, [2, 12]);
  assert.deepEqual(x.unsqueeze(-1).shape, [2, 3, 4, 1]);
  assert.deepEqual(torch.zeros([1, 3, 1]).squeeze().shape, [3]);
}));

/** F.pad reference for the last dimension of a 1-D row. */
function padRow(row: number[], l: number, r: number, mode: string, value = 0): number[] {
  const n = row.length;
  const at = (i: number): number => {
    if (i >= 0 && i < n) return row[i]!;
    if (mode === 'constant') return value;
    if (mode === 'replicate') return row[Math.min(Math.max(i, 0), n - 1)]!;
    if (mode === 'reflect') return row[i < 0 ? -i : 2 * (n - 1) - i]!;
    return row[((i % n) + n) % n]!; // circular
  };
  return seq(n + l + r, (j) => at(j - l));
}

test('pad: constant, reflect, replicate, circular (and negative padding crops)', () => torch.scope(() => {
  const row = [1, 2, 3, 4, 5];
  const x = torch.tensor(row).reshape([1, 1, 5]);
  for (const mode of ['constant', 'reflect', 'replicate', 'circular'] as const) {
    assert.deepEqual(vals(torch.pad(x, [3, 2], mode, mode === 'constant' ? -1 : 0)), padRow(row, 3, 2, mode, -1), mode);
  }
  assert.deepEqual(vals(torch.pad(x, [-1, -2])), [2, 3]);
  // 2-D reflect: rows and columns independently
  const m = torch.arange(0, 9, 1, { dtype: 'float32' }).reshape([1, 1, 3, 3]);
  const got = torch.pad(m, [1, 1, 1, 1], 'reflect');
  const want: number[] = [];
  for (const i of [1, 0, 1, 2, 1]) for (const j of [1, 0, 1, 2, 1]) want.push(3 * i + j);
  assert.deepEqual(vals(got), want);
}));

// ---------------------------------------------------------------------------------------------
test('elementwise math, promotion, comparisons, clamp, round half to even, where', () => torch.scope(() => {
  const a = torch.tensor([1, -2, 3.5]), b = torch.tensor([2, 4, -1]);
  assert.deepEqual(vals(a.add(b)), [3, 2, 2.5]);
  assert.deepEqual(vals(a.add(b, 2)), [5, 6, 1.5]);
  assert.deepEqual(vals(a.sub(b)), [-1, -6, 4.5]);
  assert.deepEqual(vals(a.mul(b)), [2, -8, -3.5]);
  assert.deepEqual(vals(a.div(b)), [0.5, -0.5, -3.5]);
  assert.deepEqual(vals(torch.tensor([7, -7]).div(2, 'floor')), [3, -4]);
  assert.deepEqual(vals(torch.tensor([7, -7]).div(2, 'trunc')), [3, -3]);
  const i = torch.tensor([7, -7], { dtype: 'int64' });
  assert.deepEqual(vals(torch.div(i, torch.tensor([2, 2], { dtype: 'int64' }), 'floor')), [3, -4]);
  assert.equal(torch.div(i, 2, 'floor').dtype, 'int64');
  assert.deepEqual(vals(a.pow(2)), [1, 4, 12.25]);
  assert.deepEqual(vals(a.neg().abs()), [1, 2, 3.5]);
  close(vals(torch.tensor([0, 1]).exp()), [1, Math.E], 1e-6, 'exp');
  close(vals(torch.tensor([4, 9]).sqrt()), [2, 3], 0, 'sqrt');
  close(vals(torch.tensor([4]).rsqrt()), [0.5], 0, 'rsqrt');
  // type promotion as PyTorch: int64 tensor with a float scalar → float32; with an int scalar → int64
  assert.equal(i.add(1.5).dtype, 'float32');
  assert.equal(i.add(2).dtype, 'int64');
  assert.equal(i.div(2).dtype, 'float32', 'true division of integers is floating');
  assert.equal(torch.ones([2], { dtype: 'float16' }).add(torch.ones([2], { dtype: 'float32' })).dtype, 'float32');
  assert.equal(torch.ones([2], { dtype: 'bfloat16' }).mul(torch.full([], 2, { dtype: 'float64' })).dtype, 'bfloat16', 'a 0-d tensor does not promote');
  assert.equal(torch.ones([2], { dtype: 'bool' }).add(torch.ones([2], { dtype: 'bool' })).dtype, 'bool');
  // comparisons
  assert.deepEqual(vals(a.gt(b)), [0, 0, 1]);
  assert.deepEqual(vals(a.le(1)), [1, 1, 0]);
  assert.deepEqual(vals(a.eq(torch.tensor([1, 0, 3.5]))), [1, 0, 1]);
  assert.equal(a.ne(b).dtype, 'bool');
  // clamp, round (half to even), where
  assert.deepEqual(vals(a.clamp(-1, 2)), [1, -1, 2]);
  assert.deepEqual(vals(a.clamp(null, 0)), [0, -2, 0]);
  assert.deepEqual(vals(torch.tensor([0.5, 1.5, 2.5, -0.5, -1.5, 2.4999, 2.5001]).round()), [0, 2, 2, -0, -2, 2, 3]);
  close(vals(torch.tensor([1.2345, -2.5678], { dtype: 'float64' }).round(2)), [1.23, -2.57], 1e-12, 'round(decimals=2)');
  assert.deepEqual(vals(torch.where(a.gt(0), a, b)), [1, 4, 3.5]);
  assert.deepEqual(vals(torch.where(a.gt(0), a, 0)), [1, 0, 3.5]);
  assert.deepEqual(vals(torch.where(a.gt(0), 1, 0)), [1, 0, 1]);
  assert.deepEqual(vals(torch.lerp(torch.zeros([2]), torch.tensor([10, 20]), 0.25)), [2.5, 5]);
  assert.deepEqual(vals(torch.tensor([NaN, 1, Infinity]).isnan()), [1, 0, 0]);
  assert.deepEqual(vals(torch.nanToNum(torch.tensor([NaN, 1]), 7)), [7, 1]);
}));

test('the INT_MIN / -1 guard leaves ordinary integer division alone', () => torch.scope(() => {
  const min = -(2 ** 31);
  assert.deepEqual(vals(torch.div(torch.tensor([min, 9], { dtype: 'int32' }), torch.tensor([1, -2], { dtype: 'int32' }), 'floor')), [min, -5]);
  assert.deepEqual(vals(torch.div(torch.tensor([min + 1], { dtype: 'int32' }), -1, 'trunc')), [2 ** 31 - 1]);
  assert.throws(() => torch.div(torch.tensor([min], { dtype: 'int32' }), -1, 'trunc'), /integer division overflows/);
}));

test('activations: gelu exact and tanh, silu, sigmoid against their formulas', () => torch.scope(() => {
  const xs = seq(41, (i) => -5 + i * 0.25);
  const x = torch.tensor(xs, { dtype: 'float64' });
  const phi = (v: number) => 0.5 * (1 + erf(v / Math.SQRT2));
  close(vals(torch.gelu(x)), xs.map((v) => v * phi(v)), 1e-12, 'gelu exact');
  const k = Math.sqrt(2 / Math.PI);
  close(vals(torch.gelu(x, 'tanh')), xs.map((v) => 0.5 * v * (1 + Math.tanh(k * (v + 0.044715 * v ** 3)))), 1e-12, 'gelu tanh');
  close(vals(torch.silu(x)), xs.map((v) => v / (1 + Math.exp(-v))), 1e-12, 'silu');
  close(vals(torch.sigmoid(x)), xs.map((v) => 1 / (1 + Math.exp(-v))), 1e-12, 'sigmoid');
  close(vals(torch.softmax(torch.tensor([1, 2, 3], { dtype: 'float64' }), 0)), [1, 2, 3].map((v) => Math.exp(v) / (Math.E + Math.E ** 2 + Math.E ** 3)), 1e-12, 'softmax');
}));

/** erf by its Maclaurin series (|x| ≤ 3) or continued fraction (|x| > 3); ≈ 1e-15 absolute. */
function erf(x: number): number {
  const ax = Math.abs(x);
  if (ax > 3) {
    // erfc(x) = exp(-x²)/(x√π) · 1/(1+ 1/(2x²)/(1+ 2/(2x²)/(1+ …)))
    let f = 0;
    for (let n = 60; n >= 1; n--) f = (n / 2) / (ax + f);
    const erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / (ax + f);
    return Math.sign(x) * (1 - erfc);
  }
  let sum = 0, term = x;
  for (let n = 0; n < 200; n++) {
    sum += term / (2 * n + 1);
    term *= (-x * x) / (n + 1);
    if (Math.abs(term) < 1e-18) break;
  }
  return (2 / Math.sqrt(Math.PI)) * sum;
}

// ---------------------------------------------------------------------------------------------
test('reductions: sum, mean, amax/amin, argmax, std/var, norm, logsumexp, cumsum, sort, topk', () => torch.scope(() => {
  const m = torch.tensor([[1, 5, 2], [-3, 0, 4]], { dtype: 'float64' });
  assert.equal(m.sum().item(), 9);
  assert.deepEqual(vals(m.sum(0)), [-2, 5, 6]);
  assert.deepEqual(vals(m.sum(1, true)), [8, 1]);
  assert.deepEqual(m.sum(1, true).shape, [2, 1]);
  assert.equal(m.mean().item(), 1.5);
  assert.deepEqual(vals(m.amax(1)), [5, 4]);
  assert.deepEqual(vals(m.amin(0)), [-3, 0, 2]);
  assert.deepEqual(vals(m.argmax(1)), [1, 2]);
  assert.equal(m.argmax().item(), 1, 'argmax over the flattened tensor');
  const row = [1, 5, 2, -3, 0, 4], mean = 1.5;
  const ss = row.reduce((s, v) => s + (v - mean) ** 2, 0);
  close([m.var().item(), m.std().item(), m.var(null, 0).item()], [ss / 5, Math.sqrt(ss / 5), ss / 6], 1e-12, 'var/std (correction 1 and 0)');
  close([m.norm().item(), m.norm(1).item()], [Math.sqrt(row.reduce((s, v) => s + v * v, 0)), 15], 1e-12, 'norm');
  close(vals(torch.logsumexp(m, 1)), [Math.log(Math.E + Math.E ** 5 + Math.E ** 2), Math.log(Math.E ** -3 + 1 + Math.E ** 4)], 1e-12, 'logsumexp');
  assert.deepEqual(vals(torch.cumsum(m, 1)), [1, 6, 8, -3, -3, 1]);
  const [sv, si] = torch.sort(torch.tensor([3, 1, 2, 1]));
  assert.deepEqual([vals(sv), vals(si)], [[1, 1, 2, 3], [1, 3, 2, 0]], 'stable sort');
  const [tv, ti] = torch.topk(torch.tensor([3, 1, 4, 1, 5]), 2);
  assert.deepEqual([vals(tv), vals(ti)], [[5, 4], [4, 2]]);
}));

test('matmul, bmm, linear against JS loops', () => torch.scope(() => {
  const A = rnd([3, 4], 1), B = rnd([4, 2], 2);
  const a = vals(A), b = vals(B);
  const want = seq(6, (n) => { const i = Math.floor(n / 2), j = n % 2; let s = 0; for (let k = 0; k < 4; k++) s += a[i * 4 + k]! * b[k * 2 + j]!; return s; });
  close(vals(torch.matmul(A, B)), want, 1e-12, 'matmul');
  close(vals(torch.mm(A, B)), want, 1e-12, 'mm');
  close(vals(torch.bmm(A.unsqueeze(0), B.unsqueeze(0))), want, 1e-12, 'bmm');
  const bias = torch.tensor([0.5, -1], { dtype: 'float64' });
  close(vals(torch.linear(A, B.t(), bias)), want.map((v, n) => v + [0.5, -1][n % 2]!), 1e-12, 'linear');
  // broadcasting batch matmul
  assert.deepEqual(torch.matmul(rnd([5, 1, 3, 4]), rnd([2, 4, 6])).shape, [5, 2, 3, 6]);
  close(vals(torch.einsum('ij,jk->ik', A, B)), want, 1e-12, 'einsum');
}));

/** Direct convolution (PyTorch's cross-correlation) with stride, padding, dilation and groups. */
function conv2dRef(x: number[], xs: number[], w: number[], ws: number[], bias: number[] | null, o: { stride: number[]; padding: number[]; dilation: number[]; groups: number }): { out: number[]; shape: number[] } {
  const [n, cin, h, wd] = xs as [number, number, number, number];
  const [cout, cpg, kh, kw] = ws as [number, number, number, number];
  const oh = Math.floor((h + 2 * o.padding[0]! - o.dilation[0]! * (kh - 1) - 1) / o.stride[0]!) + 1;
  const ow = Math.floor((wd + 2 * o.padding[1]! - o.dilation[1]! * (kw - 1) - 1) / o.stride[1]!) + 1;
  const out: number[] = [];
  const opg = cout / o.groups;
  for (let b = 0; b < n; b++) for (let co = 0; co < cout; co++) for (let y = 0; y < oh; y++) for (let xx = 0; xx < ow; xx++) {
    const g = Math.floor(co / opg);
    let s = bias ? bias[co]! : 0;
    for (let ci = 0; ci < cpg; ci++) for (let i = 0; i < kh; i++) for (let j = 0; j < kw; j++) {
      const iy = y * o.stride[0]! - o.padding[0]! + i * o.dilation[0]!, ix = xx * o.stride[1]! - o.padding[1]! + j * o.dilation[1]!;
      if (iy < 0 || iy >= h || ix < 0 || ix >= wd) continue;
      s += x[((b * cin + g * cpg + ci) * h + iy) * wd + ix]! * w[((co * cpg + ci) * kh + i) * kw + j]!;
    }
    out.push(s);
  }
  return { out, shape: [n, cout, oh, ow] };
}

test('conv2d against a direct convolution: stride, padding, dilation, groups, channels-last', () => torch.scope(() => {
  const cases = [
    { xs: [2, 3, 7, 6], ws: [4, 3, 3, 3], stride: [1, 1], padding: [1, 1], dilation: [1, 1], groups: 1 },
    { xs: [1, 4, 9, 8], ws: [6, 2, 3, 2], stride: [2, 3], padding: [2, 0], dilation: [1, 2], groups: 2 },
    { xs: [1, 3, 6, 6], ws: [3, 1, 3, 3], stride: [1, 1], padding: [0, 0], dilation: [2, 2], groups: 3 },
  ];
  for (const [k, cs] of cases.entries()) {
    const x = rnd(cs.xs, 10 + k), w = rnd(cs.ws, 20 + k), b = rnd([cs.ws[0]!], 30 + k);
    const ref = conv2dRef(vals(x), cs.xs, vals(w), cs.ws, vals(b), cs);
    const got = torch.conv2d(x, w, b, { stride: cs.stride as [number, number], padding: cs.padding as [number, number], dilation: cs.dilation as [number, number], groups: cs.groups });
    assert.deepEqual(got.shape, ref.shape);
    close(vals(got), ref.out, 1e-12, `conv2d case ${k}`);
    const cl = torch.conv2d(x.contiguous('channels_last'), w, b, { stride: cs.stride as [number, number], padding: cs.padding as [number, number], dilation: cs.dilation as [number, number], groups: cs.groups });
    close(vals(cl), ref.out, 1e-12, `conv2d channels-last case ${k}`);
  }
  // float32 and bfloat16 against the float64 reference
  const x = rnd([1, 8, 10, 10], 5), w = rnd([8, 8, 3, 3], 6);
  const ref = conv2dRef(vals(x), [1, 8, 10, 10], vals(w), [8, 8, 3, 3], null, { stride: [1, 1], padding: [1, 1], dilation: [1, 1], groups: 1 });
  close(vals(torch.conv2d(x.float(), w.float(), null, { padding: 1 })), ref.out, 1e-4, 'conv2d float32');
  close(vals(torch.conv2d(x.bfloat16().contiguous('channels_last'), w.bfloat16(), null, { padding: 1 })), ref.out, 0.5, 'conv2d bfloat16 channels-last');
}));

// ---------------------------------------------------------------------------------------------
// Interpolation references: PyTorch 1.13's upsample kernels (UpSample.h), scale factors passed through.

function srcIndex(dst: number, inSize: number, outSize: number, alignCorners: boolean, scale: number | null, cubic: boolean): number {
  if (alignCorners) return outSize > 1 ? (dst * (inSize - 1)) / (outSize - 1) : 0;
  const s = scale !== null && scale > 0 ? 1 / scale : inSize / outSize;
  const r = s * (dst + 0.5) - 0.5;
  return !cubic && r < 0 ? 0 : r;
}

function cubicWeights(t: number): number[] {
  const A = -0.75;
  const c1 = (x: number) => ((A + 2) * x - (A + 3)) * x * x + 1;
  const c2 = (x: number) => ((A * x - 5 * A) * x + 8 * A) * x - 4 * A;
  return [c2(t + 1), c1(t), c1(1 - t), c2(2 - t)];
}

function interpRef(x: number[], h: number, w: number, oh: number, ow: number, mode: string, alignCorners: boolean, scale: number | null): number[] {
  const at = (y: number, xx: number) => x[Math.min(Math.max(y, 0), h - 1) * w + Math.min(Math.max(xx, 0), w - 1)]!;
  const out: number[] = [];
  for (let i = 0; i < oh; i++) for (let j = 0; j < ow; j++) {
    if (mode === 'nearest') {
      const sy = scale ? 1 / scale : h / oh, sx = scale ? 1 / scale : w / ow;
      out.push(at(Math.min(Math.floor(i * sy), h - 1), Math.min(Math.floor(j * sx), w - 1)));
    } else if (mode === 'bilinear') {
      const sy = srcIndex(i, h, oh, alignCorners, scale, false), sx = srcIndex(j, w, ow, alignCorners, scale, false);
      const y0 = Math.floor(sy), x0 = Math.floor(sx), ly = sy - y0, lx = sx - x0;
      const y1 = y0 + (y0 < h - 1 ? 1 : 0), x1 = x0 + (x0 < w - 1 ? 1 : 0);
      out.push((1 - ly) * ((1 - lx) * at(y0, x0) + lx * at(y0, x1)) + ly * ((1 - lx) * at(y1, x0) + lx * at(y1, x1)));
    } else if (mode === 'bicubic') {
      const sy = srcIndex(i, h, oh, alignCorners, scale, true), sx = srcIndex(j, w, ow, alignCorners, scale, true);
      const y0 = Math.floor(sy), x0 = Math.floor(sx);
      const wy = cubicWeights(sy - y0), wx = cubicWeights(sx - x0);
      let s = 0;
      for (let a = 0; a < 4; a++) for (let b = 0; b < 4; b++) s += wy[a]! * wx[b]! * at(y0 - 1 + a, x0 - 1 + b);
      out.push(s);
    } else { // area = adaptive average pooling
      const ys = Math.floor((i * h) / oh), ye = Math.ceil(((i + 1) * h) / oh);
      const xs = Math.floor((j * w) / ow), xe = Math.ceil(((j + 1) * w) / ow);
      let s = 0;
      for (let y = ys; y < ye; y++) for (let xx = xs; xx < xe; xx++) s += at(y, xx);
      out.push(s / ((ye - ys) * (xe - xs)));
    }
  }
  return out;
}

test('interpolate nearest, bilinear, bicubic (align_corners both ways), area against PyTorch formulas', () => torch.scope(() => {
  const [h, w] = [5, 7];
  const x = rnd([1, 1, h, w], 42);
  const xv = vals(x);
  const cases: { mode: 'nearest' | 'bilinear' | 'bicubic' | 'area'; size?: [number, number]; scale?: number; ac?: boolean }[] = [
    { mode: 'nearest', size: [11, 3] }, { mode: 'nearest', scale: 2 },
    { mode: 'bilinear', size: [9, 13], ac: false }, { mode: 'bilinear', size: [9, 13], ac: true }, { mode: 'bilinear', scale: 1.5, ac: false },
    { mode: 'bilinear', size: [3, 4], ac: false },
    { mode: 'bicubic', size: [12, 16], ac: false }, { mode: 'bicubic', size: [12, 16], ac: true }, { mode: 'bicubic', scale: 4, ac: false },
    { mode: 'bicubic', size: [3, 2], ac: false }, { mode: 'bicubic', size: [1, 1], ac: true },
    { mode: 'area', size: [2, 3] }, { mode: 'area', size: [5, 7] }, { mode: 'area', size: [3, 4] },
  ];
  for (const cs of cases) {
    const oh = cs.size ? cs.size[0] : Math.floor(h * cs.scale!), ow = cs.size ? cs.size[1] : Math.floor(w * cs.scale!);
    const opts = cs.size ? { size: cs.size, mode: cs.mode } : { scaleFactor: cs.scale!, mode: cs.mode };
    const got = torch.interpolate(x, cs.ac === undefined ? opts : { ...opts, alignCorners: cs.ac });
    assert.deepEqual(got.shape, [1, 1, oh, ow]);
    close(vals(got), interpRef(xv, h, w, oh, ow, cs.mode, cs.ac ?? false, cs.size ? null : cs.scale!), 1e-12, `${cs.mode} ${JSON.stringify(cs)}`);
  }
}));

test('pixel_shuffle and pixel_unshuffle against index arithmetic; they invert each other', () => torch.scope(() => {
  const r = 2, c = 2, h = 3, w = 2;
  const x = torch.arange(0, c * r * r * h * w, 1, { dtype: 'float32' }).reshape([1, c * r * r, h, w]);
  const y = torch.pixelShuffle(x, r);
  assert.deepEqual(y.shape, [1, c, h * r, w * r]);
  const want: number[] = [];
  for (let cc = 0; cc < c; cc++) for (let yy = 0; yy < h * r; yy++) for (let xx = 0; xx < w * r; xx++) {
    const ic = cc * r * r + (yy % r) * r + (xx % r);
    want.push((ic * h + Math.floor(yy / r)) * w + Math.floor(xx / r));
  }
  assert.deepEqual(vals(y), want);
  assert.deepEqual(vals(torch.pixelUnshuffle(y, r)), vals(x));
}));

test('gather, index_select, index, embedding, scatter', () => torch.scope(() => {
  const m = torch.tensor([[1, 2, 3], [4, 5, 6]]);
  assert.deepEqual(vals(m.gather(1, torch.tensor([[2, 0], [1, 1]], { dtype: 'int64' }))), [3, 1, 5, 5]);
  assert.deepEqual(vals(m.indexSelect(1, torch.tensor([2, 0], { dtype: 'int64' }))), [3, 1, 6, 4]);
  assert.throws(() => m.indexSelect(0, torch.tensor([-1], { dtype: 'int64' })), /must lie in \[0, 2\)/, 'index_select takes no negative indices (as PyTorch)');
  assert.deepEqual(vals(torch.index(m, [torch.tensor([-1], { dtype: 'int64' })])), [4, 5, 6], 'advanced indexing counts negatives from the end');
  assert.deepEqual(vals(torch.index(m, [null, torch.tensor([1], { dtype: 'int64' })])), [2, 5]);
  assert.deepEqual(vals(torch.index(m, [m.gt(3)])), [4, 5, 6]);
  assert.deepEqual(vals(torch.embedding(torch.tensor([2, 0], { dtype: 'int64' }), torch.tensor([[0, 1], [2, 3], [4, 5]]))), [4, 5, 0, 1]);
  assert.deepEqual(vals(torch.scatterAdd(torch.zeros([3]), 0, torch.tensor([0, 2, 0], { dtype: 'int64' }), torch.tensor([1, 2, 3]))), [4, 0, 2]);
}));

// ---------------------------------------------------------------------------------------------
/** Naive 2-D DFT of a real or complex [h, w] array: X[k,l] = Σ x[m,n] e^{-2πi(km/h + ln/w)}. */
function dft2(re: number[], im: number[], h: number, w: number, sign = -1): { re: number[]; im: number[] } {
  const ore: number[] = [], oim: number[] = [];
  for (let k = 0; k < h; k++) for (let l = 0; l < w; l++) {
    let sr = 0, si = 0;
    for (let m = 0; m < h; m++) for (let n = 0; n < w; n++) {
      const a = sign * 2 * Math.PI * ((k * m) / h + (l * n) / w);
      const xr = re[m * w + n]!, xi = im[m * w + n]!;
      sr += xr * Math.cos(a) - xi * Math.sin(a);
      si += xr * Math.sin(a) + xi * Math.cos(a);
    }
    ore.push(sr); oim.push(si);
  }
  return { re: ore, im: oim };
}

test('fft2, rfft2, irfft2 against a direct DFT', () => torch.scope(() => {
  const [h, w] = [4, 6];
  const x = rnd([h, w], 7);
  const xv = vals(x);
  const ref = dft2(xv, xv.map(() => 0), h, w);
  const F = torch.viewAsReal(torch.fft2(x));
  const fv = vals(F);
  close(fv.filter((_, i) => i % 2 === 0), ref.re, 1e-10, 'fft2 real part');
  close(fv.filter((_, i) => i % 2 === 1), ref.im, 1e-10, 'fft2 imaginary part');
  const R = torch.rfft2(x);
  assert.deepEqual(R.shape, [h, w / 2 + 1]);
  const rv = vals(torch.viewAsReal(R));
  const half = (a: number[]) => a.filter((_, i) => i % w <= w / 2);
  close(rv.filter((_, i) => i % 2 === 0), half(ref.re), 1e-10, 'rfft2 real part');
  close(rv.filter((_, i) => i % 2 === 1), half(ref.im), 1e-10, 'rfft2 imaginary part');
  close(vals(torch.irfft2(R, [h, w])), xv, 1e-12, 'irfft2(rfft2(x)) = x');
  const ortho = torch.viewAsReal(torch.fft2(x, undefined, [-2, -1], 'ortho'));
  close(vals(ortho).filter((_, i) => i % 2 === 0), ref.re.map((v) => v / Math.sqrt(h * w)), 1e-10, 'fft2 norm=ortho');
  // odd last size round trip
  const y = rnd([3, 5], 8);
  close(vals(torch.irfft2(torch.rfft2(y), [3, 5])), vals(y), 1e-12, 'irfft2 odd size');
}));

// ---------------------------------------------------------------------------------------------
test('in-place and out= variants write into the given tensor', () => torch.scope(() => {
  const a = torch.tensor([1, 2, 3]);
  const h = a.handle;
  a.add_(1).mul_(2).sub_(torch.tensor([1, 1, 1])).div_(2).clamp_(2, 3);
  assert.deepEqual(vals(a), [2, 2.5, 3]);
  assert.equal(a.handle, h, 'in-place ops keep the tensor');
  a.copy_(torch.tensor([7, 8, 9], { dtype: 'int64' }));
  assert.deepEqual(vals(a), [7, 8, 9]);
  assert.equal(a.dtype, 'float32', 'copy_ converts to the destination dtype');
  a.fill_(0.5);
  assert.deepEqual(vals(a), [0.5, 0.5, 0.5]);
  a.addcmul_(torch.tensor([1, 2, 3]), torch.tensor([2, 2, 2]), 0.5);
  assert.deepEqual(vals(a), [1.5, 2.5, 3.5]);
  a.zero_();
  assert.deepEqual(vals(a), [0, 0, 0]);
  const out = torch.empty([3]);
  const before = out.handle;
  torch.addOut(out, torch.tensor([1, 2, 3]), torch.tensor([10, 20, 30]), 2);
  assert.deepEqual(vals(out), [21, 42, 63]);
  torch.mulOut(out, out, torch.tensor([0.5, 0.5, 0.5]));
  assert.deepEqual(vals(out), [10.5, 21, 31.5]);
  assert.equal(out.handle, before);
  const mo = torch.empty([2, 2]);
  torch.matmulOut(mo, torch.tensor([[1, 2], [3, 4]]), torch.eye(2));
  assert.deepEqual(vals(mo), [1, 2, 3, 4]);
  assert.throws(() => torch.matmulOut(mo, mo, torch.eye(2)), /overlap/);
  assert.throws(() => torch.addOut(torch.zeros([3]).requiresGrad_(), torch.ones([3]), torch.ones([3])), /must not require grad/);
}));

test('dtype round trips, float16/bfloat16 bit patterns, to(dtype) rules', () => torch.scope(() => {
  const x = torch.tensor([1, -2, 65504, 1 / 3, 0.1]);
  assert.deepEqual(Array.from(x.to('float16').toArray() as Uint16Array), [0x3c00, 0xc000, 0x7bff, 0x3555, 0x2e66]);
  assert.deepEqual(Array.from(torch.tensor([1, -2, 1 / 3, 0.1]).to('bfloat16').toArray() as Uint16Array), [0x3f80, 0xc000, 0x3eab, 0x3dcd]);
  // bits in → values out
  const h = torch.fromTypedArray(Uint16Array.of(0x3c00, 0x7c00, 0x0001), [3], 'float16');
  assert.deepEqual(vals(h), [1, Infinity, 2 ** -24]);
  const b = torch.fromTypedArray(Uint16Array.of(0x4049), [1], 'bfloat16');
  assert.equal(vals(b)[0], 3.140625);
  assert.equal(torch.tensor([70000]).to('float16').toFloat32Array()[0], Infinity, 'float16 overflows to inf');
  // float → int truncates toward zero; → bool is "nonzero"
  assert.deepEqual(vals(torch.tensor([1.9, -1.9, 0.5]).to('int64')), [1, -1, 0]);
  assert.deepEqual(vals(torch.tensor([0, 0.1, -3]).to('bool')), [0, 1, 1]);
  assert.deepEqual(vals(torch.tensor([true, false]).to('float32')), [1, 0]);
  assert.deepEqual(vals(torch.tensor([300, -1]).to('uint8')), [44, 255], 'out-of-range to uint8 wraps (as PyTorch on x86)');
  // round trips through every supported dtype
  const small = torch.tensor([0, 1, 2, 3]);
  for (const d of ['float64', 'float16', 'bfloat16', 'int64', 'int32', 'int16', 'int8', 'uint8'] as const) {
    assert.deepEqual(vals(small.to(d).to('float32')), [0, 1, 2, 3], d);
    assert.equal(small.to(d).dtype, d);
  }
  // large int64 values survive toArray exactly
  assert.equal(torch.fromTypedArray(BigInt64Array.of(2n ** 62n + 1n)).toArray()[0], 2n ** 62n + 1n);
  // bytes round trip
  const bytes = torch.tensor([1.5, -2]).toBytes();
  assert.deepEqual(vals(torch.fromBytes(bytes, 'float32', [2])), [1.5, -2]);
  const buf = new Float32Array(2);
  torch.tensor([3, 4]).copyInto(buf);
  assert.deepEqual(Array.from(buf), [3, 4]);
}));

test('channels-last: strides, contiguity, preserved through ops, same values', () => torch.scope(() => {
  const x = torch.arange(0, 120, 1, { dtype: 'float32' }).reshape([2, 3, 4, 5]);
  const cl = x.contiguous('channels_last');
  assert.deepEqual(cl.stride(), [60, 1, 15, 3]);
  assert.ok(cl.isContiguous('channels_last'));
  assert.ok(!cl.isContiguous());
  assert.ok(x.isContiguous() && !x.isContiguous('channels_last'));
  assert.deepEqual(vals(cl), vals(x), 'same logical values');
  assert.ok(cl.add(1).isContiguous('channels_last'), 'elementwise ops keep channels-last');
  assert.ok(torch.silu(cl).isContiguous('channels_last'));
  assert.ok(cl.clone().isContiguous('channels_last'), 'clone preserves the format');
  assert.ok(cl.to({ dtype: 'bfloat16' }).isContiguous('channels_last'), 'to(dtype) preserves the format');
  assert.ok(x.to({ memoryFormat: 'channels_last' }).isContiguous('channels_last'));
  const w = rnd([4, 3, 3, 3], 3, 'float32');
  assert.ok(torch.conv2d(cl, w, null, { padding: 1 }).isContiguous('channels_last'), 'conv2d of a channels-last input is channels-last');
  close(vals(torch.conv2d(cl, w, null, { padding: 1 })), vals(torch.conv2d(x, w, null, { padding: 1 })), 1e-3, 'conv2d channels-last = NCHW');
  assert.ok(!torch.zeros([2, 3]).isContiguous('channels_last'), 'channels-last needs 4 dimensions');
}));

test('group_norm and layer_norm against their formulas', () => torch.scope(() => {
  const x = rnd([2, 4, 3, 3], 9);
  const xv = vals(x);
  const want: number[] = [];
  const G = 2, per = 2 * 9;
  for (let n = 0; n < 2; n++) for (let g = 0; g < G; g++) {
    const seg = xv.slice((n * G + g) * per, (n * G + g + 1) * per);
    const m = seg.reduce((a, b) => a + b, 0) / per;
    const v = seg.reduce((a, b) => a + (b - m) ** 2, 0) / per;
    for (const e of seg) want.push((e - m) / Math.sqrt(v + 1e-5));
  }
  close(vals(torch.groupNorm(x, 2)), want, 1e-12, 'groupNorm');
  const y = rnd([3, 5], 4);
  const yv = vals(y);
  const ln: number[] = [];
  for (let r = 0; r < 3; r++) {
    const seg = yv.slice(r * 5, r * 5 + 5);
    const m = seg.reduce((a, b) => a + b, 0) / 5;
    const v = seg.reduce((a, b) => a + (b - m) ** 2, 0) / 5;
    for (const e of seg) ln.push(((e - m) / Math.sqrt(v + 1e-5)) * 2 + 1);
  }
  close(vals(torch.layerNorm(y, [5], torch.full([5], 2, { dtype: 'float64' }), torch.ones([5], { dtype: 'float64' }))), ln, 1e-12, 'layerNorm');
}));
