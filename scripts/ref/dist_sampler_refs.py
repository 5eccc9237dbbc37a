"""Writes test/fixtures/dist/sampler.json: torch.utils.data.distributed.DistributedSampler's
indices (PyTorch 1.13) for a few lengths, world sizes, seeds, epochs and drop_last settings.
Run with Debian's python3-torch: /usr/bin/python3 scripts/ref/dist_sampler_refs.py"""
import json
import os

import torch
from torch.utils.data.distributed import DistributedSampler

cases = []
for length, world, seed, drop_last, shuffle in [
    (10, 2, 0, False, True), (10, 3, 0, False, True), (10, 3, 7, True, True),
    (5, 4, 3, False, True), (2, 3, 1, False, True), (9, 2, 0, False, False), (1000, 3, 12345, False, True),
]:
    for epoch in (0, 1, 5):
        for rank in range(world):
            s = DistributedSampler(list(range(length)), num_replicas=world, rank=rank, shuffle=shuffle, seed=seed, drop_last=drop_last)
            s.set_epoch(epoch)
            cases.append({"length": length, "worldSize": world, "rank": rank, "seed": seed, "dropLast": drop_last,
                          "shuffle": shuffle, "epoch": epoch, "indices": list(iter(s))})
out = os.path.join(os.path.dirname(__file__), "..", "..", "test", "fixtures", "dist", "sampler.json")
with open(out, "w") as f:
    json.dump({"torch": torch.__version__, "cases": cases}, f)
print(len(cases), "cases ->", os.path.normpath(out))
