// relu_ (aten::relu_): the same values as relu, written into its input, and autograd through it as
// PyTorch allows (relu's backward uses the result).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as torch from '../../src/engine/index.js';

test('relu_ overwrites its input with relu and keeps the gradient', () => {
  torch.scope(() => {
    const x = torch.tensor([-2, -0.5, 0, 0.5, 3]);
    const want = x.relu();
    const y = x.clone();
    torch.relu_(y);
    assert.deepEqual(y.toArray(), want.toArray());
    const leaf = torch.tensor([-1, 2, -3, 4]).requiresGrad_();
    const h = leaf.mul(2);
    torch.relu_(h);
    h.sum().backward();
    assert.deepEqual([...leaf.grad!.toFloat32Array()], [0, 2, 0, 2]);
    assert.throws(() => torch.relu_(null as unknown as torch.Tensor), /relu_/);
  });
});
