// Image I/O throughput: decode and encode MB/s (of 8-bit RGB pixel data) for PNG and JPEG through
// vpdsr (readImage → float tensor, encodeImage ← float tensor) against sharp alone (raw buffers),
// so the cost of the tensor conversion and the exact quantisation is visible.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp, { type Sharp } from 'sharp';
import { readImage, encodeImage } from '../../src/io/image/index.js';

export interface IoBenchOptions {
  /** Source photo (scaled to width×height); default ../shared/samples/coffee.png. */
  source?: string;
  width?: number;
  height?: number;
  /** Seconds to spend per measurement (default 1.5). */
  seconds?: number;
}

async function timeIt(seconds: number, fn: () => Promise<void>): Promise<{ perOp: number; n: number }> {
  await fn(); // warm-up
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < seconds * 1000 || n < 3) { await fn(); n++; }
  return { perOp: (performance.now() - t0) / 1000 / n, n };
}

/** Runs the bench and returns one JSON line per (format, direction, path). */
export async function benchImageIO(opts: IoBenchOptions = {}): Promise<string[]> {
  const w = opts.width ?? 1920, h = opts.height ?? 1080, secs = opts.seconds ?? 1.5;
  // dist/bench/data/io.js → the repository root is three folders up; ../shared sits beside it.
  const shared = process.env.VPDSR_SHARED ?? path.resolve(fileURLToPath(new URL('../../../', import.meta.url)), '..', 'shared');
  const src = opts.source ?? path.join(shared, 'samples', 'coffee.png');
  const raw = await sharp(readFileSync(src)).resize(w, h, { fit: 'fill' }).removeAlpha().raw().toBuffer();
  const mb = (w * h * 3) / 1e6;
  const lines: string[] = [];
  const emit = (o: Record<string, unknown>): void => { lines.push(JSON.stringify(o)); };
  for (const format of ['png', 'jpeg'] as const) {
    const enc = (s: Sharp): Sharp => (format === 'png' ? s.png({ compressionLevel: 6, adaptiveFiltering: false, palette: false }) : s.jpeg({ quality: 95, chromaSubsampling: '4:4:4' }));
    const file = await enc(sharp(raw, { raw: { width: w, height: h, channels: 3 } })).toBuffer();
    const dSharp = await timeIt(secs, async () => { await sharp(file).raw().toBuffer(); });
    const dVpdsr = await timeIt(secs, async () => { (await readImage(file)).data.dispose(); });
    const img = await readImage(file);
    const eSharp = await timeIt(secs, async () => { await enc(sharp(raw, { raw: { width: w, height: h, channels: 3 } })).toBuffer(); });
    const eVpdsr = await timeIt(secs, async () => { await encodeImage(img.data, { format, quality: 95 }); });
    img.data.dispose();
    for (const [dir, s, v] of [['decode', dSharp, dVpdsr], ['encode', eSharp, eVpdsr]] as const) {
      emit({
        bench: 'image_io', format, direction: dir, width: w, height: h, file_bytes: file.length,
        sharp_ms: +(s.perOp * 1000).toFixed(2), vpdsr_ms: +(v.perOp * 1000).toFixed(2),
        sharp_MBps: +(mb / s.perOp).toFixed(1), vpdsr_MBps: +(mb / v.perOp).toFixed(1),
        ratio: +(v.perOp / s.perOp).toFixed(3), iterations: [s.n, v.n],
      });
    }
  }
  return lines;
}
