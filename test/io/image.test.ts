// Image I/O round trips (every writable format and mode, 8 and 16 bit), reading the formats sharp
// writes but vpdsr does not (AVIF, GIF), EXIF orientation, EXIF/ICC carried over only on request,
// the shared sample photos, and decode parity with the golden decode of a BSDS500 photo.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import * as torch from '../../src/engine/index.js';
import { readImage, writeImage, encodeImage, normalizeExif, toUint8, toUint16, tensorToPixels, ImageError } from '../../src/io/image/index.js';
import { loadSafetensors } from '../../src/io/checkpoint/tensors.js';
import { sharedDir, goldenDir } from '../helpers.js';
import { tmpDir, pattern, patternTensor, tensorSamples } from '../fixtures/images/make.js';

const W = 37, H = 23;

function sameSamples(got: number[], want: Uint8Array | Uint16Array, what: string): void {
  assert.equal(got.length, want.length, `${what}: sample count`);
  for (let i = 0; i < want.length; i++) if (got[i] !== want[i]) assert.fail(`${what}: sample ${i} is ${got[i]}, expected ${want[i]}`);
}

for (const [format, ext] of [['png', 'png'], ['tiff', 'tif'], ['webp', 'webp']] as const) {
  for (const channels of [1, 2, 3, 4] as const) {
    test(`8-bit ${format} round trip, ${channels} channel(s), is exact`, async () => {
      const dir = tmpDir();
      const samples = pattern(W, H, channels, 8);
      const t = patternTensor(samples, W, H, channels);
      const file = path.join(dir, `img.${ext}`);
      await writeImage(file, t, { lossless: true });
      t.dispose();
      const im = await readImage(file);
      try {
        assert.equal(im.format, format);
        assert.equal(im.bitDepth, 8);
        assert.deepEqual([im.width, im.height], [W, H]);
        assert.deepEqual(im.data.shape, [1, im.channels, H, W]);
        assert.equal(im.data.dtype, 'float32');
        if (format === 'webp' && channels <= 2) {
          // WebP has no greyscale: grey is stored as RGB with equal channels.
          assert.equal(im.channels, channels + 2);
          const got = tensorSamples(im.data, 8);
          const c = im.channels;
          const grey = Array.from({ length: W * H * channels }, (_, i) => got[Math.floor(i / channels) * c + (i % channels === 0 ? 0 : c - 1)]!);
          sameSamples(grey, samples, format);
        } else {
          assert.equal(im.channels, channels);
          assert.equal(im.hasAlpha, channels === 2 || channels === 4);
          sameSamples(tensorSamples(im.data, 8), samples, format);
        }
      } finally { im.data.dispose(); }
    });
  }
}

for (const [format, ext] of [['png', 'png'], ['tiff', 'tiff']] as const) {
  for (const channels of [1, 2, 3, 4] as const) {
    test(`16-bit ${format} round trip, ${channels} channel(s), keeps depth and alpha exactly`, async () => {
      const dir = tmpDir();
      const samples = pattern(W, H, channels, 16);
      const t = patternTensor(samples, W, H, channels);
      const file = path.join(dir, `img16.${ext}`);
      await writeImage(file, t, { bitDepth: 16 });
      t.dispose();
      const meta = await sharp(file).metadata();
      assert.equal(meta.depth, 'ushort', 'the file itself is 16-bit');
      const im = await readImage(file);
      try {
        assert.equal(im.bitDepth, 16);
        assert.equal(im.channels, channels);
        assert.equal(im.hasAlpha, channels === 2 || channels === 4);
        sameSamples(tensorSamples(im.data, 16), samples, `${format} 16-bit`);
      } finally { im.data.dispose(); }
    });
  }
}

test('JPEG round trip (RGB and grey) stays close at quality 95 and keeps the mode', async () => {
  const dir = tmpDir();
  for (const channels of [1, 3] as const) {
    // A smooth image: JPEG is lossy, so compare means of |diff|.
    const t = torch.scope(() => {
      const y = torch.linspace(0, 1, H).view([1, 1, H, 1]).expand([1, channels, H, W]);
      const x = torch.linspace(0, 1, W).view([1, 1, 1, W]).expand([1, channels, H, W]);
      return torch.keep(y.mul(0.6).add(x.mul(0.3)).contiguous());
    });
    const file = path.join(dir, `smooth${channels}.jpg`);
    await writeImage(file, t);
    const im = await readImage(file);
    try {
      assert.equal(im.format, 'jpeg');
      assert.equal(im.channels, channels);
      const err = torch.scope(() => im.data.sub(t).abs().mean().item());
      assert.ok(err < 0.01, `mean |diff| ${err}`);
    } finally { im.data.dispose(); t.dispose(); }
  }
});

test('reads AVIF and the first frame of an animated GIF', async () => {
  const dir = tmpDir();
  const rgb = pattern(W, H, 3, 8);
  const avif = path.join(dir, 'a.avif');
  await sharp(rgb, { raw: { width: W, height: H, channels: 3 } }).avif({ quality: 90 }).toFile(avif);
  const a = await readImage(avif);
  assert.equal(a.format, 'avif');
  assert.deepEqual([a.width, a.height, a.channels, a.bitDepth], [W, H, 3, 8]);
  a.data.dispose();

  // Two frames stacked: frame 0 red, frame 1 blue.
  const frames = new Uint8Array(W * H * 2 * 3);
  for (let i = 0; i < W * H * 2; i++) frames[i * 3 + (i < W * H ? 0 : 2)] = 255;
  const gif = path.join(dir, 'anim.gif');
  await sharp(frames, { raw: { width: W, height: H * 2, channels: 3, pageHeight: H } as never }).gif().toFile(gif);
  assert.equal((await sharp(gif, { pages: -1 }).metadata()).pages, 2, 'fixture is animated');
  const g = await readImage(gif);
  try {
    assert.equal(g.format, 'gif');
    assert.deepEqual([g.width, g.height], [W, H]);
    const mean = torch.scope(() => g.data.mean([0, 2, 3]).toFloat32Array());
    assert.ok(mean[0]! > 0.95 && mean[2]! < 0.05, `first frame is red, channel means ${[...mean]}`);
  } finally { g.data.dispose(); }
});

test('a CMYK JPEG is converted to RGB (the one colour transform readImage makes)', async () => {
  const w = 16, h = 8;
  const rgb = new Uint8Array(w * h * 3);
  for (let i = 0; i < w * h; i++) rgb.set([200, 100, 50], 3 * i);
  const cmyk = await sharp(rgb, { raw: { width: w, height: h, channels: 3 } }).toColourspace('cmyk').jpeg({ quality: 100 }).toBuffer();
  assert.equal((await sharp(cmyk).metadata()).space, 'cmyk', 'fixture is CMYK');
  const im = await readImage(cmyk);
  try {
    assert.equal(im.channels, 3);
    const [r, g, b] = torch.scope(() => [...im.data.mean([0, 2, 3]).toFloat32Array()]);
    assert.ok(Math.abs(r! * 255 - 200) < 8 && Math.abs(g! * 255 - 100) < 12 && b! < g!, `colour survives: ${[r, g, b].map((v) => (v! * 255).toFixed(1))}`);
  } finally { im.data.dispose(); }
});

test('EXIF orientation is applied (and can be turned off); the returned EXIF says 1', async () => {
  const dir = tmpDir();
  // 4 wide × 2 high, one white pixel at the top-left corner.
  const w = 4, h = 2;
  const px = new Uint8Array(w * h * 3);
  px.fill(255, 0, 3);
  const file = path.join(dir, 'oriented.jpg');
  await sharp(px, { raw: { width: w, height: h, channels: 3 } }).jpeg({ quality: 100 }).withMetadata({ orientation: 6 }).toFile(file);
  const im = await readImage(file);
  try {
    assert.equal(im.orientation, 6);
    // Orientation 6: rotate 90° clockwise → 2 wide × 4 high, the corner pixel goes to the top right.
    assert.deepEqual([im.width, im.height], [h, w]);
    const v = im.data.toFloat32Array();
    assert.ok(v[1]! > 0.8 && v[0]! < 0.5, `top row after rotation: ${v[0]}, ${v[1]}`);
    assert.ok(im.exif, 'EXIF is reported');
    const meta = await sharp(await encodeImage(im.data, { format: 'jpeg', exif: im.exif })).metadata();
    assert.equal(meta.orientation, 1, 'carried-over EXIF no longer asks for rotation');
  } finally { im.data.dispose(); }
  const raw = await readImage(file, { autoOrient: false });
  assert.deepEqual([raw.width, raw.height, raw.orientation], [w, h, 6]);
  raw.data.dispose();
});

test('EXIF and ICC are carried over when asked and dropped otherwise', async () => {
  const dir = tmpDir();
  const src = path.join(dir, 'src.jpg');
  await sharp(pattern(W, H, 3, 8), { raw: { width: W, height: H, channels: 3 } })
    .jpeg().withIccProfile('p3').withExif({ IFD0: { Copyright: 'vpdsr test', Software: 'fixture' } }).toFile(src);
  const im = await readImage(src);
  try {
    assert.ok(im.exif && im.exif.length > 0 && im.icc && im.icc.length > 0, 'source has EXIF and ICC');
    for (const ext of ['png', 'jpg', 'webp']) {
      const out = path.join(dir, `with.${ext}`);
      await writeImage(out, im.data, { exif: im.exif, icc: im.icc, lossless: true });
      const meta = await sharp(out).metadata();
      assert.ok(meta.icc && Buffer.from(meta.icc).equals(im.icc), `${ext}: ICC profile identical`);
      assert.ok(meta.exif, `${ext}: EXIF present`);
      assert.ok(normalizeExif(meta.exif)!.equals(im.exif), `${ext}: EXIF identical`);
      const back = await readImage(out);
      assert.ok(back.icc!.equals(im.icc) && back.exif!.equals(im.exif), `${ext}: readImage reports them`);
      if (ext !== 'jpg') sameSamples(tensorSamples(back.data, 8), Uint8Array.from(tensorSamples(im.data, 8)), `${ext} pixels unchanged by the metadata`);
      back.data.dispose();
      const plain = path.join(dir, `without.${ext}`);
      await writeImage(plain, im.data);
      const pm = await sharp(plain).metadata();
      assert.equal(pm.exif, undefined, `${ext}: no EXIF unless asked`);
      assert.equal(pm.icc, undefined, `${ext}: no ICC unless asked`);
    }
    const tif = path.join(dir, 'with.tif');
    await writeImage(tif, im.data, { icc: im.icc });
    const tm = await sharp(tif).metadata();
    assert.ok(tm.icc && Buffer.from(tm.icc).equals(im.icc), 'tiff: ICC profile identical');
    const tb = await readImage(tif);
    sameSamples(tensorSamples(tb.data, 8), Uint8Array.from(tensorSamples(im.data, 8)), 'tiff pixels intact after the IFD rewrite');
    tb.data.dispose();
    await assert.rejects(writeImage(path.join(dir, 'exif.tif'), im.data, { exif: im.exif }), (e: unknown) => e instanceof ImageError && /EXIF/.test(e.message));
  } finally { im.data.dispose(); }
});

test('toUint8 / toUint16 clamp, scale in float32 and round half to even', () => {
  torch.scope(() => {
    // Candidates x whose float32 product x·255 lands exactly on k + 0.5.
    const xs: number[] = [];
    for (let k = 0; k < 255; k++) {
      const x = Math.fround((k + 0.5) / 255);
      for (const y of [x, Math.fround(x * (1 + 2 ** -23)), Math.fround(x * (1 - 2 ** -23))]) xs.push(y);
    }
    xs.push(-0.25, 1.5, 0, 1, 0.5);
    const got = toUint8(torch.tensor(xs)).toArray() as Uint8Array;
    let halves = 0, evenDown = 0;
    xs.forEach((x, i) => {
      const p = Math.fround(Math.min(1, Math.max(0, x)) * 255);
      const f = Math.floor(p);
      const r = p - f === 0.5 ? (f % 2 === 0 ? f : f + 1) : Math.round(p);
      if (p - f === 0.5) { halves++; if (r !== Math.round(p)) evenDown++; }
      assert.equal(got[i], r, `x=${x}: product ${p}`);
    });
    assert.ok(halves > 10 && evenDown > 5, `the sweep holds exact halves (${halves}) that round down to even (${evenDown})`);
    // The encoder's one-pass JS quantisation is the same rule, at 8 and 16 bits.
    const row = torch.tensor(xs).view([1, 1, 1, xs.length]);
    assert.deepEqual([...tensorToPixels(row, 8).pixels], [...got]);
    assert.deepEqual([...tensorToPixels(row, 16).pixels], [...(toUint16(row).toArray() as Int32Array)]);
    const u16 = torch.scope(() => Array.from(torch.tensor([0.5, -1, 2, 1 / 65535]).to({ dtype: 'float32' }).clamp(0, 1).mul(65535).round().toFloat32Array()));
    assert.deepEqual(u16, [32768, 0, 65535, 1]);
  });
});

test('the shared sample photos read with the sizes and modes their README lists', async () => {
  const want: Record<string, [number, number, number]> = {
    'coffee.png': [600, 400, 3], 'chelsea.png': [451, 300, 3], 'astronaut.png': [512, 512, 3], 'rocket.jpg': [640, 427, 3],
    'camera.png': [512, 512, 1], 'brick.png': [512, 512, 1], 'grass.png': [512, 512, 1], 'gravel.png': [512, 512, 1],
  };
  const dir = path.join(sharedDir, 'samples');
  for (const [f, [w, h, c]] of Object.entries(want)) {
    const im = await readImage(path.join(dir, f));
    assert.deepEqual([im.width, im.height, im.channels, im.bitDepth], [w, h, c, 8], f);
    const [lo, hi] = torch.scope(() => [im.data.min().item(), im.data.max().item()]);
    assert.ok(lo! >= 0 && hi! <= 1 && hi! > lo!, `${f}: values in [0, 1]`);
    im.data.dispose();
  }
  // The folder holds nothing else that claims to be an image.
  assert.deepEqual(fs.readdirSync(dir).filter((f) => f !== 'README.md').sort(), Object.keys(want).sort());
});

test('decoding a BSDS500 JPEG gives exactly the pixels the golden GT case was made from', async () => {
  const golden = loadSafetensors(path.join(goldenDir('data'), 'cases', 'gt-prepare-bsds-113044.safetensors'));
  const im = await readImage(path.join(sharedDir, 'data', 'train', 'bsds500', 'train', '113044.jpg'));
  try {
    const ref = golden.get('in.img_rgb_u8')!;
    const got = torch.scope(() => toUint8(im.data.select(0, 0)).permute([1, 2, 0]).contiguous());
    assert.deepEqual(got.shape, ref.shape);
    assert.equal(torch.scope(() => got.eq(ref).all().item()), 1, 'every sample equal');
    // and reading divides by 255 in float32
    assert.equal(torch.scope(() => ref.to({ dtype: 'float32' }).div(255).permute([2, 0, 1]).eq(im.data.select(0, 0)).all().item()), 1);
    got.dispose();
  } finally {
    im.data.dispose();
    for (const t of golden.values()) t.dispose();
  }
});
