// One full distillation step against PyTorch (scripts/ref/distill_step_ref.py, upstream ResShift
// UNet): every loss term, the teacher's sample, and the student and heads after one AdamW step each.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as torch from '../../src/engine/index.js';
import { Tensor } from '../../src/engine/index.js';
import { AdamW } from '../../src/engine/optim/index.js';
import { loadSafetensors } from '../../src/io/checkpoint/tensors.js';
import { SafetensorsFile } from '../../src/io/checkpoint/index.js';
import { UNetModelSwin, type UNetConfig } from '../../src/models/unet/index.js';
import { DiscriminatorHeads } from '../../src/models/discriminator/index.js';
import { StandInEncoder } from '../../src/train/encoder.js';
import { pixelSpace } from '../../src/train/space.js';
import { generatorLoss, discriminatorLoss, type LossWeights } from '../../src/train/steps.js';

const FIXTURE = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../../test/fixtures/train/distill-step.safetensors');

function pick(all: Map<string, Tensor>, prefix: string): Map<string, Tensor> {
  return new Map([...all].filter(([k]) => k.startsWith(prefix)).map(([k, t]) => [k.slice(prefix.length), t]));
}

function maxDiff(a: Tensor, b: Tensor): number {
  return torch.scope(() => a.float().sub(b.float()).abs().max().item());
}

test('one distillation step (all six terms, both optimisers) matches PyTorch', () => {
  const f = SafetensorsFile.open(FIXTURE);
  const meta = f.metadata;
  f.close();
  const all = loadSafetensors(FIXTURE);
  const unetCfg = JSON.parse(meta.unet!) as Partial<UNetConfig>;
  const weights = JSON.parse(meta.weights!) as LossWeights;
  const lr = Number(meta.lr);
  const teacher = new UNetModelSwin(unetCfg), student = new UNetModelSwin(unetCfg);
  const encoder = new StandInEncoder({ widths: [8, 16], embed_dim: 8, num_classes: 4 });
  const heads = new DiscriminatorHeads(teacher, { width: 8, groups: 4 });
  try {
    teacher.loadStateDict(pick(all, 'w.'));
    student.loadStateDict(pick(all, 'w.'));
    encoder.loadStateDict(pick(all, 'e.'));
    heads.loadStateDict(pick(all, 'h.'));
    teacher.requiresGrad_(false).eval();
    encoder.requiresGrad_(false).eval();
    const nets = { space: pixelSpace(JSON.parse(meta.schedule!)), student, teacher, encoder, heads };
    const opt = new AdamW(student.parameters(), { lr, weightDecay: 0 });
    const dopt = new AdamW(heads.parameters(), { lr, weightDecay: 0 });
    torch.scope(() => {
      const draws = { noise: all.get('in.noise')!, noiseD: all.get('in.noiseD')!, tD: Array.from(all.get('in.tD')!.toArray() as BigInt64Array, Number) };
      const hr = all.get('in.hr')!, lq = all.get('in.lq')!;
      const r = generatorLoss(nets, { weights, hfp: { levels: 1, distance: 'l1', target: 'hr' } }, hr, lq, draws);
      assert.ok(maxDiff(r.zTeacher, all.get('out.z_tea')!) < 1e-5, `teacher sample differs by ${maxDiff(r.zTeacher, all.get('out.z_tea')!)}`);
      for (const [k, v] of Object.entries(r.terms)) {
        const want = all.get(`loss.${k}`)!.item(), got = v.item();
        assert.ok(Math.abs(got - want) <= 1e-5 + 1e-4 * Math.abs(want), `${k}: ${got} vs PyTorch ${want}`);
      }
      const wantTotal = all.get('loss.total')!.item();
      assert.ok(Math.abs(r.total.item() - wantTotal) <= 1e-4 * Math.abs(wantTotal), `total ${r.total.item()} vs ${wantTotal}`);
      opt.zeroGrad();
      r.total.backward();
      opt.step();
      dopt.zeroGrad();
      const ld = discriminatorLoss(nets, r, lq, draws);
      const wantD = all.get('loss.d')!.item();
      assert.ok(Math.abs(ld.item() - wantD) <= 1e-5 * Math.max(1, Math.abs(wantD)), `L_D ${ld.item()} vs ${wantD}`);
      ld.backward();
      dopt.step();
      // One AdamW step moves each weight by about lr·g/|g|: compare to a small fraction of lr. Where
      // the true gradient is 0 (a conv bias feeding a one-channel-per-group GroupNorm) both sides
      // hold rounding noise of ~1e-9 and the step's sign is arbitrary: those elements (|g| < 1e-7)
      // are left out, and must be few.
      for (const [net, prefix] of [[student, 's1.'], [heads, 'h1.']] as const) {
        const want = pick(all, prefix);
        assert.ok(want.size > 0);
        const grads = new Map(net.namedParameters().map(([k, p]) => [k, p.grad]));
        let worst = 0, worstKey = '', skipped = 0, total = 0;
        for (const [k, t] of want) {
          const got = net.stateDict().get(k);
          assert.ok(got, `${prefix}${k} missing`);
          const g = grads.get(k);
          const ok = g ? g.abs().ge(1e-7) : torch.onesLike(t).gt(0);
          skipped += ok.logicalNot().sum().item();
          total += t.numel;
          const d = got.sub(t).abs().mul(ok.float()).max().item();
          if (d > worst) { worst = d; worstKey = k; }
        }
        assert.ok(worst < lr * 0.02, `${prefix}: ${worstKey} differs by ${worst} (lr ${lr})`);
        assert.ok(skipped < total * 0.01, `${prefix}: ${skipped} of ${total} elements have |g| < 1e-7`);
        // The step really moved the weights.
        const moved = maxDiff(net.stateDict().get([...want.keys()][0]!)!, prefix === 's1.' ? all.get(`w.${[...want.keys()][0]}`)! : all.get(`h.${[...want.keys()][0]}`)!);
        assert.ok(moved > lr * 0.5, `${prefix} did not move (${moved})`);
      }
    });
    opt.dispose(); dopt.dispose();
  } finally {
    teacher.dispose(); student.dispose(); encoder.dispose(); heads.dispose();
    for (const t of all.values()) t.dispose();
  }
});
