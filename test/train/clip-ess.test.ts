// ESS with the CLIP image tower: frozen, differentiable towards the student, configured by clip.file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as torch from '../../src/engine/index.js';
import { ClipImageEncoder, loadClipEncoder } from '../../src/train/clip-encoder.js';
import { encodeImage, imageTokens } from '../../src/models/clip/index.js';
import { essLoss } from '../../src/train/losses.js';
import { checkConfig, loadConfig } from '../../src/train/config.js';
import { generatorLoss, drawDistill } from '../../src/train/steps.js';
import { tinyNets } from './tiny-nets.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const fixture = (f: string): string => {
  for (const d of [path.join(here, '..', 'fixtures', 'clip'), path.join(here, '..', '..', '..', 'test', 'fixtures', 'clip')]) if (fs.existsSync(path.join(d, f))) return path.join(d, f);
  throw new Error(`fixture ${f} not found`);
};
const close = (a: number, b: number, tol: number): void => assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b}`);

test('CLIP ESS: a distill step gives the student gradient and CLIP none; L_ESS(x, x) = 0', () => {
  const clip = loadClipEncoder(fixture('tiny-vit.pt'), { visionHeads: 2 });
  const nets = tinyNets(5, true);
  nets.encoder = clip;
  try {
    assert.equal(clip.model.training, false, 'the tower is in eval mode');
    assert.ok(clip.model.parameters().every((p) => !p.requiresGrad), 'the tower is frozen');
    torch.scope(() => {
      const g = new torch.Generator(5);
      // 24² crops: not the tower's 16², so the whole-crop resize is on the path.
      const x = torch.rand([2, 3, 24, 24], { generator: g }).mul(2).sub(1);
      const y = torch.rand([2, 3, 24, 24], { generator: g }).mul(2).sub(1);
      close(essLoss(clip, x, x).item(), 0, 1e-5);
      const v = essLoss(clip, x, y).item();
      assert.ok(v > 1e-4 && v <= 2, String(v));
      // Gradient reaches the image through resize, normalisation and the tower.
      const xl = x.detach().requiresGrad_(true);
      essLoss(clip, xl, y).backward();
      assert.ok(xl.grad!.abs().sum().item() > 0);

      const hr = torch.rand([2, 3, 16, 16], { generator: g }).mul(2).sub(1);
      const lq = torch.rand([2, 3, 4, 4], { generator: g }).mul(2).sub(1);
      const draws = drawDistill(nets.space, [2, 3, 16, 16], g);
      const opts = { weights: { distill: 0, ess: 1, hfp: 0, adv: 0, inverse: 0, gt: 0 }, hfp: { levels: 1, distance: 'l1' as const, target: 'hr' as const } };
      const r = generatorLoss(nets, opts, hr, lq, draws);
      assert.ok(r.terms.ess!.item() > 0);
      r.total.backward();
      const withGrad = nets.student.parameters().filter((p) => p.grad && p.grad.abs().sum().item() > 0).length;
      assert.ok(withGrad > nets.student.parameters().length / 2, `${withGrad} student parameters got gradient`);
      for (const p of clip.model.parameters()) assert.equal(p.grad, null);
      for (const p of nets.teacher.parameters()) assert.equal(p.grad, null);
    });
  } finally {
    nets.dispose();
    clip.dispose();
  }
});

test('CLIP ESS patch term: L_global + β_patch · mean_tokens (1 − cos) of projected patch tokens; 0 for x vs x', () => {
  const clip = loadClipEncoder(fixture('tiny-vit.pt'), { visionHeads: 2, patchWeight: 0.7 });
  try {
    assert.equal(clip.patchWeight, 0.7);
    torch.scope(() => torch.noGrad(() => {
      const g = new torch.Generator(8);
      const x = torch.rand([2, 3, 20, 20], { generator: g }).mul(2).sub(1);
      const y = torch.rand([2, 3, 20, 20], { generator: g }).mul(2).sub(1);
      close(essLoss(clip, x, x).item(), 0, 1e-5);
      const x01 = x.mul(0.5).add(0.5), y01 = y.mul(0.5).add(0.5);
      const o = { preprocess: 'squash' as const };
      const lg = torch.rsub(torch.cosineSimilarity(encodeImage(clip.model, x01, o), encodeImage(clip.model, y01, o), 1), 1).mean().item();
      const lp = torch.rsub(torch.cosineSimilarity(imageTokens(clip.model, x01, { ...o, project: true }), imageTokens(clip.model, y01, { ...o, project: true }), 2), 1).mean().item();
      assert.ok(lp > 1e-4);
      close(essLoss(clip, x, y).item(), lg + 0.7 * lp, 1e-5);
      const plain = new ClipImageEncoder(clip.model);
      close(essLoss(plain, x, y).item(), lg, 1e-5);
    }));
    assert.throws(() => new ClipImageEncoder(clip.model, -1), /patch weight must be a number ≥ 0/);
  } finally {
    clip.dispose();
  }
});

test('CLIP ESS: a missing or wrong file gives one line naming it and where OpenAI publishes it', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'clip-ess-'));
  try {
    const one = (f: () => unknown, re: RegExp): void => assert.throws(f, (e: Error) => { assert.match(e.message, re); assert.ok(!e.message.includes('\n'), e.message); return true; });
    const missing = path.join(tmp, 'ViT-B-16.pt');
    one(() => loadClipEncoder(missing), /^clip\.file: CLIP weights: .*ViT-B-16\.pt not found; OpenAI publishes ViT-B-16\.pt at https:\/\/openaipublic\.azureedge\.net\/clip\/models\//);
    const junk = path.join(tmp, 'clip.pt');
    fs.writeFileSync(junk, 'not a checkpoint');
    one(() => loadClipEncoder(junk), /^clip\.file: CLIP weights: .*openaipublic\.azureedge\.net/);
    // the tiny tower's width derives 0 heads unless clip.heads says otherwise
    one(() => loadClipEncoder(fixture('tiny-vit.pt')), /^clip\.file: .*vision_heads/);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});

test('config: clip.file is validated and resolved; one ESS encoder at a time', () => {
  const base = {
    out: 'o', seed: 1, iterations: 2, teacher: 't', losses: { ess: 1 },
    data: { hr: 'h', crop: 16, batch: 2 }, optim: { lr: 1e-3 },
  };
  const c = checkConfig('distill', { ...base, clip: { file: 'w/ViT-B-16.pt' } }, 'c', '/base');
  assert.equal(c.clip!.file, '/base/w/ViT-B-16.pt');
  assert.throws(() => checkConfig('distill', { ...base, clip: { file: 'a.pt' }, encoder: 'e.safetensors' }), /clip: give one ESS encoder/);
  assert.throws(() => checkConfig('distill', { ...base, clip: { file: 'a.pt', heads: 0 } }), /clip\.heads/);
  assert.throws(() => checkConfig('distill', { ...base, clip: { path: 'a.pt' } }), /clip/);
  assert.equal(c.clip!.patch, 0);
  assert.throws(() => checkConfig('distill', { ...base, clip: { file: 'a.pt', patch: -1 } }), /clip\.patch/);
  // --clip FILE replaces the config's stand-in encoder; relative to the working folder
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'clip-cfg-'));
  try {
    const f = path.join(tmp, 'd.json');
    fs.writeFileSync(f, JSON.stringify({ ...base, kind: 'distill', encoder: 'e.safetensors' }));
    assert.equal(loadConfig('distill', f).encoder, path.join(tmp, 'e.safetensors'));
    const o = loadConfig('distill', f, { clip: 'ViT-B-16.pt' });
    assert.equal(o.encoder, undefined);
    assert.equal(o.clip!.file, path.resolve('ViT-B-16.pt'));
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});
