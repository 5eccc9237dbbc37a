// Which modules must stay fp32 in the mixed-precision ('auto') pipeline, measured: the 8-bit
// output PSNR against an fp32 run of the same weights, when each stage is switched (JSON lines, and
// a table of mean PSNR per plan at the end).
//
//   node dist/bench/models/precision.js [--model random|DIR] [--size 64] [--images DIR,DIR,FILE] [--limit N]
//                                       [--plans default|auto|NAME,NAME] [--threads 2] [--out FILE]
//
// --model random: the full-size SinSR architecture with seeded random weights (as bench:models);
// DIR: a model folder (e.g. models/vpdsr-x4). Images: centre crops of --size LR px (0: whole image).
// A plan is 'fp32', 'bf16' or 'auto' with a PrecisionPlan (the modules kept in fp32); the named plans
// below switch one stage at a time in both directions (bf16 + one stage fp32, fp32 + one stage bf16).
import * as fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import * as torch from '../../src/engine/index.js';
import { Tensor } from '../../src/engine/index.js';
import { UNetModelSwin, RELEASED_UNET } from '../../src/models/unet/index.js';
import { VQModelTorch, VQ_F4 } from '../../src/models/vq/index.js';
import { getPreset } from '../../src/models/presets.js';
import { presetModelJson, loadModelFolder, type LoadedModel } from '../../src/models/convert.js';
import { partsFromModel, DiffusionUpscaler, AUTO_PLAN, type PipelineDType, type PrecisionPlan } from '../../src/models/index.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..', '..', '..');

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : def;
}

interface Plan { name: string; dtype: PipelineDType; plan?: PrecisionPlan }

// Top-level stages of each network (state-dict prefixes), in execution order.
// Each list covers its network's parameters (VQ: + the codebook, f32 in every mode).
const VQ_STAGES = ['encoder', 'quant_conv', 'post_quant_conv', 'decoder.conv_in', 'decoder.mid', 'decoder.up.2', 'decoder.up.1',
  'decoder.up.0', 'decoder.norm_out', 'decoder.conv_out'];
const UNET_STAGES = ['time_embed', 'feature_extractor', 'input_blocks', 'middle_block', 'output_blocks', 'out'];

function stagePlans(pixel: boolean): Plan[] {
  const stages = [...UNET_STAGES.map((s) => ['unet', s] as const), ...(pixel ? [] : VQ_STAGES.map((s) => ['vq', s] as const))];
  const only = (net: 'vq' | 'unet', s: string): PrecisionPlan => ({ vq: net === 'vq' ? [s] : [], unet: net === 'unet' ? [s] : [] });
  const allBut = (net: 'vq' | 'unet', s: string): PrecisionPlan => ({
    vq: pixel ? [] : VQ_STAGES.filter((x) => !(net === 'vq' && x === s)),
    unet: UNET_STAGES.filter((x) => !(net === 'unet' && x === s)),
  });
  return [
    // bf16 everywhere except one stage (what keeping it fp32 buys) …
    ...stages.map(([n, s]): Plan => ({ name: `bf16+fp32:${n}.${s}`, dtype: 'auto', plan: only(n, s) })),
    // … and fp32 everywhere except one stage (what running it in bf16 costs).
    ...stages.map(([n, s]): Plan => ({ name: `fp32+bf16:${n}.${s}`, dtype: 'auto', plan: allBut(n, s) })),
    { name: 'bf16+fp32:unet', dtype: 'auto', plan: { vq: [], unet: [''] } },
    ...(pixel ? [] : [{ name: 'fp32+bf16:unet', dtype: 'auto', plan: { vq: [''], unet: [] } } as Plan]),
    ...(pixel ? [] : [
      { name: 'bf16+fp32:vq.decoder.up.0.block.2+out', dtype: 'auto', plan: { vq: ['decoder.up.0.block.2', 'decoder.norm_out', 'decoder.conv_out'], unet: [] } } as Plan,
      { name: 'bf16+fp32:vq.decoder', dtype: 'auto', plan: { vq: ['decoder'], unet: [] } } as Plan,
      { name: 'bf16+fp32:vq.decoder.up.0+out', dtype: 'auto', plan: { vq: ['decoder.up.0', 'decoder.norm_out', 'decoder.conv_out'], unet: [] } } as Plan,
      { name: 'bf16+fp32:vq.decoder.up.1+up.0+out', dtype: 'auto', plan: { vq: ['decoder.up.1', 'decoder.up.0', 'decoder.norm_out', 'decoder.conv_out'], unet: [] } } as Plan,
      { name: 'bf16+fp32:vq.decoder.norm_out+conv_out', dtype: 'auto', plan: { vq: ['decoder.norm_out', 'decoder.conv_out'], unet: [] } } as Plan,
    ]),
  ];
}

function namedPlans(spec: string, pixel: boolean): Plan[] {
  const base: Plan[] = [{ name: 'bf16', dtype: 'bf16' }, { name: 'auto', dtype: 'auto', plan: AUTO_PLAN }];
  if (spec === 'auto') return base;
  const all = [...base, ...stagePlans(pixel)];
  if (spec === 'default') return all;
  // Any 'bf16+fp32:NET.PATH+NET.PATH…' (NET vq or unet; NET alone = all of it) is a plan too.
  return spec.split(',').map((name) => all.find((p) => p.name === name) ?? parsePlan(name, all));
}

function parsePlan(name: string, known: Plan[]): Plan {
  const m = /^bf16\+fp32:(.+)$/.exec(name);
  if (!m) throw new Error(`unknown plan ${name}; known: ${known.map((p) => p.name).join(', ')}, or bf16+fp32:NET.PATH+…`);
  const plan = { vq: [] as string[], unet: [] as string[] };
  for (const item of m[1]!.split('+')) {
    const [net, ...rest] = item.split('.');
    if (net !== 'vq' && net !== 'unet') throw new Error(`plan ${name}: ${item} must start with vq or unet`);
    plan[net].push(rest.join('.'));
  }
  return { name, dtype: 'auto', plan };
}

/** The model's networks, fresh (random: seeded, so every plan starts from the same fp32 weights). */
function loadNets(model: string): LoadedModel {
  if (model !== 'random') return loadModelFolder(model, { onWarning: () => {} });
  torch.manualSeed(1234);
  const unet = new UNetModelSwin(RELEASED_UNET);
  const vq = new VQModelTorch(VQ_F4);
  return { json: presetModelJson(getPreset('sinsr-v1'), [], 'bench'), unet: unet.eval(), vq: vq.eval() };
}

/** An image (a centre crop of size px, or whole when size is 0) as [1, 3, h, w] in [0, 1]. */
async function readLr(file: string, size: number): Promise<Tensor> {
  const img = sharp(file);
  const m = await img.metadata();
  const W = m.width ?? 0, H = m.height ?? 0;
  const w = size > 0 ? Math.min(size, W) : W, h = size > 0 ? Math.min(size, H) : H;
  const { data } = await img.removeAlpha().extract({ left: Math.floor((W - w) / 2), top: Math.floor((H - h) / 2), width: w, height: h }).raw().toBuffer({ resolveWithObject: true });
  return torch.keep(torch.scope(() => torch.fromBytes(new Uint8Array(data), 'uint8', [h, w, 3]).permute(2, 0, 1).unsqueeze(0).float().div(255).contiguous()));
}

function listImages(spec: string, limit: number): string[] {
  const out: string[] = [];
  for (const p of spec.split(',')) {
    const abs = path.resolve(repo, p);
    const files = fs.statSync(abs).isDirectory()
      ? fs.readdirSync(abs).filter((f) => /\.(png|jpe?g|webp|tiff?)$/i.test(f) && !/-lr\./.test(f)).sort().map((f) => path.join(abs, f)).slice(0, limit)
      : [abs];
    out.push(...files);
  }
  return out;
}

async function main(): Promise<void> {
  const model = arg('model', 'random');
  const size = Number(arg('size', '64'));
  const threads = Number(arg('threads', '2'));
  const limit = Number(arg('limit', '1000000'));
  const images = listImages(arg('images', 'samples,../shared/samples'), limit);
  const outFile = arg('out', '');
  torch.setNumThreads(threads);
  const probe = loadNets(model);
  const pixel = probe.vq === null;
  probe.unet.dispose(); probe.vq?.dispose();
  const plans = namedPlans(arg('plans', 'default'), pixel);
  const lrs = await Promise.all(images.map((f) => readLr(f, size)));
  const emit = (row: object): void => {
    const line = JSON.stringify({ bench: 'models-precision', model: model === 'random' ? 'random-sinsr' : path.basename(model), lr: size, threads, ...row });
    process.stdout.write(line + '\n');
    if (outFile) fs.appendFileSync(outFile, line + '\n');
  };
  const run = (p: Plan): { out: Tensor[]; seconds: number } => {
    const up = new DiffusionUpscaler(partsFromModel(loadNets(model), { device: 'cpu', dtype: p.dtype, plan: p.plan }));
    let seconds = 0;
    const out = lrs.map((lr) => torch.keep(torch.scope(() => {
      const t0 = performance.now();
      const y = up.upscale(lr, { seed: 7, tile: 0 }); // one seed: every plan gets the same noise

      seconds += (performance.now() - t0) / 1000;
      return y.mul(255).round(); // 8-bit, as the image writer quantises
    })));
    up.dispose();
    return { out, seconds };
  };
  const ref = run({ name: 'fp32', dtype: 'fp32' });
  emit({ plan: 'fp32', images: images.length, seconds: +ref.seconds.toFixed(2), load: loadavg() });
  const table: [string, number, number][] = [];
  for (const p of plans) {
    const r = run(p);
    const psnrs = r.out.map((y, i) => torch.scope(() => {
      const mse = y.sub(ref.out[i]!).square().mean().item();
      return mse === 0 ? Infinity : 10 * Math.log10((255 * 255) / mse);
    }));
    r.out.forEach((t) => t.dispose());
    const mean = psnrs.reduce((a, b) => a + Math.min(b, 99), 0) / psnrs.length;
    const min = Math.min(...psnrs);
    table.push([p.name, mean, min]);
    emit({ plan: p.name, fp32_modules: p.plan ?? null, psnr_db_mean: +mean.toFixed(2), psnr_db_min: +min.toFixed(2), per_image: Object.fromEntries(images.map((f, i) => [path.basename(f), +psnrs[i]!.toFixed(2)])), seconds: +r.seconds.toFixed(2), load: loadavg() });
  }
  process.stderr.write(`\n8-bit PSNR against fp32 (${images.length} images, ${size || 'whole'} px LR, ${model}):\n`);
  for (const [n, m, lo] of table) process.stderr.write(`  ${n.padEnd(44)} mean ${m.toFixed(2)} dB  min ${lo.toFixed(2)} dB\n`);
  ref.out.forEach((t) => t.dispose());
  lrs.forEach((t) => t.dispose());
}

const loadavg = (): string => fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

await main();
