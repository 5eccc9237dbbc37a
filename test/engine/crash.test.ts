// Crash test (issue 2, item 3): every public op and Tensor method, fed hostile arguments, must throw
// an Error or return — never crash the process. The fuzz runs in a child process (this same file
// with VPDSR_CRASH_DRIVER=1) under an address-space limit, so a segfault, abort or out-of-memory
// kill is seen from outside and reported with the op and arguments that caused it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { openSync, readFileSync, writeSync, ftruncateSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as torch from '../../src/engine/index.js';
import * as ops from '../../src/engine/ops/index.js';
import { Tensor } from '../../src/engine/index.js';

const self = fileURLToPath(import.meta.url);

// ---------------------------------------------------------------------------------------------
// Hostile values. Sizes are either small or far past the child's address-space limit, so that a
// call the op accepts cannot spend minutes filling gigabytes.

type Pool = { values: unknown[]; names: string[] };

/** A deterministic PRNG (mulberry32) so that a failing case can be replayed by op and index. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function describe(v: unknown, depth = 0): string {
  try {
    return describeUnsafe(v, depth);
  } catch {
    return '<object with a throwing getter>';
  }
}

function describeUnsafe(v: unknown, depth: number): string {
  if (v instanceof Tensor) {
    if (v.isDisposed) return 'Tensor<disposed>';
    try {
      return `Tensor<${v.dtype}[${v.shape.join(',')}]${v.isContiguous() ? '' : ',strided'}>`;
    } catch {
      return 'Tensor<invalid>';
    }
  }
  if (typeof v === 'bigint') return `${v}n`;
  if (typeof v === 'symbol') return v.toString();
  if (typeof v === 'function') return 'function';
  if (typeof v === 'number') return Object.is(v, -0) ? '-0' : String(v);
  if (v === undefined) return 'undefined';
  if (ArrayBuffer.isView(v)) return `${v.constructor.name}(${(v as Uint8Array).length})`;
  if (Array.isArray(v)) {
    if (depth > 2) return '[…]';
    const head = Array.from(v.slice(0, 6), (e) => describe(e, depth + 1));
    return `[${head.join(', ')}${v.length > 6 ? `, … (${v.length})` : ''}]`;
  }
  if (v instanceof ops.Generator) return 'Generator';
  if (typeof v === 'object' && v !== null) {
    return depth > 2 ? '{…}' : `{${Object.entries(v).map(([k, e]) => `${k}: ${describe(e, depth + 1)}`).join(', ')}}`;
  }
  const j = JSON.stringify(v);
  return j.length > 40 ? `${j.slice(0, 40)}…(${j.length})` : j;
}

/** Fresh tensors for one op (in-place ops may have changed the previous op's). */
function makePool(): Pool {
  const named: [string, unknown][] = [];
  const add = (n: string, v: unknown) => named.push([n, v]);
  const f4 = torch.randn([2, 4, 8, 8], { generator: new ops.Generator(1) });
  add('f4', f4);
  add('f3', torch.randn([3]));
  add('f2', torch.randn([4, 4]));
  add('f0d', torch.full([], 1.5));
  add('empty', torch.zeros([0, 3]));
  add('empty4', torch.zeros([0, 4, 8, 8]));
  add('i64', torch.arange(0, 4));
  add('i64neg', torch.tensor([-7, 3, 2 ** 40], { dtype: 'int64' }));
  add('i64x4', torch.zeros([2, 4, 8, 8], { dtype: 'int64' }));
  add('i32', torch.tensor([0, 1], { dtype: 'int32' }));
  add('b4', torch.zeros([2, 4, 8, 8], { dtype: 'bool' }));
  add('b1', torch.tensor([true, false, true]));
  add('u8', torch.zeros([2, 3], { dtype: 'uint8' }));
  add('f16', torch.randn([2, 4, 8, 8]).to({ dtype: 'float16' }));
  add('bf16', torch.randn([2, 4]).to({ dtype: 'bfloat16' }));
  add('f64', torch.randn([2, 3], { dtype: 'float64' }));
  add('c64', torch.fft2(torch.randn([4, 4])));
  add('cl', torch.randn([2, 4, 8, 8]).contiguous('channels_last'));
  add('strided', torch.randn([8, 4]).t());
  add('expanded', torch.randn([1, 4]).expand([4, 4]));
  add('leaf', torch.randn([2, 4, 8, 8]).requiresGrad_());
  const dead = torch.randn([2, 2]);
  dead.dispose();
  add('disposed', dead);
  add('[f4,f4]', [f4, f4]);
  add('[f4,disposed]', [f4, dead]);
  add('[f4,1]', [f4, 1]);
  add('[f4,i64]', [f4, named[6]![1]]);
  add('[f4,null]', [f4, null]);
  for (const n of [0, 1, 2, 3, -1, -3, 1.5, -0, NaN, Infinity, -Infinity, 2 ** 31, -(2 ** 31), 2 ** 40, 2 ** 53, 1e300, Number.MIN_VALUE]) add(String(n), n);
  for (const s of ['', 'abc', 'float32', 'int64', 'bool', 'cpu', 'cuda:99', 'bicubic', 'reflect', 'channels_last', 'x'.repeat(100000)]) add(JSON.stringify(s.slice(0, 20)), s);
  add('null', null);
  add('undefined', undefined);
  add('true', true);
  add('false', false);
  add('1n', 1n);
  add('2**70n', 2n ** 70n);
  add('symbol', Symbol('s'));
  add('fn', () => 1);
  add('{}', {});
  add('[]', []);
  for (const l of [[1], [2, 3], [-1], [0, 0], [2, 4, 8, 8], [-1, -1], [NaN], [1.5], ['a'], [null], [2 ** 40, 2 ** 40], [2 ** 31, 2 ** 31, 2 ** 31], [1, 2, 3, 4, 5, 6, 7, 8, 9], [[1]], [1n]]) add(JSON.stringify(l.map(String)), l);
  add('bigArray', new Array(100000).fill(1));
  add('holeyArray', new Array(3));
  add('Float32Array(3)', new Float32Array(3));
  add('Uint8Array(0)', new Uint8Array(0));
  add('BigInt64Array(2)', new BigInt64Array(2));
  add('Generator', new ops.Generator(3));
  add('{float:NaN}', { float: NaN });
  add('{handle:1}', { handle: 1, isDisposed: false });
  add('fakeTensor', Object.create(Tensor.prototype));
  add('{dtype:"x"}', { dtype: 'x' });
  add('{dtype:"float64"}', { dtype: 'float64' });
  add('{device:"cuda"}', { device: 'cuda' });
  add('{device:"cuda:99"}', { device: 'cuda:99' });
  add('{requiresGrad:1}', { requiresGrad: 1 });
  add('{stride:0}', { stride: 0 });
  add('{stride:[1,-1]}', { stride: [1, -1] });
  add('{padding:-1}', { padding: -1 });
  add('{padding:2**40}', { padding: 2 ** 40 });
  add('{dilation:2**31}', { dilation: 2 ** 31 });
  add('{groups:0}', { groups: 0 });
  add('{groups:3}', { groups: 3 });
  add('{groups:NaN}', { groups: NaN });
  add('{outputPadding:5}', { outputPadding: 5 });
  add('{size:[2**40,2**40]}', { size: [2 ** 40, 2 ** 40] });
  add('{size:[2**24,2**24]}', { size: [2 ** 24, 2 ** 24] });
  add('{size:[0,0]}', { size: [0, 0] });
  add('{size:7}', { size: 7 });
  add('{scaleFactor:NaN}', { scaleFactor: NaN });
  add('{scaleFactor:1e-300}', { scaleFactor: 1e-300 });
  add('{scaleFactor:2**24}', { scaleFactor: 2 ** 24 });
  add('{scaleFactor:[2]}', { scaleFactor: [2] });
  add('{scaleFactor:2,mode:"bicubic",alignCorners:true}', { scaleFactor: 2, mode: 'bicubic', alignCorners: true });
  add('{scaleFactor:0.3,mode:"area"}', { scaleFactor: 0.3, mode: 'area' });
  add('{size:3,mode:"x"}', { size: 3, mode: 'x' });
  add('{size:[3,3],mode:"bilinear",antialias:true}', { size: [3, 3], mode: 'bilinear', antialias: true });
  add('{alignCorners:"yes"}', { alignCorners: 'yes', size: 2 });
  add('{gradOutputs:[1]}', { gradOutputs: [1] });
  add('{generator:{}}', { generator: {} });
  add('{memoryFormat:"x"}', { memoryFormat: 'x' });
  add('{ceilMode:1}', { ceilMode: 1, stride: 1 });
  add('{countIncludePad:"x"}', { countIncludePad: 'x' });
  add('proxyThrows', new Proxy({}, { get() { throw new Error('proxy get'); } }));
  add('getterThrows', Object.defineProperty({}, 'size', { get() { throw new RangeError('getter'); }, enumerable: true }));
  return { values: named.map((e) => e[1]), names: named.map((e) => e[0]) };
}

/** Argument vectors that are nearly right for many ops, so substitutions reach the deeper checks. */
function baselines(p: Pool): unknown[][] {
  const g = (n: string) => p.values[p.names.indexOf(n)];
  const f4 = g('f4'), f2 = g('f2'), i64 = g('i64');
  return [
    [], [f4], [f4, f4], [f4, f4, f4], [f4, 1], [f4, 1, 1], [f4, 2, f4], [f4, 0, i64], [f4, [1, 1]], [f4, { size: [4, 4] }],
    [f4, 2, g('{}')], [f4, f4, null, {}], [[f4, f4]], [[f4, f4], 1], [[2, 3]], [[2, 3], 1], [2, 3, [2]],
    [f2, f2], [i64, f2], [f4, [0, 1, 2, 3]], ['ij,jk->ik', f2, f2], [f4, 2, null, null, 1e-5],
    [f4, torch.randn([4, 4, 3, 3]), null, { padding: 1 }],
  ];
}

interface CallResult { ok: boolean; bad?: string; kind: 'returned' | 'checked' | 'aten' | 'other'; message?: string }

/** Runs one call; an ordinary Error is fine, a non-Error throw or an internal JS error is not. */
function attempt(fn: (...a: unknown[]) => unknown, args: unknown[], thisArg?: unknown): CallResult {
  try {
    torch.scope(() => { fn.apply(thisArg, args); });
    return { ok: true, kind: 'returned' };
  } catch (e) {
    if (!(e instanceof Error)) return { ok: false, kind: 'other', bad: `threw a non-Error: ${String(e)}` };
    const first = e.message.split('\n')[0] ?? '';
    if (!first.trim()) return { ok: false, kind: 'other', bad: `${e.name} with an empty message` };
    // Our own hostile getters/proxies may throw through; that is the caller's error, faithfully passed on.
    if (/^(proxy get|getter)$/.test(e.message)) return { ok: false, kind: 'checked' };
    if (e instanceof RangeError && /call stack/.test(e.message)) return { ok: false, kind: 'other', bad: `stack overflow: ${first}` };
    if (e instanceof torch.ArgumentError) return { ok: false, kind: 'checked', message: first };
    // JavaScript's own errors from inside an op mean an argument went unchecked: not a clear error line.
    if (/Cannot read propert|is not a function|is not iterable|Cannot convert a (Symbol|BigInt)|Cannot mix BigInt|is not a constructor|Invalid array length/.test(first)) {
      return { ok: false, kind: 'other', bad: `unchecked argument (${e.name}: ${first})` };
    }
    if (/^aten::/.test(first)) return { ok: false, kind: 'aten', message: first };
    return { ok: false, kind: 'other', message: `${e.name}: ${first}` };
  }
}

// ---------------------------------------------------------------------------------------------
// Hand-written hostile cases per family: edge shapes (empty, zero channels, 0-d), huge sizes,
// wrong dtypes and devices, autograd misuse. `throws`: the call must be refused; `any`: PyTorch
// accepts it (an empty result, say), and it must simply not crash.

interface HandCase { name: string; run: () => unknown; expect: 'throws' | 'any' }

function handCases(): HandCase[] {
  const out: HandCase[] = [];
  const th = (name: string, run: () => unknown) => out.push({ name, run, expect: 'throws' });
  const ok = (name: string, run: () => unknown) => out.push({ name, run, expect: 'any' });
  const f = (...s: number[]) => torch.randn(s);
  const z = (s: number[], dtype: torch.DType = 'float32') => torch.zeros(s, { dtype });
  const meta = (s: number[]) => torch.empty(s, { device: 'meta' });

  // creation
  th('zeros 2^40', () => torch.zeros([2 ** 40]));
  th('zeros [2^22,2^22]', () => torch.zeros([2 ** 22, 2 ** 22]));
  th('zeros 2^45', () => torch.zeros([2 ** 45]));
  th('ones [-1]', () => torch.ones([-1]));
  th('full NaN size', () => torch.full([NaN], 1));
  th('empty 1.5', () => torch.empty([1.5]));
  th('arange 0..2^44', () => torch.arange(0, 2 ** 44));
  th('arange step 0', () => torch.arange(0, 10, 0));
  th('arange NaN', () => torch.arange(0, NaN));
  th('arange backwards huge', () => torch.arange(2 ** 50, 0, -1));
  ok('arange empty', () => torch.arange(5, 0));
  th('linspace 2^44', () => torch.linspace(0, 1, 2 ** 44));
  th('eye 2^22', () => torch.eye(2 ** 22));
  th('randperm 2^40', () => torch.randperm(2 ** 40));
  th('randint 2^40', () => torch.randint(0, 10, [2 ** 40]));
  th('randint low>=high', () => torch.randint(5, 5, [3]));
  th('arange bool', () => torch.arange(0, 10, 1, { dtype: 'bool' }));
  ok('arange uint8 wraps', () => torch.arange(0, 300, 1, { dtype: 'uint8' }));
  th('randint out of int8 range', () => torch.randint(-(2 ** 40), 2 ** 40, [3], { dtype: 'int8' }));
  th('randint bool', () => torch.randint(0, 10, [3], { dtype: 'bool' }));
  th('randint float16 huge', () => torch.randint(0, 2 ** 40, [3], { dtype: 'float16' }));
  th('uniform_ infinite range', () => z([3]).uniform_(-1e308, 1e308));
  th('multinomial empty', () => torch.multinomial(z([0]), 1));
  th('multinomial empty rows', () => torch.multinomial(z([2, 0]), 1));
  ok('multinomial zero rows', () => torch.multinomial(z([0, 3]).add(1), 1));
  th('rand int dtype', () => torch.rand([3], { dtype: 'int64' }));
  th('randn cuda:99', () => torch.randn([3], { device: 'cuda:99' }));
  th('fromBytes short', () => torch.fromBytes(new Uint8Array(3), 'float32', [1]));
  th('fromBytes overflow shape', () => torch.fromBytes(new Uint8Array(4), 'float32', [2 ** 40, 2 ** 40, 0.5]));
  th('fromTypedArray odd bytes', () => torch.fromTypedArray(new Uint8Array(3), undefined, 'float32'));
  th('tensor ragged', () => torch.tensor([[1, 2], [3]] as unknown as number[][]));
  th('tensor deep', () => { let a: unknown = 1; for (let i = 0; i < 100; i++) a = [a]; return torch.tensor(a as number[]); });
  th('tensor strings', () => torch.tensor(['a'] as unknown as number[]));
  // meta tensors: no data, every data path must refuse
  th('meta toBytes', () => meta([4]).toBytes());
  th('meta item', () => meta([1]).item());
  th('meta copyInto', () => meta([4]).copyInto(new Float32Array(4)));
  th('meta toFloat32Array', () => meta([4]).toFloat32Array());
  ok('meta huge (no memory)', () => meta([2 ** 40]).shape);
  th('meta huge to cpu', () => meta([2 ** 40]).to('cpu'));
  ok('meta conv2d shape', () => torch.conv2d(meta([1, 3, 8, 8]), meta([4, 3, 3, 3])).shape);
  th('meta + cpu', () => meta([4]).add(f(4)));
  // shape
  th('reshape wrong numel', () => f(2, 3).reshape([4, 2]));
  th('reshape two -1', () => f(2, 3).reshape([-1, -1]));
  th('view non-contiguous', () => f(4, 4).t().view([16]));
  th('permute repeated', () => f(2, 3).permute([0, 0]));
  th('expand smaller', () => f(2, 3).expand([3]));
  th('expand 2^40', () => f(1).expand([2 ** 40]).contiguous());
  th('repeat huge', () => f(2, 2).repeat([2 ** 30, 2 ** 30]));
  ok('roll empty', () => z([0, 3]).roll(1, 0));
  ok('roll 0-size dim', () => z([3, 0]).roll([5], [1]));
  ok('flip empty', () => z([0]).flip(0));
  ok('chunk empty', () => z([0, 2]).chunk(3, 0));
  ok('split zero sizes', () => z([0, 2]).split([0, 0], 0));
  th('split size 0', () => f(4).split(0));
  th('narrow past end', () => f(4).narrow(0, 2, 5));
  th('select past end', () => f(4).select(0, 4));
  ok('slice past end', () => f(4).slice(0, 10, 20));
  th('slice step 0', () => f(4).slice(0, 0, 4, 0));
  th('cat mismatched', () => torch.cat([f(2, 3), f(2, 4)], 0));
  th('cat dtypes bool+complex ok?', () => torch.cat([z([2], 'bool'), f(2, 2)], 0));
  th('cat 0-d', () => torch.cat([torch.full([], 1), torch.full([], 2)]));
  th('stack mismatched', () => torch.stack([f(2), f(3)]));
  th('pad reflect too big', () => torch.pad(f(1, 1, 4, 4), [4, 4, 4, 4], 'reflect'));
  th('pad reflect on 1-d', () => torch.pad(f(4), [1, 1], 'reflect'));
  th('pad replicate empty', () => torch.pad(z([1, 1, 0, 4]), [1, 1, 1, 1], 'replicate'));
  th('pad reflect empty', () => torch.pad(z([1, 1, 0, 4]), [1, 1, 0, 0], 'reflect'));
  th('pad circular too big', () => torch.pad(f(1, 1, 4, 4), [5, 5, 0, 0], 'circular'));
  ok('pad circular 0-size', () => torch.pad(z([1, 1, 4, 0]), [0, 0, 1, 1], 'circular'));
  th('pad constant huge', () => torch.pad(f(1, 1, 4, 4), [2 ** 30, 2 ** 30]));
  th('pad negative past size', () => torch.pad(f(1, 1, 4, 4), [-5, 0]));
  th('unfoldDim size > dim', () => torch.unfoldDim(f(4), 0, 5, 1));
  ok('unfoldDim empty', () => torch.unfoldDim(z([0]), 0, 0, 1));
  th('tril 1-d', () => torch.tril(f(3)));
  th('contiguous channels_last 3-d', () => f(2, 3, 4).contiguous('channels_last'));
  // elementwise
  th('add broadcast mismatch', () => f(2, 3).add(f(4)));
  th('add_ broadcast into smaller', () => f(3).add_(f(2, 3)));
  th('add_ into expanded', () => f(1, 4).expand([4, 4]).add_(1));
  th('mul_ into expanded', () => f(1, 4).expand([4, 4]).mul_(f(4, 4)));
  th('add_ float into int', () => z([3], 'int64').add_(f(3)));
  th('div int by zero trunc', () => torch.div(torch.tensor([1, 2], { dtype: 'int64' }), torch.tensor([0, 0], { dtype: 'int64' }), 'trunc'));
  th('div int by zero floor', () => torch.div(torch.tensor([1, 2], { dtype: 'int64' }), 0, 'floor'));
  // x86 traps on INT_MIN / -1 (SIGFPE) and ATen does not check: found by this test.
  const i64min = () => torch.fromTypedArray(BigInt64Array.of(-(2n ** 63n), 5n));
  th('div int64 min / -1 trunc', () => torch.div(i64min(), torch.tensor([-1, 1], { dtype: 'int64' }), 'trunc'));
  th('div int64 min / -1 floor scalar', () => torch.div(i64min(), -1, 'floor'));
  th('div int32 min / -1', () => torch.div(torch.tensor([-(2 ** 31)], { dtype: 'int32' }), torch.tensor([-1], { dtype: 'int32' }), 'floor'));
  th('div int32 min / -1 (0-d int64 divisor keeps int32)', () => torch.div(torch.tensor([-(2 ** 31), 4], { dtype: 'int32' }), torch.tensor(-1, { dtype: 'int64' }).reshape([]), 'trunc'));
  th('Tensor.div int64 min / -1', () => i64min().div(-1, 'trunc'));
  th('div by zero in a parallel kernel', () => torch.div(torch.ones([1 << 17], { dtype: 'int64' }), torch.zeros([1 << 17], { dtype: 'int64' }), 'floor'));
  ok('div int64 min / 1 and 5 / -1', () => torch.div(i64min(), torch.tensor([1, -1], { dtype: 'int64' }), 'floor'));
  ok('div int64 min / -1 as true division (float result)', () => torch.div(i64min(), -1));
  th('pow int negative', () => torch.pow(torch.tensor([2], { dtype: 'int64' }), -1));
  th('lerp int', () => torch.lerp(z([2], 'int64'), z([2], 'int64'), 0.5));
  ok('sigmoid bool', () => torch.sigmoid(z([2], 'bool')));
  th('clamp complex', () => torch.clamp(torch.fft2(f(2, 2)), 0, 1));
  th('where non-bool', () => torch.where(z([2]) as torch.Tensor, f(2), f(2)));
  th('where shape mismatch', () => torch.where(z([3], 'bool'), f(2), f(2)));
  th('copy_ larger src', () => f(2).copy_(f(3)));
  th('copy_ into expanded', () => f(1, 4).expand([4, 4]).copy_(f(4, 4)));
  th('copy_ meta into cpu', () => f(4).copy_(meta([4])));
  th('addcdiv_ int', () => z([2], 'int64').addcdiv_(z([2], 'int64'), z([2], 'int64')));
  th('maskedFill mask mismatch', () => torch.maskedFill(f(2, 3), z([4], 'bool'), 1));
  th('fill_ NaN into int', () => z([2], 'int64').fill_(NaN));
  ok('fill_ Infinity into float', () => z([2]).fill_(Infinity));
  th('fill_ 2^70 into int8', () => z([2], 'int8').fill_(2 ** 70));
  ok('round half to even', () => torch.round(torch.tensor([0.5, 1.5, 2.5])));
  th('round decimals 1e6', () => torch.round(f(2), 1e6));
  // reductions
  th('amax empty', () => z([0]).amax());
  th('argmax empty', () => z([0, 3]).argmax());
  ok('argmax dim of empty other dim', () => z([0, 3]).argmax(1));
  th('maxDim empty', () => torch.maxDim(z([0, 3]), 0));
  ok('sum empty', () => z([0]).sum());
  ok('std correction huge', () => f(3).std(null, 2 ** 40));
  th('topk k too big', () => torch.topk(f(3), 4));
  ok('topk empty', () => torch.topk(z([0]), 0));
  th('sort complex', () => torch.sort(torch.fft2(f(2, 2))));
  th('cumsum bad dim', () => torch.cumsum(f(3), 1));
  ok('logsumexp int', () => torch.logsumexp(z([3], 'int64'), 0));
  ok('prod empty', () => torch.prod(z([0])));
  // linalg
  th('matmul mismatch', () => torch.matmul(f(2, 3), f(4, 5)));
  th('mm 3-d', () => torch.mm(f(2, 2, 2), f(2, 2)));
  th('bmm batch mismatch', () => torch.bmm(f(2, 2, 3), f(3, 3, 2)));
  ok('bmm empty', () => torch.bmm(z([0, 2, 3]), z([0, 3, 4])));
  th('linear mismatch', () => torch.linear(f(2, 3), f(4, 5)));
  th('linear bias mismatch', () => torch.linear(f(2, 3), f(4, 3), f(5)));
  ok('linear empty', () => torch.linear(z([0, 3]), f(4, 3)));
  th('matmul int+float', () => torch.matmul(z([2, 2], 'int64'), f(2, 2)));
  th('matmul bool', () => torch.matmul(z([2, 2], 'bool'), z([2, 2], 'bool')));
  th('einsum bad', () => torch.einsum('ij,jk->il', f(2, 2), f(2, 2)));
  th('einsum operand count', () => torch.einsum('ij,jk->ik', f(2, 2)));
  th('einsum arrows', () => torch.einsum('->->', f(2)));
  th('einsum ellipsis mess', () => torch.einsum('...i...,->', f(2, 2), f(2)));
  th('einsum dash', () => torch.einsum('i-j', f(2)));
  th('einsum empty', () => torch.einsum('', f(2)));
  th('baddbmm mismatch', () => torch.baddbmm(f(2, 2, 2), f(2, 2, 3), f(2, 2, 2)));
  // nn.functional
  th('conv2d 0 groups', () => torch.conv2d(f(1, 4, 8, 8), f(4, 4, 3, 3), null, { groups: 0 }));
  th('conv2d kernel bigger than input', () => torch.conv2d(f(1, 4, 2, 2), f(4, 4, 3, 3)));
  th('conv2d huge dilation', () => torch.conv2d(f(1, 4, 8, 8), f(4, 4, 3, 3), null, { dilation: 2 ** 24 }));
  th('conv2d huge padding', () => torch.conv2d(f(1, 4, 8, 8), f(4, 4, 3, 3), null, { padding: 2 ** 24 }));
  ok('conv2d empty batch', () => torch.conv2d(z([0, 4, 8, 8]), f(4, 4, 3, 3)));
  ok('conv2d zero in channels', () => torch.conv2d(z([1, 0, 8, 8]), z([4, 0, 3, 3])));
  th('conv2d zero out channels', () => torch.conv2d(f(1, 4, 8, 8), z([0, 4, 3, 3])));
  th('conv2d zero kernel', () => torch.conv2d(f(1, 4, 8, 8), z([4, 4, 0, 0])));
  th('conv2d empty spatial', () => torch.conv2d(z([1, 4, 0, 8]), f(4, 4, 1, 1)));
  th('conv2d bias wrong', () => torch.conv2d(f(1, 4, 8, 8), f(4, 4, 3, 3), f(5)));
  ok('conv2d int', () => torch.conv2d(z([1, 4, 8, 8], 'int64'), z([4, 4, 3, 3], 'int64')));
  th('conv2d mixed dtypes', () => torch.conv2d(f(1, 4, 8, 8), f(4, 4, 3, 3).to('bfloat16')));
  th('conv2d stride 0', () => torch.conv2d(f(1, 4, 8, 8), f(4, 4, 3, 3), null, { stride: 0 }));
  th('conv2d stride 2^31', () => torch.conv2d(f(1, 4, 8, 8), f(4, 4, 3, 3), null, { stride: 2 ** 31 }));
  ok('conv2d huge stride within limits', () => torch.conv2d(f(1, 4, 8, 8), f(4, 4, 3, 3), null, { stride: 2 ** 24 }));
  th('convTranspose2d groups', () => torch.convTranspose2d(f(1, 4, 4, 4), f(4, 2, 3, 3), null, { groups: 3 }));
  th('convTranspose2d wrong in channels', () => torch.convTranspose2d(f(1, 4, 4, 4), f(3, 2, 3, 3)));
  th('convTranspose2d huge stride', () => torch.convTranspose2d(f(1, 4, 4, 4), f(4, 2, 3, 3), null, { stride: 2 ** 24 }));
  th('convTranspose2d zero kernel', () => torch.convTranspose2d(f(1, 4, 4, 4), z([4, 2, 0, 0])));
  th('convTranspose2d zero out', () => torch.convTranspose2d(f(1, 4, 4, 4), z([4, 0, 3, 3])));
  th('convTranspose2d bias wrong', () => torch.convTranspose2d(f(1, 4, 4, 4), f(4, 2, 3, 3), f(7)));
  ok('convTranspose2d empty batch', () => torch.convTranspose2d(z([0, 4, 4, 4]), f(4, 2, 3, 3)));
  ok('groupNorm zero channels', () => torch.groupNorm(z([2, 0, 4, 4]), 1));
  ok('groupNorm empty batch', () => torch.groupNorm(z([0, 4, 4, 4]), 2));
  ok('groupNorm empty spatial', () => torch.groupNorm(z([2, 4, 0, 0]), 2));
  th('groupNorm groups > channels', () => torch.groupNorm(f(1, 4, 2, 2), 8));
  th('groupNorm int', () => torch.groupNorm(z([1, 4, 2, 2], 'int64'), 2));
  th('groupNorm weight dtype', () => torch.groupNorm(f(1, 4, 2, 2), 2, z([4], 'int64')));
  th('groupNorm eps NaN', () => torch.groupNorm(f(1, 4, 2, 2), 2, null, null, NaN));
  ok('layerNorm empty', () => torch.layerNorm(z([0, 4]), [4]));
  ok('layerNorm zero normalized', () => torch.layerNorm(z([2, 0]), [0]));
  th('layerNorm mismatch', () => torch.layerNorm(f(2, 4), [3]));
  th('batchNorm eval without stats', () => torch.batchNorm(f(2, 3, 2, 2), null, null, null, null, false));
  th('batchNorm train one value', () => torch.batchNorm(f(1, 3), z([3]), torch.ones([3]), null, null, true));
  ok('softmax empty', () => torch.softmax(z([0, 3]), 1));
  ok('softmax 0-d', () => torch.softmax(torch.full([], 1), 0));
  th('softmax int', () => torch.softmax(z([3], 'int64'), 0));
  th('gelu bad approx', () => torch.gelu(f(2), 'fast' as 'tanh'));
  th('gelu int', () => torch.gelu(z([2], 'int64')));
  th('dropout p>1', () => torch.dropout(f(2), 1.5, true));
  th('interpolate huge size', () => torch.interpolate(f(1, 1, 2, 2), { size: [2 ** 24, 2 ** 24] }));
  th('interpolate huge scale', () => torch.interpolate(f(1, 1, 2, 2), { scaleFactor: 2 ** 24, mode: 'bicubic' }));
  th('interpolate tiny scale', () => torch.interpolate(f(1, 1, 2, 2), { scaleFactor: 1e-6 }));
  th('interpolate empty input', () => torch.interpolate(z([1, 1, 0, 4]), { size: [2, 2], mode: 'bilinear' }));
  ok('interpolate empty batch', () => torch.interpolate(z([0, 1, 4, 4]), { size: [2, 2], mode: 'bicubic' }));
  ok('interpolate empty channels', () => torch.interpolate(z([1, 0, 4, 4]), { size: [2, 2], mode: 'area' }));
  th('interpolate 3-d', () => torch.interpolate(f(1, 4, 4), { size: [2, 2] }));
  th('interpolate int', () => torch.interpolate(z([1, 1, 4, 4], 'int64'), { size: [2, 2], mode: 'bilinear' }));
  ok('interpolate antialias shrink', () => torch.interpolate(f(1, 1, 64, 64), { size: [1, 1], mode: 'bicubic', antialias: true }));
  th('interpolate antialias huge', () => torch.interpolate(f(1, 1, 4, 4), { size: [2 ** 20, 2 ** 20], mode: 'bilinear', antialias: true }));
  th('interpolate alignCorners nearest', () => torch.interpolate(f(1, 1, 4, 4), { size: [2, 2], alignCorners: true }));
  th('interpolate both size and scale', () => torch.interpolate(f(1, 1, 4, 4), { size: [2, 2], scaleFactor: 2 }));
  th('adaptiveAvgPool2d huge', () => torch.adaptiveAvgPool2d(f(1, 1, 4, 4), 2 ** 24));
  th('adaptiveAvgPool2d empty', () => torch.adaptiveAvgPool2d(z([1, 1, 0, 4]), 2));
  th('avgPool2d kernel bigger', () => torch.avgPool2d(f(1, 1, 2, 2), 3));
  th('maxPool2d huge dilation', () => torch.maxPool2d(f(1, 1, 8, 8), 2, { dilation: 2 ** 24 }));
  ok('maxPool2d empty batch', () => torch.maxPool2d(z([0, 1, 8, 8]), 2));
  th('maxPool2d empty spatial', () => torch.maxPool2d(z([1, 1, 0, 8]), 2));
  th('pixelShuffle not divisible', () => torch.pixelShuffle(f(1, 3, 2, 2), 2));
  ok('pixelShuffle zero channels', () => torch.pixelShuffle(z([1, 0, 2, 2]), 2));
  th('pixelShuffle huge factor', () => torch.pixelShuffle(f(1, 4, 2, 2), 4096));
  th('pixelUnshuffle not divisible', () => torch.pixelUnshuffle(f(1, 1, 3, 3), 2));
  ok('pixelUnshuffle empty', () => torch.pixelUnshuffle(z([1, 1, 0, 0]), 2));
  th('embedding out of range', () => torch.embedding(torch.tensor([5], { dtype: 'int64' }), f(3, 2)));
  th('embedding negative', () => torch.embedding(torch.tensor([-1], { dtype: 'int64' }), f(3, 2)));
  th('embedding float indices', () => torch.embedding(f(2), f(3, 2)));
  th('embedding empty weight', () => torch.embedding(torch.tensor([0], { dtype: 'int64' }), z([0, 2])));
  th('mseLoss shape', () => torch.mseLoss(f(2, 3), f(4)));
  th('unfold (im2col) kernel > input', () => torch.unfold(f(1, 1, 2, 2), 3));
  th('fold inconsistent', () => torch.fold(f(1, 9, 5), [4, 4], 3));
  th('fold wrong channels', () => torch.fold(f(1, 8, 4), [4, 4], 3));
  th('fold huge output', () => torch.fold(f(1, 9, 4), [2 ** 24, 2 ** 24], 3));
  th('fold stride 0', () => torch.fold(f(1, 9, 4), [4, 4], 3, { stride: 0 }));
  th('oneHot negative', () => torch.oneHot(torch.tensor([-1], { dtype: 'int64' }), 3));
  th('oneHot too small', () => torch.oneHot(torch.tensor([5], { dtype: 'int64' }), 3));
  th('oneHot empty infer', () => torch.oneHot(z([0], 'int64')));
  th('oneHot huge', () => torch.oneHot(torch.tensor([1], { dtype: 'int64' }), 2 ** 24).expand([2 ** 24, 2 ** 24]).contiguous());
  th('cosineSimilarity mismatch', () => torch.cosineSimilarity(f(2, 3), f(2, 4)));
  // indexing
  th('gather out of range', () => torch.gather(f(2, 3), 1, torch.tensor([[5], [0]], { dtype: 'int64' })));
  th('gather negative', () => torch.gather(f(2, 3), 1, torch.tensor([[-1], [0]], { dtype: 'int64' })));
  th('gather int32 index', () => torch.gather(f(2, 3), 1, torch.tensor([[0], [0]], { dtype: 'int32' })));
  ok('gather index larger', () => torch.gather(f(2, 3), 0, z([3, 3], 'int64')));
  th('indexSelect out of range', () => torch.indexSelect(f(3), 0, torch.tensor([3], { dtype: 'int64' })));
  th('indexSelect 2^40', () => torch.indexSelect(f(3), 0, torch.tensor([2 ** 40], { dtype: 'int64' })));
  th('indexSelect float', () => torch.indexSelect(f(3), 0, f(1)));
  th('index out of range', () => torch.index(f(3, 3), [torch.tensor([7], { dtype: 'int64' })]));
  th('index mask mismatch', () => torch.index(f(3, 3), [z([2], 'bool')]));
  th('index too many', () => torch.index(f(3), [z([1], 'int64'), z([1], 'int64')]));
  th('indexPut_ out of range', () => torch.indexPut_(f(3), [torch.tensor([9], { dtype: 'int64' })], f(1)));
  th('indexPut_ values mismatch', () => torch.indexPut_(f(3), [torch.tensor([0, 1], { dtype: 'int64' })], f(3)));
  ok('indexPut_ into expanded', () => torch.indexPut_(f(1, 3).expand([3, 3]), [torch.tensor([0], { dtype: 'int64' })], f(3)));
  th('indexPut_ dtype mismatch', () => torch.indexPut_(f(3), [torch.tensor([0], { dtype: 'int64' })], z([1], 'int64')));
  th('scatter out of range', () => torch.scatter(f(3), 0, torch.tensor([3], { dtype: 'int64' }), f(1)));
  th('scatterAdd index larger than src', () => torch.scatterAdd(f(3), 0, z([3], 'int64'), f(2)));
  th('scatter dtype mismatch', () => torch.scatter(f(3), 0, z([1], 'int64'), z([1], 'int64')));
  ok('maskedFill_ expanded', () => torch.maskedFill_(f(1, 3).expand([3, 3]), z([3, 3], 'bool'), 1));
  ok('nonzero empty', () => torch.nonzero(z([0])));
  // fft
  th('fft2 1-d', () => torch.fft2(f(4)));
  th('rfft2 complex', () => torch.rfft2(torch.fft2(f(4, 4))));
  th('fft2 huge s', () => torch.fft2(f(4, 4), [2 ** 24, 2 ** 24]));
  ok('fft2 int', () => torch.fft2(z([4, 4], 'int64')));
  ok('irfft2 odd s', () => torch.irfft2(torch.rfft2(f(5, 5)), [5, 5]));
  th('irfft2 zero', () => torch.irfft2(z([0, 0]), [0, 0]));
  ok('fft2 empty batch', () => torch.fft2(z([0, 4, 4])));
  th('fft2 empty signal', () => torch.fft2(z([4, 0])));
  th('fft2 float16', () => torch.fft2(z([4, 4], 'float16')));
  th('viewAsComplex not last 2', () => torch.viewAsComplex(f(4, 3)));
  th('viewAsComplex strided', () => torch.viewAsComplex(f(2, 4).t()));
  th('viewAsComplex half', () => torch.viewAsComplex(z([4, 2], 'float16')));
  th('viewAsComplex offset', () => torch.viewAsComplex(f(5, 2).slice(0, 1).narrow(1, 0, 2).reshape([4, 2]).slice(1, 0, 2).unsqueeze(0).select(0, 0).slice(0, 1, 4).t().t().narrow(0, 0, 3).contiguous().flatten().slice(0, 1).reshape([5]).unsqueeze(1).expand([5, 2])));
  th('imag of real', () => torch.imag(f(3)));
  // random
  th('multinomial negative', () => torch.multinomial(torch.tensor([-1, 2]), 1));
  th('multinomial NaN', () => torch.multinomial(torch.tensor([NaN, 1]), 1));
  th('multinomial zeros', () => torch.multinomial(torch.tensor([0, 0]), 1));
  th('multinomial int', () => torch.multinomial(torch.tensor([1, 1], { dtype: 'int64' }), 1));
  ok('multinomial many with replacement', () => torch.multinomial(torch.tensor([1, 1]), 1000, true));
  th('multinomial too many without replacement', () => torch.multinomial(torch.tensor([1, 1]), 3));
  th('normal_ int', () => z([3], 'int64').normal_());
  th('normal_ NaN std', () => z([3]).normal_(0, NaN));
  th('uniform_ bool', () => z([3], 'bool').uniform_());
  ok('bernoulli int', () => torch.bernoulli(z([3], 'int64'), 0.5));
  th('bernoulli p NaN', () => torch.bernoulli(z([3]), NaN));
  th('Generator setState garbage', () => new torch.Generator(1).setState(z([16], 'uint8')));
  th('Generator setState float', () => new torch.Generator(1).setState(z([5056])));
  th('Generator seed -1', () => new torch.Generator(-1));
  th('Generator seed 2^64', () => new torch.Generator(2 ** 64));
  ok('Generator seed 2^53-1', () => new torch.Generator(2 ** 53 - 1).manualSeed(0));
  th('manualSeed NaN', () => torch.manualSeed(NaN));
  // dtype / device conversions
  th('to bad dtype', () => f(2).to('float8' as torch.DType));
  th('to cuda', () => f(2).to('cuda'));
  th('to cuda:99', () => f(2).cuda(99));
  th('to memoryFormat on 2-d', () => f(2, 2).to({ memoryFormat: 'channels_last' }));
  ok('to complex and back', () => torch.real(f(2).to('complex64')));
  ok('bf16 round trip', () => f(2).to('bfloat16').to('float32'));
  th('item of 2 elements', () => f(2).item());
  ok('item of complex (real part only or error)', () => { try { return torch.fft2(f(1, 1)).item(); } catch (e) { if (!(e instanceof Error)) throw e; return 0; } });
  th('copyInto wrong size', () => f(3).copyInto(new Float32Array(2)));
  th('copyInto non-typed', () => f(3).copyInto([1, 2, 3] as unknown as Float32Array));
  // autograd misuse
  th('requiresGrad_ on int', () => z([2], 'int64').requiresGrad_());
  th('requiresGrad_(false) on non-leaf', () => f(2).requiresGrad_().mul(2).requiresGrad_(false));
  th('backward without grad', () => f(2).sum().backward());
  th('backward non-scalar', () => f(2).requiresGrad_().mul(2).backward());
  th('backward twice', () => { const y = f(2).requiresGrad_().exp().sum(); y.backward(); y.backward(); });
  ok('backward twice without saved tensors', () => { const y = f(2).requiresGrad_().mul(2).sum(); y.backward(); y.backward(); });
  th('backward wrong gradient shape', () => f(2).requiresGrad_().mul(2).backward(f(3)));
  ok('backward gradient dtype', () => f(2).requiresGrad_().mul(2).backward(z([2], 'int64')));
  th('backward after in-place change', () => { const x = f(2).requiresGrad_(); const y = x.mul(2).sigmoid(); const s = y.sum(); y.mul_(2); s.backward(); });
  th('in-place on leaf requiring grad', () => f(2).requiresGrad_().add_(1));
  th('grad of unrelated input', () => { const a = f(2).requiresGrad_(); const b = f(2).requiresGrad_(); return torch.grad(a.sum(), b); });
  th('grad of non-requiring input', () => torch.grad(f(2).requiresGrad_().sum(), f(2)));
  th('grad with bad gradOutputs', () => { const a = f(2).requiresGrad_(); return torch.grad(a.mul(2), a, { gradOutputs: [f(3)] }); });
  th('set grad wrong shape', () => { const a = f(2).requiresGrad_(); a.grad = f(3); });
  th('set grad wrong dtype', () => { const a = f(2).requiresGrad_(); a.grad = f(2).double(); });
  th('set grad self', () => { const a = f(2).requiresGrad_(); a.grad = a; });
  th('set grad undefined', () => { const a = f(2).requiresGrad_(); (a as unknown as { grad: unknown }).grad = undefined; });
  th('requiresGrad setter non-boolean', () => { (f(2) as unknown as { requiresGrad: unknown }).requiresGrad = 'yes'; });
  th('set grad number', () => { const a = f(2).requiresGrad_(); (a as unknown as { grad: unknown }).grad = 5; });
  th('set grad disposed', () => { const a = f(2).requiresGrad_(); const g = f(2); g.dispose(); a.grad = g; });
  th('retainGrad on no-grad tensor', () => f(2).retainGrad());
  ok('set grad then backward accumulates', () => { const a = f(2).requiresGrad_(); a.grad = z([2]); a.mul(2).sum().backward(); return a.grad; });
  th('backward through disposed-input graph with freed buffers', () => { const x = f(2).requiresGrad_(); const y = x.exp().sum(); x.dispose(); y.backward(); y.backward(); });
  if (process.env.VPDSR_CRASH_SELFTEST === '1') th('self-test: SIGSEGV', () => process.kill(process.pid, 'SIGSEGV'));
  // threads and allocator
  th('setNumThreads 0', () => torch.setNumThreads(0));
  th('setNumThreads 2^31', () => torch.setNumThreads(2 ** 31));
  ok('emptyCache', () => torch.emptyCache());
  return out;
}

// ---------------------------------------------------------------------------------------------
// Driver (child process).

interface Target { name: string; fn: (...a: unknown[]) => unknown; method?: boolean }

/** Everything the fuzz calls: each op export, each Tensor method, and the engine's other entry points. */
function targets(): Target[] {
  const out: Target[] = [];
  for (const [name, v] of Object.entries(ops)) {
    if (typeof v !== 'function') continue;
    if (name === 'Generator') {
      out.push({ name: 'new Generator', fn: (...a: unknown[]) => new (ops.Generator as unknown as new (...x: unknown[]) => unknown)(...a) });
      continue;
    }
    out.push({ name, fn: v as (...a: unknown[]) => unknown });
  }
  const skipMethods = new Set(['constructor', 'dispose']);
  for (const name of Object.getOwnPropertyNames(Tensor.prototype)) {
    const d = Object.getOwnPropertyDescriptor(Tensor.prototype, name)!;
    if (skipMethods.has(name) || typeof d.value !== 'function') continue;
    out.push({ name: `Tensor.${name}`, fn: d.value as (...a: unknown[]) => unknown, method: true });
  }
  const engine = torch as unknown as Record<string, unknown>;
  for (const name of ['scope', 'noGrad', 'enableGrad', 'grad', 'setNumThreads', 'parseDType', 'useCachingAllocator']) {
    out.push({ name: `torch.${name}`, fn: engine[name] as (...a: unknown[]) => unknown });
  }
  return out;
}

function runDriver(): void {
  const progress = openSync(process.env.VPDSR_CRASH_PROGRESS!, 'w');
  const start = Number(process.env.VPDSR_CRASH_START ?? 0);
  const skip = Number(process.env.VPDSR_CRASH_SKIP ?? -1);
  const randomCases = Number(process.env.VPDSR_FUZZ_CASES ?? 200);
  const maxBaselines = Number(process.env.VPDSR_FUZZ_BASELINES ?? 3);
  const only = process.env.VPDSR_CRASH_ONLY;
  const all = targets();
  const bad: string[] = [];
  const badSeen = new Set<string>();
  let calls = 0;
  let caseNo = 0;
  const kinds = { returned: 0, checked: 0, aten: 0, other: 0 };
  const stats = process.env.VPDSR_CRASH_STATS === '1';
  const messages = new Map<string, string>();
  const mark = (line: string) => {
    ftruncateSync(progress, 0);
    writeSync(progress, line, 0);
  };
  for (const t of all) {
    if (only && t.name !== only) continue;
    const t0 = Date.now(), c0 = calls;
    torch.scope(() => {
      const pool = makePool();
      const cases: { thisArg?: unknown; args: unknown[] }[] = [];
      const receivers: unknown[] = t.method ? ['f4', 'disposed', 'i64', 'c64'].map((n) => pool.values[pool.names.indexOf(n)]) : [undefined];
      // Substitute hostile values into the baselines this op accepts (or that reach ATen): a
      // baseline rejected at its first argument would hide every later argument's checks.
      // The full pool goes into the first accepted baseline; the others get every third value.
      for (const thisArg of receivers) {
        const all = baselines(pool);
        let deep = all.filter((base) => { const k = attempt(t.fn, base, thisArg).kind; return k === 'returned' || k === 'aten'; });
        if (deep.length === 0) deep = [all[1]!];
        deep = deep.slice(0, maxBaselines);
        for (const [bi, base] of deep.entries()) {
          for (let pos = 0; pos <= Math.min(base.length, 4); pos++) {
            for (const [vi, v] of pool.values.entries()) {
              if (bi > 0 && vi % 3 !== bi % 3) continue;
              const args = base.slice();
              args[pos] = v;
              cases.push({ thisArg, args });
            }
          }
        }
      }
      const rnd = prng(t.name.length * 7919 + t.name.charCodeAt(0));
      for (let i = 0; i < randomCases; i++) {
        const n = Math.floor(rnd() * 6);
        const args = Array.from({ length: n }, () => pool.values[Math.floor(rnd() * pool.values.length)]);
        cases.push({ thisArg: receivers[Math.floor(rnd() * receivers.length)], args });
      }
      for (const c of cases) {
        const id = caseNo++;
        if (id < start || id === skip) continue;
        const what = `${t.name}${t.method ? ` on ${describe(c.thisArg)}` : ''}(${c.args.map((a) => describe(a)).join(', ')})`;
        mark(`${id}\t${what}`);
        calls++;
        const r = attempt(t.fn, c.args, c.thisArg);
        // One line per entry point and kind of failure (the first example), not thousands.
        if (r.bad) {
          const key = `${t.name}|${r.bad.replace(/[0-9]+/g, 'N')}`;
          if (!badSeen.has(key)) { badSeen.add(key); bad.push(`${what}: ${r.bad}`); }
        }
        kinds[r.kind]++;
        if (stats && r.message && r.kind !== 'checked') {
          const key = `${t.name}: ${r.message.replace(/[0-9]+/g, 'N').slice(0, 160)}`;
          if (!messages.has(key)) messages.set(key, what);
        }
      }
    });
    if (stats) process.stderr.write(`## ${t.name}: ${calls - c0} calls, ${Date.now() - t0} ms\n`);
  }
  for (const h of handCases()) {
    const id = caseNo++;
    if (id < start || id === skip) continue;
    mark(`${id}\thand-written case '${h.name}'`);
    calls++;
    const r = attempt(h.run, []);
    if (r.bad) bad.push(`hand-written case '${h.name}': ${r.bad}`);
    else if (h.expect === 'throws' && r.ok) bad.push(`hand-written case '${h.name}': was accepted, expected an error`);
    kinds[r.kind]++;
    if (stats) process.stderr.write(`hand '${h.name}': ${r.kind}${r.message ? ` ${r.message}` : ''}\n`);
  }
  mark(`done\t${caseNo}`);
  if (stats) for (const [k, v] of messages) process.stderr.write(`${k}\n    e.g. ${v.slice(0, 300)}\n`);
  process.stdout.write(JSON.stringify({ kinds, calls, cases: caseNo, targets: all.length, bad: bad.slice(0, 50), badCount: bad.length, liveTensors: torch.memory().liveTensors }) + '\n');
}

if (process.env.VPDSR_CRASH_DRIVER === '1') {
  runDriver();
} else {
  // -------------------------------------------------------------------------------------------
  // The test: runs the driver, resuming after each crash so that every crashing case is listed.

  // 3 GB of address space: enough for Node, LibTorch and the small tensors; huge requests fail fast.
  const ADDRESS_LIMIT_KB = 3 * 1024 * 1024;

  type Summary = { calls: number; cases: number; targets: number; bad: string[]; badCount: number; liveTensors: number };

  /** Runs the driver until it finishes, restarting after each crash; lists every crashing case. */
  function fuzz(extraEnv: Record<string, string>): { crashes: string[]; summary: Summary | null } {
    const dir = mkdtempSync(path.join(tmpdir(), 'vpdsr-crash-'));
    const progressFile = path.join(dir, 'progress');
    const crashes: string[] = [];
    let start = 0;
    let summary: Summary | null = null;
    try {
      for (let attemptNo = 0; attemptNo < 30 && summary === null; attemptNo++) {
        const r = spawnSync('bash', ['-c', `ulimit -v ${ADDRESS_LIMIT_KB} && exec "$0" "$1"`, process.execPath, self], {
          env: { ...process.env, VPDSR_CRASH_DRIVER: '1', VPDSR_CRASH_PROGRESS: progressFile, VPDSR_CRASH_START: String(start), VPDSR_THREADS: '2', ...extraEnv },
          encoding: 'utf8', timeout: 540_000, maxBuffer: 1 << 24,
        });
        const last = readFileSync(progressFile, 'utf8');
        if (r.status === 0 && last.startsWith('done')) {
          summary = JSON.parse(r.stdout.trim().split('\n').pop()!) as Summary;
          break;
        }
        const [idx, what] = last.split('\t');
        const how = r.error ? `hung or was killed (${r.error.message})` : r.signal ? `died with ${r.signal}` : `exited with status ${r.status}`;
        crashes.push(`${what ?? '(before the first case)'} — the process ${how}${r.stderr ? `; stderr: ${r.stderr.trim().split('\n').slice(-3).join(' | ')}` : ''}`);
        const n = Number(idx);
        if (!Number.isInteger(n)) break;
        start = n + 1;
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    return { crashes, summary };
  }

  test('C++ exceptions surface as JS Errors carrying ATen\'s message and the operator name', () => {
    const cases: [() => unknown, RegExp][] = [
      [() => torch.matmul(torch.ones([2, 3]), torch.ones([4, 5])), /^aten::matmul: mat1 and mat2 shapes cannot be multiplied \(2x3 and 4x5\)$/],
      [() => torch.ones([2]).add(torch.ones([3])), /^aten::add: The size of tensor a \(2\) must match the size of tensor b \(3\) at non-singleton dimension 0$/],
      [() => torch.zeros([2 ** 40]), /^aten::zeros: DefaultCPUAllocator: can't allocate memory: you tried to allocate 4398046511104 bytes\.$/],
      [() => torch.ones([2], { dtype: 'int64' }).requiresGrad_(), /^requiresGrad_: Only Tensors of floating point and complex dtype can require gradients$/],
      [() => torch.ones([2]).sum().backward(), /^backward: tensor does not require grad/],
    ];
    for (const [fn, re] of cases) {
      assert.throws(fn, (e: unknown) => {
        assert.ok(e instanceof Error, 'an Error instance');
        assert.match(e.message, re);
        assert.doesNotMatch(e.message, /Exception raised from|frame #|\.cpp:\d+/, 'no C++ backtrace in the message');
        return true;
      });
    }
  });

  test('the fuzz harness sees a crash and names the case (self-test)', () => {
    const { crashes, summary } = fuzz({ VPDSR_CRASH_ONLY: '(hand-written cases only)', VPDSR_CRASH_SELFTEST: '1' });
    assert.equal(crashes.length, 1, crashes.join('\n'));
    assert.match(crashes[0]!, /hand-written case 'self-test: SIGSEGV' — the process died with SIGSEGV/);
    assert.ok(summary, 'the driver resumed after the crash and finished');
  });

  test('fuzz: every op, Tensor method and entry point throws or returns, never crashes', { timeout: 600_000 }, () => {
    const { crashes, summary } = fuzz({});
    assert.deepEqual(crashes, [], `calls that crashed the process:\n${crashes.join('\n')}`);
    assert.ok(summary, 'the driver did not finish');
    process.stdout.write(`# fuzz: ${summary.calls} calls over ${summary.targets} entry points\n`);
    assert.ok(summary.targets > 150, `only ${summary.targets} entry points enumerated`);
    assert.ok(summary.calls > 100000, `only ${summary.calls} calls made`);
    assert.deepEqual(summary.bad, [], `calls that threw something other than a clear Error (${summary.badCount}):\n${summary.bad.join('\n')}`);
    assert.equal(summary.liveTensors, 0, 'tensors leaked by failed calls');
  });
}
