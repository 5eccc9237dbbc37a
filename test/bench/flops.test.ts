// The bench's FLOP counter (bench/models/flops.ts): counts from the shapes of the calls made, per part.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as torch from '../../src/engine/index.js';
import { FlopCounter } from '../../bench/models/flops.js';

test('FlopCounter counts convolutions and matrix products from their shapes, per part, and nothing else', () => {
  torch.scope(() => {
    // Resolved before the counter is installed: still counted.
    torch.conv2d(torch.zeros([1, 2, 4, 4]), torch.zeros([3, 2, 3, 3]), null, { padding: 1 });
    const fc = new FlopCounter();
    const uninstall = fc.install();
    try {
      fc.part = 'a';
      const x = torch.randn([2, 8, 10, 12]).contiguous('channels_last');
      torch.conv2d(x, torch.randn([6, 4, 3, 3]), torch.zeros([6]), { padding: 1, stride: 2, groups: 2 }); // out [2, 6, 5, 6]
      torch.silu(x.add(1)).softmax(1); // not counted
      fc.part = 'b';
      torch.linear(torch.randn([5, 7, 16]), torch.randn([9, 16]));
      torch.bmm(torch.randn([3, 4, 5]), torch.randn([3, 5, 6]));
      torch.baddbmm(torch.zeros([3, 4, 6]), torch.randn([3, 4, 5]), torch.randn([3, 5, 6]), 0, 0.5);
      torch.matmul(torch.randn([2, 4, 5]), torch.randn([5, 3]));
      torch.convTranspose2d(torch.randn([1, 4, 5, 5]), torch.randn([4, 3, 2, 2]), null, { stride: 2 });
      fc.part = 'c';
      torch.bmm(torch.randn([3, 4, 5]).to({ dtype: 'bfloat16' }), torch.randn([3, 5, 6]).to({ dtype: 'bfloat16' }));
    } finally { uninstall(); }
    // Per precision: the bf16 product apart from the f32 ones.
    assert.equal(fc.byDtype.get('bfloat16'), 2 * 3 * 4 * 6 * 5);
    assert.equal(fc.byDtype.get('float32'), fc.total - 2 * 3 * 4 * 6 * 5);
    assert.equal(fc.byPart.get('a'), 2 * (2 * 6 * 5 * 6) * (4 * 3 * 3));
    const b = 2 * 5 * 7 * 9 * 16 + 2 * 3 * 4 * 6 * 5 * 2 + 2 * 2 * 4 * 3 * 5 + 2 * 4 * 25 * 3 * 4;
    assert.equal(fc.byPart.get('b'), b);
    const c = 2 * 3 * 4 * 6 * 5;
    assert.equal(fc.total, fc.byPart.get('a')! + b + c);
    assert.equal(fc.gflop('b'), b / 1e9);
    // Uninstalled: later calls are not counted.
    torch.conv2d(torch.zeros([1, 2, 4, 4]), torch.zeros([3, 2, 3, 3]));
    assert.equal(fc.total, fc.byPart.get('a')! + b + c);
  });
});
