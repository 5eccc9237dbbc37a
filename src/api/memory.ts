// Tile size from a memory budget (--max-memory, default from free RAM). What one tile costs is
// the model's business (Upscaler.tileBytes, src/models); what the whole image costs around the
// model (the merged output, colour fix, resize, alpha) is this layer's (imageBytes). An image whose
// estimate does not fit the budget even with the smallest tile is refused before any work.
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { DEFAULT_TILE, TILE_STEP, largestTile, type Upscaler } from '../models/pipeline.js';
import { MemoryError, OptionError } from './errors.js';

/** Parses 4G, 512M, 1.5GiB, 800MB, 1e9 (bytes). */
export function parseMemory(v: unknown): number {
  if (typeof v === 'number' && Number.isFinite(v) && v > 0) return Math.floor(v);
  const m = typeof v === 'string' ? /^\s*(\d+(?:\.\d+)?(?:e\d+)?)\s*([kmgt]?)(i?b)?\s*$/i.exec(v) : null;
  if (!m) throw new OptionError(`max memory must be a size like 4G, 512M or 2GiB, got ${JSON.stringify(v)}`);
  const mult = { '': 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40 }[m[2]!.toLowerCase() as '' | 'k' | 'm' | 'g' | 't'];
  const n = Math.floor(Number(m[1]) * mult);
  if (!(n >= 1)) throw new OptionError(`max memory must be positive, got ${JSON.stringify(v)}`);
  return n;
}

/** What a cgroup (v2) limit still allows this process tree, if one is set: os.freemem() does not see it. */
function cgroupRoom(): number | undefined {
  try {
    const max = readFileSync('/sys/fs/cgroup/memory.max', 'utf8').trim();
    if (!/^\d+$/.test(max)) return undefined;
    const cur = Number(readFileSync('/sys/fs/cgroup/memory.current', 'utf8').trim());
    return Math.max(0, Number(max) - (Number.isFinite(cur) ? cur : 0));
  } catch {
    return undefined;
  }
}

/** Default budget: three quarters of the RAM free now (the model is already loaded), within a cgroup's limit. */
export function defaultBudget(): number {
  const room = cgroupRoom();
  return Math.floor(Math.min(os.freemem(), room ?? Infinity) * 0.75);
}

/**
 * Bytes the whole image needs outside the tiles, per output pixel in float32: the merge's
 * accumulator (3) and weight (1), the merged result (3), colour-fix and resize copies (3 + 3),
 * alpha (1) — about the 56 bytes per output pixel measured for a bicubic run.
 */
export function imageBytes(outWidth: number, outHeight: number): number {
  return outWidth * outHeight * 4 * 14;
}

export interface TileChoice {
  /** LR px; 0 = the whole image in one piece. */
  tile: number;
  tileOverlap: number;
  /** Why: --tile given; the whole image fits one tile; the device default; smaller for the budget. */
  reason: 'given' | 'whole' | 'default' | 'budget';
  budget: number;
  estimate: number;
}

export interface TileRequest {
  width: number;
  height: number;
  /** Output size after --outscale/--width/--height (default ×4). */
  outWidth?: number;
  outHeight?: number;
  /** Bytes; default defaultBudget(). */
  maxMemory?: number;
  /** Parsed options (src/api/schema.ts): tile 0 or ≥ MIN_TILE, overlap ≤ half of it. */
  tile?: number;
  tileOverlap?: number;
  /** Names the image in a refusal. */
  name?: string;
}

const mib = (b: number): string => `${Math.ceil(b / 2 ** 20)} MiB`;

/**
 * The tile for an image: --tile when given; otherwise the model's largest tile within the budget
 * left after the whole-image buffers (Upscaler.tileBytes), or no tiling when the whole image fits in
 * one such tile. Throws MemoryError when the image cannot fit the budget at all.
 */
export function chooseTile(up: Pick<Upscaler, 'tileBytes' | 'maxTile' | 'device'>, r: TileRequest): TileChoice {
  const budget = r.maxMemory ?? defaultBudget();
  const overlapFor = (tile: number): number => (tile === 0 ? 0 : r.tileOverlap ?? Math.min(DEFAULT_TILE.overlap, Math.floor(tile / 2)));
  const fixed = imageBytes(Math.max(4 * r.width, r.outWidth ?? 0), Math.max(4 * r.height, r.outHeight ?? 0));
  const side = Math.max(r.width, r.height);
  const cost = (tile: number): number => fixed + (up.tileBytes?.(tile === 0 ? side : Math.min(tile, side)) ?? 0);
  const refuse = (need: number, what: string): never => {
    throw new MemoryError(`${r.name ? `${r.name}: ` : ''}${r.width}×${r.height} needs about ${mib(need)} ${what}, more than the memory budget of ${mib(budget)}; raise --max-memory (maxMemory), or use a smaller image`);
  };
  if (r.tile !== undefined) {
    const est = cost(r.tile);
    if (est > budget) refuse(est, `with tile ${r.tile}`);
    return { tile: r.tile, tileOverlap: overlapFor(r.tile), reason: 'given', budget, estimate: est };
  }
  if (up.tileBytes === undefined) {
    // A custom Upscaler without an estimate: its own default tile, the image buffers checked.
    if (fixed > budget) refuse(fixed, 'for its buffers');
    return { tile: DEFAULT_TILE.cpu, tileOverlap: overlapFor(DEFAULT_TILE.cpu), reason: 'default', budget, estimate: fixed };
  }
  const best = largestTile(up, budget - fixed);
  if (best === 0) refuse(cost(TILE_STEP), `even with ${TILE_STEP}-px tiles`);
  if (side <= best) return { tile: 0, tileOverlap: 0, reason: 'whole', budget, estimate: cost(0) };
  const cap = up.maxTile ?? DEFAULT_TILE.cpu;
  return { tile: best, tileOverlap: overlapFor(best), reason: best < cap ? 'budget' : 'default', budget, estimate: cost(best) };
}
