// Bad inputs to image I/O: every failure is an ImageError whose message is one line naming the
// file; the pixel limit refuses large images before decoding; writes are atomic and never
// replace an existing file unless asked.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import * as torch from '../../src/engine/index.js';
import { readImage, writeImage, encodeImage, ImageError } from '../../src/io/image/index.js';
import { tmpDir, pattern, patternTensor } from '../fixtures/images/make.js';

async function expectImageError(p: Promise<unknown>, file: string, re: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof ImageError, `an ImageError, got ${String(e)}`);
    assert.equal(e.file, file);
    assert.ok(e.message.startsWith(`${file}: `), `message names the file: ${e.message}`);
    assert.ok(!e.message.includes('\n'), `one line: ${JSON.stringify(e.message)}`);
    assert.match(e.message, re);
    return true;
  });
}

async function pngBytes(w = 64, h = 48): Promise<Buffer> {
  return sharp(pattern(w, h, 3, 8), { raw: { width: w, height: h, channels: 3 } }).png().toBuffer();
}

test('missing, directory, empty, non-image and unsupported inputs give one-line errors naming the file', async () => {
  const dir = tmpDir();
  const f = (n: string): string => path.join(dir, n);
  await expectImageError(readImage(f('nope.png')), f('nope.png'), /no such file/);
  await expectImageError(readImage(dir), dir, /directory/);
  fs.writeFileSync(f('empty.png'), '');
  await expectImageError(readImage(f('empty.png')), f('empty.png'), /empty file/);
  fs.writeFileSync(f('notes.png'), 'just some text, not pixels\n');
  await expectImageError(readImage(f('notes.png')), f('notes.png'), /not a recognised image/);
  // A valid 2×1 BMP: sharp's libvips has no BMP loader.
  const bmp = Buffer.from('424d3e000000000000003600000028000000020000000100000001001800000000000800000000000000000000000000000000000000ff000000ff0000', 'hex');
  fs.writeFileSync(f('a.bmp'), bmp);
  await expectImageError(readImage(f('a.bmp')), f('a.bmp'), /unsupported image format bmp/);
  fs.writeFileSync(f('a.svg'), '<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"><rect width="8" height="8"/></svg>');
  await expectImageError(readImage(f('a.svg')), f('a.svg'), /unsupported image format svg/);
  await expectImageError(readImage(Buffer.alloc(0)), '<buffer>', /empty/);
  await expectImageError(readImage(Buffer.from('GIF89a garbage')), '<buffer>', /gif/);
});

test('truncated and corrupt files are refused, not half-decoded', async () => {
  const dir = tmpDir();
  const png = await pngBytes();
  const jpg = await sharp(png).jpeg().toBuffer();
  const webp = await sharp(png).webp().toBuffer();
  const cases: [string, Buffer][] = [
    ['trunc.png', png.subarray(0, Math.floor(png.length * 0.6))],
    ['trunc.jpg', jpg.subarray(0, Math.floor(jpg.length * 0.6))],
    ['trunc.webp', webp.subarray(0, Math.floor(webp.length * 0.6))],
    ['header-only.png', png.subarray(0, 40)],
  ];
  // Corrupt the compressed data in the middle of the PNG's IDAT (its CRC then fails).
  const bad = Buffer.from(png);
  const idat = bad.indexOf('IDAT');
  for (let i = idat + 20; i < idat + 60; i++) bad[i] = bad[i]! ^ 0x5a;
  cases.push(['corrupt.png', bad]);
  for (const [name, bytes] of cases) {
    const f = path.join(dir, name);
    fs.writeFileSync(f, bytes);
    await expectImageError(readImage(f), f, /truncated|corrupt|unreadable|not a decodable/);
  }
});

test('the pixel limit refuses large images (option and VPDSR_MAX_PIXELS)', async () => {
  const dir = tmpDir();
  const f = path.join(dir, 'big.png');
  fs.writeFileSync(f, await sharp({ create: { width: 1500, height: 1000, channels: 3, background: '#808080' } }).png().toBuffer());
  await expectImageError(readImage(f, { maxPixels: 1_000_000 }), f, /1500×1000 = 1500000 pixels exceeds the limit of 1000000/);
  const ok = await readImage(f, { maxPixels: 1_500_000 });
  ok.data.dispose();
  process.env.VPDSR_MAX_PIXELS = '999999';
  try {
    await expectImageError(readImage(f), f, /exceeds the limit of 999999/);
  } finally {
    delete process.env.VPDSR_MAX_PIXELS;
  }
  await assert.rejects(readImage(f, { maxPixels: -3 }), /maxPixels must be a positive integer/);
});

test('bad write requests give one-line errors and leave nothing behind', async () => {
  const dir = tmpDir();
  const rgb = patternTensor(pattern(8, 6, 3, 8), 8, 6, 3);
  const rgba = patternTensor(pattern(8, 6, 4, 8), 8, 6, 4);
  const f = (n: string): string => path.join(dir, n);
  try {
    await expectImageError(writeImage(f('x.bmp'), rgb), f('x.bmp'), /cannot tell the output format/);
    await expectImageError(writeImage(f('x.png'), rgb, { format: 'gif' as never }), f('x.png'), /unsupported output format/);
    await expectImageError(writeImage(f('x.jpg'), rgba), f('x.jpg'), /cannot store an alpha channel/);
    await expectImageError(writeImage(f('x.jpg'), rgb, { bitDepth: 16 }), f('x.jpg'), /cannot store 16-bit/);
    await expectImageError(writeImage(f('x.webp'), rgb, { bitDepth: 16 }), f('x.webp'), /cannot store 16-bit/);
    await expectImageError(writeImage(f('x.jpg'), rgb, { quality: 0 }), f('x.jpg'), /quality/);
    const nan = torch.scope(() => torch.keep(torch.full([1, 3, 4, 4], NaN)));
    await expectImageError(writeImage(f('nan.png'), nan), f('nan.png'), /NaN/);
    nan.dispose();
    const ints = torch.zeros([3, 4, 4], { dtype: 'uint8' });
    await expectImageError(writeImage(f('int.png'), ints), f('int.png'), /floating point/);
    ints.dispose();
    const five = torch.zeros([1, 5, 4, 4]);
    await expectImageError(writeImage(f('five.png'), five), f('five.png'), /1–4 channels/);
    five.dispose();
    const batch = torch.zeros([2, 3, 4, 4]);
    await expectImageError(writeImage(f('batch.png'), batch), f('batch.png'), /\[1, C, H, W\]/);
    batch.dispose();
    await expectImageError(writeImage(f('no/such/dir/x.png'), rgb), f('no/such/dir/x.png'), /does not exist/);
    await expectImageError(encodeImage(rgb, { format: 'tiff', exif: Buffer.from('not exif') }), '<buffer>', /not a TIFF-structured EXIF/);
    assert.deepEqual(fs.readdirSync(dir), [], 'no file and no temporary file left');
  } finally { rgb.dispose(); rgba.dispose(); }
});

test('writes are atomic: only the target appears, and an existing file is kept unless overwrite is set', async () => {
  const dir = tmpDir();
  const a = patternTensor(pattern(8, 6, 3, 8), 8, 6, 3);
  const b = torch.zeros([1, 3, 6, 8]);
  try {
    const f = path.join(dir, 'out.png');
    await writeImage(f, a);
    assert.deepEqual(fs.readdirSync(dir), ['out.png']);
    const first = fs.readFileSync(f);
    await expectImageError(writeImage(f, b), f, /already exists/);
    assert.ok(fs.readFileSync(f).equals(first), 'the existing file is untouched');
    assert.deepEqual(fs.readdirSync(dir), ['out.png'], 'no temporary file after the refusal');
    await writeImage(f, b, { overwrite: true });
    assert.ok(!fs.readFileSync(f).equals(first), 'replaced on request');
    assert.deepEqual(fs.readdirSync(dir), ['out.png']);
    // A failing encode after the checks (alpha into JPEG) leaves no temporary file either.
    await assert.rejects(writeImage(path.join(dir, 'bad.jpg'), torch.scope(() => torch.keep(torch.zeros([1, 4, 2, 2])))));
    assert.deepEqual(fs.readdirSync(dir), ['out.png']);
    // Reading back what was written works (complete file).
    const im = await readImage(f);
    assert.equal(torch.scope(() => im.data.abs().max().item()), 0);
    im.data.dispose();
  } finally { a.dispose(); b.dispose(); }
});
