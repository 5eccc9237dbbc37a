// Public ResShift/SinSR checkpoints → networks, and → a vpdsr model folder (`vpdsr convert`).
//
// The public files are read as MODEL_SPEC.md §6.3 says upstream's loaders imply: a `state_dict`
// wrapper is unwrapped, one `module.` and one `_orig_mod.` prefix are stripped, every parameter
// must be there with its exact shape (float16/bfloat16 are up-cast to float32), an unknown key is
// an error naming it, and the deterministic buffers are optional (`relative_position_index` must
// equal the computed index; a differing `attn_mask` is a warning — it is never used). Our own
// folder format (format.ts) is then loaded strictly.
import * as fs from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import * as torch from '../engine/index.js';
import { Tensor } from '../engine/index.js';
import { readCheckpoint, stateDictFrom } from '../io/checkpoint/index.js';
import { rawToTensor, saveSafetensors } from '../io/checkpoint/tensors.js';
import { SafetensorsFile } from '../io/checkpoint/safetensors.js';
import { type RawTensor, byteLengthOf } from '../io/checkpoint/raw.js';
import type { CheckpointTensor } from '../io/checkpoint/storage.js';
import { printable } from '../io/printable.js';
import { UNetModelSwin, RELEASED_UNET, unetConfig, type UNetConfig } from './unet/index.js';
import { VQModelTorch, VQ_F4 as VQ_F4_CONFIG, checkVQConfig, type VQConfig } from './vq/index.js';
import { getPreset, VQ_F4, type Preset } from './presets.js';
import {
  AUTOENCODER_FILE, MODEL_FORMAT, UNET_FILE, checkOutputFolder, readModelJson, writeModelFolder,
  type JsonObject, type ModelJson, type SourceFile,
} from './format.js';

/** The two networks of a model and its description. */
export interface LoadedModel {
  json: ModelJson;
  unet: UNetModelSwin;
  /** null for a pixel-space model (kind 'pixel-diffusion-sr'). */
  vq: VQModelTorch | null;
}

export interface LoadOptions {
  onWarning?: (message: string) => void;
}

/** Network widths other than the released ones (tests, small models); the presets use the released. */
export interface WidthOptions {
  unetConfig?: Partial<UNetConfig>;
  vqConfig?: VQConfig;
  /** LR padding multiple stored in model.json (default 64). */
  padding?: number;
}

/** Where a missing public file is published (never downloaded: vpdsr has no network access). */
function publishedAt(role: 'unet' | 'autoencoder', preset: Preset): string {
  return role === 'unet' ? `${preset.unetFile} is published at ${preset.unetUrl}` : `${VQ_F4.file} is published at ${VQ_F4.url}`;
}

/** Checks a public file exists and is a file; the error names it and where it is published. */
export function checkPublicFile(file: string, role: 'unet' | 'autoencoder', preset: Preset): void {
  let st: fs.Stats | undefined;
  try { st = fs.statSync(file); } catch { st = undefined; }
  if (!st) throw new Error(`${file}: ${role === 'unet' ? 'UNet' : 'autoencoder'} weights not found (${publishedAt(role, preset)}; download it yourself, vpdsr never downloads)`);
  if (!st.isFile()) throw new Error(`${file}: not a file (expected the ${role === 'unet' ? preset.unetFile : VQ_F4.file} checkpoint)`);
}

/**
 * The tensors of a public checkpoint as a state dict (float parameters as float32). Names, shapes
 * and dtypes are checked from the file's metadata first; tensor bytes are read only afterwards,
 * only for the model's keys, and only when the storages they view are about the size the model
 * needs (a few shared storages are normal; a small view of a huge storage is not).
 */
function publicStateDict(file: string, raw: Map<string, RawTensor>, model: { stateDict(): Map<string, Tensor> }, what: string): Map<string, Tensor> {
  const own = model.stateDict();
  const problems: string[] = [];
  for (const k of raw.keys()) if (!own.has(k)) problems.push(`unexpected key ${printable(k)}`);
  let needed = 0;
  const storages = new Map<object, number>();
  for (const [k, t] of own) {
    const r = raw.get(k);
    if (!r) continue;
    if (r.shape.join() !== t.shape.join()) problems.push(`${k}: shape [${r.shape.join(', ')}], the ${what} has [${t.shape.join(', ')}]`);
    else if (torch.isFloating(t.dtype) && !['F32', 'F16', 'BF16', 'F64'].includes(r.dtype)) problems.push(`${k}: dtype ${r.dtype}, expected a float tensor`);
    needed += byteLengthOf(r.dtype, r.shape);
    const s = (r as Partial<CheckpointTensor>).storage;
    if (s) storages.set(s, s.byteLength);
  }
  if (problems.length) {
    throw new Error(`${file}: not a ${what} checkpoint: ${problems.slice(0, 4).join('; ')}${problems.length > 4 ? `; … ${problems.length - 4} more` : ''}`);
  }
  let stored = 0;
  for (const b of storages.values()) stored += b;
  if (stored > 2 * needed + STORAGE_SLACK) {
    throw new Error(`${file}: the ${what}'s tensors view storages of ${stored} bytes in all, for ${needed} bytes of weights: refused (a hostile or damaged file)`);
  }
  return torch.scope(() => {
    const out = new Map<string, Tensor>();
    for (const [k, r] of raw) {
      const t = rawToTensor(r);
      const want = own.get(k)!;
      const v = torch.isFloating(want.dtype) && t.dtype !== want.dtype ? t.to({ dtype: want.dtype }) : t;
      out.set(k, torch.keep(v));
      if (v !== t) t.dispose();
    }
    return out;
  });
}

/** Storage bytes allowed beyond twice the weights a model needs, for small shared buffers. */
const STORAGE_SLACK = 64 * 2 ** 20;

function disposeAll(m: Map<string, Tensor>): void {
  for (const t of m.values()) t.dispose();
}

/** Runs load(sd), naming the file in any error, and frees the state dict. */
function loadFrom(file: string, sd: Map<string, Tensor>, load: (sd: Map<string, Tensor>) => unknown): void {
  try {
    load(sd);
  } catch (e) {
    throw new Error(`${file}: ${(e as Error).message}`);
  } finally {
    disposeAll(sd);
  }
}

/** sha256 and size of a file, read in 16 MiB pieces. */
export function fileDigest(file: string): { bytes: number; sha256: string } {
  const h = createHash('sha256');
  const fd = fs.openSync(file, 'r');
  const buf = Buffer.allocUnsafe(16 << 20);
  let bytes = 0;
  try {
    for (let n; (n = fs.readSync(fd, buf, 0, buf.length, null)) > 0;) { h.update(buf.subarray(0, n)); bytes += n; }
  } finally {
    fs.closeSync(fd);
  }
  return { bytes, sha256: h.digest('hex') };
}

/** model.json for a preset's released networks. */
export function presetModelJson(preset: Preset, sources: SourceFile[], createdBy: string, widths: WidthOptions = {}): ModelJson {
  return {
    format: MODEL_FORMAT,
    kind: 'diffusion-sr',
    name: preset.name,
    scale: 4,
    preset: preset.name,
    schedule: { ...preset.schedule },
    sampler: preset.sampler,
    oneStep: preset.oneStep,
    padding: widths.padding ?? 64,
    unet: { class: 'UNetModelSwin', config: { ...unetConfig(widths.unetConfig ?? RELEASED_UNET) } as unknown as JsonObject, file: UNET_FILE },
    autoencoder: { kind: 'vq-f4', class: 'VQModelTorch', config: JSON.parse(JSON.stringify(checkVQConfig(widths.vqConfig ?? VQ_F4_CONFIG))) as JsonObject, file: AUTOENCODER_FILE },
    provenance: { createdBy, created: new Date().toISOString(), sources, note: `${preset.provenance}; converted from the public ${preset.unetFile} and ${VQ_F4.file}` },
  };
}

/** A preset's networks from the public .pth files (lenient reading, §6.3). */
export function loadPublicModel(presetName: string, unetFile: string, vqFile: string, opts: LoadOptions & WidthOptions & { sources?: SourceFile[] } = {}): LoadedModel & { vq: VQModelTorch } {
  const preset = getPreset(presetName);
  checkPublicFile(unetFile, 'unet', preset);
  checkPublicFile(vqFile, 'autoencoder', preset);
  const warn = opts.onWarning ?? ((m: string) => process.emitWarning(m));
  const json = presetModelJson(preset, opts.sources ?? [], 'vpdsr', opts);
  // Both files' structure (every name, dtype and shape) is read before the networks are built,
  // and without tensor bytes: a malformed or hostile file is refused at once.
  const unetRaw = stateDictFrom(readCheckpoint(unetFile, { loadData: 'lazy' }));
  const vqRaw = stateDictFrom(readCheckpoint(vqFile, { loadData: 'lazy' }));
  const unet = new UNetModelSwin(opts.unetConfig ?? RELEASED_UNET);
  let vq: VQModelTorch | undefined;
  try {
    loadFrom(unetFile, publicStateDict(unetFile, unetRaw, unet, 'UNetModelSwin'), (sd) => unet.loadStateDict(sd, { onWarning: (m: string) => warn(`${unetFile}: ${m}`) }));
    vq = new VQModelTorch(opts.vqConfig ?? VQ_F4_CONFIG);
    const vqNet = vq;
    loadFrom(vqFile, publicStateDict(vqFile, vqRaw, vq, 'VQ-f4 autoencoder'), (sd) => vqNet.loadStateDict(sd));
  } catch (e) {
    unet.dispose();
    vq?.dispose();
    throw e;
  }
  return { json, unet: unet.eval(), vq: vq.eval() };
}

/**
 * Exactly the model's keys (parameters and buffers), float32 for floats — our format's rule. The
 * header is checked against the model before any tensor bytes are read.
 */
function strictStateDict(file: string, model: { stateDict(): Map<string, Tensor> }, what: string): Map<string, Tensor> {
  // Our files are safetensors, read as such (no format sniffing: nothing else is accepted).
  const named = (e: unknown): Error => new Error(`${file}: ${(e as Error).message.replace(`${file}: `, '')}`);
  let f: SafetensorsFile;
  try {
    f = SafetensorsFile.open(file);
  } catch (e) {
    throw named(e);
  }
  try {
    const own = model.stateDict();
    const names = f.names();
    const problems: string[] = [];
    const have = new Set(names);
    for (const k of own.keys()) if (!have.has(k)) problems.push(`missing key ${k}`);
    for (const k of names) {
      const t = own.get(k);
      if (!t) { problems.push(`unexpected key ${printable(k)}`); continue; }
      const r = f.info(k);
      const want = t.dtype === 'float32' ? 'F32' : t.dtype === 'int64' ? 'I64' : t.dtype;
      if (r.dtype !== want) problems.push(`${k}: dtype ${r.dtype}, expected ${want}`);
      if (r.shape.join() !== t.shape.join()) problems.push(`${k}: shape [${r.shape.join(', ')}], the ${what} has [${t.shape.join(', ')}]`);
    }
    if (problems.length) throw new Error(`${file}: ${problems.slice(0, 4).join('; ')}${problems.length > 4 ? `; … ${problems.length - 4} more` : ''}`);
    return torch.scope(() => {
      const out = new Map<string, Tensor>();
      for (const k of names) {
        let r: RawTensor;
        try { r = f.readRaw(k); } catch (e) { throw named(e); }
        out.set(k, torch.keep(rawToTensor(r)));
      }
      return out;
    });
  } finally {
    f.close();
  }
}

/** A vpdsr model folder, loaded strictly. */
export function loadModelFolder(dir: string, opts: LoadOptions = {}): LoadedModel {
  const json = readModelJson(dir);
  const where = path.join(dir, 'model.json');
  let unet: UNetModelSwin, vq: VQModelTorch | undefined;
  try {
    unet = new UNetModelSwin(json.unet.config as unknown as Partial<UNetConfig>);
  } catch (e) {
    throw new Error(`${where}: unet.config: ${(e as Error).message}`);
  }
  try {
    let vcfg: VQConfig | null = null;
    try {
      if (json.autoencoder) vcfg = checkVQConfig(json.autoencoder.config);
    } catch (e) {
      throw new Error(`${where}: autoencoder.config: ${(e as Error).message}`);
    }
    const ufile = path.join(dir, json.unet.file);
    loadFrom(ufile, strictStateDict(ufile, unet, 'UNetModelSwin'), (sd) => unet.loadStateDict(sd, { onWarning: (m: string) => (opts.onWarning ?? process.emitWarning)(`${ufile}: ${m}`) }));
    if (json.autoencoder && vcfg) {
      vq = new VQModelTorch(vcfg);
      const vfile = path.join(dir, json.autoencoder.file);
      const vqNet = vq;
      loadFrom(vfile, strictStateDict(vfile, vq, 'VQ autoencoder'), (sd) => vqNet.loadStateDict(sd));
    }
  } catch (e) {
    unet.dispose();
    vq?.dispose();
    throw e;
  }
  return { json, unet: unet.eval(), vq: vq ? vq.eval() : null };
}

export interface ConvertResult {
  json: ModelJson;
  seconds: { read: number; write: number };
}

/**
 * `vpdsr convert`: a preset + public UNet and VQ .pth → a model folder (model.json,
 * unet.safetensors with the 24 buffers included, autoencoder.safetensors), written atomically.
 */
export function convertPublic(presetName: string, unetFile: string, vqFile: string, outDir: string, opts: LoadOptions & WidthOptions & { force?: boolean; createdBy?: string } = {}): ConvertResult {
  const preset = getPreset(presetName);
  checkPublicFile(unetFile, 'unet', preset);
  checkPublicFile(vqFile, 'autoencoder', preset);
  checkOutputFolder(outDir, opts.force ?? false); // before the slow part
  const t0 = performance.now();
  const sources: SourceFile[] = [
    { role: 'unet', name: path.basename(unetFile), ...fileDigest(unetFile) },
    { role: 'autoencoder', name: path.basename(vqFile), ...fileDigest(vqFile) },
  ];
  const m = loadPublicModel(presetName, unetFile, vqFile, { ...opts, sources });
  m.json.provenance.createdBy = opts.createdBy ?? 'vpdsr';
  const t1 = performance.now();
  try {
    writeModelFolder(outDir, m.json, (tmp) => {
      saveSafetensors(path.join(tmp, UNET_FILE), m.unet.stateDict(), { format: 'pt', source: sources[0]!.name });
      saveSafetensors(path.join(tmp, AUTOENCODER_FILE), m.vq.stateDict(), { format: 'pt', source: sources[1]!.name });
    }, opts.force ?? false);
  } finally {
    m.unet.dispose();
    m.vq.dispose();
  }
  return { json: m.json, seconds: { read: (t1 - t0) / 1000, write: (performance.now() - t1) / 1000 } };
}
