// A small report input built from files the tests write: two RealSR x4 keys (LR, HR from
// ../shared/data/realsr-x4), three methods (OSEDiff's published outputs copied through vpdsr's
// image I/O, the HR with seeded noise, an exact HR copy). The metric values are made up to test
// ordering and marking, not measured.
import { mkdir, mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as torch from '../../src/engine/index.js';
import { readImage, writeImage } from '../../src/io/image/index.js';
import type { ReportInput } from '../../src/metrics/report/html.js';
import { sharedDir } from '../helpers.js';

export const realsr = path.join(sharedDir, 'data', 'realsr-x4');
export const KEYS = ['Canon_001', 'Nikon_001'] as const;
export const fileOf = (key: string): string => `${key}_LR4.png`;

export const METRICS = [
  { id: 'psnr', lowerBetter: false },
  { id: 'ssim', lowerBetter: false },
  { id: 'niqe', lowerBetter: true },
];

/** Means: sorted by psnr (best first) → exact, osediff, noisy; by niqe → osediff, noisy, exact (null last). */
export const MEANS: Record<string, Record<string, number | null>> = {
  osediff: { psnr: 25.0, ssim: 0.72, niqe: 5.6 },
  noisy: { psnr: 22.0, ssim: 0.55, niqe: 11.2 },
  exact: { psnr: Infinity, ssim: 1, niqe: null },
};

export async function makeReportInput(): Promise<{ dir: string; input: ReportInput }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'vpdsr-report-'));
  const dirs = { osediff: path.join(dir, 'osediff'), noisy: path.join(dir, 'noisy'), exact: path.join(dir, 'exact') };
  for (const d of Object.values(dirs)) await mkdir(d);
  const g = new torch.Generator(7);
  for (const key of KEYS) {
    const f = fileOf(key);
    const sr = await readImage(path.join(realsr, 'osediff-sr', f));
    const hr = await readImage(path.join(realsr, 'hr', f));
    const noisy = torch.scope(() => torch.keep(hr.data.add(torch.randn(hr.data.shape, { generator: g }).mul(0.08)).clamp(0, 1)));
    await writeImage(path.join(dirs.osediff, `${key}_SR.png`), sr.data);
    await writeImage(path.join(dirs.noisy, `${key}_out.png`), noisy);
    await writeImage(path.join(dirs.exact, `${key}.png`), hr.data);
    for (const t of [sr.data, hr.data, noisy]) t.dispose();
  }
  const names = { osediff: (k: string) => `${k}_SR.png`, noisy: (k: string) => `${k}_out.png`, exact: (k: string) => `${k}.png` };
  const methods = (Object.keys(dirs) as (keyof typeof dirs)[]).map((m) => ({
    name: m,
    dir: dirs[m],
    images: KEYS.map((key, i) => ({
      key,
      name: names[m](key),
      path: path.join(dirs[m], names[m](key)),
      // Per image: the first key keeps the mean's order, the second reverses psnr between osediff and noisy.
      values: Object.fromEntries(Object.entries(MEANS[m]!).map(([id, v]) => [id, v === null ? null : i === 1 && id === 'psnr' && m !== 'exact' ? 47 - v : v])),
    })),
    mean: MEANS[m]!,
  }));
  const input: ReportInput = {
    title: 'Report <test> & "quotes"',
    metrics: METRICS,
    methods,
    hr: Object.fromEntries(KEYS.map((k) => [k, path.join(realsr, 'hr', fileOf(k))])),
    lr: Object.fromEntries(KEYS.map((k) => [k, path.join(realsr, 'lr', fileOf(k))])),
  };
  return { dir, input };
}

/** The JSON the page carries. */
export function pageDataOf(html: string): import('../../src/metrics/report/page-data.js').PageData {
  const m = /<script type="application\/json" id="report-data">([\s\S]*?)<\/script>/.exec(html);
  if (!m) throw new Error('no report-data script in the page');
  return JSON.parse(m[1]!);
}
