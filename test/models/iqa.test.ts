// MUSIQ / MANIQA loaders: pyiqa-layout files (torch.save zip, `module.` prefix, `params` wrapper)
// load strictly and score as the network they were saved from; missing, foreign or damaged files
// and bad images give one clear line. (Numerical parity is the golden `iqa` set's job.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import path from 'node:path';
import * as torch from '../../src/engine/index.js';
import { Tensor } from '../../src/engine/index.js';
import { loadSafetensors } from '../../src/io/checkpoint/tensors.js';
import {
  IQA_METRICS, LegacyMT19937, MANIQA, MUSIQ, MUSIQ_DEFAULT, iqaMetric, keyList, loadIqaMetric, loadManiqa, loadMusiq,
  loadPyiqaWeights, pyRound, pyiqaCacheDir, type ManiqaConfig,
} from '../../src/models/iqa/index.js';
import { tmpDir, torchSaveStateDict } from '../io/fixtures.js';
import { goldenDir } from '../helpers.js';

const GOLDEN = goldenDir('iqa');
const manifest = JSON.parse(fs.readFileSync(path.join(GOLDEN, 'manifest.json'), 'utf8')) as { cases: { kind: string; name: string; params: Record<string, unknown> }[] };

/** The golden tiny weights (I8 × power-of-two scale → float32; I64 buffers as is). */
function goldenWeights(files: string[]): Map<string, Tensor> {
  const raw = new Map<string, Tensor>();
  for (const f of files) for (const [k, t] of loadSafetensors(path.join(GOLDEN, f))) raw.set(k, t);
  const out = new Map<string, Tensor>();
  for (const [k, t] of raw) {
    if (!k.startsWith('w.')) continue;
    const s = raw.get(`ws.${k.slice(2)}`);
    out.set(k.slice(2), t.dtype === 'int8' ? t.float().mul(s!) : t.dtype === 'int64' ? t : t.float());
  }
  return out;
}

function sameTensors(model: { stateDict(): Map<string, Tensor> }, expected: Map<string, Tensor>): void {
  const own = model.stateDict();
  assert.deepEqual([...own.keys()].sort(), [...expected.keys()].sort());
  for (const [k, t] of own) assert.ok(torch.scope(() => t.eq(expected.get(k)!).all().item() === 1), `${k} differs after loading`);
}

const musiqCase = manifest.cases.find((c) => c.kind === 'musiq.forward' && c.name === 'tiny-koniq-head-43x64-batch2')!;
const maniqaCase = manifest.cases.find((c) => c.kind === 'maniqa.forward')!;

test('a tiny MUSIQ in a params-wrapped, module.-prefixed torch.save file loads exactly', () => torch.scope(() => {
  const w = goldenWeights(musiqCase.params.weights as string[]);
  const file = path.join(tmpDir(), 'musiq.pth');
  torchSaveStateDict(file, w, { wrap: 'params', prefix: 'module.' });
  const model = new MUSIQ({ ...MUSIQ_DEFAULT, ...(musiqCase.params.config as object) });
  try {
    loadPyiqaWeights(model, file, iqaMetric('musiq'));
    sameTensors(model, w);
  } finally { model.dispose(); }
}));

test('a tiny MANIQA file with int64 index buffers and float attn_mask buffers loads exactly', () => torch.scope(() => {
  const w = goldenWeights(maniqaCase.params.weights as string[]);
  const file = path.join(tmpDir(), 'maniqa.pt');
  torchSaveStateDict(file, w, { prefix: 'module.' });
  const c = maniqaCase.params.config as Record<string, unknown>;
  const vit = c.vit as Record<string, number>;
  const cfg: ManiqaConfig = {
    embed_dim: 32, num_outputs: 1, patch_size: 8, depths: [2, 2], window_size: 4, dim_mlp: 48, num_heads: [4, 4], img_size: 224,
    num_tab: 2, scale: 0.8, test_sample: 20, vit: { embed_dim: vit.embed_dim!, depth: vit.depth!, num_heads: vit.num_heads!, mlp_ratio: vit.mlp_ratio!, num_classes: vit.num_classes! },
  };
  const model = new MANIQA(cfg);
  try {
    loadPyiqaWeights(model, file, iqaMetric('maniqa'));
    sameTensors(model, w);
    assert.equal(keyList(model).filter(([k, d]) => k.endsWith('relative_position_index') && d === 'I64').length, 8);
  } finally { model.dispose(); }
}));

test('loadMusiq(ava) reads the full-size file under its pyiqa name and scores as the saved network', () => {
  const dir = tmpDir();
  const src = new MUSIQ({ ...MUSIQ_DEFAULT, num_class: 10 }).eval();
  try {
    torchSaveStateDict(path.join(dir, 'musiq_ava_ckpt-e8d3f067.pth'), src.stateDict());
    const img = torch.rand([1, 3, 40, 52], { generator: new torch.Generator(3) });
    const want = torch.noGrad(() => src.forward(img).score.item());
    const m = loadMusiq('ava', dir);
    try {
      assert.equal(m.info.id, 'musiq-ava');
      const got = m.score(img);
      assert.equal(got.length, 1);
      assert.equal(got[0], want);
      assert.ok(got[0]! >= 1 && got[0]! <= 10, 'an AVA score is an expectation over 1..10');
      // The file path itself works as well as its folder.
      const again = loadMusiq('ava', path.join(dir, 'musiq_ava_ckpt-e8d3f067.pth'));
      assert.deepEqual(again.score(img), got);
      again.dispose();
    } finally { m.dispose(); }
    // A koniq loader refuses the AVA head (head.0.* vs head.*), naming file and metric.
    fs.renameSync(path.join(dir, 'musiq_ava_ckpt-e8d3f067.pth'), path.join(dir, 'musiq_koniq_ckpt-e95806b9.pth'));
    assert.throws(() => loadMusiq('koniq10k', dir), (e: Error) => /musiq_koniq_ckpt-e95806b9\.pth/.test(e.message) && /metric musiq\b/.test(e.message)
      && /unexpected key head\.0\.weight/.test(e.message) && !e.message.includes('\n'));
  } finally { src.dispose(); }
});

test('a missing weight file is one line naming the file, the metric and where pyiqa publishes it', () => {
  const dir = tmpDir();
  for (const m of IQA_METRICS.filter((x) => x.family !== 'clipiqa')) {
    assert.throws(() => loadIqaMetric(m.id, dir), (e: Error) => e.message.includes(path.join(dir, m.weightFile)) && e.message.includes(`metric ${m.id} `)
      && e.message.includes(`https://huggingface.co/chaofengc/IQA-PyTorch-Weights/resolve/main/${m.weightFile}`) && !e.message.includes('\n'));
  }
  assert.throws(() => loadMusiq('spaq', path.join(dir, 'nope.pth')), /nope\.pth: not found: metric musiq-spaq/);
  assert.throws(() => loadIqaMetric('musiq-koniq', dir), /musiq_koniq_ckpt-e95806b9\.pth: not found: metric musiq /);
});

test('foreign and damaged files are refused with the file and metric named', () => torch.scope(() => {
  const dir = tmpDir();
  const text = path.join(dir, 'ckpt_koniq10k.pt');
  fs.writeFileSync(text, 'not a checkpoint\n');
  assert.throws(() => loadManiqa('koniq', dir), (e: Error) => e.message.startsWith(text) && /metric maniqa\b/.test(e.message) && !e.message.includes('\n'));
  const w = goldenWeights(musiqCase.params.weights as string[]);
  const cfg = { ...MUSIQ_DEFAULT, ...(musiqCase.params.config as object) };
  const file = path.join(dir, 'x.pth');
  const check = (mutate: (m: Map<string, Tensor>) => void, re: RegExp): void => {
    const m = new Map(w);
    mutate(m);
    torchSaveStateDict(file, m);
    const model = new MUSIQ(cfg);
    try { assert.throws(() => loadPyiqaWeights(model, file, iqaMetric('musiq')), re); } finally { model.dispose(); }
  };
  check((m) => m.delete('transformer_encoder.cls'), /missing key transformer_encoder\.cls/);
  check((m) => m.set('extra.weight', torch.zeros([2])), /unexpected key extra\.weight/);
  check((m) => m.set('head.weight', torch.zeros([1, 31])), /head\.weight: shape \[1, 31\], expected \[1, 32\]/);
  check((m) => m.set('head.bias', torch.zeros([1], { dtype: 'int64' })), /head\.bias: dtype I64/);
  // A truncated file.
  torchSaveStateDict(file, w);
  const bytes = fs.readFileSync(file);
  fs.writeFileSync(file, bytes.subarray(0, bytes.length >> 1));
  const model = new MUSIQ(cfg);
  try { assert.throws(() => loadPyiqaWeights(model, file, iqaMetric('musiq')), (e: Error) => e.message.includes(file) && !e.message.includes('\n')); } finally { model.dispose(); }
}));

test('score() checks its images and refuses after dispose', () => {
  const dir = tmpDir();
  const src = new MUSIQ({ ...MUSIQ_DEFAULT, num_layers: 1 });
  // A 1-layer network is not the released layout: the loader must say so.
  torchSaveStateDict(path.join(dir, 'musiq_koniq_ckpt-e95806b9.pth'), src.stateDict());
  assert.throws(() => loadMusiq('koniq10k', dir), /missing key transformer_encoder\.transformer\.encoderblock_1\./);
  src.dispose();
  const full = new MUSIQ(MUSIQ_DEFAULT);
  torchSaveStateDict(path.join(dir, 'musiq_koniq_ckpt-e95806b9.pth'), full.stateDict());
  full.dispose();
  const m = loadMusiq('koniq', dir);
  torch.scope(() => {
    assert.throws(() => m.score(torch.rand([3, 32, 32])), /musiq: images must be \[N, 3, H, W\]/);
    assert.throws(() => m.score(torch.rand([1, 1, 32, 32])), /musiq: images must be \[N, 3, H, W\]/);
    assert.throws(() => m.score(torch.rand([1, 3, 32, 32]).mul(2)), /musiq: image values must lie in \[0, 1\]/);
    assert.throws(() => m.score(torch.full([1, 3, 8, 8], NaN)), /musiq: image values must lie in \[0, 1\]/);
    assert.throws(() => m.score(torch.zeros([1, 3, 8, 8], { dtype: 'uint8' })), /musiq: images must be floating point/);
    assert.throws(() => m.score('x' as unknown as Tensor), /musiq: images must be a live Tensor/);
    const s = m.score(torch.rand([2, 3, 20, 30], { generator: new torch.Generator(1) }));
    assert.equal(s.length, 2);
    assert.ok(s.every(Number.isFinite));
  });
  m.dispose();
  assert.throws(() => m.score(torch.rand([1, 3, 8, 8])), /musiq: the metric was disposed/);
});

test('metric ids, aliases and variants', () => {
  assert.equal(iqaMetric('musiq-koniq').id, 'musiq');
  assert.ok(IQA_METRICS.every((m) => m.lowerBetter === false));
  assert.deepEqual(IQA_METRICS.map((m) => m.id), ['musiq', 'musiq-ava', 'musiq-paq2piq', 'musiq-spaq', 'maniqa', 'maniqa-kadid', 'maniqa-pipal', 'clipiqa']);
  assert.throws(() => iqaMetric('maniqa-koniq'), /unknown no-reference metric "maniqa-koniq"/);
  assert.throws(() => loadIqaMetric('clipiqa', '.'), /clipiqa: not a MUSIQ or MANIQA metric/);
  assert.throws(() => loadMusiq('imagenet' as 'ava', '.'), /unknown MUSIQ variant "imagenet"/);
  assert.throws(() => loadManiqa('koniq10k' as 'koniq', '.'), /unknown MANIQA variant "koniq10k"/);
});

test('pyiqa cache folder follows TORCH_HOME and XDG_CACHE_HOME', () => {
  assert.equal(pyiqaCacheDir({ TORCH_HOME: '/t' }), path.join('/t', 'hub', 'pyiqa'));
  assert.equal(pyiqaCacheDir({ XDG_CACHE_HOME: '/c' }), path.join('/c', 'torch', 'hub', 'pyiqa'));
  assert.ok(pyiqaCacheDir({}).endsWith(path.join('.cache', 'torch', 'hub', 'pyiqa')));
});

test('Python rounding and numpy MT19937', () => {
  assert.deepEqual([0.5, 1.5, 2.5, 150.5, 150.49, 149.5].map(pyRound), [0, 2, 2, 150, 150, 150]);
  // MT19937's reference output for init_genrand(5489).
  assert.equal(new LegacyMT19937(5489).nextUint32(), 3499211612);
  const r = new LegacyMT19937(1);
  assert.equal(r.randint(1), 0);
  for (let i = 0; i < 50; i++) { const v = r.randint(7); assert.ok(v >= 0 && v < 7); }
});
