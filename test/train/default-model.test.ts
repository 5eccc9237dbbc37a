// The unshuffled pixel space (the bundled model's), its model folders through the upscale pipeline,
// the training record in model.json, the train:default pipeline end to end on a tiny config, and the
// bundled model as the default of the library and the CLI.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import * as torch from '../../src/engine/index.js';
import { writeImage } from '../../src/io/image/index.js';
import { loadUpscaler, bundledModelDir, defaultModel, resolveBundled, BUNDLED_MODEL } from '../../src/models/index.js';
import { checkModelJson, readModelJson } from '../../src/models/format.js';
import { UNetModelSwin } from '../../src/models/unet/index.js';
import { upscalerSpec, parseModelSpec } from '../../src/api/model.js';
import { DEFAULT_MODEL } from '../../src/api/schema.js';
import { listModels } from '../../src/api/models-dir.js';
import { unshuffleSpace } from '../../src/train/space.js';
import { buildUNet } from '../../src/train/teacher.js';
import { ConfigError } from '../../src/train/config.js';
import { trainDefaultModel, loadDefaultModelConfig } from '../../src/train/default-model.js';
import { TINY_SCHEDULE } from './tiny-nets.js';
import { cliPath, repoRoot } from '../helpers.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vpdsr-default-'));
process.on('exit', () => fs.rmSync(tmp, { recursive: true, force: true }));

const UNSHUFFLE_UNET = {
  image_size: 8, lq_size: 8, in_channels: 48, out_channels: 48, model_channels: 8, channel_mult: [1, 2], num_res_blocks: [1, 1],
  attention_resolutions: [], middle_attention: false, norm_groups: 4, use_scale_shift_norm: true,
};

test('unshuffle space: z₀ is the 4×4 unshuffle of HR (48 channels at LR size), decode inverts it exactly', () => {
  torch.scope(() => {
    const s = unshuffleSpace(TINY_SCHEDULE);
    const hr = torch.rand([2, 3, 16, 24], { generator: new torch.Generator(1) }).mul(2).sub(1);
    const z = s.z0(hr);
    assert.deepEqual(z.shape, [2, 48, 4, 6]);
    assert.deepEqual(s.zShape(hr), [2, 48, 4, 6]);
    assert.equal(s.decode(z).sub(hr).abs().max().item(), 0);
    const lq = torch.rand([2, 3, 4, 6], { generator: new torch.Generator(2) });
    const zy = s.zY(lq);
    assert.deepEqual(zy.shape, [2, 48, 4, 6]);
    // The condition is the LR itself, at the latent's size.
    const cond = s.cond(lq, zy);
    assert.deepEqual(cond.shape, lq.shape);
    assert.equal(cond.sub(lq).abs().max().item(), 0);
    // Pixel (0, 0) of the bicubic ×4 image is channel 0 of LR pixel (0, 0); pixel (3, 3) of the red plane is channel 15.
    const up = torch.interpolate(lq, { scaleFactor: 4, mode: 'bicubic', alignCorners: false });
    assert.equal(zy.narrow(0, 0, 1).narrow(1, 15, 1).narrow(2, 0, 1).narrow(3, 0, 1).item(), up.narrow(0, 0, 1).narrow(1, 0, 1).narrow(2, 3, 1).narrow(3, 3, 1).item());
  });
});

test('lq_residual: x̂₀ = output + unshuffled bicubic ×4 of the LR (exact with a zeroed output conv); refused outside the unshuffle space', () => {
  assert.throws(() => new UNetModelSwin({ ...UNSHUFFLE_UNET, in_channels: 3, out_channels: 3, lq_residual: true }), /lq_residual needs the unshuffled pixel space/);
  assert.throws(() => new UNetModelSwin({ ...UNSHUFFLE_UNET, lq_residual: 1 as unknown as boolean }), /lq_residual must be true or false/);
  // Absent stays absent (upstream configs are unchanged).
  assert.equal('lq_residual' in new UNetModelSwin(UNSHUFFLE_UNET).config, false);
  torch.scope(() => {
    const plain = new UNetModelSwin(UNSHUFFLE_UNET);
    const res = new UNetModelSwin({ ...UNSHUFFLE_UNET, lq_residual: true });
    res.loadStateDict(plain.stateDict());
    const x = torch.randn([1, 48, 8, 8], { generator: new torch.Generator(3) }), lq = torch.rand([1, 3, 8, 8], { generator: new torch.Generator(4) }).mul(2).sub(1);
    const t = torch.tensor([2], { dtype: 'int64' });
    const base = torch.pixelUnshuffle(torch.interpolate(lq, { scaleFactor: 4, mode: 'bicubic', alignCorners: false }), 4);
    torch.noGrad(() => {
      assert.ok(res.forward(x, t, lq).sub(plain.forward(x, t, lq)).sub(base).abs().max().item() < 1e-5);
      for (const p of res.parameters().slice(-2)) p.zero_(); // the output conv's weight and bias
      assert.equal(res.forward(x, t, lq).sub(base).abs().max().item(), 0);
    });
    plain.dispose(); res.dispose();
  });
});

test('unshuffle UNet: in/out channels, lq_size and the crop side are checked', async () => {
  assert.throws(() => buildUNet({ ...UNSHUFFLE_UNET, in_channels: 3 }, 'unshuffle', 32), (e: unknown) => e instanceof ConfigError && /in_channels must be 48/.test(e.message));
  assert.throws(() => buildUNet({ ...UNSHUFFLE_UNET, out_channels: 3 }, 'unshuffle', 32), /out_channels must be 48/);
  assert.throws(() => buildUNet({ ...UNSHUFFLE_UNET, lq_size: 16 }, 'unshuffle', 32), /lq_size must equal image_size/);
  assert.throws(() => buildUNet(UNSHUFFLE_UNET, 'unshuffle', 36), /the unshuffle side 9 must be a multiple of/);
  buildUNet(UNSHUFFLE_UNET, 'unshuffle', 32).dispose();
});

test('train:default on a tiny config: every phase, export with licence and provenance, the evaluation recorded, resumable', async () => {
  // Photos (two folders) and a 2-image test set.
  const photos = [path.join(tmp, 'photos-a'), path.join(tmp, 'photos-b', 'sub')];
  for (const [k, dir] of photos.entries()) {
    fs.mkdirSync(dir, { recursive: true });
    for (let i = 0; i < 3; i++) {
      const img = torch.scope(() => torch.keep(torch.interpolate(torch.rand([1, 3, 12, 10], { generator: new torch.Generator(10 * k + i) }), { size: [96, 80], mode: 'bilinear', alignCorners: false }).clamp(0, 1)));
      await writeImage(path.join(dir, `p${i}.png`), img); img.dispose();
    }
  }
  for (const d of ['hr', 'lr']) fs.mkdirSync(path.join(tmp, 'test', d), { recursive: true });
  for (let i = 0; i < 2; i++) {
    const [h, l] = torch.scope(() => { const h = torch.rand([1, 3, 32, 32], { generator: new torch.Generator(50 + i) }); return [torch.keep(h), torch.keep(torch.avgPool2d(h, 4, { stride: 4 }))]; });
    await writeImage(path.join(tmp, 'test', 'hr', `t${i}.png`), h!); await writeImage(path.join(tmp, 'test', 'lr', `t${i}.png`), l!);
    h!.dispose(); l!.dispose();
  }
  fs.writeFileSync(path.join(tmp, 'LICENSE.txt'), 'licence text\n');
  fs.writeFileSync(path.join(tmp, 'PROV.md'), 'provenance text\n');
  const cfg = {
    name: 'tiny-x4', out: 'run', seed: 5, threads: 1,
    data: { sources: ['photos-a', 'photos-b'], shortSide: 64 },
    degradation: { base: 'test', second_order_prob: 0, final_sinc_prob: 0, sinc_prob: 0 },
    encoder: { iterations: 2, data: { crop: 16, batch: 4 }, encoder: { widths: [8, 16], embed_dim: 8 }, optim: { lr: 1e-3 } },
    teacher: { iterations: 2, space: 'unshuffle', schedule: TINY_SCHEDULE, unet: UNSHUFFLE_UNET, data: { crop: 32, batch: 2, workers: 0 }, optim: { lr: 1e-3 }, ema: 0.9 },
    distill: { iterations: 2, data: { crop: 32, batch: 2, workers: 0 }, optim: { lr: 1e-4 }, heads: { width: 8, groups: 4 }, ema: 0.9 },
    runs: { plain: { losses: { distill: 1 } }, vpdsr: { losses: { distill: 1, ess: 1, hfp: 1, adv: 0.02 } } },
    export: { dir: 'models/tiny-x4', license: 'LICENSE.txt', provenance: 'PROV.md' },
    evaluation: { hr: 'test/hr', lr: 'test/lr', seed: 3 },
  };
  const file = path.join(tmp, 'default.json');
  fs.writeFileSync(file, JSON.stringify({ ...cfg, runs: { plain: {} } }));
  assert.throws(() => loadDefaultModelConfig(file), /runs\.vpdsr/);
  fs.writeFileSync(file, JSON.stringify(cfg));
  const r = await trainDefaultModel(file);
  const dir = path.join(tmp, 'models', 'tiny-x4');
  assert.equal(r.model, dir);
  assert.deepEqual(fs.readdirSync(dir).sort(), ['LICENSE', 'PROVENANCE.md', 'model.json', 'unet.safetensors']);
  const json = readModelJson(dir);
  assert.equal(json.name, 'tiny-x4');
  assert.equal(json.kind, 'unshuffle-diffusion-sr');
  assert.equal(json.oneStep, true);
  const t = json.training as { steps: Record<string, number>; data: { images: number; files: unknown[] }; config: { sha256: string }; evaluation: { rows: { method: string; psnr_y: number }[] } };
  assert.deepEqual(t.steps, { encoder: 2, teacher: 2, 'student-plain': 2, 'student-vpdsr': 2 });
  assert.equal(t.data.images, 6);
  assert.match(t.config.sha256, /^[0-9a-f]{64}$/);
  assert.deepEqual(t.evaluation.rows.map((x) => x.method), ['bicubic', 'teacher', 'student-plain', 'student-vpdsr']);
  assert.ok(t.evaluation.rows.every((x) => Number.isFinite(x.psnr_y)));
  assert.equal(fs.readdirSync(path.join(tmp, 'run', 'eval', 'student-vpdsr')).length, 2);
  // model.json: the optional training object is checked; the rest stays strict.
  const raw = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8')) as Record<string, unknown>;
  assert.throws(() => checkModelJson({ ...raw, training: 3 }, 'm.json'), /m\.json\.training: must be an object/);
  assert.throws(() => checkModelJson({ ...raw, autoencoder: {} }, 'm.json'), /must be null for a unshuffle-diffusion-sr model/);
  assert.throws(() => checkModelJson({ ...raw, extra: 1 }, 'm.json'), /m\.json\.extra: is not a field/);
  // The exported folder upscales, padded to its multiple and cropped back.
  const up = loadUpscaler({ model: dir });
  try {
    torch.scope(() => {
      const y = up.upscale(torch.rand([1, 3, 10, 6], { generator: new torch.Generator(1) }), { seed: 2, tile: 0 });
      assert.deepEqual(y.shape, [1, 3, 40, 24]);
      assert.ok(y.min().item() >= 0 && y.max().item() <= 1);
    });
  } finally { up.dispose(); }
  // A rerun finds every phase done and trains nothing.
  const lines: string[] = [];
  await trainDefaultModel(file, { noEval: true, log: (l) => lines.push(l) });
  assert.equal(lines.filter((l) => / exists, skipped$/.test(l)).length, 4);
});

test('the default model: the bundled vpdsr-x4 when the package carries its weights, else bicubic; the CLI runs it without --model', () => {
  const dir = bundledModelDir();
  const out = path.join(tmp, 'cli-out');
  const r = spawnSync(process.execPath, [cliPath, 'upscale', '-i', path.join(repoRoot, 'samples', 'chelsea-lr.png'), '-o', out], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(fs.readdirSync(out), ['chelsea-lr.png']);
  assert.equal(resolveBundled('bicubic'), 'bicubic');
  if (fs.existsSync(path.join(repoRoot, 'models', BUNDLED_MODEL, 'unet.safetensors'))) {
    assert.equal(dir, path.join(repoRoot, 'models', BUNDLED_MODEL));
    assert.equal(defaultModel(), dir);
    assert.equal(readModelJson(dir!).kind, 'unshuffle-diffusion-sr');
    assert.equal(DEFAULT_MODEL, BUNDLED_MODEL);
    assert.equal((upscalerSpec(parseModelSpec({})) as { model: string }).model, dir);
    assert.equal((upscalerSpec(parseModelSpec(BUNDLED_MODEL)) as { model: string }).model, dir);
    assert.equal(resolveBundled(BUNDLED_MODEL), dir);
    const listed = listModels(path.join(tmp, 'no-models-here')).find((m) => m.name === BUNDLED_MODEL);
    assert.equal(listed?.source, 'bundled');
    assert.equal(listed?.path, dir);
    assert.match(r.stderr, new RegExp(`${BUNDLED_MODEL} on cpu`));
  } else {
    // No weights in this checkout: the baseline, and naming the bundled model says why it cannot run.
    assert.equal(dir, null);
    assert.equal(defaultModel(), 'bicubic');
    assert.equal(DEFAULT_MODEL, 'bicubic');
    assert.equal((upscalerSpec(parseModelSpec({})) as { model: string }).model, 'bicubic');
    assert.throws(() => resolveBundled(BUNDLED_MODEL), /model vpdsr-x4: this installation carries no weights for it/);
    assert.match(r.stderr, /bicubic on cpu/);
  }
});
