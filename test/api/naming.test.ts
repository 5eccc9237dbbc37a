// Output names and formats (issue 8 point 2) and input expansion (point 1).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { outputFormat, outputPath } from '../../src/api/naming.js';
import { parseOptions, z } from '../../src/api/options.js';
import { renderFields } from '../../src/api/schema.js';
import { upscaleFlagsSchema } from '../../src/cli/upscale-cli.js';

const parseExt = (v?: string): string => parseOptions(z.strictObject({ ext: renderFields.ext }), v === undefined ? {} : { ext: v }, { where: 'ext' }).ext;
const parseSuffix = (v?: string): string => parseOptions(upscaleFlagsSchema, { input: ['a.png'], output: 'o', ...(v === undefined ? {} : { suffix: v }) }, { where: 'suffix' }).suffix;
import { expandInputs } from '../../src/api/inputs.js';

test('names: NAME.EXT by default, NAME_SUFFIX.EXT with --suffix, in the output folder', () => {
  assert.equal(outputPath('in/cat.png', 'out', outputFormat('in/cat.png', 'auto')), path.join('out', 'cat.png'));
  assert.equal(outputPath('in/cat.png', 'out', outputFormat('in/cat.png', 'auto'), 'x4'), path.join('out', 'cat_x4.png'));
  assert.equal(outputPath('in/my.cat.png', 'out', 'png', 'sr'), path.join('out', 'my.cat_sr.png'));
});

test('formats: --ext picks the format; auto keeps the input\'s, PNG for GIF/AVIF/HEIF; alpha never goes to JPEG', () => {
  assert.equal(outputFormat('a.png', 'jpg'), 'jpeg');
  assert.equal(outputFormat('a.png', 'webp'), 'webp');
  assert.equal(outputFormat('a.png', 'tiff'), 'tiff');
  assert.equal(outputFormat('a.jpeg', 'auto'), 'jpeg');
  assert.equal(outputFormat('a.TIF', 'auto'), 'tiff');
  assert.equal(outputFormat('a.webp', 'auto'), 'webp');
  for (const f of ['a.gif', 'a.avif', 'a.heic']) assert.equal(outputFormat(f, 'auto'), 'png', f);
  assert.equal(outputFormat('a.png', 'jpg', true), 'png');
  assert.equal(outputFormat('a.jpg', 'auto', true), 'png');
  assert.equal(outputFormat('a.png', 'webp', true), 'webp');
  // Extensions: canonical when the format changes, the input's spelling when auto keeps it.
  assert.equal(outputPath('a.jpeg', 'o', 'jpeg'), path.join('o', 'a.jpeg'));
  assert.equal(outputPath('a.JPG', 'o', 'jpeg'), path.join('o', 'a.jpg'));
  assert.equal(outputPath('a.png', 'o', 'jpeg'), path.join('o', 'a.jpg'));
  assert.equal(outputPath('a.gif', 'o', 'png'), path.join('o', 'a.png'));
  assert.equal(outputPath('a.png', 'o', 'tiff'), path.join('o', 'a.tif'));
  assert.equal(outputPath('a.tiff', 'o', 'tiff'), path.join('o', 'a.tiff'));
});

test('--ext and --suffix are checked', () => {
  assert.equal(parseExt(undefined), 'auto');
  assert.equal(parseExt('JPEG'), 'jpg');
  assert.equal(parseExt('tif'), 'tiff');
  assert.throws(() => parseExt('bmp'), /ext must be one of png, jpg, webp, tiff, auto, got "bmp"/);
  assert.equal(parseSuffix(undefined), '');
  assert.equal(parseSuffix('out'), 'out');
  assert.throws(() => parseSuffix('a/b'), /without path separators/);
});

let root = '';
before(() => {
  root = mkdtempSync(path.join(tmpdir(), 'vpdsr-inputs-'));
  mkdirSync(path.join(root, 'd', 'sub'), { recursive: true });
  for (const f of ['b.png', 'a.jpg', 'C.webp', '.hidden.png', 'notes.txt', 'sub/z.png']) writeFileSync(path.join(root, 'd', f), 'x');
});
after(() => rmSync(root, { recursive: true, force: true }));

test('inputs: a folder gives its image files sorted (not hidden, not other files, not recursive)', () => {
  const d = path.join(root, 'd');
  const r = expandInputs([d]);
  assert.deepEqual(r.files, ['C.webp', 'a.jpg', 'b.png'].map((f) => path.join(d, f)));
  assert.deepEqual(r.missing, []);
});

test('inputs: globs (sorted, recursive with **), explicit files always taken, duplicates once, missing reported', () => {
  const d = path.join(root, 'd');
  const g = expandInputs([`${d}/**/*.png`]);
  assert.deepEqual(g.files, [path.join(d, 'b.png'), path.join(d, 'sub', 'z.png')]);
  const r = expandInputs([path.join(d, 'notes.txt'), path.join(d, 'b.png'), d, `${d}/*.png`, path.join(d, 'nope.png'), `${d}/*.gif`]);
  assert.deepEqual(r.files, [path.join(d, 'notes.txt'), path.join(d, 'b.png'), path.join(d, 'C.webp'), path.join(d, 'a.jpg')]);
  assert.deepEqual(r.missing.map((m) => m.reason), ['no such file or folder', 'the pattern matches no image files']);
  const empty = expandInputs([path.join(d, 'sub', '..', 'sub')]);
  assert.deepEqual(empty.files, [path.join(d, 'sub', 'z.png')]);
});
