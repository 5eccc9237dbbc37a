// Pairing of SR outputs with ground truth by key (shared/data/README.md "File names and pairing"):
// the file name without extension, with the trailing tokens _LR<n>, _LR, _HR, _SR, _out, _x<n>
// removed case-insensitively and repeatedly.
import path from 'node:path';
import { listImages } from '../data/dataset.js';

const SUFFIX = /(_lr\d*|_hr|_sr|_out|_x\d+)$/i;

/** `Canon_001_LR4.png` → `Canon_001`; `0801_x4_out.png` → `0801`. Keys compare case-insensitively. */
export function pairingKey(file: string): string {
  let stem = path.basename(file, path.extname(file));
  for (;;) {
    const m = SUFFIX.exec(stem);
    if (!m || m.index === 0) break;
    stem = stem.slice(0, m.index);
  }
  return stem;
}

export interface KeyedImage {
  /** The pairing key, lower-cased, with the sub-folder: `canon_001`, `day1/img_02`. */
  key: string;
  /** Path relative to the folder, as listed. */
  name: string;
  /** Absolute path. */
  path: string;
}

/** The images of a folder by key (lower-cased); two files with one key is an error naming both. */
export async function keyedFolder(dir: string, flag: string): Promise<Map<string, KeyedImage>> {
  let names: string[];
  try { names = await listImages(dir); } catch (e) { throw new Error(`${flag} ${dir}: ${(e as Error).message.replace(/^.*?: /, '')}`); }
  if (names.length === 0) throw new Error(`${flag} ${dir}: no images found`);
  const out = new Map<string, KeyedImage>();
  for (const name of names) {
    const key = pairingKey(name);
    const id = path.posix.join(path.posix.dirname(name), key).toLowerCase();
    const other = out.get(id);
    if (other) throw new Error(`${flag} ${dir}: ${other.name} and ${name} have the same key ${key}`);
    out.set(id, { key: id, name, path: path.resolve(dir, name) });
  }
  return out;
}
