// Finite-difference gradient checks (issue 2, item 11), as torch.autograd.gradcheck: float64
// inputs, central differences of a random projection of the output, compared with autograd.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as torch from '../../src/engine/index.js';
import { Tensor } from '../../src/engine/index.js';

const EPS = 1e-6;
const ATOL = 1e-5;
const RTOL = 1e-3;

/**
 * Checks d(sum(f(xs) · v))/dxs from autograd against central differences, for every element of
 * every input. v is a fixed random projection, so that every output element takes part.
 */
function gradcheck(name: string, f: (xs: Tensor[]) => Tensor, shapes: number[][], seed = 0): void {
  torch.scope(() => {
    const g = new torch.Generator(seed);
    const base = shapes.map((s) => torch.randn(s, { dtype: 'float64', generator: g }));
    const probe = torch.noGrad(() => f(base));
    const v = torch.randn(probe.shape, { dtype: 'float64', generator: g });
    const loss = (xs: Tensor[]): number => torch.scope(() => torch.noGrad(() => f(xs).mul(v).sum().item()));

    const leaves = base.map((b) => b.clone().requiresGrad_());
    const grads = torch.grad(f(leaves).mul(v).sum(), leaves);

    let worst = 0;
    base.forEach((b, i) => {
      const data = b.toArray() as Float64Array;
      const analytic = grads[i]!.toArray() as Float64Array;
      for (let j = 0; j < data.length; j++) {
        const at = (delta: number): number => {
          const moved = Float64Array.from(data);
          moved[j]! += delta;
          const xs = base.slice();
          xs[i] = torch.fromTypedArray(moved, b.shape);
          return loss(xs);
        };
        const numeric = (at(EPS) - at(-EPS)) / (2 * EPS);
        const diff = Math.abs(numeric - analytic[j]!);
        worst = Math.max(worst, diff);
        if (diff > ATOL + RTOL * Math.abs(numeric)) {
          assert.fail(`${name}: d/d input${i}[${j}] autograd ${analytic[j]} vs finite differences ${numeric} (|diff| ${diff.toExponential(2)})`);
        }
      }
    });
    process.stdout.write(`# gradcheck ${name}: max |autograd - numeric| = ${worst.toExponential(2)}\n`);
  });
}

test('conv2d: stride, padding, dilation, groups, bias', () => {
  gradcheck('conv2d 3x3 pad 1', ([x, w, b]) => torch.conv2d(x!, w!, b!, { padding: 1 }), [[1, 2, 5, 5], [3, 2, 3, 3], [3]]);
  gradcheck('conv2d stride 2 dilation 2 padding [2,1]', ([x, w]) => torch.conv2d(x!, w!, null, { stride: 2, dilation: 2, padding: [2, 1] }), [[2, 2, 7, 6], [2, 2, 3, 2]]);
  gradcheck('conv2d groups 2', ([x, w, b]) => torch.conv2d(x!, w!, b!, { groups: 2, padding: 1 }), [[1, 4, 4, 4], [6, 2, 3, 3], [6]]);
  gradcheck('conv2d depthwise', ([x, w]) => torch.conv2d(x!, w!, null, { groups: 3 }), [[1, 3, 4, 4], [3, 1, 2, 2]]);
});

test('conv_transpose2d: stride, padding, output_padding, groups', () => {
  gradcheck('convTranspose2d stride 2', ([x, w, b]) => torch.convTranspose2d(x!, w!, b!, { stride: 2, padding: 1, outputPadding: 1 }), [[1, 2, 3, 3], [2, 3, 3, 3], [3]]);
  gradcheck('convTranspose2d groups 2 dilation 2', ([x, w]) => torch.convTranspose2d(x!, w!, null, { groups: 2, dilation: 2 }), [[1, 4, 3, 3], [4, 1, 2, 2]]);
});

test('group_norm and layer_norm (input, weight, bias)', () => {
  gradcheck('groupNorm 2 groups', ([x, w, b]) => torch.groupNorm(x!, 2, w!, b!), [[2, 4, 3, 3], [4], [4]]);
  gradcheck('groupNorm 1 group, no affine', ([x]) => torch.groupNorm(x!, 1), [[1, 3, 2, 4]]);
  gradcheck('layerNorm last dim', ([x, w, b]) => torch.layerNorm(x!, [5], w!, b!), [[3, 5], [5], [5]]);
  gradcheck('layerNorm last two dims', ([x, w, b]) => torch.layerNorm(x!, [2, 3], w!, b!), [[2, 2, 3], [2, 3], [2, 3]]);
});

test('linear with and without bias', () => {
  gradcheck('linear', ([x, w, b]) => torch.linear(x!, w!, b!), [[4, 3], [5, 3], [5]]);
  gradcheck('linear 3-d input, no bias', ([x, w]) => torch.linear(x!, w!), [[2, 3, 4], [2, 4]]);
});

test('bicubic interpolate, align_corners false and true', () => {
  gradcheck('bicubic x2 align_corners=false', ([x]) => torch.interpolate(x!, { scaleFactor: 2, mode: 'bicubic', alignCorners: false }), [[1, 2, 4, 4]]);
  gradcheck('bicubic to 7x5 align_corners=true', ([x]) => torch.interpolate(x!, { size: [7, 5], mode: 'bicubic', alignCorners: true }), [[1, 1, 4, 3]]);
  gradcheck('bicubic downscale align_corners=false', ([x]) => torch.interpolate(x!, { size: [3, 3], mode: 'bicubic', alignCorners: false }), [[1, 1, 6, 5]]);
  gradcheck('bilinear x1.5', ([x]) => torch.interpolate(x!, { scaleFactor: 1.5, mode: 'bilinear', alignCorners: false }), [[1, 1, 4, 4]]);
});

test('softmax attention: softmax(q·kᵀ·scale)·v', () => {
  const attention = ([q, k, v]: Tensor[]) => {
    const scale = 1 / Math.sqrt(q!.size(-1));
    return torch.softmax(torch.matmul(q!, k!.transpose(-2, -1)).mul(scale), -1).matmul(v!);
  };
  gradcheck('attention 2 heads, 5 queries, 4 keys, dim 3', attention, [[2, 5, 3], [2, 4, 3], [2, 4, 3]]);
  gradcheck('bmm + logSoftmax', ([a, b]) => torch.logSoftmax(torch.bmm(a!, b!), 1), [[2, 3, 4], [2, 4, 2]]);
});

test('activations: gelu (exact and tanh), silu, sigmoid', () => {
  gradcheck('gelu exact', ([x]) => torch.gelu(x!), [[12]]);
  gradcheck('gelu tanh', ([x]) => torch.gelu(x!, 'tanh'), [[12]]);
  gradcheck('silu', ([x]) => torch.silu(x!), [[12]]);
  gradcheck('sigmoid·tanh', ([x]) => torch.sigmoid(x!).mul(torch.tanh(x!)), [[12]]);
});

test('the check itself fails on a wrong gradient', () => {
  // A function whose autograd gradient is deliberately wrong: detach() hides x from the graph
  // in one factor, so autograd sees d(x·x)/dx = x where the true derivative is 2x.
  assert.throws(() => gradcheck('wrong', ([x]) => x!.mul(x!.detach()), [[4]]), /autograd .* vs finite differences/);
});
