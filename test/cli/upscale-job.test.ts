// `vpdsr upscale` end to end (issue 8 points 1, 2, 7): folders and globs, names, skip and
// overwrite, never overwriting an input, bad inputs reported by name while the batch goes on,
// usage errors in one line, and Ctrl-C leaving no partial or temporary file behind.
// Runs the command through test/cli/upscale-job-entry.ts until src/cli/main.ts registers it.
import { DEFAULT_MODEL } from '../../src/api/schema.js';
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, mkdirSync, copyFileSync, writeFileSync, readFileSync, readdirSync, rmSync, statSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { repoRoot } from '../helpers.js';

const run = promisify(execFile);
const ENTRY = path.join(path.dirname(fileURLToPath(import.meta.url)), 'upscale-job-entry.js');
const ENV = { ...process.env, VPDSR_UPSCALE_ENTRY: '1' };
const SAMPLE = path.join(repoRoot, 'samples', 'chelsea-lr.png');
let root = '';
let input = '';

before(async () => {
  root = mkdtempSync(path.join(tmpdir(), 'vpdsr-upscale-cli-'));
  input = path.join(root, 'in');
  mkdirSync(input);
  copyFileSync(SAMPLE, path.join(input, 'a.png'));
  await sharp(SAMPLE).jpeg({ quality: 90 }).toFile(path.join(input, 'b.jpg'));
  await sharp(SAMPLE).resize(48, 36).gif().toFile(path.join(input, 'c.gif'));
  const png = readFileSync(SAMPLE);
  writeFileSync(path.join(input, 'corrupt.png'), Buffer.concat([png.subarray(0, 40), Buffer.alloc(200, 7)]));
  const jpg = readFileSync(path.join(input, 'b.jpg'));
  writeFileSync(path.join(input, 'truncated.jpg'), jpg.subarray(0, Math.floor(jpg.length / 2)));
  writeFileSync(path.join(input, 'notimage.png'), 'hello, I am text\n');
});
after(() => rmSync(root, { recursive: true, force: true }));

async function vpdsr(args: string[]): Promise<{ code: number; out: string }> {
  try {
    const r = await run(process.execPath, [ENTRY, 'upscale', ...args], { env: ENV, maxBuffer: 1 << 24 });
    return { code: 0, out: r.stdout + r.stderr };
  } catch (e) {
    const x = e as { code: number; stdout: string; stderr: string };
    return { code: x.code, out: x.stdout + x.stderr };
  }
}

const noStack = (s: string): void => assert.doesNotMatch(s, /^\s+at .+:\d+:\d+\)?$/m, 'no stack trace');

test('a folder: good images done, corrupt / truncated / non-image inputs reported by name, the batch goes on, exit 1', async () => {
  const out = path.join(root, 'out1');
  const r = await vpdsr(['-i', input, '-o', out, '--model', 'bicubic']);
  assert.equal(r.code, 1, r.out);
  for (const bad of ['corrupt.png', 'truncated.jpg', 'notimage.png']) assert.match(r.out, new RegExp(`failed: .*${bad.replace('.', '\\.')}: `), bad);
  noStack(r.out);
  assert.match(r.out, /3 done, 0 skipped, 3 failed \(of 6\)/);
  assert.deepEqual(readdirSync(out).sort(), ['a.png', 'b.jpg', 'c.png']);
  for (const [f, fmt, w] of [['a.png', 'png', 384], ['b.jpg', 'jpeg', 384], ['c.png', 'png', 192]] as const) {
    const m = await sharp(path.join(out, f)).metadata();
    assert.deepEqual([m.format, m.width], [fmt, w], f);
  }
});

test('existing outputs are skipped; --overwrite replaces them', async () => {
  const out = path.join(root, 'out2');
  const first = await vpdsr(['-i', path.join(input, 'a.png'), '-i', path.join(input, 'b.jpg'), '-o', out, '--model', 'bicubic']);
  assert.equal(first.code, 0, first.out);
  const t0 = statSync(path.join(out, 'a.png')).mtimeMs;
  writeFileSync(path.join(out, 'b.jpg'), 'placeholder');
  const again = await vpdsr(['-i', path.join(input, 'a.png'), '-i', path.join(input, 'b.jpg'), '-o', out, '--model', 'bicubic']);
  assert.equal(again.code, 0, again.out);
  assert.match(again.out, /0 done, 2 skipped, 0 failed/);
  assert.equal(statSync(path.join(out, 'a.png')).mtimeMs, t0);
  assert.equal(readFileSync(path.join(out, 'b.jpg'), 'utf8'), 'placeholder');
  const over = await vpdsr(['-i', path.join(input, 'a.png'), '-i', path.join(input, 'b.jpg'), '-o', out, '--model', 'bicubic', '--overwrite', '--quiet']);
  assert.equal(over.code, 0, over.out);
  assert.equal(over.out, '', 'quiet prints nothing when all is well');
  assert.equal((await sharp(path.join(out, 'b.jpg')).metadata()).format, 'jpeg');
});

test('an input is never overwritten, not even with --overwrite; two inputs with one output name: the second fails', async () => {
  const a = path.join(input, 'a.png');
  const bytes = readFileSync(a);
  for (const extra of [[], ['--overwrite']]) {
    const r = await vpdsr(['-i', a, '-o', input, '--model', 'bicubic', ...extra]);
    assert.equal(r.code, 1, r.out);
    assert.match(r.out, /would overwrite the input/);
    assert.ok(readFileSync(a).equals(bytes));
  }
  // a.png → a.png in the folder of b.jpg (given with --ext png): b.png would be fine, a.png not.
  const dir = path.join(root, 'same');
  mkdirSync(dir);
  copyFileSync(SAMPLE, path.join(dir, 'x.png'));
  await sharp(SAMPLE).jpeg().toFile(path.join(dir, 'x.jpg'));
  const r = await vpdsr(['-i', path.join(dir, 'x.jpg'), '-i', path.join(dir, 'x.png'), '-o', path.join(root, 'same-out'), '--model', 'bicubic', '--ext', 'png']);
  assert.equal(r.code, 1, r.out);
  assert.match(r.out, /x\.png: the output .*x\.png is also the output of .*x\.jpg/);
  assert.match(r.out, /1 done, 0 skipped, 1 failed/);
});

test('names and formats: --suffix, --ext webp/tiff/jpg with --quality, globs, --outscale and --width', async () => {
  const out = path.join(root, 'out3');
  const r = await vpdsr(['-i', `${input}/[ab].*`, '-o', out, '--model', 'bicubic', '--suffix', 'sr', '--ext', 'webp', '--quality', '70']);
  assert.equal(r.code, 0, r.out);
  assert.deepEqual(readdirSync(out).sort(), ['a_sr.webp', 'b_sr.webp']);
  for (const f of readdirSync(out)) assert.equal((await sharp(path.join(out, f)).metadata()).format, 'webp');
  const t = await vpdsr(['-i', path.join(input, 'a.png'), '-o', out, '--model', 'bicubic', '--ext', 'tiff', '--outscale', '3.5']);
  assert.equal(t.code, 0, t.out);
  const m = await sharp(path.join(out, 'a.tif')).metadata();
  assert.deepEqual([m.format, m.width, m.height], ['tiff', 336, 252]);
  const j = await vpdsr(['-i', path.join(input, 'a.png'), '-o', out, '--model', 'bicubic', '--ext', 'jpg', '--width', '200', '--suffix', 'w']);
  assert.equal(j.code, 0, j.out);
  const mj = await sharp(path.join(out, 'a_w.jpg')).metadata();
  assert.deepEqual([mj.format, mj.width, mj.height], ['jpeg', 200, 150]);
});

test('usage errors are one line, naming the flag, without a stack trace', async () => {
  const out = path.join(root, 'out4');
  const cases: [string[], RegExp][] = [
    [['--ext', 'bmp'], /--ext must be one of png, jpg, webp, tiff, auto, got "bmp"/],
    [['--outscale', '2', '--width', '100'], /-s\/--outscale cannot be combined with --width\/--height/],
    [['--quality', '0'], /--quality must be an integer from 1 to 100, got 0/],
    [['--color-fix', 'magic'], /--color-fix must be one of auto, none, adain, wavelet, got "magic"/],
    [['--max-memory', 'lots'], /--max-memory must be a size like 4G/],
    [['--tile', '8'], /-t\/--tile must be 0 \(no tiling\) or an integer of at least 16 LR pixels, got 8/],
    [['--sampler', 'ddim'], /--sampler does not apply to the bicubic model/],
    [['--tile-overlap', '4', '--tile_pad', '4'], /give --tile-overlap or --tile_pad, not both/],
    [['--tiel', '64'], /unknown option '--tiel' \(did you mean --tile\?\)/],
    [['--fp32', '--dtype', 'bf16'], /--fp32 contradicts --dtype bf16/],
  ];
  for (const [extra, re] of cases) {
    const r = await vpdsr(['-i', path.join(input, 'a.png'), '-o', out, '--model', 'bicubic', ...extra]);
    assert.equal(r.code, 2, `${extra.join(' ')}: ${r.out}`);
    assert.match(r.out, re);
    assert.equal(r.out.trim().split('\n').length, 1, r.out);
    noStack(r.out);
  }
  const none = await vpdsr(['-i', path.join(root, 'nothing-here', '*.png'), '-o', out, '--model', 'bicubic']);
  assert.equal(none.code, 1);
  assert.match(none.out, /the pattern matches no image files/);
  assert.equal(existsSync(out), false, 'nothing created on a usage error');
  // No --model: the library's default (DEFAULT_MODEL), the same as upscale() without a model.
  const noModel = await vpdsr(['-i', path.join(input, 'a.png'), '-o', out]);
  assert.equal(noModel.code, 0, noModel.out);
  assert.match(noModel.out, new RegExp(`vpdsr: ${DEFAULT_MODEL} on cpu`));
  assert.ok(existsSync(path.join(out, 'a.png')));
});

test('Ctrl-C (SIGINT) mid-batch: exit 130, no temporary or partial file left, finished outputs intact', async () => {
  const big = path.join(root, 'big');
  mkdirSync(big);
  const src = await sharp(path.join(repoRoot, 'samples', 'coffee.png')).resize(1200, 800).png({ compressionLevel: 1 }).toBuffer();
  for (const n of ['p1', 'p2', 'p3', 'p4']) writeFileSync(path.join(big, `${n}.png`), src);
  const out = path.join(root, 'big-out');
  const child = spawn(process.execPath, [ENTRY, 'upscale', '-i', big, '-o', out, '--model', 'bicubic'], { env: ENV, stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  const started = new Promise<void>((resolve) => {
    child.stderr.on('data', (d: Buffer) => { text += d.toString(); if (/loaded in/.test(text)) resolve(); });
  });
  child.stdout.on('data', (d: Buffer) => { text += d.toString(); });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  await started;
  // Well into the first image (decode, upscale, the PNG encode of 4800×3200 px).
  await new Promise((r) => setTimeout(r, 1500));
  child.kill('SIGINT');
  const { code, signal } = await exited;
  assert.equal(signal, null, text);
  assert.equal(code, 130, text);
  assert.match(text, /interrupted/);
  noStack(text);
  const left = existsSync(out) ? readdirSync(out) : [];
  assert.deepEqual(left.filter((f) => f.startsWith('.') || f.endsWith('.tmp')), [], `temporary files: ${left.join(', ')}`);
  assert.ok(left.length < 4, `the run was interrupted, yet ${left.length} outputs exist`);
  for (const f of left) {
    const m = await sharp(path.join(out, f)).metadata();
    assert.deepEqual([m.width, m.height], [4800, 3200], f);
    await sharp(path.join(out, f)).raw().toBuffer(); // decodes completely: not a partial file
  }
});
