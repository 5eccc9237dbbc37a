// writeReport's input checks (one line naming the method, key or file; nothing left behind) and
// its two ways of storing pictures (embedded, or in <name>_files/ beside the page).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ReportError, writeReport, type ReportInput } from '../../src/metrics/report/html.js';
import { fileOf, pageDataOf, realsr } from './report-fixture.js';

const KEYS = ['Canon_001', 'Nikon_001'];
const sr = (k: string): string => path.join(realsr, 'osediff-sr', fileOf(k));

function input(keys = KEYS): ReportInput {
  const method = (name: string) => ({
    name,
    dir: path.join(realsr, 'osediff-sr'),
    images: keys.map((key) => ({ key, name: fileOf(key), path: sr(key), values: { psnr: 20, niqe: null } })),
    mean: { psnr: 20, niqe: null },
  });
  return {
    metrics: [{ id: 'psnr', lowerBetter: false }, { id: 'niqe', lowerBetter: true }],
    methods: [method('a'), method('b')],
    hr: Object.fromEntries(keys.map((k) => [k, path.join(realsr, 'hr', fileOf(k))])),
    lr: Object.fromEntries(keys.map((k) => [k, path.join(realsr, 'lr', fileOf(k))])),
  };
}

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'vpdsr-report-input-'));
  try { await fn(dir); } finally { await rm(dir, { recursive: true, force: true }); }
}

async function refuses(dir: string, inp: unknown, pattern: RegExp, file = 'r.html', opts?: unknown): Promise<void> {
  const before = await readdir(dir);
  await assert.rejects(writeReport(path.join(dir, file), inp as ReportInput, opts as never), (e: Error) => {
    assert.ok(e instanceof ReportError, `not a ReportError: ${e.name}: ${e.message}`);
    assert.ok(!e.message.includes('\n'), `more than one line: ${e.message}`);
    assert.match(e.message, pattern);
    return true;
  });
  assert.deepEqual(await readdir(dir), before, 'a failed report left files behind');
}

test('bad input is refused in one line naming what is wrong', async () => {
  await withDir(async (dir) => {
    const missing = input();
    missing.methods[1]!.images[0]!.path = path.join(dir, 'nope', 'a.png');
    missing.hr!.Nikon_001 = path.join(dir, 'nope', 'hr.png');
    await refuses(dir, missing, new RegExp(`^report: 2 missing files: ${path.join(dir, 'nope', 'a.png')}, ${path.join(dir, 'nope', 'hr.png')}$`));

    const lacking = input();
    lacking.methods[1]!.images.pop();
    await refuses(dir, lacking, /^report: method "b" has no image for key "Nikon_001" \(present in "a"\)$/);
    const extra = input();
    extra.methods[1]!.images.push({ key: 'Canon_002', name: 'x.png', path: sr('Canon_001'), values: {} });
    await refuses(dir, extra, /method "b" has an image for "Canon_002" that "a" lacks/);
    const twice = input();
    twice.methods[0]!.images[1]!.key = 'Canon_001';
    await refuses(dir, twice, /method "a" has two images with key "Canon_001"/);
    const noHr = input();
    delete noHr.hr!.Nikon_001;
    await refuses(dir, noHr, /^report: no HR image for key "Nikon_001"$/);
    const noLr = input();
    noLr.lr = {};
    await refuses(dir, noLr, /^report: no LR image for keys "Canon_001", "Nikon_001"$/);

    const wrongType = input();
    (wrongType.methods[0]!.images[0]!.values as Record<string, unknown>).lpips = [0.2];
    await refuses(dir, wrongType, /method "a" image "Canon_001"\.lpips must be a number or null, got object/);
    const str = input();
    (str.methods[0]!.mean as Record<string, unknown>).psnr = '20';
    await refuses(dir, str, /method "a" mean\.psnr must be a number or null, got string/);
    const dupMetric = input();
    dupMetric.metrics.push({ id: 'psnr', lowerBetter: false });
    await refuses(dir, dupMetric, /metric "psnr" is listed twice/);
    const flag = input();
    (flag.metrics[0] as Record<string, unknown>).lowerBetter = 'no';
    await refuses(dir, flag, /metric "psnr" must have a boolean lowerBetter/);
    const dupMethod = input();
    dupMethod.methods[1]!.name = 'a';
    await refuses(dir, dupMethod, /method "a" is listed twice/);
    await refuses(dir, { ...input(), methods: [] }, /methods must be a non-empty array/);
    await refuses(dir, null, /input must be an object/);

    await refuses(dir, input(), /must end in \.html/, 'r.png');
    await refuses(dir, input(), /folder .* does not exist/, 'sub/r.html');
    await refuses(dir, input(), /assets must be "auto", "embed" or "folder"/, 'r.html', { assets: 'zip' });
  });
});

test('a corrupt picture is named, and nothing is left behind', async () => {
  await withDir(async (dir) => {
    const bad = path.join(dir, 'bad.png');
    await writeFile(bad, 'not a png at all');
    const inp = input();
    inp.methods[0]!.images[1]!.path = bad;
    await refuses(dir, inp, new RegExp(`^report: ${bad}: not a recognised image format$`));
    await refuses(dir, inp, /bad\.png/, 'r.html', { assets: 'folder' });
  });
});

test('pictures beside the page in <name>_files/, replaced whole on a rewrite', async () => {
  await withDir(async (dir) => {
    const one = input(['Canon_001']);
    one.methods[0]!.images[0]!.values.lpips = 0.2; // not a listed metric: not shown
    const file = path.join(dir, 'my report.html');
    await writeReport(file, one, { assets: 'folder' });
    const folder = path.join(dir, 'my report_files');
    const pngs = (await readdir(folder)).sort();
    assert.deepEqual(pngs, ['0001_Canon_001_bicubic.png', '0001_Canon_001_hr.png', '0001_Canon_001_lr.png', '0001_Canon_001_m0.png', '0001_Canon_001_m1.png']);
    const html = await readFile(file, 'utf8');
    assert.ok(!html.includes('data:image/png'));
    assert.equal(pageDataOf(html).images[0]!.src.hr, 'my%20report_files/0001_Canon_001_hr.png');
    assert.deepEqual(pageDataOf(html).images[0]!.values, [{ psnr: 20, niqe: null }, { psnr: 20, niqe: null }]);
    assert.deepEqual((await readdir(dir)).sort(), ['my report.html', 'my report_files']);

    // auto switches to the folder past the limit; the old folder's contents do not survive.
    await writeFile(path.join(folder, 'stale.png'), '');
    await writeReport(file, one, { embedLimitBytes: 1000 });
    assert.ok(!(await readdir(folder)).includes('stale.png'));
    assert.equal((await readdir(folder)).length, 5);
    // Under the limit it embeds.
    await writeReport(path.join(dir, 'small.html'), one, { assets: 'auto' });
    assert.match(pageDataOf(await readFile(path.join(dir, 'small.html'), 'utf8')).images[0]!.src.m0!, /^data:image\/png;base64,/);
    assert.deepEqual((await readdir(dir)).sort(), ['my report.html', 'my report_files', 'small.html']);

    // Inputs are never overwritten, nor taken from the folder the report replaces.
    const inFolder = input(['Canon_001']);
    await mkdir(path.join(dir, 'x_files'));
    await writeFile(path.join(dir, 'x_files', 'sr.png'), await readFile(sr('Canon_001')));
    inFolder.methods[0]!.images[0]!.path = path.join(dir, 'x_files', 'sr.png');
    await refuses(dir, inFolder, /lies in the report's own folder x_files\//, 'x.html');
    const self = input(['Canon_001']);
    await writeFile(path.join(dir, 'fake.html'), await readFile(sr('Canon_001')));
    self.hr!.Canon_001 = path.join(dir, 'fake.html');
    await refuses(dir, self, /fake\.html: is one of the input images/, 'fake.html');
  });
});
