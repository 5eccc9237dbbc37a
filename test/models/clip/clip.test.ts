// CLIP beyond the golden set: the three public weight layouts, errors, the ESS-style gradient
// against finite differences, bf16, patch tokens, file preprocessing and CLIP-IQA.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import * as torch from '../../../src/engine/index.js';
import { Tensor } from '../../../src/engine/index.js';
import { saveSafetensors } from '../../../src/io/checkpoint/tensors.js';
import {
  loadClip, readClipStateDict, encodeImage, encodeImageFiles, encodeText, imageTokens, clipiqaScore,
  clipPreprocessU8, tokenize, tokenizeIds, htmlUnescape, SimpleTokenizer, type CLIP,
} from '../../../src/models/clip/index.js';
import { repoRoot } from '../../helpers.js';
import { tmpDir } from '../../io/fixtures.js';
import { tinyClip, TINY_TEXT, TINY_VIT, TINY_RN, openClipCheckpoint, toHuggingFace } from './tiny.js';

const fixture = (f: string): string => path.join(repoRoot, 'test', 'fixtures', 'clip', f);
const maxAbs = (a: Tensor, b: Tensor): number => torch.scope(() => a.sub(b).abs().max().item());

function withModel<T>(m: CLIP, fn: (m: CLIP) => T): T {
  try { return torch.scope(() => fn(m)); } finally { m.dispose(); }
}

test('OpenAI TorchScript archive: read as data, configuration from shapes, outputs as PyTorch computed them', () => {
  const ref = JSON.parse(fs.readFileSync(fixture('tiny-vit.json'), 'utf8')) as { image: number[]; image_shape: number[]; text: number[][]; image_features: number[][]; text_features: number[][] };
  const sd = readClipStateDict(fixture('tiny-vit.pt'));
  assert.equal(sd.layout, 'openai');
  assert.ok(!sd.tensors.has('input_resolution') && !sd.tensors.has('vocab_size'), 'archive bookkeeping is left out');
  assert.equal(sd.tensors.get('visual.conv1.weight')!.dtype, 'float16');
  for (const t of sd.tensors.values()) t.dispose();
  // the tiny widths would derive 0 heads (width // 64): given explicitly
  assert.throws(() => loadClip(fixture('tiny-vit.pt')), /vision_heads must be a positive integer/);
  withModel(loadClip(fixture('tiny-vit.pt'), { config: { vision_heads: 2, transformer_heads: 2 } }), (m) => torch.noGrad(() => {
    assert.equal(m.config.image_resolution, 16);
    assert.equal(m.config.vocab_size, 100);
    const image = torch.tensor(ref.image, { dtype: 'float32' }).reshape(...ref.image_shape);
    const fi = encodeImage(m, image, { preprocess: 'none' });
    assert.ok(maxAbs(fi, torch.tensor(ref.image_features)) < 2e-5, `image features differ by ${maxAbs(fi, torch.tensor(ref.image_features))}`);
    const ft = encodeText(m, torch.tensor(ref.text, { dtype: 'int64' }));
    assert.ok(maxAbs(ft, torch.tensor(ref.text_features)) < 2e-5, `text features differ by ${maxAbs(ft, torch.tensor(ref.text_features))}`);
  }));
});

test('Hugging Face CLIPModel safetensors: vision_model.* / text_model.* mapped back to OpenAI names', () => {
  const dir = tmpDir();
  const file = path.join(dir, 'model.safetensors');
  withModel(tinyClip({ ...TINY_VIT, ...TINY_TEXT }, 7), (src) => {
    torch.scope(() => saveSafetensors(file, toHuggingFace(src.stateDict())));
    const sd = readClipStateDict(file);
    assert.equal(sd.layout, 'huggingface');
    for (const t of sd.tensors.values()) t.dispose();
    withModel(loadClip(file, { config: { vision_heads: 2, transformer_heads: 2 } }), (m) => torch.noGrad(() => {
      for (const [k, t] of src.stateDict()) assert.equal(maxAbs(m.stateDict().get(k)!, t), 0, k);
      const x = torch.rand([2, 3, 20, 24], { generator: new torch.Generator(3) });
      assert.equal(maxAbs(encodeImage(m, x), encodeImage(src, x)), 0);
      const tok = torch.tensor([[1, 5, 99, 0, 0, 0, 0, 0]], { dtype: 'int64' });
      assert.equal(maxAbs(encodeText(m, tok), encodeText(src, tok)), 0);
    }));
  });
});

test('open_clip checkpoint (torch.save zip, state_dict with module. prefixes): ModifiedResNet + text', () => {
  const dir = tmpDir();
  const file = path.join(dir, 'epoch_3.pt');
  withModel(tinyClip({ ...TINY_RN, ...TINY_TEXT }, 11), (src) => {
    torch.scope(() => fs.writeFileSync(file, openClipCheckpoint(src.stateDict())));
    const sd = readClipStateDict(file);
    assert.equal(sd.layout, 'open_clip');
    for (const t of sd.tensors.values()) t.dispose();
    withModel(loadClip(file, { config: { transformer_heads: 2, vision_heads: 2 } }), (m) => torch.noGrad(() => {
      assert.deepEqual(m.config.vision_layers, [1, 1, 1, 1]);
      assert.equal(m.config.image_resolution, 64);
      const x = torch.rand([1, 3, 64, 64], { generator: new torch.Generator(5) });
      assert.equal(maxAbs(encodeImage(m, x), encodeImage(src, x)), 0);
    }));
    // only the image tower
    withModel(loadClip(file, { towers: 'image', config: { vision_heads: 2 } }), (m) => {
      assert.ok(m.hasVision && !m.hasText);
      assert.throws(() => encodeText(m, 'a cat'), /no text tower/);
    });
  });
});

test('missing, foreign and corrupt weight files give one line naming the file and where CLIP is published', () => {
  const dir = tmpDir();
  const one = (f: () => unknown, re: RegExp): void => {
    assert.throws(f, (e: Error) => { assert.match(e.message, re); assert.ok(!e.message.includes('\n'), e.message); return true; });
  };
  one(() => loadClip(path.join(dir, 'ViT-B-16.pt')), /ViT-B-16\.pt not found; OpenAI publishes ViT-B-16\.pt at https:\/\/openaipublic\.azureedge\.net\/clip\/models\/5806e77c/);
  one(() => loadClip(path.join(dir, 'mine.safetensors')), /mine\.safetensors not found; CLIP weights are OpenAI's TorchScript archives/);
  const foreign = path.join(dir, 'unet.safetensors');
  torch.scope(() => saveSafetensors(foreign, new Map([['conv_in.weight', torch.zeros([4, 3, 3, 3])]])));
  one(() => loadClip(foreign), /unet\.safetensors holds no CLIP tensors.*openai\/clip-vit-base-patch16/);
  const corrupt = path.join(dir, 'RN50.pt');
  fs.writeFileSync(corrupt, fs.readFileSync(fixture('tiny-vit.pt')).subarray(0, 4000));
  one(() => loadClip(corrupt), /RN50\.pt.*OpenAI publishes RN50\.pt at https:/);
  const text = path.join(dir, 'notes.pt');
  fs.writeFileSync(text, 'hello');
  one(() => loadClip(text), /notes\.pt/);
  one(() => loadClip(fixture('tiny-vit.pt'), { dtype: 'float16' as 'float32' }), /dtype must be 'float32' or 'bfloat16'/);
  // a tower's weights with a wrong shape
  const bad = path.join(dir, 'bad.safetensors');
  withModel(tinyClip(TINY_VIT, 2), (src) => {
    const sd = src.stateDict();
    torch.scope(() => { sd.set('visual.ln_post.weight', torch.zeros([5])); saveSafetensors(bad, sd); });
  });
  one(() => loadClip(bad, { config: { vision_heads: 2 } }), /bad\.safetensors.*visual\.ln_post\.weight/);
});

test('ESS-style loss 1 − cos(encodeImage(x), encodeImage(hr)): the gradient reaches x and matches finite differences', () => {
  withModel(tinyClip(TINY_VIT, 3), (m) => {
    m.to({ dtype: 'float64' }).requiresGrad_(false); // frozen, as ESS uses it
    const g = new torch.Generator(9);
    const hr = torch.rand([2, 3, 20, 24], { generator: g, dtype: 'float64' });
    const x0 = torch.rand([2, 3, 20, 24], { generator: g, dtype: 'float64' });
    const target = torch.noGrad(() => encodeImage(m, hr));
    const loss = (x: Tensor): Tensor => torch.rsub(torch.cosineSimilarity(encodeImage(m, x).double(), target.double(), -1), 1).mean();
    const x = x0.clone().requiresGrad_();
    const l = loss(x);
    l.backward();
    const grad = x.grad!;
    assert.ok(grad.isfinite().all().item(), 'finite gradient');
    assert.ok(grad.abs().max().item() > 0, 'non-zero gradient');
    // directional derivative along a random direction, and single coordinates
    const d = torch.randn(x0.shape, { generator: g, dtype: 'float64' });
    const eps = 1e-5;
    const fd = torch.noGrad(() => (loss(x0.add(d.mul(eps))).item() - loss(x0.sub(d.mul(eps))).item()) / (2 * eps));
    const an = grad.mul(d).sum().item();
    assert.ok(Math.abs(fd - an) <= 1e-6 * Math.max(1, Math.abs(an)), `directional: finite difference ${fd}, autograd ${an}`);
    for (const idx of [0, 777, 2879]) {
      const e = torch.zeros([x0.numel], { dtype: 'float64' });
      torch.noGrad(() => e.select(0, idx).fill_(1));
      const dir = e.reshape(...x0.shape);
      const f = torch.noGrad(() => (loss(x0.add(dir.mul(eps))).item() - loss(x0.sub(dir.mul(eps))).item()) / (2 * eps));
      const a = grad.reshape(-1).select(0, idx).item();
      assert.ok(Math.abs(f - a) <= 1e-6, `coordinate ${idx}: finite difference ${f}, autograd ${a}`);
    }
    assert.ok(m.parameters().every((p) => !p.grad), 'a frozen CLIP gets no gradient');
    assert.ok(Math.abs(loss(hr).item()) < 1e-12, 'L(hr, hr) = 0');
  });
});

test('bfloat16 towers stay close to float32 and return float32; patch tokens of a chosen block', () => {
  const dir = tmpDir();
  const file = path.join(dir, 'vit.safetensors');
  withModel(tinyClip(TINY_VIT, 4), (src) => torch.scope(() => saveSafetensors(file, src.stateDict())));
  const x = torch.keep(torch.rand([2, 3, 16, 16], { generator: new torch.Generator(1) }));
  try {
    const f32 = withModel(loadClip(file, { config: { vision_heads: 2 } }), (m) => torch.keep(torch.noGrad(() => encodeImage(m, x))));
    withModel(loadClip(file, { dtype: 'bfloat16', config: { vision_heads: 2 } }), (m) => {
      assert.equal(m.dtype, 'bfloat16');
      const fb = torch.noGrad(() => encodeImage(m, x));
      assert.equal(fb.dtype, 'float32');
      const rel = maxAbs(fb, f32) / f32.abs().max().item();
      assert.ok(rel < 0.05 && rel > 0, `bf16 relative difference ${rel}`);
      const xg = x.clone().requiresGrad_();
      encodeImage(m, xg).sum().backward();
      assert.ok(xg.grad!.isfinite().all().item() && xg.grad!.abs().max().item() > 0, 'bf16 gradient reaches the input');
    });
    f32.dispose();
    withModel(loadClip(file, { config: { vision_heads: 2 } }), (m) => torch.noGrad(() => {
      const last = imageTokens(m, x);
      assert.deepEqual(last.shape, [2, 4, 16]);
      const first = imageTokens(m, x, { block: 0 });
      assert.ok(maxAbs(first, last) > 0);
      const projected = imageTokens(m, x, { project: true });
      assert.deepEqual(projected.shape, [2, 4, 16]);
      assert.throws(() => imageTokens(m, x, { block: 2 }), /block 2 out of range/);
    }));
  } finally {
    x.dispose();
  }
});

test('file preprocessing is CLIP _transform on the decoded pixels; bad input is refused in one line', async () => {
  const dir = tmpDir();
  const w = 30, h = 21;
  const px = Buffer.alloc(w * h * 3);
  for (let i = 0; i < px.length; i++) px[i] = (i * 37 + (i >> 5) * 11) % 256;
  const file = path.join(dir, 'a.png');
  await sharp(px, { raw: { width: w, height: h, channels: 3 } }).png().toFile(file);
  const m = tinyClip(TINY_VIT, 5);
  try {
    const got = await encodeImageFiles(m, [file]);
    const want = torch.noGrad(() => torch.scope(() => m.visualForward(clipPreprocessU8({ data: px, height: h, width: w, channels: 3 }, 16).pixelValues.unsqueeze(0)).embedding));
    assert.equal(maxAbs(got, want), 0);
    got.dispose(); want.dispose();
    await assert.rejects(encodeImageFiles(m, [path.join(dir, 'missing.png')]), /missing\.png/);
    await assert.rejects(encodeImageFiles(m, []), /non-empty array/);
    assert.throws(() => encodeImage(m, torch.zeros([1, 4, 16, 16])), /\[N, 3, H, W\]/);
    assert.throws(() => encodeImage(m, torch.zeros([1, 3, 16, 16], { dtype: 'int64' })), /floating-point/);
    assert.throws(() => encodeImage(m, torch.zeros([1, 3, 16, 16]), { preprocess: 'resize' as 'crop' }), /preprocess must be/);
  } finally {
    m.dispose();
  }
});

test('RGBA and LA images resize in premultiplied alpha, as Pillow does, before convert("RGB")', () => {
  const ref = JSON.parse(fs.readFileSync(fixture('alpha-resize.json'), 'utf8')) as Record<string, { input: number[]; height: number; width: number; channels: number; n_px: number; resized: number[]; rgb: number[] }>;
  for (const [mode, r] of Object.entries(ref)) {
    const s = clipPreprocessU8({ data: Uint8Array.from(r.input), height: r.height, width: r.width, channels: r.channels }, r.n_px);
    try {
      assert.deepEqual([...s.resized.data], r.resized, `${mode} resized`);
      assert.deepEqual([...s.rgb.data], r.rgb, `${mode} rgb`);
    } finally {
      s.pixelValues.dispose();
    }
  }
});

test('tokenizer: html.unescape rules, round trip, truncation and refusals', () => {
  assert.equal(htmlUnescape('&amp;lt; &amp &notit; &#x263A; &#0; &#128; &#xD800; &#1114112;'), '&lt; & ¬it; ☺ \uFFFD € \uFFFD \uFFFD');
  const tok = new SimpleTokenizer();
  assert.equal(tok.decode(tok.encode('A photo of a Cat!')), 'a photo of a cat ! ');
  assert.deepEqual(tokenizeIds('a photo of a cat'), [[49406, 320, 1125, 539, 320, 2368, 49407]]);
  const long = 'word '.repeat(100);
  assert.throws(() => tokenize(long), /too long for context length 77/);
  const t = tokenize([long, ''], { truncate: true });
  assert.deepEqual(t.shape, [2, 77]);
  assert.equal(t.select(0, 0).select(0, 76).item(), 49407);
  t.dispose();
  assert.throws(() => tokenize(3 as unknown as string), /texts must be a string/);
  assert.throws(() => new SimpleTokenizer(path.join(tmpDir(), 'none.txt.gz')), /cannot read the BPE vocabulary .*none\.txt\.gz/);
});

test('tokenizer equals upstream SimpleTokenizer.encode on 400 random strings of many scripts, entities and blanks', () => {
  const ref = JSON.parse(fs.readFileSync(fixture('tokenizer-fuzz.json'), 'utf8')) as { texts: string[]; ids: number[][] };
  const tok = new SimpleTokenizer();
  const bad = ref.texts.map((t, i) => [t, tok.encode(t), ref.ids[i]] as const).filter(([, a, b]) => JSON.stringify(a) !== JSON.stringify(b));
  assert.equal(bad.length, 0, bad.slice(0, 3).map(([t, a, b]) => `${JSON.stringify(t)}: got ${JSON.stringify(a)}, expected ${JSON.stringify(b)}`).join('\n'));
});

test('clipiqaScore: pyiqa CLIP-IQA on a ModifiedResNet CLIP, any size, differentiable', () => {
  withModel(tinyClip({ ...TINY_RN, ...{ ...TINY_TEXT, context_length: 77, vocab_size: 49408 } }, 6), (m) => {
    const x = torch.rand([2, 3, 72, 88], { generator: new torch.Generator(2) }).requiresGrad_();
    const s = clipiqaScore(m, x);
    assert.deepEqual(s.shape, [2, 1]);
    const v = s.toFloat32Array();
    assert.ok([...v].every((e) => e > 0 && e < 1), `scores ${v}`);
    s.sum().backward();
    assert.ok(x.grad!.isfinite().all().item() && x.grad!.abs().max().item() > 0);
    // the prompts' features are cached on the model; the score does not change with the cache
    const again = torch.noGrad(() => clipiqaScore(m, x));
    m.clearTextCache();
    const fresh = torch.noGrad(() => clipiqaScore(m, x));
    assert.equal(maxAbs(again, s), 0);
    assert.equal(maxAbs(fresh, s), 0);
    assert.throws(() => clipiqaScore(m, torch.zeros([1, 1, 64, 64])), /\[N, 3, H, W\]/);
    assert.throws(() => clipiqaScore(m, torch.zeros([1, 3, 64, 64]), { prompts: ['only one'] }), /even-length/);
  });
});
