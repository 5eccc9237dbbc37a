// Data-parallel training (torch.nn.parallel.DistributedDataParallel as torchrun starts it): the
// process group joined from the launch environment, each rank's part of the global batch, and the
// global batch's random draws sliced per rank so that N ranks compute what one process would.
import * as torch from '../engine/index.js';
import { Tensor } from '../engine/index.js';
import { distEnv, initProcessGroup, type ProcessGroup } from '../engine/distributed.js';
import { ConfigError } from './config.js';

export interface TrainDist { pg: ProcessGroup; rank: number; worldSize: number }

/** Joins the process group when WORLD_SIZE is set (a launched worker); null for a plain run. */
export async function joinGroup(env: NodeJS.ProcessEnv = process.env): Promise<TrainDist | null> {
  const e = distEnv(env);
  if (!e) return null;
  const pg = await initProcessGroup(e);
  return { pg, rank: pg.rank, worldSize: pg.worldSize };
}

/** This rank's share of data.batch (the global batch). */
export function localBatch(batch: number, dist: TrainDist | null): number {
  const w = dist?.worldSize ?? 1;
  if (batch % w !== 0) throw new ConfigError(`data.batch: ${batch} is not divisible by WORLD_SIZE ${w}`);
  return batch / w;
}

/** Rows [rank·n, (rank+1)·n) of a global-batch tensor (the whole tensor without a group). */
export function rankSlice(t: Tensor, dist: TrainDist | null): Tensor {
  if (!dist || dist.worldSize === 1) return t;
  const n = t.size(0) / dist.worldSize;
  return torch.scope(() => t.narrow(0, dist.rank * n, n).contiguous());
}

export function rankSliceList<T>(a: T[], dist: TrainDist | null): T[] {
  if (!dist || dist.worldSize === 1) return a;
  const n = a.length / dist.worldSize;
  return a.slice(dist.rank * n, (dist.rank + 1) * n);
}

/** A local batch shape with the global batch in front. */
export function globalShape(shape: number[], dist: TrainDist | null): number[] {
  return [shape[0]! * (dist?.worldSize ?? 1), ...shape.slice(1)];
}

/** True on every rank when any rank asks to stop (Ctrl-C on one worker stops them all). */
export async function anyRank(flag: boolean, dist: TrainDist | null): Promise<boolean> {
  if (!dist || dist.worldSize === 1) return flag;
  const t = torch.tensor([flag ? 1 : 0], { dtype: 'float32' });
  try {
    await dist.pg.allReduce(t, 'max');
    return t.item() > 0;
  } finally {
    t.dispose();
  }
}
