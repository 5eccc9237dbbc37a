// Process groups on LibTorch's c10d (ARCHITECTURE.md, "Beyond one machine"): rendezvous through
// c10d::TCPStore, ProcessGroupGloo for CPU tensors, ProcessGroupNCCL for CUDA tensors when the
// LibTorch has it. vpdsr writes no collective of its own.
//
// Collectives are enqueued on the JS thread, so every rank issues them in program order, and
// waited for on a worker thread (a promise), so the JS thread never blocks. Each rank beats a
// counter in the store; when a collective fails, the counters tell which rank was lost.
#include "handles.h"

#ifdef VPDSR_C10D
#include <ATen/Context.h>
#include <c10/util/Exception.h>
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroup.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#ifdef USE_C10D_GLOO
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#endif
#ifdef USE_C10D_NCCL
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif
#if defined(C10_USE_GLOG) && __has_include(<glog/logging.h>)
#include <glog/logging.h>
#define VPDSR_GLOG 1
#endif

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

namespace vpdsr {
namespace {

using Ms = std::chrono::milliseconds;

// The first line of an exception's message, without ATen's backtrace or gloo's "[file:line] ".
std::string messageOf(std::exception_ptr p) {
  std::string m;
  try {
    std::rethrow_exception(p);
  } catch (const c10::Error& e) {
    m = e.what_without_backtrace();
  } catch (const std::exception& e) {
    m = e.what();
  } catch (...) {
    m = "unknown native error";
  }
  size_t nl = m.find('\n');
  if (nl != std::string::npos) m.resize(nl);
  while (!m.empty() && m[0] == '[') {
    size_t close = m.find("] ");
    if (close == std::string::npos || m.find(':') > close) break;
    m.erase(0, close + 2);
  }
  return m;
}

std::vector<uint8_t> bytesOf(const std::string& s) { return std::vector<uint8_t>(s.begin(), s.end()); }
std::string stringOf(const std::vector<uint8_t>& v) { return std::string(v.begin(), v.end()); }

std::string seconds(Ms t) {
  double s = static_cast<double>(t.count()) / 1000.0;
  char buf[32];
  snprintf(buf, sizeof buf, "%g s", s);
  return buf;
}

std::string rankList(const std::vector<int>& r) {
  std::string s = r.size() == 1 ? "rank " : "ranks ";
  for (size_t i = 0; i < r.size(); i++) s += (i ? ", " : "") + std::to_string(r[i]);
  return s;
}

// The heartbeat: a thread that adds 1 to "vpdsr/beat/<rank>" every interval over its own store
// connection, until stopped or the store is gone.
struct Beat {
  std::mutex m;
  std::condition_variable cv;
  bool stop = false;
  c10::intrusive_ptr<c10d::TCPStore> store;
  Ms interval{1000};
  int rank = 0;
};

void beatLoop(std::shared_ptr<Beat> b) {
  const std::string key = "vpdsr/beat/" + std::to_string(b->rank);
  std::unique_lock<std::mutex> lk(b->m);
  while (!b->stop) {
    lk.unlock();
    try {
      b->store->add(key, 1);
    } catch (...) {
      return;  // the store host is gone: the next collective says so
    }
    lk.lock();
    b->cv.wait_for(lk, b->interval, [&] { return b->stop; });
  }
}

struct Group {
  int rank = 0, size = 1;
  std::string addr;
  int port = 0;
  Ms timeout{1800000};
  c10::intrusive_ptr<c10d::TCPStore> store;
  c10::intrusive_ptr<c10d::ProcessGroup> gloo, nccl;
  std::shared_ptr<Beat> beat;
  std::thread beatThread;
  std::mutex diagMu;   // one diagnosis at a time (it sleeps: never taken on the JS thread)
  std::mutex failMu;   // guards `failed` only, held briefly
  std::string failed;  // set once a collective failed: the group is unusable after that

  // Why a collective failed: the ranks whose heartbeat stopped, or the store host being gone.
  std::string diagnose(const std::string& cause) {
    std::lock_guard<std::mutex> diag(diagMu);
    {
      std::lock_guard<std::mutex> lk(failMu);
      if (!failed.empty()) return failed;
    }
    std::vector<int> lost;
    bool storeGone = false;
    try {
      auto key = [](int r) { return "vpdsr/beat/" + std::to_string(r); };
      std::vector<int64_t> before(size);
      for (int r = 0; r < size; r++) before[r] = store->add(key(r), 0);
      std::this_thread::sleep_for(beat->interval * 3);
      for (int r = 0; r < size; r++) {
        if (r != rank && store->add(key(r), 0) == before[r]) lost.push_back(r);
      }
    } catch (...) {
      storeGone = true;
    }
    std::string why;
    if (storeGone && rank != 0) {
      why = "lost rank 0 (the rendezvous store it hosts at " + addr + ":" + std::to_string(port) + " stopped answering)";
    } else if (!lost.empty()) {
      why = "lost " + rankList(lost) + " (its process stopped: no heartbeat for " + seconds(beat->interval * 3) + ")";
    } else {
      why = "every rank is alive (a collective timed out after " + seconds(timeout) +
            " or was called in a different order on another rank)";
    }
    std::lock_guard<std::mutex> lk(failMu);
    failed = why + ": " + cause;
    return failed;
  }

  ~Group() { stopBeat(); }

  // Stops the heartbeat without waiting for it (a store call in flight may take a while).
  void stopBeat() {
    if (!beat) return;
    {
      std::lock_guard<std::mutex> lk(beat->m);
      beat->stop = true;
    }
    beat->cv.notify_all();
    if (beatThread.joinable()) beatThread.detach();
  }
};

// Never destroyed: at process exit a group must not be torn down under running threads.
std::mutex& gMu = *new std::mutex;
std::unordered_map<int, std::shared_ptr<Group>>& gGroups = *new std::unordered_map<int, std::shared_ptr<Group>>;
int gNextId = 1;

std::shared_ptr<Group> groupArg(const Napi::Value& v) {
  if (!v.IsNumber()) throw std::runtime_error("process group: expected a group id");
  int id = v.As<Napi::Number>().Int32Value();
  std::lock_guard<std::mutex> lk(gMu);
  auto it = gGroups.find(id);
  if (it == gGroups.end()) throw std::runtime_error("process group: it was destroyed or never created");
  return it->second;
}

template <typename F>
Napi::Value guardedD(const Napi::CallbackInfo& info, const char* where, F&& f) {
  Napi::Env env = info.Env();
  std::string msg;
  try {
    return f(env);
  } catch (const Napi::Error&) {
    throw;
  } catch (...) {
    msg = messageOf(std::current_exception());
  }
  throw Napi::Error::New(env, std::string(where) + ": " + msg);
}

// A promise settled from a worker thread: Execute runs `work` off the JS thread, `done` builds
// the result on the JS thread.
class PromiseWorker : public Napi::AsyncWorker {
 public:
  PromiseWorker(Napi::Env env, std::function<void()> work, std::function<Napi::Value(Napi::Env)> done)
      : Napi::AsyncWorker(env, "vpdsr.distributed"), deferred_(Napi::Promise::Deferred::New(env)),
        work_(std::move(work)), done_(std::move(done)) {}
  Napi::Promise Promise() { return deferred_.Promise(); }

 protected:
  void Execute() override {
    try {
      work_();
    } catch (...) {
      SetError(messageOf(std::current_exception()));
    }
  }
  void OnOK() override {
    Napi::Env env = Env();
    try {
      deferred_.Resolve(done_ ? done_(env) : env.Undefined());
    } catch (const Napi::Error& e) {
      deferred_.Reject(e.Value());
    } catch (...) {
      deferred_.Reject(Napi::Error::New(env, messageOf(std::current_exception())).Value());
    }
  }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  std::function<void()> work_;
  std::function<Napi::Value(Napi::Env)> done_;
};

Napi::Value settle(Napi::Env env, std::function<void()> work, std::function<Napi::Value(Napi::Env)> done = nullptr) {
  auto* w = new PromiseWorker(env, std::move(work), std::move(done));
  Napi::Promise p = w->Promise();
  w->Queue();
  return p;
}

// c10d logs each failed connection attempt to stderr before throwing; the error we raise says it
// in one line, so the log is silenced while the store connects.
struct QuietLogs {
#ifdef VPDSR_GLOG
  int prev = FLAGS_minloglevel;
  QuietLogs() { FLAGS_minloglevel = std::max(prev, 3); }
  ~QuietLogs() { FLAGS_minloglevel = prev; }
#endif
};

bool isLoopback(const std::string& a) { return a == "localhost" || a.rfind("127.", 0) == 0 || a == "::1"; }

// The rendezvous, run off the JS thread: store, join checks, heartbeat, process groups.
void initGroup(Group& g, bool wantNccl) {
  const std::string where = g.addr + ":" + std::to_string(g.port);
  c10d::TCPStoreOptions so;
  so.port = static_cast<uint16_t>(g.port);
  so.isServer = g.rank == 0;
  so.numWorkers = static_cast<size_t>(g.size);
  so.waitWorkers = false;  // the join below says which rank is missing
  so.timeout = g.timeout;
  try {
    QuietLogs quiet;
    g.store = c10::make_intrusive<c10d::TCPStore>(g.addr, so);
  } catch (...) {
    std::string m = messageOf(std::current_exception());
    if (g.rank == 0) throw std::runtime_error("rendezvous: rank 0 cannot serve the store on MASTER_PORT=" + std::to_string(g.port) + " (" + m + ")");
    throw std::runtime_error("rendezvous: cannot reach the store at MASTER_ADDR:MASTER_PORT=" + where + " within " +
                             seconds(g.timeout) + " (is rank 0 running with the same MASTER_ADDR and MASTER_PORT?)");
  }
  const std::string me = std::to_string(g.rank);
  auto sizeKey = [](int r) { return "vpdsr/size/" + std::to_string(r); };
  auto readKey = [](int r) { return "vpdsr/read/" + std::to_string(r); };
  if (g.store->add("vpdsr/claim/" + me, 1) > 1) {
    throw std::runtime_error("rendezvous: RANK=" + me + " is already taken by another process (give every process its own RANK)");
  }
  g.store->set(sizeKey(g.rank), bytesOf(std::to_string(g.size)));
  const std::string checkAll = " (check WORLD_SIZE, RANK, MASTER_ADDR and MASTER_PORT on every process)";
  if (g.rank == 0) {
    std::vector<std::string> keys;
    for (int r = 1; r < g.size; r++) keys.push_back(sizeKey(r));
    try {
      if (!keys.empty()) g.store->wait(keys, g.timeout);
    } catch (...) {
      std::vector<int> missing;
      for (int r = 1; r < g.size; r++) {
        if (!g.store->check({sizeKey(r)})) missing.push_back(r);
      }
      throw std::runtime_error("rendezvous: " + rankList(missing) + " of WORLD_SIZE=" + std::to_string(g.size) +
                               " did not join within " + seconds(g.timeout) + checkAll);
    }
    for (int r = 1; r < g.size; r++) {
      std::string theirs = stringOf(g.store->get(sizeKey(r)));
      if (theirs != std::to_string(g.size)) {
        // Keep the store (hosted here) up until every rank has read rank 0's WORLD_SIZE, so that each
        // reports the mismatch itself instead of a lost connection when this process exits.
        std::vector<std::string> read;
        for (int q = 1; q < g.size; q++) read.push_back(readKey(q));
        try {
          g.store->wait(read, std::min<Ms>(g.timeout, Ms(5000)));
        } catch (...) {
        }
        throw std::runtime_error("rendezvous: rank " + std::to_string(r) + " has WORLD_SIZE=" + theirs +
                                 " but rank 0 has WORLD_SIZE=" + std::to_string(g.size) + checkAll);
      }
    }
  } else {
    std::string theirs;
    const auto asked = std::chrono::steady_clock::now();
    try {
      theirs = stringOf(g.store->get(sizeKey(0)));
    } catch (...) {
      // A get that fails well before the timeout lost rank 0's store (rank 0 exited); say so, not "timed out".
      if (std::chrono::steady_clock::now() - asked < g.timeout / 2) {
        throw std::runtime_error("rendezvous: lost the connection to rank 0 at " + where +
                                 " before it published its WORLD_SIZE (rank 0 exited; see its message)" + checkAll);
      }
      throw std::runtime_error("rendezvous: rank 0 did not publish its WORLD_SIZE within " + seconds(g.timeout) + checkAll);
    }
    g.store->add(readKey(g.rank), 1);
    if (theirs != std::to_string(g.size)) {
      throw std::runtime_error("rendezvous: WORLD_SIZE=" + std::to_string(g.size) + " here but rank 0 has WORLD_SIZE=" + theirs + checkAll);
    }
  }

  // The heartbeat, over a second connection so that it never interleaves with the group's calls.
  g.beat = std::make_shared<Beat>();
  g.beat->rank = g.rank;
  g.beat->interval = std::max(Ms(50), std::min(Ms(1000), g.timeout / 8));
  c10d::TCPStoreOptions co = so;
  co.isServer = false;
  g.beat->store = c10::make_intrusive<c10d::TCPStore>(g.addr, co);
  g.beat->store->add("vpdsr/beat/" + me, 1);
  g.beatThread = std::thread(beatLoop, g.beat);

#ifdef USE_C10D_GLOO
  try {
    auto opts = c10d::ProcessGroupGloo::Options::create(g.timeout);
    if (const char* ifn = std::getenv("GLOO_SOCKET_IFNAME")) {
      std::string list = ifn;
      size_t pos = 0;
      while (pos <= list.size()) {
        size_t comma = list.find(',', pos);
        std::string name = list.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
        if (!name.empty()) opts->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(name));
        if (comma == std::string::npos) break;
        pos = comma + 1;
      }
    } else if (isLoopback(g.addr)) {
      // Every rank is on this machine: keep the traffic on loopback.
      opts->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1"));
    } else {
      opts->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
    }
    opts->threads = static_cast<int>(opts->devices.size()) * 2;  // as torch.distributed does
    g.gloo = c10::make_intrusive<c10d::ProcessGroupGloo>(c10::make_intrusive<c10d::PrefixStore>("gloo", g.store), g.rank, g.size, opts);
  } catch (...) {
    throw std::runtime_error("rendezvous (gloo): " + messageOf(std::current_exception()));
  }
#endif
#ifdef USE_C10D_NCCL
  if (wantNccl && at::hasCUDA()) {
    // Without blocking wait, wait() returns before the kernel ends and a lost peer hangs it.
    setenv("NCCL_BLOCKING_WAIT", "1", 0);
    auto opts = c10d::ProcessGroupNCCL::Options::create();
    opts->timeout = g.timeout;
    g.nccl = c10::make_intrusive<c10d::ProcessGroupNCCL>(c10::make_intrusive<c10d::PrefixStore>("nccl", g.store), g.rank, g.size, opts);
  }
#else
  (void)wantNccl;
#endif
}

// init({rank, size, addr, port, timeoutMs, nccl}) -> Promise<group id>
Napi::Value Init(const Napi::CallbackInfo& info) {
  return guardedD(info, "distributed.init", [&](Napi::Env env) -> Napi::Value {
    if (info.Length() < 1 || !info[0].IsObject()) throw std::runtime_error("expected an options object");
    Napi::Object o = info[0].As<Napi::Object>();
    auto g = std::make_shared<Group>();
    g->rank = o.Get("rank").As<Napi::Number>().Int32Value();
    g->size = o.Get("size").As<Napi::Number>().Int32Value();
    g->addr = o.Get("addr").As<Napi::String>().Utf8Value();
    g->port = o.Get("port").As<Napi::Number>().Int32Value();
    g->timeout = Ms(static_cast<int64_t>(o.Get("timeoutMs").As<Napi::Number>().DoubleValue()));
    bool wantNccl = o.Get("nccl").ToBoolean().Value();
    if (g->size < 1 || g->rank < 0 || g->rank >= g->size || g->port < 1 || g->port > 65535 || g->timeout.count() < 1) {
      throw std::runtime_error("invalid rank, size, port or timeout");
    }
    auto id = std::make_shared<int>(0);
    return settle(
        env,
        [g, wantNccl, id] {
          try {
            initGroup(*g, wantNccl);
          } catch (...) {
            g->stopBeat();
            throw;
          }
          std::lock_guard<std::mutex> lk(gMu);
          *id = gNextId++;
          gGroups[*id] = g;
        },
        [id](Napi::Env env) -> Napi::Value { return Napi::Number::New(env, *id); });
  });
}

// The group that serves tensors on this device.
c10::intrusive_ptr<c10d::ProcessGroup> groupFor(Group& g, const std::vector<at::Tensor>& ts) {
  bool cuda = !ts.empty() && ts[0].is_cuda();
  for (const auto& t : ts) {
    if (t.is_cuda() != cuda) throw std::runtime_error("tensors must all be on CPU or all on CUDA");
  }
  if (cuda) {
    if (!g.nccl) throw std::runtime_error("CUDA tensors need NCCL, which this LibTorch build lacks (a CUDA LibTorch adds it)");
    return g.nccl;
  }
  if (!g.gloo) throw std::runtime_error("CPU tensors need Gloo, which this build lacks (install libgloo-dev and rebuild the addon)");
  return g.gloo;
}

void checkUsable(Group& g) {
  std::lock_guard<std::mutex> lk(g.failMu);
  if (!g.failed.empty()) throw std::runtime_error("the process group failed earlier: " + g.failed);
}

std::vector<at::Tensor> tensorList(Napi::Env env, const Napi::Value& v) {
  if (!v.IsArray()) throw std::runtime_error("expected an array of tensor handles");
  Napi::Array a = v.As<Napi::Array>();
  std::vector<at::Tensor> out;
  for (uint32_t i = 0; i < a.Length(); i++) out.push_back(tensorArg(env, a.Get(i), "tensor"));
  return out;
}

// Waits for `works` off the JS thread, turning a failure into "op: <diagnosis>: <cause>".
Napi::Value waitFor(Napi::Env env, std::shared_ptr<Group> g, std::vector<c10::intrusive_ptr<c10d::Work>> works, std::string op,
                    std::function<void()> after, std::function<Napi::Value(Napi::Env)> done = nullptr) {
  return settle(
      env,
      [g, works, op, after] {
        try {
          // Gloo bounds each operation by the group's timeout; the margin only guards that bound.
          for (const auto& w : works) w->wait(g->timeout + Ms(5000));
        } catch (...) {
          std::string cause = messageOf(std::current_exception());
          throw std::runtime_error(op + ": " + g->diagnose(cause));
        }
        if (after) after();
      },
      std::move(done));
}

// allReduce(group, tensors, op) -> Promise<void>; op: sum | avg | max | min | product, in place.
Napi::Value AllReduce(const Napi::CallbackInfo& info) {
  return guardedD(info, "allReduce", [&](Napi::Env env) -> Napi::Value {
    auto g = groupArg(info[0]);
    checkUsable(*g);
    std::vector<at::Tensor> ts = tensorList(env, info[1]);
    std::string op = info[2].As<Napi::String>().Utf8Value();
    c10d::AllreduceOptions opts;
    if (op == "sum" || op == "avg") opts.reduceOp = c10d::ReduceOp::SUM;  // Gloo has no AVG: sum, then divide
    else if (op == "max") opts.reduceOp = c10d::ReduceOp::MAX;
    else if (op == "min") opts.reduceOp = c10d::ReduceOp::MIN;
    else if (op == "product") opts.reduceOp = c10d::ReduceOp::PRODUCT;
    else throw std::runtime_error("unknown reduce op " + op);
    auto pg = groupFor(*g, ts);
    // A list in c10d means one tensor per device, reduced together; ours are independent tensors,
    // so each is its own operation (queued back to back, they run concurrently on Gloo's threads).
    std::vector<c10::intrusive_ptr<c10d::Work>> works;
    for (auto& t : ts) {
      std::vector<at::Tensor> one{t};
      works.push_back(pg->allreduce(one, opts));
    }
    std::function<void()> after;
    if (op == "avg") {
      int size = g->size;
      after = [ts, size] {
        for (const auto& t : ts) t.div_(size);
      };
    }
    return waitFor(env, g, works, "allReduce", after);
  });
}

// broadcast(group, tensors, src) -> Promise<void>, in place.
Napi::Value Broadcast(const Napi::CallbackInfo& info) {
  return guardedD(info, "broadcast", [&](Napi::Env env) -> Napi::Value {
    auto g = groupArg(info[0]);
    checkUsable(*g);
    std::vector<at::Tensor> ts = tensorList(env, info[1]);
    c10d::BroadcastOptions opts;
    opts.rootRank = info[2].As<Napi::Number>().Int32Value();
    auto pg = groupFor(*g, ts);
    std::vector<c10::intrusive_ptr<c10d::Work>> works;
    for (auto& t : ts) {
      std::vector<at::Tensor> one{t};
      works.push_back(pg->broadcast(one, opts));
    }
    return waitFor(env, g, works, "broadcast", nullptr);
  });
}

// allGather(group, tensor) -> Promise<handle[]>: one new tensor per rank, in rank order.
Napi::Value AllGather(const Napi::CallbackInfo& info) {
  return guardedD(info, "allGather", [&](Napi::Env env) -> Napi::Value {
    auto g = groupArg(info[0]);
    checkUsable(*g);
    std::vector<at::Tensor> in{tensorArg(env, info[1], "tensor")};
    auto pg = groupFor(*g, in);
    auto outs = std::make_shared<std::vector<std::vector<at::Tensor>>>(1);
    for (int r = 0; r < g->size; r++) (*outs)[0].push_back(at::empty_like(in[0], in[0].options(), at::MemoryFormat::Contiguous));
    auto work = pg->allgather(*outs, in);
    return waitFor(env, g, {work}, "allGather", nullptr, [outs](Napi::Env env) -> Napi::Value {
      Napi::Array a = Napi::Array::New(env, (*outs)[0].size());
      for (size_t i = 0; i < (*outs)[0].size(); i++) a.Set(static_cast<uint32_t>(i), Napi::Number::New(env, newHandle(env, (*outs)[0][i])));
      return a;
    });
  });
}

// barrier(group) -> Promise<void>
Napi::Value Barrier(const Napi::CallbackInfo& info) {
  return guardedD(info, "barrier", [&](Napi::Env env) -> Napi::Value {
    auto g = groupArg(info[0]);
    checkUsable(*g);
    auto pg = g->gloo ? g->gloo : g->nccl;
    if (!pg) throw std::runtime_error("no process-group backend in this build");
    return waitFor(env, g, {pg->barrier()}, "barrier", nullptr);
  });
}

// destroy(group) -> Promise<void>: stops the heartbeat and releases the groups off the JS thread.
Napi::Value Destroy(const Napi::CallbackInfo& info) {
  return guardedD(info, "destroy", [&](Napi::Env env) -> Napi::Value {
    std::shared_ptr<Group> g;
    {
      int id = info[0].As<Napi::Number>().Int32Value();
      std::lock_guard<std::mutex> lk(gMu);
      auto it = gGroups.find(id);
      if (it == gGroups.end()) return settle(env, [] {});
      g = it->second;
      gGroups.erase(it);
    }
    g->stopBeat();
    return settle(env, [g] {
      g->gloo.reset();
      g->nccl.reset();
      g->store.reset();
    });
  });
}

// backends() -> {gloo, nccl, ncclUsable}: what this build can do.
Napi::Value Backends(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("store", true);
#ifdef USE_C10D_GLOO
  o.Set("gloo", true);
#else
  o.Set("gloo", false);
#endif
#ifdef USE_C10D_NCCL
  o.Set("nccl", true);
  o.Set("ncclUsable", at::hasCUDA());
#else
  o.Set("nccl", false);
  o.Set("ncclUsable", false);
#endif
  return o;
}

// At exit: stop the heartbeats; the groups are left to the process's end, since tearing down a
// group whose peer is gone can block for the whole timeout.
void atExit(void*) {
  std::lock_guard<std::mutex> lk(gMu);
  for (auto& kv : gGroups) {
    kv.second->stopBeat();
    if (kv.second->gloo) (void)kv.second->gloo.release();
    if (kv.second->nccl) (void)kv.second->nccl.release();
    if (kv.second->store) (void)kv.second->store.release();
  }
  gGroups.clear();
}

}  // namespace

void registerDistributed(Napi::Env env, Napi::Object exports) {
  static std::once_flag hookOnce;
  std::call_once(hookOnce, [&] { napi_add_env_cleanup_hook(env, atExit, nullptr); });
  auto fn = [&](const char* name, Napi::Function::Callback cb) { exports.Set(name, Napi::Function::New(env, cb, name)); };
  fn("distInit", Init);
  fn("distAllReduce", AllReduce);
  fn("distBroadcast", Broadcast);
  fn("distAllGather", AllGather);
  fn("distBarrier", Barrier);
  fn("distDestroy", Destroy);
  fn("distBackends", Backends);
}

}  // namespace vpdsr

#else  // a LibTorch without torch/csrc/distributed: report no backend

namespace vpdsr {
void registerDistributed(Napi::Env env, Napi::Object exports) {
  exports.Set("distBackends", Napi::Function::New(env, [](const Napi::CallbackInfo& info) -> Napi::Value {
    Napi::Object o = Napi::Object::New(info.Env());
    o.Set("store", false);
    o.Set("gloo", false);
    o.Set("nccl", false);
    o.Set("ncclUsable", false);
    return o;
  }, "distBackends"));
}
}  // namespace vpdsr

#endif
