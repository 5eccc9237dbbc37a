// vpdsr upscale -i FILE|DIR -o DIR (--model DIR | --preset P --unet F --vq F | --model bicubic) …
// Reads 8/16-bit images, runs an Upscaler (src/models/pipeline.ts), writes 8-bit RGB PNGs under a
// temporary name that is renamed into place. A bad image is reported and the rest go on; the exit
// status is then non-zero.
import type { Command } from 'commander';
import * as fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import sharp, { type Sharp, type Metadata } from 'sharp';
import * as torch from '../engine/index.js';
import { Tensor } from '../engine/index.js';
import { loadUpscaler, type UpscalerSpec } from '../models/index.js';
import { PIPELINE_DTYPES, type PipelineDType, type Upscaler } from '../models/pipeline.js';
import { SAMPLER_KINDS, type SamplerKind } from '../models/presets.js';
import { TILE_MERGES, type TileMerge } from '../models/tiling.js';
import { UsageError, oneLine, reportError } from './errors.js';

const IMAGE_EXT = new Set(['.png', '.jpg', '.jpeg', '.webp', '.tif', '.tiff', '.bmp', '.gif', '.avif']);

// Minimal image adapter on sharp until src/io/image lands; swap for its readImage/writeImage.
/** [1, 3, H, W] float32 in [0, 1]: RGB, alpha dropped, grey replicated, 16-bit / 65535 (§1.7 1). */
export async function readRgb(file: string): Promise<Tensor> {
  let img: Sharp, meta: Metadata;
  try {
    img = sharp(file, { limitInputPixels: 100_000_000 });
    meta = await img.metadata();
  } catch (e) {
    throw new Error(`${file}: cannot read the image (${oneLine(e)})`);
  }
  const sixteen = meta.depth === 'ushort';
  const { data, info } = await img.removeAlpha().toColourspace(sixteen ? 'rgb16' : 'srgb')
    .raw({ depth: sixteen ? 'ushort' : 'uchar' }).toBuffer({ resolveWithObject: true })
    .catch((e: unknown) => { throw new Error(`${file}: cannot decode the image (${oneLine(e)})`); });
  if (info.channels !== 3) throw new Error(`${file}: decoded to ${info.channels} channels, expected RGB`);
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return torch.scope(() => {
    const t = sixteen
      ? torch.fromTypedArray(new Uint16Array(bytes.slice().buffer), [info.height, info.width, 3]).to({ dtype: 'int32' })
      : torch.fromBytes(bytes, 'uint8', [info.height, info.width, 3]);
    // float32 division as upstream's `astype(np.float32) / 255.`
    return t.permute(2, 0, 1).unsqueeze(0).float().div(sixteen ? 65535 : 255).contiguous();
  });
}

/** 8-bit: clamp to [0, 1], ×255 in float32, round half to even (np.round), as tensor2img (§1.7 7). */
export function toUint8Hwc(x: Tensor): Uint8Array {
  return torch.scope(() => x.to({ device: 'cpu', dtype: 'float32' }).clamp(0, 1).mul(255).round()
    .to({ dtype: 'uint8' }).squeeze(0).permute(1, 2, 0).contiguous().toBytes());
}

/** Writes an RGB PNG through a temporary name in the target folder, renamed into place. */
export async function writePng(file: string, x: Tensor): Promise<void> {
  const [, c, h, w] = x.shape as [number, number, number, number];
  const png = await sharp(Buffer.from(toUint8Hwc(x)), { raw: { width: w, height: h, channels: c as 3 } }).png().toBuffer();
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    fs.writeFileSync(tmp, png, { flag: 'wx' });
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw new Error(`${file}: cannot write (${oneLine(e)})`);
  }
}

/** The images named by -i: a file, or a folder's image files (not recursive), sorted. */
export function listInputs(input: string): string[] {
  let st: fs.Stats;
  try {
    st = fs.statSync(input);
  } catch {
    throw new UsageError(`-i ${input}: no such file or folder`);
  }
  if (st.isFile()) return [input];
  const files = fs.readdirSync(input).filter((f) => IMAGE_EXT.has(path.extname(f).toLowerCase()) && !f.startsWith('.')).sort()
    .map((f) => path.join(input, f)).filter((f) => fs.statSync(f).isFile());
  if (files.length === 0) throw new UsageError(`-i ${input}: the folder holds no image files (${[...IMAGE_EXT].join(' ')})`);
  return files;
}

function intArg(flag: string, v: string | undefined, min: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!/^\d+$/.test(v.trim()) || !Number.isSafeInteger(n) || n < min) throw new UsageError(`${flag} must be an integer >= ${min}, got ${JSON.stringify(v)}`);
  return n;
}

function choice<T extends string>(flag: string, v: string | undefined, allowed: readonly T[]): T | undefined {
  if (v === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(v)) throw new UsageError(`${flag} must be one of ${allowed.join(', ')}, got ${JSON.stringify(v)}`);
  return v as T;
}

export interface UpscaleCliOptions {
  input: string; output: string; model?: string; preset?: string; unet?: string; vq?: string;
  sampler?: string; steps?: string; seed?: string; tile?: string; tileOverlap?: string; tileMerge?: string;
  device?: string; threads?: string; dtype?: string; quiet?: boolean;
}

/** The UpscalerSpec the flags describe; throws UsageError naming the flag. */
export function specFromFlags(o: UpscaleCliOptions): UpscalerSpec {
  const sampler = choice<SamplerKind>('--sampler', o.sampler, SAMPLER_KINDS);
  const dtype = choice<PipelineDType>('--dtype', o.dtype, PIPELINE_DTYPES);
  const steps = intArg('--steps', o.steps, 1);
  const device = o.device ?? 'cpu';
  if (!/^(cpu|cuda(:\d+)?)$/.test(device)) throw new UsageError(`--device must be cpu, cuda or cuda:N, got ${JSON.stringify(device)}`);
  const common = { device, dtype, sampler, steps };
  if (o.model !== undefined) {
    if (o.preset || o.unet || o.vq) throw new UsageError('--model cannot be combined with --preset/--unet/--vq');
    if (o.model === 'bicubic') {
      if (sampler || steps !== undefined) throw new UsageError('--sampler and --steps do not apply to --model bicubic');
      return { model: 'bicubic', device };
    }
    return { model: o.model, ...common };
  }
  if (!o.preset) throw new UsageError('give --model DIR, --model bicubic, or --preset P with --unet FILE and --vq FILE');
  if (!o.unet || !o.vq) throw new UsageError(`--preset ${o.preset} needs --unet FILE and --vq FILE (the public .pth files; see vpdsr convert)`);
  return { preset: o.preset, unet: o.unet, vq: o.vq, ...common };
}

export function registerUpscale(program: Command): void {
  program
    .command('upscale')
    .description('×4 super-resolution of an image or a folder of images (PNG out)')
    .requiredOption('-i, --input <path>', 'image file or folder')
    .requiredOption('-o, --output <dir>', 'output folder (created if missing)')
    .option('--model <dir|bicubic>', 'a vpdsr model folder, or "bicubic" (the baseline)')
    .option('--preset <name>', 'resshift-v1|resshift-v2|resshift-v3|sinsr (sinsr-v1, sinsr-v2): with --unet and --vq')
    .option('--unet <file>', 'public UNet weights (.pth) for --preset')
    .option('--vq <file>', 'public autoencoder weights (autoencoder_vq_f4.pth) for --preset')
    .option('--sampler <kind>', `${SAMPLER_KINDS.join('|')} (default: the model's)`)
    .option('--steps <n>', "network calls of a multi-step sampler (default the schedule's T; fewer = a respaced schedule)")
    .option('--seed <n>', 'noise seed (default 12345)')
    .option('--tile <n>', 'tile size in LR pixels, 0 = none (default 128 on cpu, 512 on cuda)')
    .option('--tile-overlap <n>', 'LR pixels shared by neighbouring tiles (default 16)')
    .option('--tile-merge <mode>', `${TILE_MERGES.join('|')}: smooth weights (default) or upstream's plain average`)
    .option('--device <dev>', 'cpu | cuda | cuda:N', 'cpu')
    .option('--threads <n>', 'CPU threads (default: all cores)')
    .option('--dtype <t>', `${PIPELINE_DTYPES.join('|')} (default fp32)`)
    .option('-q, --quiet', 'no progress lines')
    .action(async (o: UpscaleCliOptions) => {
      const spec = specFromFlags(o);
      const seed = intArg('--seed', o.seed, 0);
      const tile = intArg('--tile', o.tile, 0);
      const tileOverlap = intArg('--tile-overlap', o.tileOverlap, 0);
      const tileMerge = choice<TileMerge>('--tile-merge', o.tileMerge, TILE_MERGES);
      const threads = intArg('--threads', o.threads, 1);
      if (threads !== undefined) torch.setNumThreads(threads);
      const inputs = listInputs(o.input);
      try {
        fs.mkdirSync(o.output, { recursive: true });
      } catch (e) {
        throw new UsageError(`-o ${o.output}: cannot create the folder (${oneLine(e)})`);
      }
      const log = (s: string): void => { if (!o.quiet) process.stderr.write(s + '\n'); };
      const t0 = performance.now();
      const up: Upscaler = loadUpscaler({ ...spec, onWarning: (w: string) => process.stderr.write(`vpdsr: warning: ${w}\n`) });
      log(`vpdsr: ${up.name} on ${up.device} (${up.dtype}), loaded in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      let failed = 0;
      try {
        for (const file of inputs) {
          const out = path.join(o.output, `${path.parse(file).name}.png`);
          if (path.resolve(out) === path.resolve(file)) { reportError(new Error(`${file}: output would overwrite the input; choose another -o`)); failed++; continue; }
          const t1 = performance.now();
          try {
            const lr = await readRgb(file);
            let sr: Tensor | undefined;
            try {
              sr = up.upscale(lr, { seed, tile, tileOverlap, tileMerge });
              await writePng(out, sr);
            } finally {
              lr.dispose();
              sr?.dispose();
            }
            log(`${file} → ${out} (${((performance.now() - t1) / 1000).toFixed(1)} s)`);
          } catch (e) {
            failed++;
            reportError(e);
          }
        }
      } finally {
        up.dispose();
      }
      if (failed > 0) {
        process.stderr.write(`vpdsr: ${failed} of ${inputs.length} images failed\n`);
        process.exitCode = 1;
      }
    });
}
