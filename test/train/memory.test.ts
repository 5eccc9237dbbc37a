// RSS stays flat over a long distillation run (tiny networks, every loss term, both optimisers).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as torch from '../../src/engine/index.js';
import { AdamW, EMA } from '../../src/engine/optim/index.js';
import { drawDistill, generatorLoss, discriminatorLoss } from '../../src/train/steps.js';
import { tinyNets, TINY_SCHEDULE } from './tiny-nets.js';

const STEPS = 2000, WARMUP = 1000;
/** Allowed RSS growth after warm-up: malloc arenas (oneDNN, autograd) grow for ≈ 750 steps, measured, then stay flat; the live-tensor count must not move at all. */
const BOUND_MB = 16;

test(`${STEPS} distillation steps: RSS grows by less than ${BOUND_MB} MB after ${WARMUP} warm-up steps`, () => {
  // A 2-step teacher keeps the test short; the step is otherwise the full objective.
  const nets = tinyNets(7, true, { ...TINY_SCHEDULE, steps: 2 });
  const opt = new AdamW(nets.student.parameters(), { lr: 1e-4, weightDecay: 0 });
  const dopt = new AdamW(nets.heads!.parameters(), { lr: 1e-4, weightDecay: 0 });
  const ema = new EMA(nets.student, { rate: 0.999 });
  const g = new torch.Generator(7);
  const opts = { weights: { distill: 1, ess: 1, hfp: 1, adv: 0.02, inverse: 0, gt: 0 }, hfp: { levels: 1, distance: 'l1' as const, target: 'hr' as const } };
  let base = 0;
  let live0 = 0;
  try {
    for (let i = 0; i < STEPS; i++) {
      torch.scope(() => {
        const hr = torch.rand([1, 3, 8, 8], { generator: g }).mul(2).sub(1);
        const lq = torch.rand([1, 3, 2, 2], { generator: g }).mul(2).sub(1);
        const draws = drawDistill(nets.space, hr.shape, g);
        opt.zeroGrad();
        const r = generatorLoss(nets, opts, hr, lq, draws);
        r.total.backward();
        opt.step();
        ema.update(nets.student);
        dopt.zeroGrad();
        discriminatorLoss(nets, r, lq, draws).backward();
        dopt.step();
      });
      if (i === WARMUP) { global.gc?.(); base = process.memoryUsage().rss; live0 = torch.memory().liveTensors; }
    }
    global.gc?.();
    const grown = (process.memoryUsage().rss - base) / 2 ** 20;
    assert.ok(grown < BOUND_MB, `RSS grew by ${grown.toFixed(1)} MB over ${STEPS - WARMUP} steps`);
    assert.equal(torch.memory().liveTensors, live0, 'live tensors after warm-up');
  } finally {
    opt.dispose(); dopt.dispose(); ema.dispose(); nets.dispose();
  }
});
