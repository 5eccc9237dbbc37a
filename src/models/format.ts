// vpdsr's own model format: a folder holding model.json + unet.safetensors + autoencoder.safetensors
// (ARCHITECTURE.md "Models on disk"). Reading it is strict: every field of model.json is checked,
// unknown fields are errors, and the weight files must hold exactly the model's state-dict keys
// (parameters and buffers, unprefixed, float32) — the lenient readers for public files are in
// convert.ts.
import * as fs from 'node:fs';
import path from 'node:path';
import { writeFileAtomic, writeFolderAtomic } from '../io/atomic.js';
import { SAMPLER_KINDS, type SamplerKind, type ScheduleSpec } from './presets.js';

/** The colour fixes a model folder may ask for (model.json `colorFix.method`; src/models/colorfix.ts runs them) and their most levels. */
export const MODEL_COLOR_FIXES = ['adain', 'wavelet'] as const;
export type ModelColorFix = (typeof MODEL_COLOR_FIXES)[number];
export const MAX_COLOR_FIX_LEVELS = 8;

export const MODEL_FORMAT = 'vpdsr-model/1';
export const MODEL_JSON = 'model.json';
export const UNET_FILE = 'unet.safetensors';
export const AUTOENCODER_FILE = 'autoencoder.safetensors';
export const MODEL_KINDS = ['diffusion-sr', 'pixel-diffusion-sr', 'unshuffle-diffusion-sr'] as const;
export type ModelKind = typeof MODEL_KINDS[number];

export type JsonValue = null | boolean | number | string | JsonValue[] | { [k: string]: JsonValue };
export type JsonObject = { [k: string]: JsonValue };

export interface SourceFile {
  /** What the file held: 'unet' or 'autoencoder'. */
  role: 'unet' | 'autoencoder';
  /** Base name of the file converted (no directories: model folders are shared). */
  name: string;
  bytes: number;
  sha256: string;
}

export interface ModelJson {
  format: typeof MODEL_FORMAT;
  /**
   * 'diffusion-sr': a ResShift-style latent diffusion SR model (UNetModelSwin + VQ-f4);
   * 'pixel-diffusion-sr': ResShift's non-latent mode (the UNet works on the bicubic-×4 LR in pixel
   * space, input scaled by 1/(3κ√η_t + 1)); no autoencoder (`autoencoder: null`);
   * 'unshuffle-diffusion-sr': the same on the 4×4 pixel-unshuffle of the bicubic-×4 LR (48
   * channels at LR size, conditioned on the LR itself); no autoencoder.
   */
  kind: ModelKind;
  name: string;
  scale: 4;
  /** The preset the model was made from (null for models vpdsr trained). */
  preset: string | null;
  schedule: ScheduleSpec;
  /** The default sampler. */
  sampler: SamplerKind;
  /** One-step model (SinSR, vpdsr-distilled): multi-step samplers are refused. */
  oneStep: boolean;
  /** LR padding multiple (64: window 8 × 2³ downsamplings). */
  padding: number;
  unet: { class: 'UNetModelSwin'; config: JsonObject; file: typeof UNET_FILE };
  autoencoder: { kind: 'vq-f4'; class: 'VQModelTorch'; config: JsonObject; file: typeof AUTOENCODER_FILE } | null;
  provenance: { createdBy: string; created: string; sources: SourceFile[]; note: string };
  /** Optional record of how vpdsr trained the model (data, config, commit, steps, evaluation). */
  training?: JsonObject;
  /** Optional: the colour fix the model is meant to run with (what `--color-fix auto` applies). */
  colorFix?: { method: ModelColorFix; levels: number };
}

export class ModelFormatError extends Error {
  readonly code = 'VPDSR_MODEL_FORMAT';
  constructor(message: string) {
    super(message);
    this.name = 'ModelFormatError';
  }
}

type Checker = (v: unknown, where: string) => void;

function fail(where: string, what: string): never {
  throw new ModelFormatError(`${where}: ${what}`);
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v);
  return typeof v === 'object' ? 'an object' : `${typeof v} ${String(v)}`;
}

/** An object with exactly these fields (each checked). */
function exactObject(v: unknown, where: string, fields: Record<string, Checker>): void {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) fail(where, `must be an object, got ${describe(v)}`);
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!(k in fields)) fail(`${where}.${k}`, 'is not a field of this format (strict)');
  for (const [k, check] of Object.entries(fields)) {
    if (!(k in o)) fail(`${where}.${k}`, 'is missing');
    check(o[k], `${where}.${k}`);
  }
}

const isStr: Checker = (v, w) => { if (typeof v !== 'string' || v.length === 0) fail(w, `must be a non-empty string, got ${describe(v)}`); };
const anyStr: Checker = (v, w) => { if (typeof v !== 'string') fail(w, `must be a string, got ${describe(v)}`); };
const isBool: Checker = (v, w) => { if (typeof v !== 'boolean') fail(w, `must be true or false, got ${describe(v)}`); };
const posNum: Checker = (v, w) => { if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) fail(w, `must be a positive number, got ${describe(v)}`); };
const posInt = (min = 1): Checker => (v, w) => { if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) fail(w, `must be an integer >= ${min}, got ${describe(v)}`); };
const literal = (...vals: (string | number | null)[]): Checker => (v, w) => {
  if (!vals.includes(v as string)) fail(w, `must be ${vals.map((x) => JSON.stringify(x)).join(' or ')}, got ${describe(v)}`);
};
const jsonObject: Checker = (v, w) => {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) fail(w, `must be an object, got ${describe(v)}`);
};

const scheduleCheck: Checker = (v, w) => exactObject(v, w, {
  steps: posInt(2), kappa: posNum, power: posNum, minNoiseLevel: posNum, etasEnd: posNum,
  etasStart: literal('journal', 'legacy'),
});

const sourceCheck: Checker = (v, w) => exactObject(v, w, {
  role: literal('unet', 'autoencoder'), name: isStr, bytes: posInt(0),
  sha256: (x, ww) => { if (typeof x !== 'string' || !/^[0-9a-f]{64}$/.test(x)) fail(ww, 'must be 64 lowercase hex digits'); },
});

/** Validates a parsed model.json (strict); `where` names the file in errors. */
export function checkModelJson(v: unknown, where: string): ModelJson {
  // The optional fields: checked here, the rest exactly.
  let rest = v;
  if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
    const { training, colorFix, ...r } = v as Record<string, unknown>;
    if (training !== undefined) jsonObject(training, `${where}.training`);
    if (colorFix !== undefined) exactObject(colorFix, `${where}.colorFix`, { method: literal(...MODEL_COLOR_FIXES), levels: (x, w) => { posInt(1)(x, w); if ((x as number) > MAX_COLOR_FIX_LEVELS) fail(w, `must be at most ${MAX_COLOR_FIX_LEVELS}, got ${x as number}`); } });
    rest = r;
  }
  exactObject(rest, where, {
    format: literal(MODEL_FORMAT),
    kind: literal(...MODEL_KINDS),
    name: isStr,
    scale: literal(4),
    preset: (x, w) => { if (x !== null) isStr(x, w); },
    schedule: scheduleCheck,
    sampler: literal(...SAMPLER_KINDS),
    oneStep: isBool,
    padding: posInt(1),
    unet: (x, w) => exactObject(x, w, { class: literal('UNetModelSwin'), config: jsonObject, file: literal(UNET_FILE) }),
    autoencoder: (x, w) => {
      // A pixel-space model has none; a latent one must have it.
      const kind = (v as { kind?: unknown }).kind;
      if (kind === 'pixel-diffusion-sr' || kind === 'unshuffle-diffusion-sr') { if (x !== null) fail(w, `must be null for a ${kind} model`); return; }
      exactObject(x, w, { kind: literal('vq-f4'), class: literal('VQModelTorch'), config: jsonObject, file: literal(AUTOENCODER_FILE) });
    },
    provenance: (x, w) => exactObject(x, w, {
      createdBy: isStr, created: isStr, note: anyStr,
      sources: (s, ww) => { if (!Array.isArray(s)) fail(ww, 'must be an array'); s.forEach((e, i) => sourceCheck(e, `${ww}[${i}]`)); },
    }),
  });
  const m = v as ModelJson;
  if (m.oneStep && m.sampler !== 'one-step') fail(`${where}.sampler`, `must be "one-step" for a one-step model, got ${JSON.stringify(m.sampler)}`);
  if (m.padding % 8 !== 0) fail(`${where}.padding`, `must be a multiple of 8, got ${m.padding}`);
  return m;
}

/** The weight files a model folder holds. */
export function modelFiles(m: ModelJson): string[] {
  return m.autoencoder ? [m.unet.file, m.autoencoder.file] : [m.unet.file];
}

/** Reads and validates DIR/model.json; one-line errors name the file. */
export function readModelJson(dir: string): ModelJson {
  const file = path.join(dir, MODEL_JSON);
  let st: fs.Stats;
  try {
    st = fs.statSync(dir);
  } catch {
    throw new ModelFormatError(`${dir}: model folder not found`);
  }
  if (!st.isDirectory()) throw new ModelFormatError(`${dir}: not a model folder (a model is a folder with ${MODEL_JSON}, ${UNET_FILE} and ${AUTOENCODER_FILE}; convert public .pth files with vpdsr convert)`);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    throw new ModelFormatError(`${file}: missing (not a vpdsr model folder; make one with vpdsr convert)`);
  }
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new ModelFormatError(`${file}: not valid JSON (${(e as Error).message})`);
  }
  const m = checkModelJson(v, file);
  for (const f of modelFiles(m)) {
    if (!fs.existsSync(path.join(dir, f))) throw new ModelFormatError(`${path.join(dir, f)}: missing (the model folder is incomplete)`);
  }
  return m;
}

/** Refuses an output folder that exists and is not empty (unless overwrite); true when it exists. */
export function checkOutputFolder(dir: string, overwrite = false): boolean {
  const target = path.resolve(dir);
  if (!fs.existsSync(target)) return false;
  if (!fs.statSync(target).isDirectory()) throw new ModelFormatError(`${dir}: exists and is not a folder`);
  if (fs.readdirSync(target).length > 0 && !overwrite) throw new ModelFormatError(`${dir}: folder exists and is not empty (choose another --out, or pass --force)`);
  return true;
}

/**
 * Writes a model folder atomically (io/atomic.ts writeFolderAtomic): everything goes into a hidden
 * sibling folder, which is renamed to `dir` at the end; an existing non-empty `dir` is refused
 * unless `overwrite`, and is then replaced only after the new folder is complete.
 */
export function writeModelFolder(dir: string, json: ModelJson, writeWeights: (tmpDir: string) => void, overwrite = false): void {
  checkModelJson(json, MODEL_JSON);
  checkOutputFolder(dir, overwrite);
  writeFolderAtomic(dir, (tmp) => {
    writeWeights(tmp);
    for (const f of modelFiles(json)) if (!fs.existsSync(path.join(tmp, f))) throw new ModelFormatError(`internal: ${f} was not written`);
    writeFileAtomic(path.join(tmp, MODEL_JSON), JSON.stringify(json, null, 2) + '\n');
  }, { overwrite: true });
}
