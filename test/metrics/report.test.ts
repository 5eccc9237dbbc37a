// The evaluation report, end to end: the page's pictures are exactly what was measured (LR nearest
// ×4, PyTorch's bicubic, the files themselves), and in headless Chromium zoom and pan stay in step
// across panels, the A/B slider splits two chosen panels, and the tables sort. Chromium is Debian's
// `chromium` package, which scripts/setup.sh installs; without it this test fails.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { writeReport } from '../../src/metrics/report/html.js';
import type { PageData } from '../../src/metrics/report/page-data.js';
import { repoRoot } from '../helpers.js';
import { fileOf, KEYS, makeReportInput, pageDataOf, realsr } from './report-fixture.js';

const CHROMIUM = process.env.VPDSR_CHROMIUM ?? '/usr/bin/chromium';
const outDir = path.join(repoRoot, 'test-output');

let tmp = '';
let reportFile = '';
let html = '';
let data: PageData;
let folderReport = '';

before(async () => {
  const made = await makeReportInput();
  tmp = made.dir;
  reportFile = path.join(tmp, 'report.html');
  await writeReport(reportFile, made.input);
  folderReport = path.join(tmp, 'linked.html');
  await writeReport(folderReport, made.input, { assets: 'folder' });
  html = await readFile(reportFile, 'utf8');
  data = pageDataOf(html);
});

after(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

async function rawOf(src: string | Buffer): Promise<{ data: Buffer; width: number; height: number; channels: number }> {
  const buf = typeof src === 'string' ? Buffer.from(src.replace(/^data:image\/png;base64,/, ''), 'base64') : src;
  const { data: d, info } = await sharp(buf).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data: d, width: info.width, height: info.height, channels: info.channels };
}

test('the page is one offline file with the pictures embedded, written without leftovers', async () => {
  assert.deepEqual((await readdir(tmp)).filter((f) => f.startsWith('.')), [], 'temporary files left behind');
  assert.ok((await readdir(path.join(tmp, 'linked_files'))).length === 12);
  assert.ok(!/<script[^>]+src=|<link[^>]+href=|@import|url\(\s*['"]?https?:/i.test(html), 'the page must not load anything from outside');
  assert.match(html, /<title>Report &#60;test&#62; &#38; &#34;quotes&#34;<\/title>/);
  assert.deepEqual(data.panels.map((p) => p.id), ['lr', 'bicubic', 'm0', 'm1', 'm2', 'hr']);
  assert.deepEqual(data.images.map((i) => i.key), [...KEYS]);
  for (const im of data.images) for (const p of data.panels) assert.match(im.src[p.id]!, /^data:image\/png;base64,/);
  // Non-finite and missing values survive the trip through JSON.
  assert.equal(data.methods[2]!.mean.psnr, 'Infinity');
  assert.equal(data.methods[2]!.mean.niqe, null);
});

test('pictures: LR is nearest ×4, bicubic is PyTorch\'s to the byte, methods and HR are the files', async () => {
  const ref = JSON.parse(await readFile(path.join(realsr, 'pyiqa-metrics.json'), 'utf8')) as { bicubic_uint8_sha256: { per_image: Record<string, string> } };
  for (const [i, key] of KEYS.entries()) {
    const im = data.images[i]!;
    const bic = await rawOf(im.src.bicubic!);
    assert.equal(createHash('sha256').update(bic.data).digest('hex'), ref.bicubic_uint8_sha256.per_image[fileOf(key)], `${key}: bicubic differs from PyTorch's`);
    const lr = await rawOf(await readFile(path.join(realsr, 'lr', fileOf(key))));
    const near = await rawOf(im.src.lr!);
    assert.deepEqual([near.width, near.height], [lr.width * 4, lr.height * 4]);
    let bad = 0;
    for (let y = 0; y < near.height; y++) {
      for (let x = 0; x < near.width; x++) {
        for (let c = 0; c < 3; c++) if (near.data[(y * near.width + x) * 3 + c] !== lr.data[((y >> 2) * lr.width + (x >> 2)) * 3 + c]) bad++;
      }
    }
    assert.equal(bad, 0, `${key}: LR panel is not nearest ×4`);
    assert.deepEqual(im.size.lr, [lr.width * 4, lr.height * 4]);
    const hr = await rawOf(await readFile(path.join(realsr, 'hr', fileOf(key))));
    assert.ok((await rawOf(im.src.hr!)).data.equals(hr.data), `${key}: HR panel differs from the file`);
    assert.ok((await rawOf(im.src.m2!)).data.equals(hr.data), `${key}: "exact" panel differs from its file`);
    const sr = await rawOf(await readFile(path.join(realsr, 'osediff-sr', fileOf(key))));
    assert.ok((await rawOf(im.src.m0!)).data.equals(sr.data), `${key}: OSEDiff panel differs from the file`);
  }
});

// ---------- in the browser ----------

/** translate(tx, ty) scale(s) of every layer, and the image point each viewport centres on. */
interface LayerState { panel: string; where: string; transform: string; pixelated: boolean; cu: number; cv: number; s: number; visible: boolean }
async function layers(page: Page): Promise<LayerState[]> {
  return page.$$eval('.viewport img', (imgs) => imgs.map((img) => {
    const vp = img.closest('.viewport') as HTMLElement;
    const m = /translate\(([-\d.]+)px, ([-\d.]+)px\) scale\(([-\d.]+)\)/.exec(img.style.transform);
    const [tx, ty, s] = m ? [Number(m[1]), Number(m[2]), Number(m[3])] : [NaN, NaN, NaN];
    const w = parseFloat(img.style.width), h = parseFloat(img.style.height);
    return {
      panel: img.dataset.panel!, where: vp.closest('#ab-view') ? 'ab' : 'grid', transform: img.style.transform,
      pixelated: img.classList.contains('pixelated'), s,
      cu: (vp.clientWidth / 2 - tx) / (s * w), cv: (vp.clientHeight / 2 - ty) / (s * h), visible: vp.offsetParent !== null,
    };
  }));
}

function assertInStep(ls: LayerState[], what: string): void {
  const grid = ls.filter((l) => l.where === 'grid');
  assert.equal(grid.length, 6, `${what}: six grid panels`);
  if (grid[0]!.visible) for (const l of grid) assert.equal(l.transform, grid[0]!.transform, `${what}: panel ${l.panel} does not follow (${l.transform} vs ${grid[0]!.transform})`);
  const shown = ls.filter((l) => l.visible);
  assert.ok(shown.length >= 2, `${what}: fewer than two layers visible`);
  for (const l of shown) {
    assert.ok(Math.abs(l.cu - shown[0]!.cu) < 1e-3 && Math.abs(l.cv - shown[0]!.cv) < 1e-3, `${what}: ${l.where} ${l.panel} centred on (${l.cu}, ${l.cv}), ${shown[0]!.panel} on (${shown[0]!.cu}, ${shown[0]!.cv})`);
  }
}

test('in Chromium: synchronised zoom and pan, the A/B slider, sortable tables, a screenshot', { timeout: 60_000 }, async () => {
  if (!existsSync(CHROMIUM)) {
    assert.fail(`Chromium not found at ${CHROMIUM}: install Debian's chromium package (scripts/setup.sh does), or point VPDSR_CHROMIUM at a Chromium binary`);
  }
  await mkdir(outDir, { recursive: true });
  let browser: Browser | undefined;
  try {
    browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
    const page = await browser.newPage();
    const errors: string[] = [];
    const requests: string[] = [];
    page.on('pageerror', (e) => errors.push(String((e as Error).message ?? e)));
    page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
    page.on('request', (r) => requests.push(r.url()));
    await page.setViewport({ width: 1600, height: 1000 });
    await page.goto(`file://${reportFile}`, { waitUntil: 'load' });
    await page.waitForSelector('#app[data-ready="1"]', { timeout: 10_000 });
    await page.waitForFunction(() => [...document.querySelectorAll<HTMLImageElement>('#grid img')].every((i) => i.complete && i.naturalWidth > 0), { timeout: 10_000 });
    assert.deepEqual(requests.filter((u) => !u.startsWith('file:') && !u.startsWith('data:')), [], 'the page requested something outside');

    // Fit: every panel shows the whole image.
    let ls = await layers(page);
    assertInStep(ls, 'at fit');
    const fit = ls[0]!.transform;
    assert.ok(Math.abs(ls[0]!.cu - 0.5) < 1e-6 && Math.abs(ls[0]!.cv - 0.5) < 1e-6);

    // Zoom with the wheel over one panel, off centre: all follow, and the point under the pointer stays put.
    const vpBox = (await (await page.$('#grid .panel[data-panel="m1"] .viewport'))!.boundingBox())!;
    const px = Math.round(vpBox.x + vpBox.width * 0.75), py = Math.round(vpBox.y + vpBox.height * 0.3);
    const [rx, ry] = [px - vpBox.x, py - vpBox.y];
    const under = (l: LayerState): [number, number] => [l.cu + (rx - vpBox.width / 2) / (l.s * 512), l.cv + (ry - vpBox.height / 2) / (l.s * 512)];
    const m1Fit = ls.find((l) => l.panel === 'm1')!;
    const before0 = under(m1Fit);
    // Pointer events land on whole pixels of a layout with fractional positions: allow one screen pixel.
    const tol = 1 / (m1Fit.s * 512);
    await page.mouse.move(px, py);
    for (let i = 0; i < 4; i++) await page.mouse.wheel({ deltaY: -250 });
    await page.waitForFunction(() => Number(document.getElementById('app')!.dataset.zoom) > 4);
    ls = await layers(page);
    assert.notEqual(ls[0]!.transform, fit, 'zoom did not change the view');
    assertInStep(ls, 'after zoom');
    const after0 = under(ls.find((l) => l.panel === 'm1')!);
    assert.ok(Math.abs(after0[0] - before0[0]) < tol && Math.abs(after0[1] - before0[1]) < tol, `zoom moved the point under the pointer: ${before0} → ${after0}`);
    for (const l of ls.filter((x) => x.where === 'grid')) assert.ok(l.pixelated, `panel ${l.panel} is not pixelated when zoomed`);

    // Pan by dragging another panel.
    const hrBox = (await (await page.$('#grid .panel[data-panel="hr"] .viewport'))!.boundingBox())!;
    const zoomed = ls[0]!;
    await page.mouse.move(hrBox.x + hrBox.width / 2, hrBox.y + hrBox.height / 2);
    await page.mouse.down();
    await page.mouse.move(hrBox.x + hrBox.width / 2 + 60, hrBox.y + hrBox.height / 2 + 40, { steps: 5 });
    await page.mouse.up();
    ls = await layers(page);
    assertInStep(ls, 'after pan');
    const gridAfterPan = ls[0]!;
    assert.ok(Math.abs(zoomed.cu - ls[0]!.cu - 60 / (zoomed.s * 512)) < 1e-3, `pan moved the view by ${zoomed.cu - ls[0]!.cu} instead of ${60 / (zoomed.s * 512)}`);
    assert.ok(Math.abs(zoomed.cv - ls[0]!.cv - 40 / (zoomed.s * 512)) < 1e-3);

    // The A/B view: same region, two chosen panels, the split follows the slider.
    await page.click('#mode-ab');
    await page.waitForFunction(() => document.getElementById('app')!.dataset.mode === 'ab');
    ls = await layers(page);
    const ab = ls.filter((l) => l.where === 'ab');
    assert.deepEqual(ab.map((l) => l.panel).sort(), ['m0', 'm1']);
    assert.ok(ab.every((l) => l.visible) && ls.every((l) => l.where === 'ab' || !l.visible));
    assertInStep(ls, 'in A/B');
    assert.ok(Math.abs(ab[0]!.cu - gridAfterPan.cu) < 1e-3 && Math.abs(ab[0]!.cv - gridAfterPan.cv) < 1e-3, 'the A/B view does not show the region the panels showed');
    await page.select('#ab-b', 'hr');
    const slider = (await (await page.$('#ab-slider'))!.boundingBox())!;
    await page.mouse.click(slider.x + slider.width * 0.25, slider.y + slider.height / 2);
    const split = await page.$eval('#ab-view .viewport', (vp) => ({
      at: Number((vp as HTMLElement).dataset.split),
      clip: (vp.querySelector('.a-layer') as HTMLElement).style.clipPath,
      a: (vp.querySelector('.a-layer img') as HTMLImageElement).dataset.panel,
      b: (vp.querySelector('.b-layer img') as HTMLImageElement).src,
    }));
    assert.ok(split.at > 15 && split.at < 35, `slider at ${split.at}`);
    assert.match(split.clip, /^inset\(0(px)? 7\d(\.\d+)?% 0(px)? 0(px)?\)$/);
    assert.equal(split.a, 'm0');
    assert.equal(split.b, data.images[0]!.src.hr);
    await page.click('#ab-swap');
    assert.equal(await page.$eval('#ab-view .a-layer img', (i) => (i as HTMLImageElement).dataset.panel), 'hr');
    await page.screenshot({ path: path.join(outDir, 'report-ab.png') });
    await page.click('#mode-grid');

    // The summary sorts by a clicked column, best first, then reversed; nulls stay last.
    const order = (): Promise<string[]> => page.$$eval('#summary-table tbody tr', (rows) => rows.map((r) => (r as HTMLElement).dataset.method!));
    const head = (id: string): string => `#summary-table th[data-metric="${id}"]`;
    assert.deepEqual(await order(), ['osediff', 'noisy', 'exact']);
    await page.click(head('psnr'));
    assert.deepEqual(await order(), ['exact', 'osediff', 'noisy']);
    await page.click(head('psnr'));
    assert.deepEqual(await order(), ['noisy', 'osediff', 'exact']);
    await page.click(head('niqe'));
    assert.deepEqual(await order(), ['osediff', 'noisy', 'exact']);
    assert.equal(await page.$eval(head('niqe'), (th) => th.getAttribute('aria-sort')), 'ascending');
    await page.click(head('niqe'));
    assert.deepEqual(await order(), ['noisy', 'osediff', 'exact'], 'a missing value must stay last');
    // Best per column, lower/higher-better respected.
    const best = await page.$$eval('#summary-table tbody tr', (rows) => Object.fromEntries(rows.map((r) => [(r as HTMLElement).dataset.method!, [...r.querySelectorAll('td.best')].map((td) => (td as HTMLTableCellElement).cellIndex)])));
    assert.deepEqual(best, { osediff: [3], noisy: [], exact: [1, 2] });

    // Per-image table: sorting by OSEDiff's psnr puts the second image first; a click on a row shows it.
    await page.click('#image-table th[data-col="2"]');
    assert.deepEqual(await page.$$eval('#image-table tbody tr', (rows) => rows.map((r) => r.cells[1]!.textContent)), ['Canon_001', 'Nikon_001']);
    await page.click('#image-table tbody tr[data-index="1"]');
    assert.equal(await page.$eval('#app', (a) => (a as HTMLElement).dataset.image), 'Nikon_001');
    const capVals = await page.$$eval('#grid .cap[data-panel="m1"] .v', (vs) => vs.map((v) => [(v as HTMLElement).dataset.metric, v.classList.contains('best')]));
    assert.deepEqual(capVals, [['psnr', false], ['ssim', false], ['niqe', false]]);
    await page.waitForFunction(() => [...document.querySelectorAll<HTMLImageElement>('#grid img')].every((i) => i.complete && i.naturalWidth > 0));

    // A zoomed view of the second image for the screenshot.
    await page.evaluate(() => window.scrollTo(0, 0));
    const m0 = (await (await page.$('#grid .panel[data-panel="m0"] .viewport'))!.boundingBox())!;
    await page.mouse.move(m0.x + m0.width * 0.4, m0.y + m0.height * 0.5);
    for (let i = 0; i < 3; i++) await page.mouse.wheel({ deltaY: -200 });
    assertInStep(await layers(page), 'second image');
    const shot = path.join(outDir, 'report.png');
    await page.screenshot({ path: shot });
    const meta = await sharp(shot).metadata();
    assert.deepEqual([meta.width, meta.height], [1600, 1000]);
    assert.deepEqual(errors, [], 'the page logged errors');

    // The page whose pictures lie in linked_files/ shows them too.
    await page.goto(`file://${folderReport}`, { waitUntil: 'load' });
    await page.waitForSelector('#app[data-ready="1"]', { timeout: 10_000 });
    await page.waitForFunction(() => [...document.querySelectorAll<HTMLImageElement>('#grid img')].every((i) => i.complete), { timeout: 10_000 });
    assert.deepEqual(await page.$$eval('#grid img', (imgs) => imgs.map((i) => [(i as HTMLImageElement).src.includes('/linked_files/'), (i as HTMLImageElement).naturalWidth])), Array(6).fill([true, 512]));
    assert.deepEqual(errors, [], 'the linked page logged errors');
  } finally {
    await browser?.close();
  }
});
