// A caching CPU allocator for LibTorch: freed blocks are kept by size class and reused, so that
// steady-state loops stop paying for fresh pages (ARCHITECTURE.md, "Memory").
#pragma once
#include <cstddef>
#include <cstdint>

namespace vpdsr {

struct AllocStats {
  uint64_t allocated = 0;  // bytes handed out and not yet returned
  uint64_t cached = 0;     // bytes held in the free lists
  uint64_t peak = 0;       // peak of allocated
  uint64_t hits = 0;
  uint64_t misses = 0;
};

// limitBytes: most bytes kept in the free lists (0 = default: a quarter of RAM, at most 8 GiB).
void installCachingAllocator(size_t limitBytes);
bool cachingAllocatorInstalled();
AllocStats allocatorStats();
void emptyCache();

}  // namespace vpdsr
