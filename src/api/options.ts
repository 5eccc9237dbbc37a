// Options enter vpdsr through one zod schema per entry point: the library checks its options
// object with it and the CLI checks the object it builds from its flags with the same schema, so
// each option is checked once, where it enters, with its default stated once (DEFAULTS), and the
// parsed object is what goes down the layers. parseOptions turns zod's first issue into one line
// (OptionError), an unknown key with a did-you-mean; the CLI names flags instead of keys.
import { z } from 'zod';
import { OptionError } from './errors.js';

export { z };

/** Levenshtein distance (small inputs: option names and flags). */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length]!;
}

/** The candidate closest to `word` (case-insensitive), if it is close enough to be a typo. */
export function didYouMean(word: string, candidates: Iterable<string>): string | undefined {
  const w = word.toLowerCase();
  let best: string | undefined, bestD = Infinity;
  for (const c of candidates) {
    const d = distance(w, c.toLowerCase());
    if (d < bestD) { best = c; bestD = d; }
  }
  if (best !== undefined && bestD <= Math.max(2, Math.floor(w.length / 3))) return best;
  // A part of the name (scale → outscale): the shortest candidate containing it.
  const part = [...candidates].filter((c) => w.length >= 3 && c.toLowerCase().includes(w)).sort((a, b) => a.length - b.length)[0];
  return part;
}

/** ` (did you mean X?)` or nothing. */
export function suggestion(word: string, candidates: Iterable<string>, show: (s: string) => string = (s) => s): string {
  const s = didYouMean(word, candidates);
  return s === undefined ? '' : ` (did you mean ${show(s)}?)`;
}

export interface ParseContext {
  /** What the options belong to, put in front of the message: `upscale(input, options)`, `vpdsr upscale`. */
  where: string;
  /** How a key is shown (the CLI shows `--tile-overlap` for tileOverlap). Default: the key. */
  label?: (key: string) => string;
}

function keysOf(schema: z.ZodType): string[] {
  const shape = (schema as unknown as { shape?: Record<string, unknown> }).shape;
  return shape ? Object.keys(shape) : [];
}

/** Turns zod's first issue into one line: `where: label: what is wrong`. */
export function issueLine(err: z.ZodError, schema: z.ZodType, ctx: ParseContext): string {
  const label = ctx.label ?? ((k: string) => k);
  const issue = err.issues[0]!;
  if (issue.code === 'unrecognized_keys') {
    const known = keysOf(schema);
    const k = issue.keys[0]!;
    return `${ctx.where}: unknown option ${label(k)}${suggestion(k, known, label)}`;
  }
  const key = issue.path.length > 0 ? issue.path.map(String).join('.') : '';
  return key ? `${ctx.where}: ${label(key)} ${issue.message}` : `${ctx.where}: ${issue.message}`;
}

/** Parses `value` with `schema`; throws OptionError with one line naming the option. */
export function parseOptions<S extends z.ZodType>(schema: S, value: unknown, ctx: ParseContext): z.output<S> {
  const r = schema.safeParse(value);
  if (!r.success) throw new OptionError(issueLine(r.error, schema, ctx));
  return r.data;
}

/** `got 3.5` for messages (JSON, strings quoted). */
export function shown(v: unknown): string {
  if (typeof v === 'function') return 'a function';
  if (v === undefined) return 'undefined';
  try { return JSON.stringify(v) ?? String(v); } catch { return String(v); }
}

/** An integer within [min, max], with a message that says so. */
export function intOption(min: number, max = Number.MAX_SAFE_INTEGER): z.ZodType<number> {
  const range = max < Number.MAX_SAFE_INTEGER ? `from ${min} to ${max}` : `>= ${min}`;
  return z.custom<number>((v) => typeof v === 'number' && Number.isSafeInteger(v) && v >= min && v <= max, {
    error: (iss) => `must be an integer ${range}, got ${shown(iss.input)}`,
  });
}

/** One of a list of strings. */
export function choice<T extends string>(values: readonly T[]): z.ZodType<T> {
  return z.custom<T>((v) => typeof v === 'string' && (values as readonly string[]).includes(v), {
    error: (iss) => `must be one of ${values.join(', ')}, got ${shown(iss.input)}${typeof iss.input === 'string' ? suggestion(iss.input, values) : ''}`,
  });
}

/** A function (callbacks). */
export function fn<T extends (...args: never[]) => unknown>(): z.ZodType<T> {
  return z.custom<T>((v) => typeof v === 'function', { error: (iss) => `must be a function, got ${shown(iss.input)}` });
}

/** A non-empty string (paths, names). */
export const nonEmpty = z.custom<string>((v) => typeof v === 'string' && v.length > 0, { error: (iss) => `must be a non-empty string, got ${shown(iss.input)}` });

/** true / false. */
export const flagOption = z.custom<boolean>((v) => typeof v === 'boolean', { error: (iss) => `must be true or false, got ${shown(iss.input)}` });
