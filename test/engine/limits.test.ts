// Engine edges found with hostile calls: a copy out that cannot be allocated, out= results that
// change shape, and integer fills past the dtype's range.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import * as torch from '../../src/engine/index.js';

const CHILD = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'io', 'hostile-child.js');

function child(args: string[], prefix: string[] = []): { status: number | null; signal: string | null; result?: { ok: boolean; message: string; output: string } } {
  const argv = [...prefix, process.execPath, CHILD, ...args];
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', timeout: 60_000 });
  const line = r.stdout.trim().split('\n').pop() ?? '';
  return { status: r.status, signal: r.signal, result: line.startsWith('{') ? JSON.parse(line) : undefined };
}

test('toBytes/toArray throw a RangeError, never abort, when the copy cannot be allocated', () => {
  // A 1 GiB tensor (never touched, so it costs address space only) in a process whose address
  // space is capped at what it uses with the tensor plus 512 MiB: the 1 GiB copy cannot fit.
  const numel = String(2 ** 28);
  const probe = child(['probe-empty', numel]);
  assert.ok(probe.result?.ok, `probe: ${JSON.stringify(probe)}`);
  const cap = (Number(probe.result!.output) + 512 * 1024) * 1024;
  for (const op of ['toBytes', 'toArray']) {
    const r = child([op, numel], ['prlimit', `--as=${cap}`, '--']);
    assert.equal(r.signal, null, `${op}: the process was killed by ${r.signal}`);
    assert.equal(r.status, 0);
    assert.equal(r.result?.ok, false, `${op}: ${JSON.stringify(r.result)}`);
    assert.match(r.result!.message, /^cannot allocate 1073741824 bytes for a copy of tensor float32\[268435456\]$/);
  }
  // Within limits the copy is exact.
  torch.scope(() => {
    const t = torch.tensor([[1, 2], [3, 4]]).t();
    assert.deepEqual([...(t.toArray() as Float32Array)], [1, 3, 2, 4]);
    assert.deepEqual([...torch.tensor([1, 2], { dtype: 'int64' }).toBytes()].length, 16);
  });
});

test('out= ops report the shape they wrote', () => {
  torch.scope(() => {
    const a = torch.arange(5, undefined, 1, { dtype: 'float32' });
    const out = torch.zeros([1]);
    assert.deepEqual(out.shape, [1]);
    torch.addOut(out, a, a);
    assert.deepEqual(out.shape, [5]);
    assert.equal(out.numel, 5);
    assert.deepEqual([...(out.toArray() as Float32Array)], [0, 2, 4, 6, 8]);
    const m = torch.zeros([1]);
    void m.shape;
    torch.mulOut(m, a.reshape([5, 1]), a.reshape([1, 5]));
    assert.deepEqual(m.shape, [5, 5]);
    const mm = torch.zeros([2]);
    void mm.shape;
    torch.matmulOut(mm, torch.ones([3, 4]), torch.ones([4, 2]));
    assert.deepEqual(mm.shape, [3, 2]);
    assert.deepEqual([...(mm.toArray() as Float32Array)], [4, 4, 4, 4, 4, 4]);
  });
});

test('integer values past the dtype range are refused, not wrapped to INT64_MIN', () => {
  torch.scope(() => {
    assert.throws(() => torch.full([1], 2 ** 63, { dtype: 'int64' }), /fill_value.*value 9223372036854776000 is out of range for int64/);
    assert.throws(() => torch.scalarTensor(2 ** 63, 'int64'), /out of range for int64/);
    assert.throws(() => torch.scalarTensor(-(2 ** 64), 'int64'), /out of range for int64/);
    assert.throws(() => torch.tensor([1, 2 ** 63], { dtype: 'int64' }), /out of range for int64/);
    assert.throws(() => torch.tensor([2 ** 31], { dtype: 'int32' }), /out of range for int32/);
    assert.throws(() => torch.tensor([256], { dtype: 'uint8' }), /out of range for uint8/);
    assert.throws(() => torch.full([1], Number.NaN, { dtype: 'int64' }), /out of range for int64/);
    const t = torch.zeros([2], { dtype: 'int64' });
    assert.throws(() => torch.fill_(t, 2 ** 63), /out of range for int64/);
    assert.throws(() => torch.fullLike(t, 2 ** 63), /out of range for int64/);
    // The extremes that fit are kept exactly.
    assert.equal(torch.scalarTensor(-(2 ** 63), 'int64').toArray()[0], -(2n ** 63n));
    assert.equal(torch.full([1], 2 ** 62, { dtype: 'int64' }).toArray()[0], 2n ** 62n);
    torch.fill_(t, -(2 ** 63));
    assert.deepEqual([...(t.toArray() as BigInt64Array)], [-(2n ** 63n), -(2n ** 63n)]);
    assert.equal(torch.tensor([2 ** 31 - 1], { dtype: 'int32' }).toArray()[0], 2 ** 31 - 1);
  });
});
