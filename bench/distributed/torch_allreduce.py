"""Dev reference for bench/distributed: the same all-reduce through torch.distributed with Gloo.
One rank per process, started by bench/distributed/run.ts with MASTER_ADDR, MASTER_PORT,
WORLD_SIZE, RANK set; prints one JSON line per size from rank 0. Uses Debian's python3-torch."""
import json
import os
import sys
import time

import torch
import torch.distributed as dist


def main():
    sizes = [int(s) for s in sys.argv[1].split(",")]
    seconds = float(sys.argv[2])
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method="env://")
    rank, world = dist.get_rank(), dist.get_world_size()
    for nbytes in sizes:
        t = torch.ones(nbytes // 4, dtype=torch.float32)
        for _ in range(3):
            dist.all_reduce(t)
        # Every rank runs the same number of iterations: rank 0 decides and broadcasts it.
        n = torch.tensor([0])
        t0 = time.perf_counter()
        dist.all_reduce(t)
        one = time.perf_counter() - t0
        if rank == 0:
            n[0] = max(3, min(200, int(seconds / max(one, 1e-6))))
        dist.broadcast(n, 0)
        dist.barrier()
        t0 = time.perf_counter()
        for _ in range(int(n[0])):
            dist.all_reduce(t)
        dt = (time.perf_counter() - t0) / int(n[0])
        if rank == 0:
            algbw = nbytes / dt / 1e9
            print(json.dumps({"bench": "allreduce", "impl": "torch.distributed-gloo", "torch": torch.__version__, "world": world,
                              "bytes": nbytes, "iters": int(n[0]), "ms": dt * 1e3, "algbw_GBps": algbw,
                              "busbw_GBps": algbw * 2 * (world - 1) / world}), flush=True)
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
