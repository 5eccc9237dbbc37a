// The metric registry: each metric is one MetricDef in a file of its own (src/metrics/defs/*.ts),
// registered by one import line in src/metrics/index.ts. docs/metrics.md shows how to add one.
import type { Tensor } from '../engine/index.js';

/** A public weight file a metric reads from the weights folder (never downloaded). */
export interface WeightFile {
  /** The file name as published, e.g. `alexnet-owt-7be5be79.pth`. */
  file: string;
  /** Where it is published. */
  url: string;
  /** What it is, for messages ("torchvision AlexNet ImageNet weights"). */
  what: string;
}

/** What a metric's factory receives. */
export interface MetricContext {
  /** Absolute paths of the metric's weight files, by public file name (all present). */
  weights: Map<string, string>;
  /** Device to compute on ('cpu', 'cuda', 'cuda:1'). */
  device: string;
}

/** A metric ready to run. Inputs are float32 (N, 3, H, W) RGB in [0, 1], as read from 8-bit files. */
export interface MetricInstance {
  /** Per-image metrics: one score per image of the batch; hr is given when the metric needs a reference. */
  score?(sr: Tensor, hr: Tensor | undefined): number[];
  /** Set metrics (FID): images are added batch by batch and one number comes out at the end. */
  add?(sr: Tensor, hr: Tensor | undefined): void;
  finish?(): number;
  dispose(): void;
}

export interface MetricDef {
  /** pyiqa's id (or vpdsr's where pyiqa's differs, see docs/metrics.md). */
  id: string;
  /** Other names accepted by --metrics (pyiqa spellings, upper case is always accepted). */
  aliases?: string[];
  description: string;
  lowerBetter: boolean;
  /** Full-reference: needs the HR image. */
  needsReference: boolean;
  /** 'image': a score per image, averaged; 'set': one score for the whole folder (FID). */
  kind: 'image' | 'set';
  /** Backbone / model files looked up in the weights folder under these names. */
  weights: WeightFile[];
  /** Smallest image side the metric accepts (a smaller image is refused with one line). */
  minSize?: number;
  create(ctx: MetricContext): MetricInstance;
}

const defs = new Map<string, MetricDef>();
const names = new Map<string, string>();

export function registerMetric(def: MetricDef): void {
  const all = [def.id, ...(def.aliases ?? [])].map((n) => n.toLowerCase());
  for (const n of all) if (names.has(n)) throw new Error(`metric name ${n} registered twice`);
  defs.set(def.id, def);
  for (const n of all) names.set(n, def.id);
}

/** The definition for an id or alias (case-insensitive), or undefined. */
export function findMetric(name: string): MetricDef | undefined {
  const id = names.get(name.trim().toLowerCase());
  return id === undefined ? undefined : defs.get(id);
}

/** All registered metrics in registration order. */
export function listMetrics(): MetricDef[] {
  return [...defs.values()];
}
