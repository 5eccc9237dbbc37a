// Models by name: a models folder (VPDSR_MODELS, default under the user's data folder:
// $XDG_DATA_HOME/vpdsr/models, ~/.local/share/vpdsr/models; ~/Library/Application Support on
// macOS, %LOCALAPPDATA% on Windows) where `vpdsr convert --name N` writes and `--model N` looks.
// A `model` that names an existing folder is that folder; a plain name is looked up here.
import { readdirSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readModelJson } from '../models/format.js';
import { OptionError } from './errors.js';
import { suggestion } from './options.js';
import { DEFAULT_MODEL } from './schema.js';
import { BUNDLED_MODEL, bundledModelDir } from '../models/bundled.js';

/** The models vpdsr carries itself (no files). */
export const BUILTIN_MODELS: readonly { name: string; kind: string; note: string }[] = [
  { name: 'bicubic', kind: 'bicubic', note: 'PyTorch bicubic ×4 (a = −0.75): the baseline' },
  ...(bundledModelDir() ? [{ name: BUNDLED_MODEL, kind: 'unshuffle-diffusion-sr', note: 'one-step VPD-SR student trained by vpdsr on CC0 / public-domain photos (the default)' }] : []),
];

export function modelsDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.VPDSR_MODELS) return path.resolve(env.VPDSR_MODELS);
  const home = os.homedir();
  let data: string;
  if (process.platform === 'win32') data = env.LOCALAPPDATA ?? path.join(home, 'AppData', 'Local');
  else if (process.platform === 'darwin') data = path.join(home, 'Library', 'Application Support');
  else data = env.XDG_DATA_HOME && path.isAbsolute(env.XDG_DATA_HOME) ? env.XDG_DATA_HOME : path.join(home, '.local', 'share');
  return path.join(data, 'vpdsr', 'models');
}

/** A model name usable as a folder name in the models folder. */
export function checkModelName(name: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/.test(name)) throw new OptionError(`model name ${JSON.stringify(name)}: use letters, digits, '.', '_' and '-' (no path separators)`);
  if (BUILTIN_MODELS.some((m) => m.name === name)) throw new OptionError(`model name ${name} is built in; choose another name`);
  return name;
}

export interface InstalledModel {
  name: string;
  /** 'bicubic' (built in) or model.json's kind. */
  kind: string;
  source: 'bundled' | 'installed';
  path?: string;
  /** Bytes on disk (installed models). */
  bytes?: number;
  /** Where it came from: the preset and source files, or the built-in note. */
  provenance: string;
  /** Set when the folder is there but is not a readable model. */
  error?: string;
}

function folderBytes(dir: string): number {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isFile()) n += statSync(path.join(dir, e.name)).size;
  return n;
}

/** The built-in models and those in the models folder (sorted by name; unreadable ones carry `error`). */
export function listModels(dir = modelsDir()): InstalledModel[] {
  const bundled = bundledModelDir();
  const out: InstalledModel[] = BUILTIN_MODELS.map((m) => ({ name: m.name, kind: m.kind, source: 'bundled', provenance: m.note, ...(m.name === BUNDLED_MODEL && bundled ? { path: bundled, bytes: folderBytes(bundled) } : {}) }));
  let names: string[] = [];
  try {
    names = readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory() && !e.name.startsWith('.')).map((e) => e.name).sort();
  } catch { /* no models folder yet */ }
  for (const name of names) {
    const p = path.join(dir, name);
    try {
      const j = readModelJson(p);
      const src = j.provenance.sources.map((s) => s.name).join(' + ');
      out.push({ name, kind: j.kind, source: 'installed', path: p, bytes: folderBytes(p), provenance: `${j.preset ?? 'trained'}${src ? ` from ${src}` : ''} (${j.provenance.createdBy})` });
    } catch (e) {
      out.push({ name, kind: 'unknown', source: 'installed', path: p, provenance: '', error: (e as Error).message.split('\n')[0] });
    }
  }
  return out;
}

/** The folder (or 'bicubic') a `model` option names: an existing folder as given, else a name in the models folder. */
export function resolveModel(model: string, dir = modelsDir()): string {
  if (model === BUNDLED_MODEL && bundledModelDir()) return bundledModelDir()!;
  if (BUILTIN_MODELS.some((m) => m.name === model)) return model;
  if (statSync(model, { throwIfNoEntry: false })?.isDirectory()) return model;
  const plainName = !/[/\\]/.test(model) && model !== '.' && model !== '..';
  if (plainName) {
    const p = path.join(dir, model);
    if (statSync(p, { throwIfNoEntry: false })?.isDirectory()) return p;
    const known = listModels(dir).map((m) => m.name);
    throw new OptionError(`model ${model}: not a folder and not installed in ${dir} (installed: ${known.join(', ')})${suggestion(model, known)}; see vpdsr models`);
  }
  return model; // a path: the model folder reader says what is wrong with it
}

export { DEFAULT_MODEL };
