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
    if (e instanceof torch.ArgumentError) return { ok: false, kind: 'checked' };
    if (/^aten::/.test(first)) return { ok: false, kind: 'aten', message: first };
    return { ok: false, kind: 'other', message: `${e.name}: ${first}` };
  }
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
        if (r.bad) bad.push(`${what}: ${r.bad}`);
        kinds[r.kind]++;
        if (stats && r.message) {
          const key = `${t.name}: ${r.message.replace(/[0-9]+/g, 'N').slice(0, 160)}`;
          if (!messages.has(key)) messages.set(key, what);
        }
      }
    });
    if (stats) process.stderr.write(`## ${t.name}: ${calls - c0} calls, ${Date.now() - t0} ms\n`);
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

  test('fuzz: every op, Tensor method and entry point throws or returns, never crashes', { timeout: 600_000 }, () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'vpdsr-crash-'));
    const progressFile = path.join(dir, 'progress');
    const crashes: string[] = [];
    let start = 0;
    let summary: { calls: number; cases: number; targets: number; bad: string[]; badCount: number; liveTensors: number } | null = null;
    try {
      for (let attemptNo = 0; attemptNo < 30 && summary === null; attemptNo++) {
        const r = spawnSync('bash', ['-c', `ulimit -v ${ADDRESS_LIMIT_KB} && exec "$0" "$1"`, process.execPath, self], {
          env: { ...process.env, VPDSR_CRASH_DRIVER: '1', VPDSR_CRASH_PROGRESS: progressFile, VPDSR_CRASH_START: String(start), VPDSR_THREADS: '1' },
          encoding: 'utf8', timeout: 540_000, maxBuffer: 1 << 24,
        });
        const last = readFileSync(progressFile, 'utf8');
        if (r.status === 0 && last.startsWith('done')) {
          summary = JSON.parse(r.stdout.trim().split('\n').pop()!);
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
    assert.deepEqual(crashes, [], `calls that crashed the process:\n${crashes.join('\n')}`);
    assert.ok(summary, 'the driver did not finish');
    process.stdout.write(`# fuzz: ${summary.calls} calls over ${summary.targets} entry points\n`);
    assert.ok(summary.targets > 150, `only ${summary.targets} entry points enumerated`);
    assert.ok(summary.calls > 100000, `only ${summary.calls} calls made`);
    assert.deepEqual(summary.bad, [], `calls that threw something other than a clear Error (${summary.badCount}):\n${summary.bad.join('\n')}`);
    assert.equal(summary.liveTensors, 0, 'tensors leaked by failed calls');
  });
}
