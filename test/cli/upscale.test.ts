// vpdsr upscale: files and folders in, PNGs out (atomic), the same pixels as the library, one-line
// errors for bad flags and bad images, and a model folder (the golden e2e tiny networks) end to end.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import sharp from 'sharp';
import * as torch from '../../src/engine/index.js';
import { Tensor } from '../../src/engine/index.js';
import { BicubicUpscaler, defaultDType, loadUpscaler } from '../../src/models/index.js';
import { readImage, toUint8 } from '../../src/io/image/index.js';
import { tmpDir } from '../io/fixtures.js';
import { cliPath } from '../helpers.js';
import { tinyModel } from '../models/tiny-model.js';

function cli(...args: string[]): { code: number | null; stderr: string } {
  const r = spawnSync(process.execPath, [cliPath, ...args], { encoding: 'utf8' });
  return { code: r.status, stderr: r.stderr };
}

/** The RGB image as the model sees it: float32 [1, 3, H, W] in [0, 1]. */
async function readRgb(file: string): Promise<Tensor> {
  const img = await readImage(file);
  if (img.channels !== 3) throw new Error(`${file}: expected RGB`);
  return img.data;
}

/** A model output [1, 3, H, W] in [0, 1] as 8-bit HWC bytes, quantised as the writer does. */
function toUint8Hwc(x: Tensor): Uint8Array {
  return torch.scope(() => toUint8(x).squeeze(0).permute(1, 2, 0).contiguous().toBytes());
}

/** Raw bytes of an image file, and its size. */
async function pixels(file: string): Promise<{ data: Uint8Array; width: number; height: number; channels: number }> {
  const { data, info } = await sharp(file).raw().toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data), width: info.width, height: info.height, channels: info.channels };
}

async function writeNoisePng(file: string, w: number, h: number, channels: 1 | 2 | 3 | 4, seed: number): Promise<void> {
  const buf = Buffer.alloc(w * h * channels);
  let s = seed;
  for (let i = 0; i < buf.length; i++) { s = (s * 1103515245 + 12345) >>> 0; buf[i] = s >>> 24; }
  await sharp(buf, { raw: { width: w, height: h, channels } }).png().toFile(file);
}

test('upscale --model bicubic: a file, the library pixels, a two-channel input keeps its channels, no temp files', async () => {
  const dir = tmpDir();
  await writeNoisePng(path.join(dir, 'a.png'), 13, 9, 3, 1);
  await writeNoisePng(path.join(dir, 'ga.png'), 7, 6, 2, 2);
  const out = path.join(dir, 'out');
  const r = cli('upscale', '-i', path.join(dir, 'a.png'), '-o', out, '--model', 'bicubic', '-q');
  assert.equal(r.code, 0, r.stderr);
  const got = await pixels(path.join(out, 'a.png'));
  assert.deepEqual([got.width, got.height, got.channels], [52, 36, 3]);
  const lr = await readRgb(path.join(dir, 'a.png'));
  const want = torch.scope(() => toUint8Hwc(new BicubicUpscaler().upscale(lr)));
  lr.dispose();
  assert.deepEqual(got.data, want);
  const r2 = cli('upscale', '-i', path.join(dir, 'ga.png'), '-o', out, '--model', 'bicubic', '-q');
  assert.equal(r2.code, 0, r2.stderr);
  const g = await pixels(path.join(out, 'ga.png'));
  const inChannels = (await sharp(path.join(dir, 'ga.png')).metadata()).channels;
  assert.deepEqual([g.width, g.height, g.channels], [28, 24, inChannels]);
  assert.deepEqual(fs.readdirSync(out).filter((f) => f.startsWith('.')), []);
});

test('upscale: a folder with a corrupt image reports it in one line, does the rest and exits 1', async () => {
  const dir = tmpDir();
  const inDir = path.join(dir, 'in');
  fs.mkdirSync(inDir);
  await writeNoisePng(path.join(inDir, 'good.png'), 10, 8, 3, 3);
  fs.writeFileSync(path.join(inDir, 'bad.png'), 'not a png at all');
  fs.writeFileSync(path.join(inDir, 'notes.txt'), 'ignored');
  const out = path.join(dir, 'out');
  const r = cli('upscale', '-i', inDir, '-o', out, '--model', 'bicubic', '-q');
  assert.equal(r.code, 1);
  assert.match(r.stderr, /bad\.png: not a recognised image format/);
  assert.match(r.stderr, /^vpdsr: 1 done, 0 skipped, 1 failed \(of 2\)$/m);
  assert.ok(!r.stderr.includes('    at '), 'no stack trace');
  assert.deepEqual(fs.readdirSync(out), ['good.png']);
});

test('upscale: bad flags and missing weights give one line naming the flag or the file', () => {
  const dir = tmpDir();
  const img = path.join(dir, 'x.png');
  fs.writeFileSync(img, 'x');
  const cases: [string[], RegExp][] = [
    [['-i', img, '-o', dir, '--unet', img, '--vq', img], /--preset is needed with --unet and --vq/],
    [['-i', img, '-o', dir, '--model', 'bicubic', '--sampler', 'euler'], /--sampler must be one of one-step, ddim, stochastic, got "euler"/],
    [['-i', img, '-o', dir, '--model', 'bicubic', '--steps', '4'], /--steps does not apply to the bicubic model/],
    [['-i', img, '-o', dir, '--model', 'bicubic', '--dtype', 'fp16'], /--dtype must be one of fp32, bf16, auto, got "fp16"/],
    [['-i', img, '-o', dir, '--model', 'bicubic', '--tile', '-3'], /-t\/--tile must be 0 \(no tiling\) or an integer of at least 16 LR pixels, got -3/],
    [['-i', img, '-o', dir, '--model', 'bicubic', '--device', 'gpu'], /--device must be cpu, cuda or cuda:N, got "gpu"/],
    [['-i', path.join(dir, 'none'), '-o', dir, '--model', 'bicubic'], /-i .*none: no such file or folder/],
    [['-i', img, '-o', dir, '--preset', 'sinsr', '--unet', path.join(dir, 'SinSR_v1.pth')], /--preset sinsr needs --unet FILE and --vq FILE/],
    [['-i', img, '-o', dir, '--preset', 'sinsr', '--unet', path.join(dir, 'SinSR_v1.pth'), '--vq', path.join(dir, 'vq.pth')],
      /SinSR_v1\.pth: UNet weights not found \(SinSR_v1\.pth is published at https:\/\/github\.com\/wyf0912\/SinSR\/releases\/download\/v1\.0\/SinSR_v1\.pth/],
    [['-i', img, '-o', dir, '--model', path.join(dir, 'nomodel')], /nomodel: model folder not found/],
  ];
  for (const [args, re] of cases) {
    const r = cli('upscale', ...args);
    assert.notEqual(r.code, 0, args.join(' '));
    assert.equal(r.stderr.trim().split('\n').length, 1, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, re, args.join(' '));
    assert.ok(!r.stderr.includes('    at '), 'no stack trace');
  }
});


test('upscale --model DIR: the CLI writes what the library computes for the same seed; bf16 runs', async () => {
  const dir = tmpDir();
  const model = tinyModel(dir);
  await writeNoisePng(path.join(dir, 'p.png'), 24, 20, 3, 5);
  const out = path.join(dir, 'out');
  const r = cli('upscale', '-i', path.join(dir, 'p.png'), '-o', out, '--model', model, '--seed', '3', '--tile', '0', '--threads', String(torch.getNumThreads()));
  assert.equal(r.code, 0, r.stderr);
  // The default dtype of this CPU (auto with AVX512_BF16/AMX, else fp32), the same for the library below.
  assert.match(r.stderr, new RegExp(`sinsr-v1 on cpu \\(${defaultDType('cpu')}\\)`));
  const got = await pixels(path.join(out, 'p.png'));
  assert.deepEqual([got.width, got.height], [96, 80]);
  const up = loadUpscaler({ model });
  const lr = await readRgb(path.join(dir, 'p.png'));
  const want = torch.scope(() => toUint8Hwc(up.upscale(lr, { seed: 3, tile: 0 })));
  const other = torch.scope(() => toUint8Hwc(up.upscale(lr, { seed: 4, tile: 0 })));
  lr.dispose();
  up.dispose();
  assert.deepEqual(got.data, want);
  assert.notDeepEqual(got.data, other, 'the seed matters');
  // Tiled (16-px LR tiles), feathered: a different but complete image.
  const rt = cli('upscale', '-i', path.join(dir, 'p.png'), '-o', path.join(dir, 'tiled'), '--model', model, '--tile', '16', '--tile-overlap', '4', '-q');
  assert.equal(rt.code, 0, rt.stderr);
  assert.equal((await pixels(path.join(dir, 'tiled', 'p.png'))).width, 96);
  const rb = cli('upscale', '-i', path.join(dir, 'p.png'), '-o', path.join(dir, 'bf16'), '--model', model, '--dtype', 'bf16', '-q');
  assert.equal(rb.code, 0, rb.stderr);
  assert.equal((await pixels(path.join(dir, 'bf16', 'p.png'))).height, 80);
  const rs = cli('upscale', '-i', path.join(dir, 'p.png'), '-o', out, '--model', model, '--sampler', 'stochastic');
  assert.equal(rs.code, 1);
  assert.match(rs.stderr, /^vpdsr: sinsr-v1 is a one-step model; the stochastic sampler is not supported for it \(use --sampler one-step\)\n$/);
});
