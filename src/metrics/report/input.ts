// The report's input and its checks: every problem is one line that names the method, key or file.
import { stat } from 'node:fs/promises';

export interface ReportImage { key: string; name: string; path: string; values: Record<string, number | null> }
export interface ReportMethod { name: string; dir: string; images: ReportImage[]; mean: Record<string, number | null> }
export interface ReportInput {
  title?: string;
  metrics: { id: string; lowerBetter: boolean }[];
  methods: ReportMethod[];
  /** key → HR file path. */
  hr?: Record<string, string>;
  /** key → LR file path. */
  lr?: Record<string, string>;
}

export class ReportError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ReportError';
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
const q = (s: string): string => JSON.stringify(s);

/** Values of metrics that are not listed are allowed (and not shown); every value must be a number or null. */
function checkValues(where: string, values: unknown): void {
  if (!isObject(values)) throw new ReportError(`report: ${where} must be an object of metric values`);
  for (const [id, v] of Object.entries(values)) {
    if (v !== null && v !== undefined && typeof v !== 'number') throw new ReportError(`report: ${where}.${id} must be a number or null, got ${typeof v}`);
  }
}

function checkPathMap(what: 'hr' | 'lr', map: unknown, keys: string[]): Record<string, string> {
  if (!isObject(map)) throw new ReportError(`report: ${what} must be an object mapping image keys to file paths`);
  for (const [k, v] of Object.entries(map)) {
    if (typeof v !== 'string' || v.length === 0) throw new ReportError(`report: ${what}[${q(k)}] must be a non-empty file path`);
  }
  const absent = keys.filter((k) => !Object.hasOwn(map, k));
  if (absent.length > 0) throw new ReportError(`report: no ${what.toUpperCase()} image for ${absent.length === 1 ? 'key' : 'keys'} ${listShort(absent)}`);
  return map as Record<string, string>;
}

function listShort(items: string[], n = 5): string {
  const shown = items.slice(0, n).map(q).join(', ');
  return items.length > n ? `${shown} (+${items.length - n} more)` : shown;
}

/**
 * Checks the shape of the input and that its keys agree: every method has the same image keys
 * (each once), and HR / LR, when given, have a file for each of them. Returns the keys in the
 * first method's order.
 */
export function checkReportInput(input: unknown): string[] {
  if (!isObject(input)) throw new ReportError('report: input must be an object');
  if (input.title !== undefined && typeof input.title !== 'string') throw new ReportError('report: title must be a string');
  if (!Array.isArray(input.metrics)) throw new ReportError('report: metrics must be an array of { id, lowerBetter }');
  const ids = new Set<string>();
  for (const [i, m] of input.metrics.entries()) {
    if (!isObject(m) || typeof m.id !== 'string' || m.id.length === 0) throw new ReportError(`report: metrics[${i}] must have a non-empty string id`);
    if (typeof m.lowerBetter !== 'boolean') throw new ReportError(`report: metric ${q(m.id)} must have a boolean lowerBetter`);
    if (ids.has(m.id)) throw new ReportError(`report: metric ${q(m.id)} is listed twice`);
    ids.add(m.id);
  }
  if (!Array.isArray(input.methods) || input.methods.length === 0) throw new ReportError('report: methods must be a non-empty array');
  const names = new Set<string>();
  let keys: string[] | undefined;
  let firstName = '';
  for (const [i, m] of input.methods.entries()) {
    if (!isObject(m) || typeof m.name !== 'string' || m.name.length === 0) throw new ReportError(`report: methods[${i}] must have a non-empty string name`);
    const name = m.name;
    if (names.has(name)) throw new ReportError(`report: method ${q(name)} is listed twice`);
    names.add(name);
    if (typeof m.dir !== 'string') throw new ReportError(`report: method ${q(name)} must have a string dir`);
    checkValues(`method ${q(name)} mean`, m.mean);
    if (!Array.isArray(m.images) || m.images.length === 0) throw new ReportError(`report: method ${q(name)} must have a non-empty images array`);
    const own: string[] = [];
    const seen = new Set<string>();
    for (const [j, im] of m.images.entries()) {
      if (!isObject(im) || typeof im.key !== 'string' || im.key.length === 0) throw new ReportError(`report: method ${q(name)} images[${j}] must have a non-empty string key`);
      if (seen.has(im.key)) throw new ReportError(`report: method ${q(name)} has two images with key ${q(im.key)}`);
      seen.add(im.key);
      if (typeof im.name !== 'string' || im.name.length === 0) throw new ReportError(`report: method ${q(name)} image ${q(im.key)} must have a non-empty name`);
      if (typeof im.path !== 'string' || im.path.length === 0) throw new ReportError(`report: method ${q(name)} image ${q(im.key)} must have a non-empty path`);
      checkValues(`method ${q(name)} image ${q(im.key)}`, im.values);
      own.push(im.key);
    }
    if (keys === undefined) {
      keys = own;
      firstName = name;
    } else {
      const missing = keys.filter((k) => !seen.has(k));
      if (missing.length > 0) throw new ReportError(`report: method ${q(name)} has no image for ${missing.length === 1 ? 'key' : 'keys'} ${listShort(missing)} (present in ${q(firstName)})`);
      const have = new Set(keys);
      const extra = own.filter((k) => !have.has(k));
      if (extra.length > 0) throw new ReportError(`report: method ${q(name)} has ${extra.length === 1 ? 'an image' : 'images'} for ${listShort(extra)} that ${q(firstName)} lacks`);
    }
  }
  if (input.hr !== undefined) checkPathMap('hr', input.hr, keys!);
  if (input.lr !== undefined) checkPathMap('lr', input.lr, keys!);
  return keys!;
}

/** Every file the report reads, checked at once: the missing ones are named in one line. */
export async function checkFilesExist(paths: string[]): Promise<void> {
  const missing: string[] = [];
  await Promise.all(paths.map(async (p) => {
    const st = await stat(p).catch(() => undefined);
    if (!st || !st.isFile()) missing.push(p);
  }));
  if (missing.length > 0) {
    const ordered = paths.filter((p) => missing.includes(p));
    throw new ReportError(`report: ${ordered.length === 1 ? 'missing file' : `${ordered.length} missing files`}: ${ordered.slice(0, 5).join(', ')}${ordered.length > 5 ? ` (+${ordered.length - 5} more)` : ''}`);
  }
}
