// The training commands end to end on tiny networks: config checking, exact resumption, Ctrl-C
// (abort) checkpoints, and the model folders `vpdsr upscale --model` runs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as torch from '../../src/engine/index.js';
import { writeImage } from '../../src/io/image/index.js';
import { loadSafetensors } from '../../src/io/checkpoint/tensors.js';
import { loadUpscaler } from '../../src/models/index.js';
import { checkConfig, loadConfig, trainTeacher, distill, trainEncoder, ConfigError } from '../../src/train/index.js';
import { TINY_UNET, TINY_SCHEDULE } from './tiny-nets.js';

// ESS with CLIP in the latent run: the clip tests' tiny random ViT (test/fixtures/clip).
const tinyClipFile = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..', '..', 'test', 'fixtures', 'clip', 'tiny-vit.pt');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vpdsr-train-'));
process.on('exit', () => fs.rmSync(tmp, { recursive: true, force: true }));

async function hrFolder(): Promise<string> {
  const dir = path.join(tmp, 'hr');
  if (fs.existsSync(dir)) return dir;
  fs.mkdirSync(dir);
  const g = new torch.Generator(5);
  for (let i = 0; i < 6; i++) {
    const img = torch.scope(() => torch.keep(torch.interpolate(torch.rand([1, 3, 10, 12], { generator: g }), { size: [40, 48], mode: 'bilinear', alignCorners: false }).clamp(0, 1)));
    await writeImage(path.join(dir, `img${i}.png`), img);
    img.dispose();
  }
  return dir;
}

const base = (out: string, hr: string) => ({
  out, seed: 3, iterations: 4, threads: 1, log: { every: 1 },
  data: { hr, crop: 16, batch: 2, workers: 0, degradation: { base: 'test', second_order_prob: 0, final_sinc_prob: 0, sinc_prob: 0 } },
  optim: { lr: 1e-3, warmup: 2 },
});

const teacherCfg = (out: string, hr: string) => ({ ...base(out, hr), space: 'pixel', schedule: TINY_SCHEDULE, unet: TINY_UNET, ema: 0.9 });

test('configs are checked before any work: the key and the allowed values are named', () => {
  assert.throws(() => checkConfig('teacher', { ...teacherCfg('x', 'y'), space: 'pix' }), (e: Error) => e instanceof ConfigError && /space: must be one of "pixel", "unshuffle", "latent"/.test(e.message));
  assert.throws(() => checkConfig('teacher', { ...teacherCfg('x', 'y'), epochs: 3 }), /unknown key epochs/);
  assert.throws(() => checkConfig('teacher', { ...teacherCfg('x', 'y'), iterations: 0 }), /iterations:/);
  assert.throws(() => checkConfig('teacher', { ...teacherCfg('x', 'y'), data: { crop: 16, batch: 2 } }), /exactly one of data.hr/);
  assert.throws(() => checkConfig('teacher', { ...teacherCfg('x', 'y'), space: 'latent' }), /vq: space "latent" needs vq/);
  assert.throws(() => checkConfig('distill', { ...base('x', 'y'), teacher: 't', losses: { distill: 0 } }), /at least one loss weight/);
  assert.throws(() => checkConfig('distill', { ...base('x', 'y'), teacher: 't', losses: { ess: 1 } }), /encoder: losses.ess > 0 needs clip\.file \(CLIP weights\) or encoder/);
  assert.throws(() => checkConfig('distill', { ...base('x', 'y'), teacher: 't', losses: { hfp: 1 }, hfp: { distance: 'l2' } }), /hfp.distance: must be one of "l1", "charbonnier"/);
  assert.throws(() => checkConfig('distill', { ...base('x', 'y'), teacher: 't', losses: { hfp: 1 }, hfp: { shift: 'yes' } }), /hfp.shift/);
  assert.equal(checkConfig('distill', { ...base('x', 'y'), teacher: 't', losses: { hfp: 1 }, hfp: { levels: 2, shift: true } }).hfp.shift, true);
  const f = path.join(tmp, 'bad.yaml');
  fs.writeFileSync(f, 'kind: teacher\nspace: [\n');
  assert.throws(() => loadConfig('teacher', f), /bad.yaml: not valid YAML/);
  assert.throws(() => loadConfig('teacher', path.join(tmp, 'none.yaml')), /cannot read the config/);
  const ok = checkConfig('teacher', teacherCfg('rel/out', 'rel/hr'), 'c', '/base');
  assert.equal(ok.out, '/base/rel/out');
  assert.equal(ok.optim.schedule, 'constant');
});

function sameWeights(a: string, b: string): void {
  const x = loadSafetensors(a), y = loadSafetensors(b);
  try {
    const keys = [...x.keys()].filter((k) => /^(model|ema|disc)\./.test(k));
    assert.ok(keys.length > 10);
    for (const k of keys) assert.equal(torch.scope(() => x.get(k)!.sub(y.get(k)!).abs().max().item()), 0, `${k} differs`);
  } finally {
    for (const t of [...x.values(), ...y.values()]) t.dispose();
  }
}

test('teacher, encoder and student: resume after N equals 2N straight; abort leaves a checkpoint; the models upscale', async () => {
  const hr = await hrFolder();
  // Teacher: 4 straight vs 2 + resume to 4 (same machine, same thread count).
  const straight = await trainTeacher(checkConfig('teacher', teacherCfg(path.join(tmp, 't4'), hr)));
  assert.equal(straight.step, 4);
  assert.ok(fs.existsSync(path.join(tmp, 't4', 'model', 'model.json')));
  const half = await trainTeacher(checkConfig('teacher', { ...teacherCfg(path.join(tmp, 't2'), hr), iterations: 2 }));
  assert.equal(half.step, 2);
  const resumed = await trainTeacher(checkConfig('teacher', teacherCfg(path.join(tmp, 't2'), hr)), { resume: true });
  assert.equal(resumed.step, 4);
  sameWeights(straight.checkpoint, resumed.checkpoint);
  // A fresh run into a used folder is refused.
  await assert.rejects(trainTeacher(checkConfig('teacher', teacherCfg(path.join(tmp, 't4'), hr))), /holds a training run already/);
  const logs = fs.readFileSync(path.join(tmp, 't4', 'train.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { type: string; mse?: number });
  assert.equal(logs.filter((l) => l.type === 'train').length, 4);
  assert.ok(logs.every((l) => l.type !== 'train' || Number.isFinite(l.mse)));

  const enc = await trainEncoder(checkConfig('encoder', { ...base(path.join(tmp, 'enc'), hr), iterations: 2, data: { hr, crop: 16, batch: 4 }, encoder: { widths: [8, 16], embed_dim: 8 } }));
  const dcfg = (out: string, iterations: number) => checkConfig('distill', {
    ...base(out, hr), iterations, teacher: path.join(tmp, 't4', 'model'), encoder: enc.artifact,
    losses: { distill: 1, ess: 1, hfp: 1, adv: 0.02 }, heads: { width: 8, groups: 4 },
    val: { hr: path.join(tmp, 'val', 'hr'), lr: path.join(tmp, 'val', 'lr'), max: 2, preview: 2 }, preview: { every: 0 },
  });
  // Validation pairs: HR 16², LR 4².
  fs.mkdirSync(path.join(tmp, 'val', 'hr'), { recursive: true }); fs.mkdirSync(path.join(tmp, 'val', 'lr'), { recursive: true });
  for (let i = 0; i < 2; i++) {
    const [h, l] = torch.scope(() => { const h = torch.rand([1, 3, 16, 16], { generator: new torch.Generator(i) }); return [torch.keep(h), torch.keep(torch.avgPool2d(h, 4, { stride: 4 }))]; });
    await writeImage(path.join(tmp, 'val', 'hr', `v${i}.png`), h!); await writeImage(path.join(tmp, 'val', 'lr', `v${i}.png`), l!);
    h!.dispose(); l!.dispose();
  }
  const s4 = await distill(dcfg(path.join(tmp, 's4'), 4));
  assert.ok(Number.isFinite(s4.lastTerms.ess!) && Number.isFinite(s4.lastTerms.adv!) && Number.isFinite(s4.lastTerms.d!));
  assert.ok(s4.lastVal && s4.lastVal.psnr_y! > 0 && s4.lastVal.ssim_y! <= 1);
  assert.ok(fs.readdirSync(path.join(tmp, 's4', 'previews')).some((n) => n.endsWith('.png')));
  // Abort after the first iteration: a checkpoint at 1, no temporary file; resume to 4 equals straight.
  const ac = new AbortController();
  const aborted = await distill(dcfg(path.join(tmp, 's2'), 4), { signal: ac.signal, onProgress: (p) => { if (p.step === 2) ac.abort(); } });
  assert.equal(aborted.aborted, true);
  assert.equal(aborted.step, 2);
  assert.deepEqual(fs.readdirSync(path.join(tmp, 's2', 'checkpoints')), ['last.safetensors']);
  assert.ok(!fs.existsSync(path.join(tmp, 's2', 'model')));
  const s2 = await distill(dcfg(path.join(tmp, 's2'), 4), { resume: true });
  assert.equal(s2.step, 4);
  sameWeights(s4.checkpoint, s2.checkpoint);

  // The student's folder runs in one step through the upscale pipeline; the teacher's with ddim.
  for (const dir of [path.join(tmp, 's4', 'model'), path.join(tmp, 't4', 'model')]) {
    const up = loadUpscaler({ model: dir });
    try {
      torch.scope(() => {
        const y = up.upscale(torch.rand([1, 3, 10, 12], { generator: new torch.Generator(1) }), { seed: 2, tile: 0 });
        assert.deepEqual(y.shape, [1, 3, 40, 48]);
        assert.ok(y.min().item() >= 0 && y.max().item() <= 1);
      });
    } finally {
      up.dispose();
    }
  }
  const json = JSON.parse(fs.readFileSync(path.join(tmp, 's4', 'model', 'model.json'), 'utf8')) as { kind: string; oneStep: boolean; autoencoder: unknown };
  assert.deepEqual([json.kind, json.oneStep, json.autoencoder], ['pixel-diffusion-sr', true, null]);
});

test('latent space (VQ-f4 from a model folder) and LR/HR pairs: teacher, student, upscale', async () => {
  const { tinyModel } = await import('../models/tiny-model.js');
  const vqDir = tinyModel(path.join(tmp, 'vq'));
  await hrFolder();
  // Pairs: the validation folders of the test above hold 16²/4² pairs; make 32²/8² ones here.
  const pairs = path.join(tmp, 'pairs');
  for (const d of ['hr', 'lr']) fs.mkdirSync(path.join(pairs, d), { recursive: true });
  for (let i = 0; i < 4; i++) {
    const [h, l] = torch.scope(() => { const h = torch.rand([1, 3, 32, 32], { generator: new torch.Generator(10 + i) }); return [torch.keep(h), torch.keep(torch.avgPool2d(h, 4, { stride: 4 }))]; });
    await writeImage(path.join(pairs, 'hr', `p${i}.png`), h!); await writeImage(path.join(pairs, 'lr', `p${i}.png`), l!);
    h!.dispose(); l!.dispose();
  }
  const data = { pairs: { hr: path.join(pairs, 'hr'), lr: path.join(pairs, 'lr') }, crop: 32, batch: 2, workers: 0 };
  const t = await trainTeacher(checkConfig('teacher', { ...teacherCfg(path.join(tmp, 'lt'), ''), iterations: 2, space: 'latent', vq: vqDir, unet: { ...TINY_UNET, image_size: 8, lq_size: 8 }, data }));
  const json = JSON.parse(fs.readFileSync(path.join(t.artifact!, 'model.json'), 'utf8')) as { kind: string; autoencoder: { kind: string } };
  assert.equal(json.kind, 'diffusion-sr');
  assert.equal(json.autoencoder.kind, 'vq-f4');
  const s = await distill(checkConfig('distill', { ...base(path.join(tmp, 'ls'), ''), iterations: 2, teacher: t.artifact, losses: { distill: 1, ess: 1, hfp: 1, adv: 0.02, inverse: 1, gt: 1 }, clip: { file: tinyClipFile, heads: 2 }, heads: { width: 8, groups: 4 }, data }));
  await assert.rejects(distill(checkConfig('distill', { ...base(path.join(tmp, 'lc'), ''), iterations: 2, teacher: t.artifact, losses: { distill: 1, ess: 1 }, clip: { file: path.join(tmp, 'ViT-B-16.pt') }, data })),
    (e: Error) => e instanceof ConfigError && /^clip\.file: .*ViT-B-16\.pt not found; OpenAI publishes ViT-B-16\.pt at https:/.test(e.message));
  for (const k of ['distill', 'ess', 'hfp', 'adv', 'inverse', 'gt', 'd']) assert.ok(Number.isFinite(s.lastTerms[k]!), k);
  const up = loadUpscaler({ model: s.artifact! });
  try {
    torch.scope(() => assert.deepEqual(up.upscale(torch.rand([1, 3, 8, 8], { generator: new torch.Generator(3) }), { tile: 0 }).shape, [1, 3, 32, 32]));
  } finally {
    up.dispose();
  }
});

test('vpdsr train-teacher: one-line errors, then a run from a config file with --iterations and --out', async () => {
  const { spawnSync } = await import('node:child_process');
  const { fileURLToPath } = await import('node:url');
  const bin = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../bin/vpdsr.js');
  const bad = path.join(tmp, 'cli-bad.yaml');
  fs.writeFileSync(bad, 'space: pixl\n');
  let r = spawnSync(process.execPath, [bin, 'train-teacher', '--config', bad], { encoding: 'utf8' });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /^vpdsr: .*cli-bad.yaml: out: is required; iterations: is required; space: must be one of "pixel", "unshuffle", "latent"/);
  assert.equal(r.stderr.trim().split('\n').length, 1);
  r = spawnSync(process.execPath, [bin, 'distill'], { encoding: 'utf8' });
  assert.match(r.stderr, /give --config FILE/);
  const good = path.join(tmp, 'cli.json');
  fs.writeFileSync(good, JSON.stringify({ ...teacherCfg('unused', await hrFolder()), iterations: 50 }));
  const out = path.join(tmp, 'cli-out');
  r = spawnSync(process.execPath, [bin, 'train-teacher', '--config', good, '--iterations', '2', '--out', out], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /train-teacher|teacher done: 2 iterations/);
  assert.ok(fs.existsSync(path.join(out, 'model', 'model.json')));
});
