#!/usr/bin/env node
// Development demo of the evaluation report: a page for the first N RealSR x4 images of
// ../shared/data/realsr-x4 with two methods, OSEDiff's published outputs and vpdsr's bicubic
// (written to a temporary folder), annotated with the pyiqa reference values of
// pyiqa-metrics.json (psnr, ssim, niqe). Needs `npx tsc -p tsconfig.json` first.
//   node scripts/dev/report-demo.mjs [--out out/report-demo.html] [--count 6] [--assets auto|embed|folder]
//                                    [--screenshot docs/images/report.png]   (headless Chromium, /usr/bin/chromium)
import { mkdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const { writeReport } = await import(path.join(root, 'dist/src/metrics/report/html.js'));
const { readImage, writeImage } = await import(path.join(root, 'dist/src/io/image/index.js'));
const { BicubicUpscaler } = await import(path.join(root, 'dist/src/models/bicubic.js'));

const { values: args } = parseArgs({ options: { out: { type: 'string', default: 'out/report-demo.html' }, count: { type: 'string', default: '6' }, assets: { type: 'string', default: 'auto' }, screenshot: { type: 'string' } } });
const shared = process.env.VPDSR_SHARED ?? path.resolve(root, '..', 'shared');
const set = path.join(shared, 'data', 'realsr-x4');
const ref = JSON.parse(await readFile(path.join(set, 'pyiqa-metrics.json'), 'utf8'));
const count = Number(args.count);
// Alternate cameras so the demo shows both.
const canon = ref.images.filter((n) => n.startsWith('Canon')), nikon = ref.images.filter((n) => n.startsWith('Nikon'));
const names = [];
for (let i = 0; names.length < count && i < 25; i++) names.push(canon[i], nikon[i]);
names.length = Math.min(names.length, count);
const key = (n) => n.replace(/_LR4\.png$/, '');
const metrics = ['psnr', 'ssim', 'niqe'].map((id) => ({ id, lowerBetter: ref.metrics[id].lower_better }));

// vpdsr's bicubic outputs are written beside the page (the report reads them like any method's).
const bicDir = path.join(path.dirname(path.resolve(args.out)), 'report-demo-bicubic');
await rm(bicDir, { recursive: true, force: true });
await mkdir(bicDir, { recursive: true });
{
  const up = new BicubicUpscaler();
  for (const n of names) {
    const lr = await readImage(path.join(set, 'lr', n));
    const sr = up.upscale(lr.data);
    await writeImage(path.join(bicDir, n), sr);
    sr.dispose(); lr.data.dispose();
  }
  const method = (name, dir, row) => {
    const images = names.map((n) => ({ key: key(n), name: n, path: path.join(dir, n), values: Object.fromEntries(metrics.map((m) => [m.id, ref.results[row][m.id].per_image[n]])) }));
    const mean = Object.fromEntries(metrics.map((m) => [m.id, images.reduce((s, im) => s + im.values[m.id], 0) / images.length]));
    return { name, dir: path.relative(process.cwd(), dir) || '.', images, mean };
  };
  const input = {
    title: `RealSR ×4 — ${names.length} images (pyiqa reference values)`,
    metrics,
    methods: [method('OSEDiff', path.join(set, 'osediff-sr'), 'osediff-sr'), method('bicubic (vpdsr)', bicDir, 'bicubic')],
    hr: Object.fromEntries(names.map((n) => [key(n), path.join(set, 'hr', n)])),
    lr: Object.fromEntries(names.map((n) => [key(n), path.join(set, 'lr', n)])),
  };
  await mkdir(path.dirname(path.resolve(args.out)), { recursive: true });
  const t0 = Date.now();
  await writeReport(args.out, input, { assets: args.assets });
  console.log(`${args.out}: ${names.length} images, ${Date.now() - t0} ms`);
  if (args.screenshot) await screenshot(path.resolve(args.out), args.screenshot);
}

/** The docs' picture: the second image, zoomed on a detail, side by side. */
async function screenshot(page, out) {
  const { default: puppeteer } = await import('puppeteer-core');
  const sharp = (await import('sharp')).default;
  const browser = await puppeteer.launch({ executablePath: process.env.VPDSR_CHROMIUM ?? '/usr/bin/chromium', headless: true, args: ['--no-sandbox'] });
  try {
    const p = await browser.newPage();
    await p.setViewport({ width: 1600, height: 1040 });
    await p.goto(`file://${page}`);
    await p.waitForSelector('#app[data-ready="1"]');
    await p.select('#image-select', '1');
    const box = await (await p.$('#grid .panel[data-panel="m0"] .viewport')).boundingBox();
    await p.mouse.move(box.x + box.width * 0.62, box.y + box.height * 0.42);
    for (let i = 0; i < 4; i++) await p.mouse.wheel({ deltaY: -180 });
    await p.mouse.move(0, 0);
    await new Promise((r) => setTimeout(r, 300));
    const png = await p.screenshot();
    await sharp(png).png({ compressionLevel: 9, palette: true, quality: 95, effort: 10 }).toFile(out);
    console.log(`${out}: screenshot`);
  } finally {
    await browser.close();
  }
}
