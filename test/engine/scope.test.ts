// Scope semantics (issue 2, item 5): what a scope frees, what it hands back, and the errors a
// disposed tensor gives.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as torch from '../../src/engine/index.js';
import { Tensor } from '../../src/engine/index.js';

const live = (): number => torch.memory().liveTensors;

test('tensors made inside a scope are freed at its end; the returned one survives', () => {
  const before = live();
  let inner: Tensor | undefined;
  const y = torch.scope(() => {
    const a = torch.ones([3]);
    inner = a.mul(2);
    return inner.add(1);
  });
  assert.equal(live(), before + 1);
  assert.ok(inner!.isDisposed);
  assert.deepEqual(Array.from(y.toFloat32Array()), [3, 3, 3]);
  y.dispose();
  assert.equal(live(), before);
});

test('nested scopes: a value returned from the inner scope belongs to the outer one', () => {
  const before = live();
  let mid: Tensor | undefined;
  const out = torch.scope(() => {
    mid = torch.scope(() => torch.zeros([2]).add(5));
    assert.equal(torch.scopeDepth(), 1);
    assert.ok(!mid.isDisposed);
    return mid.sum();
  });
  assert.ok(mid!.isDisposed, 'the inner result is freed when the outer scope ends');
  assert.equal(out.item(), 10);
  out.dispose();
  assert.equal(live(), before);
  assert.equal(torch.scopeDepth(), 0);
});

test('returned arrays, Maps and plain objects keep every tensor they hold', () => {
  const before = live();
  const r = torch.scope(() => {
    const a = torch.ones([1]);
    const b = torch.zeros([1]);
    const c = torch.full([1], 7);
    torch.ones([4]); // dropped
    return { list: [a, { b }], map: new Map([['c', c]]) };
  });
  assert.equal(live(), before + 3);
  assert.equal((r.list[0] as Tensor).item() + (r.list[1] as { b: Tensor }).b.item() + r.map.get('c')!.item(), 8);
  for (const t of [r.list[0] as Tensor, (r.list[1] as { b: Tensor }).b, r.map.get('c')!]) t.dispose();
  assert.equal(live(), before);
});

test('keep() takes a tensor out of every scope; the caller must dispose it', () => {
  const before = live();
  let kept: Tensor | undefined;
  torch.scope(() => {
    torch.scope(() => { kept = torch.keep(torch.ones([2])); });
  });
  assert.ok(!kept!.isDisposed);
  assert.equal(live(), before + 1);
  kept!.dispose();
  assert.equal(live(), before);
});

test('a throw inside a scope frees its tensors and rethrows the same error', () => {
  const before = live();
  const err = new Error('boom');
  let made: Tensor | undefined;
  assert.throws(() => torch.scope(() => { made = torch.ones([8]); torch.randn([8]); throw err; }), (e) => e === err);
  assert.ok(made!.isDisposed);
  assert.equal(live(), before);
  assert.equal(torch.scopeDepth(), 0);
});

test('an async function (a Promise) is refused and its tensors are freed', () => {
  const before = live();
  assert.throws(() => torch.scope((async () => { torch.ones([1]); }) as unknown as () => void), /Promise/);
  assert.equal(live(), before);
  assert.equal(torch.scopeDepth(), 0);
});

test('scope() of something that is not a function gives a clear error', () => {
  assert.throws(() => torch.scope(5 as unknown as () => void), /scope\(fn\): fn must be a function/);
  assert.equal(torch.scopeDepth(), 0);
});

test('a disposed tensor gives one clear error from ops, methods and properties', () => {
  const t = torch.ones([2, 2]);
  t.dispose();
  assert.ok(t.isDisposed);
  t.dispose(); // a second dispose is a no-op
  assert.throws(() => torch.add(t, 1), { name: 'ArgumentError', message: "add(): argument 'input' is a disposed tensor" });
  assert.throws(() => torch.ones([2]).add(t), /argument 'other' is a disposed tensor/);
  assert.throws(() => t.shape, /Tensor was disposed/);
  assert.throws(() => t.toFloat32Array(), /Tensor was disposed/);
  assert.throws(() => t.item(), /Tensor was disposed/);
  assert.throws(() => t.add(1), /disposed/);
  assert.equal(String(t), 'Tensor(disposed)');
});

test('a tensor from a finished scope is disposed, not silently reused', () => {
  let escaped: Tensor | undefined;
  torch.scope(() => { escaped = torch.ones([3]); });
  assert.throws(() => escaped!.sum(), /disposed/);
  // The slot may now hold another tensor: the old handle must not reach it.
  const fresh = torch.zeros([5]);
  assert.throws(() => escaped!.shape, /disposed/);
  fresh.dispose();
});

test('a stale handle (generation check) is refused natively too', () => {
  // Forge a Tensor whose handle slot was reused: the addon's generation counter must reject it.
  const a = torch.ones([1]);
  const h = a.handle;
  a.dispose();
  const b = torch.zeros([1]); // likely reuses the slot with a new generation
  const forged = Object.create(Tensor.prototype) as { _h: number };
  forged._h = h;
  assert.throws(() => (forged as unknown as Tensor).shape, /disposed or is invalid/);
  b.dispose();
});

test('grad and noGrad inside scopes: the gradient handle is owned by the scope it was read in', () => {
  const w = torch.keep(torch.ones([3]).requiresGrad_());
  const before = live();
  torch.scope(() => {
    w.mul(2).sum().backward();
    const g = w.grad!;
    assert.deepEqual(Array.from(g.toFloat32Array()), [2, 2, 2]);
  });
  assert.equal(live(), before);
  assert.ok(w.grad !== null, 'the gradient itself stays with the leaf');
  torch.scope(() => { const g = w.grad; assert.ok(g); });
  w.dispose();
});

test('external memory is reported to V8 while tensors live and released when they are freed', () => {
  const mb = 64;
  const base = torch.externalMemory().v8;
  const t = torch.zeros([mb * 262144]);
  const during = torch.externalMemory().v8;
  const view = t.narrow(0, 0, 10); // a view shares the storage: nothing new to report
  const withView = torch.externalMemory();
  view.dispose();
  t.dispose();
  const after = torch.externalMemory().v8;
  assert.ok(during - base >= mb * 1048576 * 0.99, `external grew by ${(during - base) / 1048576} MB, expected ${mb}`);
  assert.ok(during - after >= mb * 1048576 * 0.99, `external fell by ${(during - after) / 1048576} MB on dispose`);
  assert.ok(withView.v8 - during < 1048576, `a view added ${(withView.v8 - during) / 1048576} MB`);
  const meta = torch.empty([2 ** 40], { device: 'meta' });
  assert.ok(torch.externalMemory().v8 - after < 1048576, 'a meta tensor has no host memory to report');
  meta.dispose();
});
