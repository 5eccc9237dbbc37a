// evaluate() and `vpdsr eval`: pairing by key, values equal to the metric functions, JSON/CSV
// shapes, the best method marked, skipped metrics with their reason, and every failure path.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import * as torch from '../../src/engine/index.js';
import { evaluate, OptionError } from '../../src/api.js';
import { pairingKey } from '../../src/metrics/pairing.js';
import { readRgb8 } from '../../src/data/dataset.js';
import { psnr } from '../../src/metrics/psnr.js';
import { reportInput } from '../../src/cli/eval.js';
import { cliPath, sharedDir } from '../helpers.js';

const run = promisify(execFile);
const DATA = path.join(sharedDir, 'data', 'realsr-x4');
const NAMES = ['Canon_001', 'Canon_002', 'Nikon_003'];
let root = '';
const dir = (n: string): string => path.join(root, n);

/** A 128×128 crop of a RealSR file, saved losslessly. */
async function crop(src: string, dst: string, left = 200, top = 160, size = 128): Promise<void> {
  await sharp(src).extract({ left, top, width: size, height: size }).png().toFile(dst);
}

before(async () => {
  root = mkdtempSync(path.join(tmpdir(), 'vpdsr-eval-'));
  for (const d of ['hr', 'sr', 'bic', 'dup', 'orphan', 'small', 'lr']) mkdirSync(dir(d));
  for (const n of NAMES) {
    await crop(path.join(DATA, 'hr', `${n}_LR4.png`), path.join(dir('hr'), `${n}_HR.png`));
    await crop(path.join(DATA, 'osediff-sr', `${n}_LR4.png`), path.join(dir('sr'), `${n}_x4_out.png`));
    await sharp(path.join(DATA, 'lr', `${n}_LR4.png`)).extract({ left: 50, top: 40, width: 32, height: 32 })
      .resize(128, 128, { kernel: 'cubic' }).png().toFile(path.join(dir('bic'), `${n}.png`));
    await crop(path.join(DATA, 'lr', `${n}_LR4.png`), path.join(dir('lr'), `${n}_LR4.png`), 0, 0, 32);
  }
  await crop(path.join(DATA, 'osediff-sr', 'Canon_001_LR4.png'), path.join(dir('dup'), 'Canon_001_SR.png'));
  await crop(path.join(DATA, 'osediff-sr', 'Canon_001_LR4.png'), path.join(dir('dup'), 'canon_001_out.png'));
  await crop(path.join(DATA, 'osediff-sr', 'Canon_005_LR4.png'), path.join(dir('orphan'), 'Canon_005.png'));
  await crop(path.join(DATA, 'osediff-sr', 'Canon_001_LR4.png'), path.join(dir('small'), 'Canon_001.png'), 0, 0, 64);
});
after(() => rmSync(root, { recursive: true, force: true }));

async function vpdsr(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(process.execPath, [cliPath, ...args], { maxBuffer: 1 << 24, env: { ...process.env, VPDSR_WEIGHTS: '' } });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const x = e as { code: number; stdout: string; stderr: string };
    return { code: x.code, stdout: x.stdout, stderr: x.stderr };
  }
}

test('pairing key: the data README examples', () => {
  assert.equal(pairingKey('Canon_001_LR4.png'), 'Canon_001');
  assert.equal(pairingKey('Canon_001_HR.png'), 'Canon_001');
  assert.equal(pairingKey('Canon_10_x4.png'), 'Canon_10');
  assert.equal(pairingKey('Canon_10_x1.png'), 'Canon_10');
  assert.equal(pairingKey('0801_x4_out.png'), '0801');
  assert.equal(pairingKey('img_sr_LR.PNG'), 'img');
  assert.equal(pairingKey('_out.png'), '_out');
  assert.equal(pairingKey('photo_lrx.png'), 'photo_lrx');
});

test('evaluate(): pairs by key, values equal the metric functions, missing backbone skipped with its reason', async () => {
  const r = await evaluate({ sr: dir('sr'), hr: dir('hr'), lr: dir('lr'), metrics: 'psnr,ssim,niqe,lpips', weights: path.join(root, 'no-weights') });
  assert.deepEqual(r.metrics.map((m) => m.id), ['psnr', 'ssim', 'niqe']);
  assert.equal(r.skipped.length, 1);
  assert.match(r.skipped[0]!.reason, /^lpips: needs alexnet-owt-7be5be79\.pth .*not found in .*no-weights; it is published at https:\/\/download\.pytorch\.org\/models\/alexnet-owt-7be5be79\.pth$/);
  const m = r.methods[0]!;
  assert.deepEqual(m.images.map((i) => i.key), ['canon_001', 'canon_002', 'nikon_003']);
  assert.deepEqual(Object.keys(r.hr!), ['canon_001', 'canon_002', 'nikon_003']);
  assert.deepEqual(Object.keys(r.lr!), ['canon_001', 'canon_002', 'nikon_003']);
  const sr0 = await readRgb8(path.join(dir('sr'), 'Canon_001_x4_out.png')), hr0 = await readRgb8(path.join(dir('hr'), 'Canon_001_HR.png'));
  const direct = torch.scope(() => psnr(sr0.unsqueeze(0), hr0.unsqueeze(0), { testYChannel: true, colorSpace: 'ycbcr' })[0]!);
  sr0.dispose(); hr0.dispose();
  assert.equal(m.images[0]!.values.psnr, direct);
  const vals = m.images.map((i) => i.values.ssim as number);
  assert.equal(m.mean.ssim, vals.reduce((a, b) => a + b, 0) / vals.length);
  for (const id of ['psnr', 'ssim', 'niqe']) for (const im of m.images) assert.equal(typeof im.values[id], 'number');
  assert.equal(r.errors.length, 0);
  // The HTML report's input: every image key finds its HR and LR file.
  const ri = reportInput(r, 'RealSR crops');
  assert.equal(ri.title, 'RealSR crops');
  assert.deepEqual(ri.metrics, [{ id: 'psnr', lowerBetter: false }, { id: 'ssim', lowerBetter: false }, { id: 'niqe', lowerBetter: true }]);
  for (const im of ri.methods[0]!.images) {
    assert.match(ri.hr![im.key]!, /_HR\.png$/);
    assert.match(ri.lr![im.key]!, /_LR4\.png$/);
    assert.ok(path.isAbsolute(im.path) && im.path.endsWith(im.name));
  }
});

test('evaluate(): without hr only no-reference metrics run; a reference metric asked for is skipped', async () => {
  const r = await evaluate({ sr: dir('sr') });
  assert.deepEqual(r.metrics.map((m) => m.id), ['niqe']);
  const r2 = await evaluate({ sr: dir('sr'), metrics: ['psnr', 'niqe'] });
  assert.deepEqual(r2.metrics.map((m) => m.id), ['niqe']);
  assert.match(r2.skipped[0]!.reason, /^psnr: needs the ground truth \(--hr DIR\)$/);
});

test('evaluate(): bad options and bad folders are one-line OptionErrors', async () => {
  const cases: [Parameters<typeof evaluate>[0], RegExp][] = [
    [{ sr: dir('sr'), hr: dir('hr'), color: 1 } as never, /unknown option color/],
    [{ sr: '' }, /sr/],
    [{ sr: dir('sr'), batchSize: 0 }, /batchSize/],
    [{ sr: dir('sr'), metrics: 'psnr,nope' }, /unknown metric "nope" \(known: psnr, /],
    [{ sr: dir('dup'), hr: dir('hr') }, /Canon_001_SR\.png and canon_001_out\.png have the same key/],
    [{ sr: dir('orphan'), hr: dir('hr') }, /Canon_005\.png has no ground truth with key canon_005/],
    [{ sr: path.join(root, 'missing'), hr: dir('hr') }, /--sr .*missing: no such folder/],
    [{ sr: dir('sr'), hr: dir('sr'), names: ['a', 'b'] }, /names has 2 entries for 1 sr folders/],
    [{ sr: dir('sr'), device: 'tpu' }, /device/],
  ];
  for (const [o, re] of cases) {
    await assert.rejects(evaluate(o), (e: Error) => e instanceof OptionError && re.test(e.message) && !e.message.includes('\n'), `${JSON.stringify(o)} → ${re}`);
  }
});

test('evaluate(): an SR image of another size than its ground truth is reported, the rest scored', async () => {
  const r = await evaluate({ sr: dir('small'), hr: dir('hr'), metrics: ['psnr'] });
  assert.equal(r.errors.length, 1);
  assert.match(r.errors[0]!, /Canon_001\.png: size 64×64 differs from its ground truth .*Canon_001_HR\.png \(128×128\)/);
  assert.equal(r.methods[0]!.mean.psnr, null);
});

test('vpdsr eval: two methods, table with the best marked, JSON list and CSV', async () => {
  const json = path.join(root, 'scores.json'), csv = path.join(root, 'scores.csv');
  const r = await vpdsr(['eval', '--sr', dir('sr'), '--sr', dir('bic'), '--hr', dir('hr'), '--metrics', 'psnr,niqe', '--json', json, '--csv', csv, '-q']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^sr \(/m);
  assert.match(r.stdout, /mean \(3\)/);
  assert.match(r.stdout, /mean over images \(\* best\)/);
  const doc = JSON.parse(readFileSync(json, 'utf8')) as { method: string; metrics: string[]; images: Record<string, unknown>[]; mean: Record<string, number> }[];
  assert.ok(Array.isArray(doc) && doc.length === 2);
  assert.deepEqual(doc[0]!.metrics, ['psnr', 'niqe']);
  assert.deepEqual(Object.keys(doc[0]!.images[0]!).slice(0, 1), ['name']);
  assert.equal(doc[0]!.images[0]!.name, 'Canon_001_x4_out.png');
  const best = doc[0]!.mean.psnr > doc[1]!.mean.psnr ? 'sr' : 'bic';
  const summary = r.stdout.slice(r.stdout.indexOf('mean over images'));
  assert.match(summary, new RegExp(`^${best}\\s+\\d+\\.\\d+\\*`, 'm'));
  const lines = readFileSync(csv, 'utf8').trim().split('\n');
  assert.equal(lines[0], 'method,image,psnr,niqe');
  assert.equal(lines.length, 1 + 2 * 4);
  assert.equal(lines[4]!.split(',')[1], 'mean');
  assert.equal(Number(lines[1]!.split(',')[2]), doc[0]!.images[0]!.psnr);
});

test('vpdsr eval: one JSON object for one method; usage errors are one line with a non-zero exit', async () => {
  const json = path.join(root, 'one.json');
  const ok = await vpdsr(['eval', '--sr', dir('sr'), '--hr', dir('hr'), '--metrics', 'psnr', '--json', json, '-q']);
  assert.equal(ok.code, 0, ok.stderr);
  const doc = JSON.parse(readFileSync(json, 'utf8')) as { images: unknown[]; mean: Record<string, number> };
  assert.ok(!Array.isArray(doc) && doc.images.length === 3 && typeof doc.mean.psnr === 'number');
  for (const [args, re] of [
    [['eval', '--sr', dir('orphan'), '--hr', dir('hr')], /^vpdsr: .*Canon_005\.png has no ground truth/],
    [['eval', '--sr', dir('sr'), '--metrics', 'bogus'], /^vpdsr: --metrics: unknown metric "bogus"/],
    [['eval', '--sr', dir('sr'), '--batch-size', 'x'], /^vpdsr: --batch-size must be an integer/],
    [['eval', '--sr', dir('sr'), '--json', dir('sr')], /^vpdsr: .*an output file cannot be an input folder/],
  ] as [string[], RegExp][]) {
    const r = await vpdsr(args);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr.trim(), re);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  }
  writeFileSync(path.join(dir('sr'), 'broken_out.png'), 'not an image');
  writeFileSync(path.join(dir('hr'), 'broken.png'), 'not an image');
  const bad = await vpdsr(['eval', '--sr', dir('sr'), '--hr', dir('hr'), '--metrics', 'psnr', '-q']);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /broken_out\.png/);
  assert.match(bad.stdout, /mean \(4\)/);
  rmSync(path.join(dir('sr'), 'broken_out.png')); rmSync(path.join(dir('hr'), 'broken.png'));
});

test('vpdsr upscale --eval HR_DIR prints the eval table of the batch', async () => {
  const out = path.join(root, 'up');
  const r = await vpdsr(['upscale', '-i', dir('lr'), '-o', out, '--model', 'bicubic', '-q', '--eval', dir('hr')]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^up \(/m);
  for (const n of NAMES) assert.match(r.stdout, new RegExp(`^${n}_LR4\\.png\\s+\\d+\\.\\d{4}\\s+\\d\\.\\d{6}\\s+\\d+\\.\\d{6}$`, 'm'));
  assert.match(r.stdout, /^mean \(3\)/m);
  assert.match(r.stdout, /^skipped lpips: needs alexnet-owt-7be5be79\.pth/m);
  const bad = await vpdsr(['upscale', '-i', dir('lr'), '-o', path.join(root, 'up2'), '--model', 'bicubic', '-q', '--eval', path.join(root, 'nope')]);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /--eval: --hr .*nope: no such folder/);
});
