// The no-reference network metrics in the registry (clipiqa, musiq*, maniqa*): ids, aliases, flags and
// files as the IQA metric table has them; a missing weight file skips only that metric with one line
// (evaluate() and `vpdsr eval`, whose --report writes the HTML file); clipiqa through evaluate() equals
// clipiqaScore on the same file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import * as fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import * as torch from '../../src/engine/index.js';
import { evaluate } from '../../src/api.js';
import { findMetric, listMetrics } from '../../src/metrics/index.js';
import { IQA_METRICS } from '../../src/models/iqa/index.js';
import { loadClip, clipiqaScore } from '../../src/models/clip/index.js';
import { readRgb8 } from '../../src/data/dataset.js';
import { cliPath, sharedDir } from '../helpers.js';
import { tmpDir } from '../io/fixtures.js';
import { tinyClip, TINY_RN, openClipCheckpoint } from '../models/clip/tiny.js';

const run = promisify(execFile);
const DATA = path.join(sharedDir, 'data', 'realsr-x4');

const IDS = ['clipiqa', 'musiq', 'musiq-spaq', 'musiq-paq2piq', 'musiq-ava', 'maniqa', 'maniqa-kadid', 'maniqa-pipal'];

/** SR crops of two sizes (one batch each) and their HR crops. */
async function folders(): Promise<{ root: string; sr: string; hr: string }> {
  const root = tmpDir('vpdsr-iqa-metrics-');
  const sr = path.join(root, 'sr'), hr = path.join(root, 'hr');
  fs.mkdirSync(sr); fs.mkdirSync(hr);
  for (const [n, w, h] of [['Canon_001', 64, 64], ['Nikon_003', 96, 64]] as [string, number, number][]) {
    await sharp(path.join(DATA, 'osediff-sr', `${n}_LR4.png`)).extract({ left: 200, top: 160, width: w, height: h }).png().toFile(path.join(sr, `${n}.png`));
    await sharp(path.join(DATA, 'hr', `${n}_LR4.png`)).extract({ left: 200, top: 160, width: w, height: h }).png().toFile(path.join(hr, `${n}_HR.png`));
  }
  return { root, sr, hr };
}

test('registry: the no-reference network metrics with pyiqa ids, aliases, directions and files from the IQA table', () => {
  const listed = listMetrics().map((m) => m.id);
  for (const id of IDS) assert.ok(listed.includes(id), `${id} is registered`);
  assert.deepEqual(IQA_METRICS.map((m) => m.id).sort(), [...IDS].sort());
  for (const info of IQA_METRICS) {
    const d = findMetric(info.id)!;
    assert.equal(d.id, info.id);
    assert.equal(d.lowerBetter, false, `${info.id}: higher is better`);
    assert.equal(d.needsReference, false, `${info.id}: no reference`);
    assert.equal(d.kind, 'image');
    assert.deepEqual(d.weights.map((w) => [w.file, w.url]), [[info.weightFile, info.publishedAt]]);
  }
  assert.equal(findMetric('musiq-koniq')?.id, 'musiq');
  assert.equal(findMetric('MUSIQ-KONIQ')?.id, 'musiq');
  assert.equal(findMetric('RN50.pt'), undefined);
  assert.equal(findMetric('maniqa-koniq'), undefined, 'pyiqa never had maniqa-koniq');
  assert.equal(findMetric('maniqa-pipal')!.weights[0]!.file, 'MANIQA_PIPAL-ae6d356b.pth');
  assert.equal(findMetric('clipiqa')!.weights[0]!.file, 'RN50.pt');
  assert.equal(findMetric('clipiqa')!.minSize, 32);
});

test('missing weight files skip only those metrics, one line each (file, metric, where published); vpdsr eval exits 0 and writes --report', async () => {
  const { root, sr, hr } = await folders();
  const empty = path.join(root, 'weights');
  fs.mkdirSync(empty);
  const r = await evaluate({ sr, hr, metrics: 'psnr,clipiqa,musiq-koniq,maniqa-pipal', weights: empty });
  assert.deepEqual(r.metrics.map((m) => m.id), ['psnr']);
  assert.deepEqual(r.skipped.map((s) => s.id), ['clipiqa', 'musiq', 'maniqa-pipal']);
  for (const s of r.skipped) {
    const info = IQA_METRICS.find((m) => m.id === s.id)!;
    assert.equal(s.reason, `${s.id}: needs ${info.weightFile} (${s.id === 'clipiqa' ? 'OpenAI CLIP RN50 weights' : `pyiqa's ${s.id} weights`}), not found in ${empty}; it is published at ${info.publishedAt}`);
  }
  assert.equal(typeof r.methods[0]!.mean.psnr, 'number');
  assert.deepEqual(r.errors, []);

  const report = path.join(root, 'r.html'), json = path.join(root, 's.json');
  const cli = await run(process.execPath, [cliPath, 'eval', '--sr', sr, '--hr', hr, '--metrics', 'psnr,musiq', '--weights', empty, '--report', report, '--json', json, '-q'],
    { env: { ...process.env, VPDSR_WEIGHTS: '' } });
  assert.match(cli.stdout, /^skipped musiq: needs musiq_koniq_ckpt-e95806b9\.pth .*huggingface\.co\/chaofengc\/IQA-PyTorch-Weights\/resolve\/main\/musiq_koniq_ckpt-e95806b9\.pth$/m);
  const html = fs.readFileSync(report, 'utf8');
  assert.match(html, /^<!doctype html>/i);
  assert.ok(html.includes('Canon_001') && html.includes('psnr'), 'the report holds the images and the metric');
  const doc = JSON.parse(fs.readFileSync(json, 'utf8')) as { skipped: unknown[]; metrics: string[] };
  assert.deepEqual(doc.metrics, ['psnr']);
  assert.equal(doc.skipped.length, 1);
  assert.deepEqual(fs.readdirSync(root).filter((f) => f.endsWith('.tmp')), [], 'no temporary file left');
});

test('clipiqa through evaluate() equals clipiqaScore on the same RN50.pt (tiny random ModifiedResNet CLIP)', async () => {
  const { root, sr } = await folders();
  const weights = path.join(root, 'w');
  fs.mkdirSync(weights);
  const file = path.join(weights, 'RN50.pt');
  // Heads as the loader infers them (ResNet width·32/64, text width/64); the real tokenizer's vocabulary.
  const src = tinyClip({ ...TINY_RN, context_length: 77, vocab_size: 49408, transformer_width: 64, transformer_heads: 1, transformer_layers: 1 }, 3);
  try { torch.scope(() => fs.writeFileSync(file, openClipCheckpoint(src.stateDict()))); } finally { src.dispose(); }

  const r = await evaluate({ sr, metrics: ['clipiqa'], weights });
  assert.deepEqual(r.skipped, []);
  assert.deepEqual(r.errors, []);
  const model = loadClip(file);
  try {
    let sum = 0;
    for (const im of r.methods[0]!.images) {
      const x = await readRgb8(im.path);
      const direct = torch.scope(() => torch.noGrad(() => clipiqaScore(model, x.unsqueeze(0)).item()));
      x.dispose();
      assert.ok(direct > 0 && direct < 1);
      assert.equal(im.values.clipiqa, direct, im.name);
      sum += direct;
    }
    assert.equal(r.methods[0]!.mean.clipiqa, sum / 2);
  } finally { model.dispose(); }
  assert.equal(r.metrics[0]!.lowerBetter, false);
});
