#include "allocator.h"

#include <c10/core/Allocator.h>
#include <c10/core/CPUAllocator.h>
#include <c10/util/Exception.h>

#include <cstdlib>
#include <mutex>
#include <unistd.h>
#include <unordered_map>
#include <vector>

namespace vpdsr {
namespace {

constexpr size_t kAlign = 64;

// Size classes: multiples of 512 B up to 64 KiB, then four classes per power of two (≤ 19% waste).
size_t roundSize(size_t n) {
  if (n <= 65536) return (n + 511) & ~size_t(511);
  size_t p = size_t(1) << (63 - __builtin_clzll(n));
  size_t q = p / 4;
  return (n + q - 1) / q * q;
}

class CachingCPUAllocator final : public c10::Allocator {
 public:
  explicit CachingCPUAllocator(size_t limit) : limit_(limit) {}

  c10::DataPtr allocate(size_t n) const override {
    // The DataPtr context equals the data pointer so that raw_deallocate(ptr) works too.
    void* p = self().take(n);
    return {p, p, &CachingCPUAllocator::deleter, c10::Device(c10::DeviceType::CPU)};
  }
  c10::DeleterFnPtr raw_deleter() const override { return &CachingCPUAllocator::deleter; }

  static void deleter(void* p);
  void* take(size_t n);
  void give(void* p);
  void trim(size_t keep);
  AllocStats stats() {
    std::lock_guard<std::mutex> l(m_);
    return s_;
  }

 private:
  CachingCPUAllocator& self() const { return const_cast<CachingCPUAllocator&>(*this); }
  std::mutex m_;
  size_t limit_;
  std::unordered_map<size_t, std::vector<void*>> free_;
  std::unordered_map<void*, size_t> size_;
  AllocStats s_;
};

CachingCPUAllocator* g_alloc = nullptr;  // deliberately leaked: tensors may outlive static destructors

void CachingCPUAllocator::deleter(void* p) {
  if (p && g_alloc) g_alloc->give(p);
}

void* CachingCPUAllocator::take(size_t n) {
  if (n == 0) return nullptr;
  TORCH_CHECK(n < (size_t(1) << 46), "DefaultCPUAllocator: can't allocate memory: you tried to allocate ", n,
              " bytes.");
  size_t c = roundSize(n);
  {
    std::lock_guard<std::mutex> l(m_);
    auto it = free_.find(c);
    if (it != free_.end() && !it->second.empty()) {
      void* p = it->second.back();
      it->second.pop_back();
      s_.cached -= c;
      s_.allocated += c;
      if (s_.allocated > s_.peak) s_.peak = s_.allocated;
      s_.hits++;
      return p;
    }
  }
  void* p = nullptr;
  if (posix_memalign(&p, kAlign, c) != 0 || !p) {
    trim(0);  // give the cache back and retry once
    if (posix_memalign(&p, kAlign, c) != 0 || !p)
      TORCH_CHECK(false, "DefaultCPUAllocator: can't allocate memory: you tried to allocate ", n, " bytes.");
  }
  std::lock_guard<std::mutex> l(m_);
  size_[p] = c;
  s_.allocated += c;
  if (s_.allocated > s_.peak) s_.peak = s_.allocated;
  s_.misses++;
  return p;
}

void CachingCPUAllocator::give(void* p) {
  std::unique_lock<std::mutex> l(m_);
  auto it = size_.find(p);
  if (it == size_.end()) {  // not ours (cannot happen with our deleter); never free blindly
    return;
  }
  size_t c = it->second;
  s_.allocated -= c;
  if (s_.cached + c > limit_) {
    size_.erase(it);
    l.unlock();
    std::free(p);
    return;
  }
  free_[c].push_back(p);
  s_.cached += c;
}

void CachingCPUAllocator::trim(size_t keep) {
  std::vector<void*> out;
  {
    std::lock_guard<std::mutex> l(m_);
    for (auto& kv : free_) {
      while (!kv.second.empty() && s_.cached > keep) {
        void* p = kv.second.back();
        kv.second.pop_back();
        s_.cached -= kv.first;
        size_.erase(p);
        out.push_back(p);
      }
    }
  }
  for (void* p : out) std::free(p);
}

size_t defaultLimit() {
  long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
  size_t ram = pages > 0 && page > 0 ? size_t(pages) * size_t(page) : (size_t(8) << 30);
  size_t lim = ram / 4;
  return lim > (size_t(8) << 30) ? (size_t(8) << 30) : lim;
}

}  // namespace

void installCachingAllocator(size_t limitBytes) {
  if (g_alloc) return;
  g_alloc = new CachingCPUAllocator(limitBytes ? limitBytes : defaultLimit());
  c10::SetCPUAllocator(g_alloc, /*priority=*/100);
}

bool cachingAllocatorInstalled() { return g_alloc != nullptr; }

AllocStats allocatorStats() { return g_alloc ? g_alloc->stats() : AllocStats{}; }

void emptyCache() {
  if (g_alloc) g_alloc->trim(0);
}

}  // namespace vpdsr
