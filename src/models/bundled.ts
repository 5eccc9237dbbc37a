// The model that ships with vpdsr (models/vpdsr-x4 in the package, trained by `npm run
// train:default`): used when no model is named, and found by its name.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { MODEL_JSON, UNET_FILE } from './format.js';

export const BUNDLED_MODEL = 'vpdsr-x4';

/** The package's models folder (this file is dist/src/models/bundled.js). */
export function bundledModelsDir(): string {
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'models');
}

/** The bundled model's folder, or null when the package carries no weights for it. */
export function bundledModelDir(): string | null {
  const dir = path.join(bundledModelsDir(), BUNDLED_MODEL);
  return fs.existsSync(path.join(dir, MODEL_JSON)) && fs.existsSync(path.join(dir, UNET_FILE)) ? dir : null;
}

/** What `model` means when none is given: the bundled model, else the bicubic baseline. */
export function defaultModel(): string {
  return bundledModelDir() ?? 'bicubic';
}

/** A model option as a folder: the bundled model's name is its folder; anything else as given. */
export function resolveBundled(model: string): string {
  if (model !== BUNDLED_MODEL || fs.existsSync(model)) return model;
  const dir = bundledModelDir();
  if (!dir) throw new Error(`model ${BUNDLED_MODEL}: this installation carries no weights for it (models/${BUNDLED_MODEL}); train them with npm run train:default`);
  return dir;
}
