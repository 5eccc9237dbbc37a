// writeReport: the HTML page of an evaluation. Per image, synchronised zoom and pan over LR
// (nearest ×4), vpdsr's bicubic, each method and HR, an A/B slider between two chosen panels, the
// metrics beside them; a summary table of the means and a per-image table, both sortable.
//
// Pictures are lossless 8-bit PNG (pixel-exact with what was measured). They are embedded in the
// page as data: URIs while they total at most `embedLimitBytes` (32 MiB by default, a page that
// any browser opens comfortably); beyond that they go to a folder beside the page, `<name>_files/`,
// and the page links to them. Everything is written under temporary names and renamed into place.
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { filePicture, lrPictures, type PanelPicture } from './assets.js';
import { checkFilesExist, checkReportInput, ReportError, type ReportInput } from './input.js';
import type { PageData, PageImage, PagePanel, PageValue } from './page-data.js';
import { REPORT_CSS } from './style.js';

export { ReportError, type ReportImage, type ReportInput, type ReportMethod } from './input.js';

export interface WriteReportOptions {
  /** 'embed': pictures inside the page; 'folder': in `<name>_files/` beside it; 'auto' (default): embed up to embedLimitBytes. */
  assets?: 'auto' | 'embed' | 'folder';
  /** Total PNG bytes up to which 'auto' embeds (default 32 MiB). */
  embedLimitBytes?: number;
  /** Called after each image's pictures are made. */
  onProgress?: (done: number, total: number) => void;
}

export const DEFAULT_EMBED_LIMIT = 32 * 1024 * 1024;

function pageValue(v: number | null | undefined): PageValue {
  if (v === null || v === undefined) return null;
  if (Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return v > 0 ? 'Infinity' : '-Infinity';
  return v;
}

/** The listed metrics' values (a metric without a value is null). */
function pageValues(values: Record<string, number | null>, ids: string[]): Record<string, PageValue> {
  return Object.fromEntries(ids.map((id) => [id, pageValue(values[id])]));
}

const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** JSON inside <script>: "<" escaped so no "</script>" or "<!--" can end or confuse the element. */
const scriptJson = (v: unknown): string => JSON.stringify(v).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');

let clientScript: string | undefined;
async function loadClientScript(): Promise<string> {
  if (clientScript === undefined) {
    const js = await readFile(new URL('./client.js', import.meta.url), 'utf8');
    clientScript = js.replace(/^\/\/# sourceMappingURL=.*$/m, '').replace(/<\/script/gi, '<\\/script');
  }
  return clientScript;
}

/** A folder name that is safe in a URL and on every file system. */
const safeName = (s: string): string => s.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 80);

function checkOptions(opts: unknown): Required<Pick<WriteReportOptions, 'assets' | 'embedLimitBytes'>> & Pick<WriteReportOptions, 'onProgress'> {
  if (opts === null || typeof opts !== 'object') throw new ReportError('report: options must be an object');
  const o = opts as WriteReportOptions;
  const assets = o.assets ?? 'auto';
  if (!['auto', 'embed', 'folder'].includes(assets)) throw new ReportError(`report: assets must be "auto", "embed" or "folder", got ${JSON.stringify(assets)}`);
  const embedLimitBytes = o.embedLimitBytes ?? DEFAULT_EMBED_LIMIT;
  if (!Number.isSafeInteger(embedLimitBytes) || embedLimitBytes < 0) throw new ReportError(`report: embedLimitBytes must be a non-negative integer, got ${String(o.embedLimitBytes)}`);
  if (o.onProgress !== undefined && typeof o.onProgress !== 'function') throw new ReportError('report: onProgress must be a function');
  return { assets, embedLimitBytes, onProgress: o.onProgress };
}

async function writeSynced(file: string, content: string | Buffer): Promise<void> {
  await writeFile(file, content, { flag: 'wx' });
  const fh = await open(file, 'r+');
  try { await fh.sync(); } finally { await fh.close(); }
}

/**
 * Writes the report page `file` (an .html path). Pictures are made from the files the input
 * names; a missing file, inconsistent keys or a bad value gives a ReportError of one line.
 */
export async function writeReport(file: string, input: ReportInput, opts: WriteReportOptions = {}): Promise<void> {
  if (typeof file !== 'string' || file.length === 0) throw new ReportError('report: the output file must be a non-empty path');
  if (!/\.html?$/i.test(file)) throw new ReportError(`report: ${file}: the output file must end in .html`);
  const o = checkOptions(opts);
  const keys = checkReportInput(input);
  const ids = input.metrics.map((m) => m.id);
  const target = path.resolve(file);
  const dir = path.dirname(target);
  const dst = await stat(dir).catch(() => undefined);
  if (!dst?.isDirectory()) throw new ReportError(`report: ${file}: folder ${dir} does not exist`);
  if ((await stat(target).catch(() => undefined))?.isDirectory()) throw new ReportError(`report: ${file}: is a directory`);

  const byKey = input.methods.map((m) => new Map(m.images.map((im) => [im.key, im])));
  const inputs: string[] = [];
  for (const k of keys) {
    if (input.lr) inputs.push(input.lr[k]!);
    for (const m of byKey) inputs.push(m.get(k)!.path);
    if (input.hr) inputs.push(input.hr[k]!);
  }
  await checkFilesExist(inputs);
  const resolvedInputs = new Set(inputs.map((p) => path.resolve(p)));
  const folderName = `${path.basename(target).replace(/\.html?$/i, '')}_files`;
  if (resolvedInputs.has(target)) throw new ReportError(`report: ${file}: is one of the input images`);
  for (const p of resolvedInputs) {
    if (p.startsWith(path.join(dir, folderName) + path.sep)) throw new ReportError(`report: ${p}: an input image lies in the report's own folder ${folderName}/`);
  }

  const panels: PagePanel[] = [];
  if (input.lr) panels.push({ id: 'lr', label: 'LR ×4', kind: 'lr' }, { id: 'bicubic', label: 'Bicubic', kind: 'bicubic' });
  input.methods.forEach((m, i) => panels.push({ id: `m${i}`, label: m.name, kind: 'method', method: i }));
  if (input.hr) panels.push({ id: 'hr', label: 'HR', kind: 'hr' });

  // Pictures: kept in memory while they may still be embedded, written to the temporary folder
  // as soon as they may not.
  const rand = randomBytes(6).toString('hex');
  const tmpFolder = path.join(dir, `.${folderName}.${process.pid}.${rand}.tmp`);
  const tmpPage = path.join(dir, `.${path.basename(target)}.${process.pid}.${rand}.tmp`);
  let toFolder = o.assets === 'folder';
  let folderMade = false;
  let total = 0;
  const pending: { img: PageImage; panel: string; rel: string; png: Buffer }[] = [];
  const flush = async (): Promise<void> => {
    if (!folderMade) { await mkdir(tmpFolder); folderMade = true; }
    for (const p of pending.splice(0)) {
      await writeFile(path.join(tmpFolder, p.rel), p.png, { flag: 'wx' });
      p.img.src[p.panel] = `${encodeURIComponent(folderName)}/${encodeURIComponent(p.rel)}`;
    }
  };

  try {
    const images: PageImage[] = [];
    for (const [n, key] of keys.entries()) {
      const img: PageImage = { key, names: {}, src: {}, size: {}, values: [] };
      // One image's pictures are decoded and encoded together (sharp works on its own threads).
      const jobs: Promise<[string, PanelPicture][]>[] = [];
      if (input.lr) {
        const name = path.basename(input.lr[key]!);
        img.names.lr = `${name} (nearest ×4)`;
        img.names.bicubic = `bicubic ×4 of ${name}`;
        jobs.push(lrPictures(input.lr[key]!).then(({ lr, bicubic }) => [['lr', lr], ['bicubic', bicubic]]));
      }
      for (const [i, m] of byKey.entries()) {
        const im = m.get(key)!;
        img.names[`m${i}`] = im.name;
        img.values.push(pageValues(im.values, ids));
        jobs.push(filePicture(im.path).then((p) => [[`m${i}`, p]]));
      }
      if (input.hr) {
        img.names.hr = path.basename(input.hr[key]!);
        jobs.push(filePicture(input.hr[key]!).then((p) => [['hr', p]]));
      }
      const settled = await Promise.allSettled(jobs);
      const failed = settled.find((r) => r.status === 'rejected');
      if (failed) throw (failed as PromiseRejectedResult).reason;
      const pics = settled.flatMap((r) => (r as PromiseFulfilledResult<[string, PanelPicture][]>).value);
      const stem = `${String(n + 1).padStart(4, '0')}_${safeName(key)}`;
      for (const [panel, pic] of pics) {
        img.size[panel] = [pic.width, pic.height];
        total += pic.png.length;
        pending.push({ img, panel, rel: `${stem}_${panel}.png`, png: pic.png });
      }
      if (!toFolder && o.assets === 'auto' && total > o.embedLimitBytes) toFolder = true;
      if (toFolder) await flush();
      images.push(img);
      o.onProgress?.(n + 1, keys.length);
    }
    for (const p of pending.splice(0)) p.img.src[p.panel] = `data:image/png;base64,${p.png.toString('base64')}`;

    const page: PageData = {
      title: input.title ?? 'vpdsr evaluation report',
      generated: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
      metrics: input.metrics.map((m) => ({ id: m.id, lowerBetter: m.lowerBetter })),
      methods: input.methods.map((m) => ({ name: m.name, dir: m.dir, mean: pageValues(m.mean, ids) })),
      panels,
      images,
    };
    const html = [
      '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n',
      '<meta name="viewport" content="width=device-width, initial-scale=1">\n',
      `<meta name="generator" content="vpdsr">\n<title>${escapeHtml(page.title)}</title>\n`,
      `<style>${REPORT_CSS}</style>\n</head>\n<body>\n<div id="app"></div>\n`,
      '<noscript><p style="padding:20px">This report needs JavaScript to show its pictures and tables.</p></noscript>\n',
      `<script type="application/json" id="report-data">${scriptJson(page)}</script>\n`,
      `<script type="module">\n${await loadClientScript()}</script>\n</body>\n</html>\n`,
    ].join('');
    await writeSynced(tmpPage, html);

    // Into place: the folder first (an older one is moved aside, then removed), then the page.
    const finalFolder = path.join(dir, folderName);
    if (folderMade) {
      const old = path.join(dir, `.${folderName}.${process.pid}.${rand}.old`);
      const had = await stat(finalFolder).catch(() => undefined);
      if (had) await rename(finalFolder, old);
      await rename(tmpFolder, finalFolder);
      folderMade = false;
      if (had) await rm(old, { recursive: true, force: true });
    }
    await rename(tmpPage, target);
  } catch (e) {
    await rm(tmpPage, { force: true }).catch(() => undefined);
    if (folderMade) await rm(tmpFolder, { recursive: true, force: true }).catch(() => undefined);
    if (e instanceof ReportError) throw e;
    const msg = (e as Error).message ?? String(e);
    throw new ReportError(msg.startsWith('report:') ? msg : `report: ${msg.split('\n')[0]}`, { cause: e });
  }
}
