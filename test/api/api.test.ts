// The library surface (issue 8 points 3, 4, 5, 8): upscale() on every input kind, pixels kept
// right (alpha, grey, 16-bit, metadata, orientation), sizes, abort, tiling through the api, and
// bit-exact bicubic against the reference SHA-256s of the RealSR set.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import * as torch from '../../src/engine/index.js';
import { Tensor } from '../../src/engine/index.js';
import { upscale, loadModel, modelFromUpscaler, AbortError, type Model } from '../../src/api.js';
import { readImage, encodeImage, toUint8 } from '../../src/io/image/index.js';
import { DiffusionUpscaler, type DiffusionParts } from '../../src/models/pipeline.js';
import { repoRoot, sharedDir } from '../helpers.js';

const SAMPLE = path.join(repoRoot, 'samples', 'chelsea-lr.png');
let root = '';
let model: Model;
before(async () => {
  root = mkdtempSync(path.join(tmpdir(), 'vpdsr-api-'));
  model = await loadModel({ model: 'bicubic' });
});
after(() => {
  model.dispose();
  rmSync(root, { recursive: true, force: true });
});

/** PyTorch bicubic ×4 (a = −0.75), clamped: the reference for --model bicubic. */
function bicubic4(x: Tensor): Tensor {
  return torch.scope(() => torch.interpolate(x, { scaleFactor: 4, mode: 'bicubic', alignCorners: false }).clamp(0, 1));
}

function maxDiff(a: Tensor, b: Tensor): number {
  return torch.scope(() => a.to({ dtype: 'float64' }).sub(b.to({ dtype: 'float64' })).abs().max().item());
}

/** An RGB(A) test image [1, C, h, w] with smooth colour and a ramp alpha. */
function testImage(c: number, h = 20, w = 28): Tensor {
  return torch.scope(() => {
    const y = torch.arange(0, h).reshape([1, 1, h, 1]).div(h - 1), x = torch.arange(0, w).reshape([1, 1, 1, w]).div(w - 1);
    const chans = [y.mul(x.add(1)).div(2), x, y.mul(0.5).add(x.mul(0.3)), x.mul(y).add(0.2).clamp(0, 1)]
      .map((t) => t.expand(1, 1, h, w));
    return torch.cat(chans.slice(0, c), 1).float().contiguous();
  });
}

test('bicubic via upscale(): byte-identical to the RealSR reference bicubic SHA-256 (all 50 images)', async () => {
  const ref = JSON.parse(readFileSync(path.join(sharedDir, 'data', 'realsr-x4', 'pyiqa-metrics.json'), 'utf8')) as { bicubic_uint8_sha256: { per_image: Record<string, string> } };
  const per = ref.bicubic_uint8_sha256.per_image;
  const names = Object.keys(per);
  assert.equal(names.length, 50);
  for (const n of names) {
    const png = await upscale(path.join(sharedDir, 'data', 'realsr-x4', 'lr', n), { model });
    const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
    assert.deepEqual([info.width, info.height, info.channels], [512, 512, 3], n);
    assert.equal(createHash('sha256').update(data).digest('hex'), per[n], n);
  }
});

test('inputs: path, Buffer, Uint8Array, typed pixels (8-bit, 16-bit, float) and a sharp instance give the same output', async () => {
  const fromPath = await upscale(SAMPLE, { model });
  const buf = readFileSync(SAMPLE);
  const { data, info } = await sharp(buf).raw().toBuffer({ resolveWithObject: true });
  const raw8 = new Uint8Array(data.buffer, data.byteOffset, data.length);
  const same = async (b: Buffer, what: string): Promise<void> => {
    const [x, y] = await Promise.all([sharp(fromPath).raw().toBuffer(), sharp(b).raw().toBuffer()]);
    assert.ok(x.equals(y), what);
  };
  await same(await upscale(buf, { model }), 'Buffer');
  await same(await upscale(new Uint8Array(buf), { model }), 'Uint8Array');
  await same(await upscale({ data: raw8, width: info.width, height: info.height, channels: 3 }, { model }), 'Uint8Array pixels');
  await same(await upscale({ data: Float32Array.from(raw8, (v) => Math.fround(v / 255)), width: info.width, height: info.height, channels: 3 }, { model }), 'Float32Array pixels');
  await same(await upscale(sharp(SAMPLE), { model }), 'sharp instance');
  // 16-bit pixels come back as a 16-bit PNG.
  const raw16 = Uint16Array.from(raw8, (v) => v * 257);
  const png16 = await upscale({ data: raw16, width: info.width, height: info.height, channels: 3 }, { model });
  assert.equal((await sharp(png16).metadata()).depth, 'ushort');
  await assert.rejects(upscale({ data: raw8, width: 10, height: 10, channels: 3 }, { model }), /pixels: data holds 20736 samples, 10×10×3 needs 300/);
  await assert.rejects(upscale(42 as unknown as string, { model }), /input must be a file path, a Buffer, typed pixels/);
  await assert.rejects(upscale(Buffer.from('not an image at all'), { model }), /<buffer>: not a recognised image format/);
});

test('alpha: RGB through the model, alpha upscaled on its own and re-attached (RGBA and grey + alpha)', async () => {
  {
    const rgba = testImage(4);
    const png = await encodeImage(rgba, { format: 'png' });
    const outImg = await readImage(await upscale(png, { model }));
    const inImg = await readImage(png);
    assert.equal(outImg.channels, 4);
    const want = bicubic4(inImg.data);
    assert.ok(maxDiff(outImg.data, toUint8(want).float().div(255)) < 1e-6, 'RGBA = bicubic of each channel');
    // RGB part is what the RGB-only image gives: the alpha does not leak into the colour.
    const rgbOnly = await readImage(await upscale(await encodeImage(inImg.data.narrow(1, 0, 3), { format: 'png' }), { model }));
    assert.equal(maxDiff(outImg.data.narrow(1, 0, 3), rgbOnly.data), 0);
    // Grey + alpha stays grey + alpha.
    const ga = torch.cat([rgba.narrow(1, 0, 1), rgba.narrow(1, 3, 1)], 1);
    const gaOut = await readImage(await upscale(await encodeImage(ga, { format: 'png' }), { model }));
    assert.equal(gaOut.channels, 2);
    // JPEG cannot hold alpha: asked for jpg, an alpha image comes out as PNG.
    const asJpg = await upscale(png, { model, ext: 'jpg' });
    assert.equal((await sharp(asJpg).metadata()).format, 'png');
    inImg.data.dispose(); outImg.data.dispose(); rgbOnly.data.dispose(); gaOut.data.dispose();
  }
});

test('grey: through the model as RGB, written back as grey (values = bicubic of the grey)', async () => {
  {
    const g = testImage(1);
    const png = await encodeImage(g, { format: 'png' });
    const inImg = await readImage(png);
    assert.equal(inImg.channels, 1);
    const out = await readImage(await upscale(png, { model }));
    assert.equal(out.channels, 1);
    assert.equal(out.width, 4 * inImg.width);
    assert.ok(maxDiff(out.data, toUint8(bicubic4(inImg.data)).float().div(255)) <= 1 / 255 + 1e-7);
    inImg.data.dispose(); out.data.dispose();
  }
});

test('16-bit in → 16-bit out (PNG and TIFF) with 16-bit precision; JPEG out is 8-bit with a warning', async () => {
  {
    // A gentle ramp: 8-bit would quantise it to steps of 257 in 16-bit units.
    const x = testImage(3, 16, 24).mul(0.01).add(0.5);
    const png16 = await encodeImage(x, { format: 'png', bitDepth: 16 });
    const inImg = await readImage(png16);
    assert.equal(inImg.bitDepth, 16);
    for (const ext of ['png', 'tiff'] as const) {
      const out = await readImage(await upscale(png16, { model, ext }));
      assert.equal(out.bitDepth, 16, ext);
      const want = bicubic4(inImg.data);
      assert.ok(maxDiff(out.data, want) <= 0.5 / 65535 + 1e-7, `${ext}: ${maxDiff(out.data, want) * 65535} levels`);
      const levels = Array.from(torch.scope(() => out.data.mul(65535).round().toFloat32Array())).filter((v) => v % 257 !== 0).length;
      assert.ok(levels > 0, `${ext}: values are not 8-bit levels`);
      out.data.dispose();
    }
    const warnings: string[] = [];
    const jpg = await readImage(await upscale(png16, { model, ext: 'jpg', onWarning: (w) => warnings.push(w) }));
    assert.equal(jpg.bitDepth, 8);
    assert.match(warnings.join('\n'), /jpeg stores 8 bits per sample/);
    inImg.data.dispose(); jpg.data.dispose();
  }
});

test('metadata: EXIF and ICC kept (PNG, JPEG, WebP), dropped with stripMetadata; EXIF orientation honoured', async () => {
  const tagged = await sharp(SAMPLE).withIccProfile('p3').withMetadata({ orientation: 6 }).withExifMerge({ IFD0: { Copyright: 'vpdsr test' } }).png().toBuffer();
  const src = await sharp(tagged).metadata();
  assert.ok(src.icc && src.exif && src.orientation === 6 && Buffer.from(src.exif).includes(Buffer.from('vpdsr test')));
  for (const ext of ['png', 'jpg', 'webp'] as const) {
    const out = await upscale(tagged, { model, ext });
    const m = await sharp(out).metadata();
    assert.ok(m.icc && Buffer.from(m.icc).equals(Buffer.from(src.icc)), `${ext}: ICC kept byte for byte`);
    assert.ok(m.exif && Buffer.from(m.exif).includes(Buffer.from('vpdsr test')), `${ext}: EXIF kept`);
    // Orientation 6 (rotate 90° CW) applied to the pixels: 96×72 → 72×96 → ×4; the tag reset to 1.
    assert.deepEqual([m.width, m.height], [288, 384], ext);
    assert.ok(m.orientation === undefined || m.orientation === 1, `${ext}: orientation ${m.orientation}`);
    const bare = await sharp(await upscale(tagged, { model, ext, stripMetadata: true })).metadata();
    assert.equal(bare.icc, undefined, `${ext}: ICC stripped`);
    assert.equal(bare.exif, undefined, `${ext}: EXIF stripped`);
  }
  // TIFF keeps the ICC, cannot carry EXIF (says so).
  const warnings: string[] = [];
  const tif = await sharp(await upscale(tagged, { model, ext: 'tiff', onWarning: (w) => warnings.push(w) })).metadata();
  assert.ok(tif.icc);
  assert.match(warnings.join('\n'), /TIFF output cannot carry EXIF/);
});

test('sizes: outscale 2 and 3.5, exact width/height, width alone keeping the aspect', async () => {
  const size = async (o: object): Promise<number[]> => {
    const m = await sharp(await upscale(SAMPLE, { model, ...o })).metadata();
    return [m.width!, m.height!];
  };
  assert.deepEqual(await size({}), [384, 288]);
  assert.deepEqual(await size({ outscale: 2 }), [192, 144]);
  assert.deepEqual(await size({ outscale: 3.5 }), [336, 252]);
  assert.deepEqual(await size({ outscale: 6 }), [576, 432]);
  assert.deepEqual(await size({ width: 300, height: 100 }), [300, 100]);
  assert.deepEqual(await size({ width: 200 }), [200, 150]);
  await assert.rejects(upscale(SAMPLE, { model, outscale: 2, width: 10 }), /outscale cannot be combined with width\/height/);
});

test('output file: written atomically, info returned, existing file kept unless overwrite', async () => {
  const out = path.join(root, 'cat.webp');
  const r = await upscale(SAMPLE, { model, output: out, quality: 80 });
  assert.deepEqual([r.width, r.height, r.format, r.bitDepth], [384, 288, 'webp', 8]);
  assert.equal((await sharp(out).metadata()).format, 'webp');
  const before = readFileSync(out);
  await assert.rejects(upscale(SAMPLE, { model, output: out, quality: 10 }), /already exists/);
  assert.ok(readFileSync(out).equals(before));
  await upscale(SAMPLE, { model, output: out, quality: 10, overwrite: true });
  assert.ok(!readFileSync(out).equals(before));
  assert.deepEqual(readdirSync(root).filter((f) => f.endsWith('.tmp')), []);
  await assert.rejects(upscale(SAMPLE, { model, output: path.join(root, 'x.bmp') }), /cannot tell the format from the extension/);
  // A model spec loads a model for the call; an unknown one is one clear line.
  assert.ok((await upscale(SAMPLE, { model: 'bicubic' })).length > 0);
  await assert.rejects(upscale(SAMPLE, { model: path.join(root, 'no-model') }), (e: Error) => !e.message.includes('\n') && e.message.length > 0);
});

/** A stand-in diffusion model: identity codec and sampler, so a tile's output is bicubic ×4 of the tile. */
function standIn(): Model {
  const parts: DiffusionParts = {
    name: 'stand-in', device: 'cpu', dtype: 'fp32', padding: 64,
    codec: { encode: (x) => x.clone(), decode: (z) => z.clone() },
    denoise: (x) => x.clone(),
    sample: (zy) => zy.clone(),
    dispose: () => undefined,
  };
  return modelFromUpscaler(new DiffusionUpscaler(parts));
}

test('tiling through the api is seamless: feather-merged tiles equal the untiled output to within one 8-bit level', async () => {
  const m = standIn();
  try {
    const big = await sharp(path.join(repoRoot, 'samples', 'chelsea.png')).extract({ left: 40, top: 20, width: 150, height: 110 }).png().toBuffer();
    const ticks: number[][] = [];
    const untiled = await sharp(await upscale(big, { model: m, tile: 0 })).raw().toBuffer();
    const tiled = await sharp(await upscale(big, { model: m, tile: 48, tileOverlap: 12, onProgress: (p) => ticks.push([p.tile, p.tiles]) })).raw().toBuffer();
    const avg = await sharp(await upscale(big, { model: m, tile: 48, tileOverlap: 12, tileMerge: 'average' })).raw().toBuffer();
    assert.ok(ticks.length > 1 && ticks.at(-1)![0] === ticks.at(-1)![1], `tiles reported: ${JSON.stringify(ticks)}`);
    const stats = (a: Buffer): [number, number] => {
      let mx = 0, n = 0;
      for (let i = 0; i < a.length; i++) { const d = Math.abs(a[i]! - untiled[i]!); mx = Math.max(mx, d); if (d) n++; }
      return [mx, n / a.length];
    };
    const [fMax, fFrac] = stats(tiled), [aMax] = stats(avg);
    assert.ok(fMax <= 1 && fFrac < 0.01, `feather: max ${fMax}, ${(fFrac * 100).toFixed(3)}% differ`);
    // The plain average keeps the tiles' wrong borders: this is what the test would catch.
    assert.ok(aMax > fMax, `average max ${aMax} should exceed feather max ${fMax}`);
  } finally {
    m.dispose();
  }
});

test('abort: an aborted signal rejects with AbortError before work; aborting between tiles writes nothing', async () => {
  const ac = new AbortController();
  ac.abort();
  await assert.rejects(upscale(SAMPLE, { model, signal: ac.signal }), AbortError);
  const m = standIn();
  try {
    const out = path.join(root, 'aborted.png');
    const ac2 = new AbortController();
    const big = await sharp(path.join(repoRoot, 'samples', 'chelsea.png')).extract({ left: 0, top: 0, width: 128, height: 96 }).png().toBuffer();
    await assert.rejects(upscale(big, { model: m, output: out, tile: 32, tileOverlap: 4, signal: ac2.signal, onProgress: (p) => { if (p.tile === 1) ac2.abort(); } }), AbortError);
    assert.equal(existsSync(out), false);
    assert.deepEqual(readdirSync(root).filter((f) => f.includes('aborted')), []);
  } finally {
    m.dispose();
  }
  writeFileSync(path.join(root, 'ok'), '');
});

test('abort from an event: an Upscaler with upscaleAsync (yielding between tiles) stops at the next tile', async () => {
  let tilesRun = 0;
  const up = {
    scale: 4 as const, name: 'slow', device: 'cpu', dtype: 'fp32' as const,
    upscale: (): Tensor => { throw new Error('the async path must be used'); },
    async upscaleAsync(lr: Tensor, o: { signal?: AbortSignal; onTile?: (d: number, t: number) => void } = {}): Promise<Tensor> {
      for (let i = 0; i < 20; i++) {
        await new Promise((r) => setTimeout(r, 10));
        if (o.signal?.aborted) throw new AbortError();
        tilesRun++;
        o.onTile?.(i + 1, 20);
      }
      return bicubic4(lr);
    },
    dispose: () => undefined,
  };
  const m = modelFromUpscaler(up);
  const ac = new AbortController();
  // The timer starts at the first tile (decoding before it takes a while on a loaded machine).
  const out = path.join(root, 'event-abort.png');
  await assert.rejects(upscale(SAMPLE, { model: m, output: out, signal: ac.signal, onProgress: (p) => { if (p.tile === 1) setTimeout(() => ac.abort(), 25); } }), AbortError);
  assert.ok(tilesRun > 0 && tilesRun < 20, `tiles run before the abort: ${tilesRun}`);
  assert.equal(existsSync(out), false);
  // Without the abort the same model finishes and reports every tile.
  const ticks: number[] = [];
  await upscale(SAMPLE, { model: m, onProgress: (p) => ticks.push(p.tile) });
  assert.equal(ticks.length, 20);
});
