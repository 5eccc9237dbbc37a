// -i FILE|DIR|GLOB (repeatable): the images a run works on, in a stable order.
// A folder gives its readable image files (not recursive, hidden files left out), sorted by name
// as Real-ESRGAN's `sorted(glob(os.path.join(input, '*')))`; a glob (tinyglobby: Node 20's fs has
// no glob) gives its matching image files, sorted. A file named explicitly is always taken, so a
// file that is not an image is reported as a failed input rather than silently dropped.
import { statSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { globSync, isDynamicPattern } from 'tinyglobby';
import { OptionError } from './errors.js';

/** Extensions of the formats readImage decodes (src/io/image/formats.ts READ_FORMATS). */
export const IMAGE_EXTENSIONS: readonly string[] = ['.png', '.jpg', '.jpeg', '.jpe', '.jfif', '.webp', '.tif', '.tiff', '.gif', '.avif', '.heic', '.heif'];

export function isImageName(file: string): boolean {
  return IMAGE_EXTENSIONS.includes(path.extname(file).toLowerCase());
}

export interface InputList {
  /** Files to process, each once (first occurrence wins), in argument order then name order. */
  files: string[];
  /** Arguments that named nothing: `{ input, reason }`, reported as failures of the run. */
  missing: { input: string; reason: string }[];
}

const byName = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** A folder's image files; an entry that cannot be followed (a symlink loop, a dangling or unreadable link) is reported, not fatal. */
function folderImages(dir: string, missing: InputList['missing']): string[] {
  const names: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.name.startsWith('.') || !isImageName(e.name)) continue;
    if (e.isFile()) { names.push(e.name); continue; }
    if (!e.isSymbolicLink()) continue;
    try {
      if (statSync(path.join(dir, e.name), { throwIfNoEntry: false })?.isFile()) names.push(e.name);
    } catch (err) {
      missing.push({ input: path.join(dir, e.name), reason: `cannot follow the link (${(err as NodeJS.ErrnoException).code ?? 'error'})` });
    }
  }
  return names.sort(byName).map((n) => path.join(dir, n));
}

/** Expands -i arguments. Throws OptionError only for an argument that is not a string. */
export function expandInputs(args: readonly string[]): InputList {
  if (!Array.isArray(args)) throw new OptionError('input must be a path or a list of paths');
  const files: string[] = [];
  const missing: InputList['missing'] = [];
  const seen = new Set<string>();
  const add = (f: string): void => {
    const key = path.resolve(f);
    if (!seen.has(key)) { seen.add(key); files.push(f); }
  };
  for (const arg of args) {
    if (typeof arg !== 'string' || arg.length === 0) throw new OptionError(`input must be a non-empty path, got ${JSON.stringify(arg)}`);
    let st: ReturnType<typeof statSync>;
    try {
      st = statSync(arg, { throwIfNoEntry: false });
    } catch (err) {
      missing.push({ input: arg, reason: `cannot read it (${(err as NodeJS.ErrnoException).code ?? 'error'})` });
      continue;
    }
    if (st?.isFile()) { add(arg); continue; }
    if (st?.isDirectory()) {
      let found: string[];
      try {
        found = folderImages(arg, missing);
      } catch (err) {
        missing.push({ input: arg, reason: `cannot list the folder (${(err as NodeJS.ErrnoException).code ?? 'error'})` });
        continue;
      }
      if (found.length === 0 && !missing.some((m) => m.input.startsWith(arg))) missing.push({ input: arg, reason: `the folder holds no image files (${IMAGE_EXTENSIONS.join(' ')})` });
      found.forEach(add);
      continue;
    }
    if (st) { missing.push({ input: arg, reason: 'not a regular file or folder' }); continue; }
    if (isDynamicPattern(arg)) {
      const found = globSync(arg, { onlyFiles: true, dot: false, expandDirectories: false, absolute: path.isAbsolute(arg) }).filter(isImageName).sort(byName);
      if (found.length === 0) missing.push({ input: arg, reason: 'the pattern matches no image files' });
      found.forEach(add);
      continue;
    }
    missing.push({ input: arg, reason: 'no such file or folder' });
  }
  return { files, missing };
}
