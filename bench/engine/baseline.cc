// The engine bench's reference: the same ops as bench/engine/run.ts, called from C++ on the same
// LibTorch, so that the ratio vpdsr / C++ is the binding's overhead. Built by run.ts in the same
// run (g++ -std=c++17 -D_GLIBCXX_USE_CXX11_ABI=1 ... -ltorch -ltorch_cpu -lc10 -fopenmp).
//
// usage: baseline CASE LAYOUT DTYPE THREADS MIN_SECONDS
//   CASE conv64 | conv128 | matmul1024 | resblock | tiny; LAYOUT nchw | cl; DTYPE fp32 | bf16
// prints one JSON line: {"ms": fastest ms per op, "median_ms", "reps": n} or {"error": "..."}
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/csrc/autograd/autograd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

namespace {

double now() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

// Fastest and median milliseconds of fn over at least 3 runs and at least minSeconds, after one
// warm-up run. The fastest is the figure compared: on a shared machine it is the least disturbed.
struct Timing { double min, median; int reps; };
Timing timeIt(const std::function<void()>& fn, double minSeconds, int inner = 1) {
  fn();
  std::vector<double> ms;
  double start = now();
  while (ms.size() < 3 || (now() - start < minSeconds && ms.size() < 200)) {
    double t0 = now();
    for (int i = 0; i < inner; i++) fn();
    ms.push_back((now() - t0) * 1000.0 / inner);
  }
  std::sort(ms.begin(), ms.end());
  return {ms[0], ms[ms.size() / 2], static_cast<int>(ms.size())};
}

std::string jsonEscape(const std::string& s) {
  std::string o;
  for (char c : s) {
    if (c == '"' || c == '\\') o += '\\';
    if (c == '\n') { o += "\\n"; continue; }
    o += c;
  }
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 6) {
    std::fprintf(stderr, "usage: baseline CASE LAYOUT DTYPE THREADS MIN_SECONDS\n");
    return 2;
  }
  std::string name = argv[1], layout = argv[2], dtype = argv[3];
  at::set_num_threads(std::atoi(argv[4]));
  double minSeconds = std::atof(argv[5]);
  at::ScalarType dt = dtype == "bf16" ? at::kBFloat16 : at::kFloat;
  auto mf = layout == "cl" ? at::MemoryFormat::ChannelsLast : at::MemoryFormat::Contiguous;
  at::manual_seed(0);
  auto rnd = [&](at::IntArrayRef s, bool grad = false) {
    at::Tensor t = at::randn(s).to(dt);
    if (t.dim() == 4) t = t.contiguous(mf);
    if (grad) t.set_requires_grad(true);
    return t;
  };
  try {
    Timing r;
    if (name == "conv64" || name == "conv128") {
      int64_t c = name == "conv64" ? 64 : 128, hw = name == "conv64" ? 64 : 256;
      at::NoGradGuard ng;
      at::Tensor x = rnd({1, c, hw, hw}), w = rnd({c, c, 3, 3}), b = rnd({c});
      r = timeIt([&] { at::conv2d(x, w, b, 1, 1); }, minSeconds);
    } else if (name == "matmul1024") {
      at::NoGradGuard ng;
      at::Tensor a = rnd({1024, 1024}), b = rnd({1024, 1024});
      r = timeIt([&] { at::matmul(a, b); }, minSeconds);
    } else if (name == "resblock") {
      // GroupNorm(32) -> SiLU -> conv3x3 -> GroupNorm(32) -> SiLU -> conv3x3, plus the skip.
      at::Tensor x = rnd({1, 128, 64, 64}, true);
      std::vector<at::Tensor> p = {rnd({128}, true), rnd({128}, true), rnd({128, 128, 3, 3}, true), rnd({128}, true),
                                   rnd({128}, true), rnd({128}, true), rnd({128, 128, 3, 3}, true), rnd({128}, true)};
      r = timeIt([&] {
        at::Tensor h = at::silu(at::group_norm(x, 32, p[0], p[1], 1e-5, true));
        h = at::conv2d(h, p[2], p[3], 1, 1);
        h = at::silu(at::group_norm(h, 32, p[4], p[5], 1e-5, true));
        h = at::conv2d(h, p[6], p[7], 1, 1);
        at::Tensor loss = at::add(x, h).sum();
        torch::autograd::backward({loss});
        x.mutable_grad().reset();
        for (auto& t : p) t.mutable_grad().reset();
      }, minSeconds);
    } else if (name == "tiny") {
      at::NoGradGuard ng;
      at::Tensor a = at::ones({1}), b = at::ones({1});
      r = timeIt([&] { at::add(a, b); }, minSeconds, 10000);
      std::printf("{\"us\": %.4f, \"median_us\": %.4f, \"reps\": %d}\n", r.min * 1000.0, r.median * 1000.0, r.reps);
      return 0;
    } else {
      std::printf("{\"error\": \"unknown case %s\"}\n", jsonEscape(name).c_str());
      return 0;
    }
    std::printf("{\"ms\": %.4f, \"median_ms\": %.4f, \"reps\": %d}\n", r.min, r.median, r.reps);
  } catch (const c10::Error& e) {
    std::printf("{\"error\": \"%s\"}\n", jsonEscape(e.what_without_backtrace()).c_str());
  } catch (const std::exception& e) {
    std::printf("{\"error\": \"%s\"}\n", jsonEscape(e.what()).c_str());
  }
  return 0;
}
