// vpdsr native addon: tensor handles, boxed ATen dispatch by schema name, errors, allocator,
// threads. No model logic lives here (see ARCHITECTURE.md, "The native binding").
#include <napi.h>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <ATen/core/dispatch/Dispatcher.h>
#include <ATen/core/grad_mode.h>
#include <c10/core/CPUAllocator.h>
#include <c10/util/Logging.h>
#include <torch/csrc/autograd/autograd.h>
#include <torch/version.h>

#include <cstdlib>
#include <cstring>
#include <mutex>
#include <sched.h>
#include <string>
#include <unordered_map>
#include <vector>

#include "allocator.h"
#include "handles.h"

namespace {

// Handles are slot + generation * 2^24 so that a stale handle to a reused slot is detected.
constexpr double kSlotSpan = 16777216.0;

struct OpEntry {
  c10::OperatorHandle op;
  std::string label;              // "aten::name", the prefix of its error messages
  std::vector<std::string> what;  // "argument 'x'" for each schema argument
};

struct Instance {
  std::vector<at::Tensor> tensors{at::Tensor()};
  std::vector<uint32_t> generation{0};
  // External memory is reported per storage, not per handle: views share their base's bytes.
  std::vector<const void*> storageKey{nullptr};
  std::unordered_map<const void*, std::pair<int64_t, int64_t>> storages;  // storage -> (handles, bytes)
  std::vector<uint32_t> freeSlots;
  size_t live = 0;
  std::unordered_map<std::string, c10::OperatorHandle> ops;
  std::vector<struct OpEntry> opList;
  std::unordered_map<std::string, size_t> opIds;
  int64_t pendingExternal = 0;  // external-memory change not yet told to V8 (batched)
  std::vector<at::Generator> generators;
};

Instance& inst(const Napi::Env& env) { return *env.GetInstanceData<Instance>(); }

struct VError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Host bytes a handle keeps alive, as a hint for V8's GC. Meta and CUDA storage is not host memory
// (a meta tensor of 2^40 elements must not tell V8 that 4 TB are held).
int64_t tensorBytes(const at::Tensor& t) {
  if (!t.defined() || !t.has_storage() || !t.device().is_cpu()) return 0;
  return static_cast<int64_t>(t.storage().nbytes());
}

// Tells V8 about external memory in steps of at least 1 MiB: a call per small tensor costs more
// than the tensor, and V8 only needs the figure for its GC heuristics.
void reportExternal(Napi::Env env, Instance& I, int64_t delta) {
  I.pendingExternal += delta;
  if (I.pendingExternal >= (1 << 20) || I.pendingExternal <= -(1 << 20)) {
    Napi::MemoryManagement::AdjustExternalMemory(env, I.pendingExternal);
    I.pendingExternal = 0;
  }
}

double addTensor(Napi::Env env, at::Tensor t) {
  Instance& I = inst(env);
  uint32_t slot;
  if (!I.freeSlots.empty()) {
    slot = I.freeSlots.back();
    I.freeSlots.pop_back();
  } else {
    slot = static_cast<uint32_t>(I.tensors.size());
    if (slot >= (1u << 24)) throw VError("too many live tensors (16M): dispose tensors or use scope()");
    I.tensors.emplace_back();
    I.generation.push_back(0);
    I.storageKey.push_back(nullptr);
  }
  int64_t bytes = tensorBytes(t);
  I.tensors[slot] = std::move(t);
  const void* key = nullptr;
  if (bytes) {
    key = I.tensors[slot].storage().unsafeGetStorageImpl();
    auto& e = I.storages[key];
    if (e.first++ == 0) {
      e.second = bytes;
      reportExternal(env, I, bytes);
    }
  }
  I.storageKey[slot] = key;
  I.live++;
  return static_cast<double>(slot) + static_cast<double>(I.generation[slot]) * kSlotSpan;
}

uint32_t slotOf(Instance& I, double h) {
  if (!(h >= 1) || h != h || h > 9.0e15) return 0;
  uint64_t v = static_cast<uint64_t>(h);
  uint32_t slot = static_cast<uint32_t>(v % (1ull << 24));
  uint32_t gen = static_cast<uint32_t>(v >> 24);
  if (slot == 0 || slot >= I.tensors.size() || I.generation[slot] != gen || !I.tensors[slot].defined()) return 0;
  return slot;
}

at::Tensor& getTensor(Napi::Env env, const Napi::Value& v, const char* what = "tensor") {
  Instance& I = inst(env);
  if (!v.IsNumber()) throw VError(std::string(what) + ": expected a tensor handle");
  uint32_t slot = slotOf(I, v.As<Napi::Number>().DoubleValue());
  if (!slot) throw VError(std::string(what) + ": tensor was disposed or is invalid");
  return I.tensors[slot];
}

void releaseSlot(Napi::Env env, uint32_t slot) {
  Instance& I = inst(env);
  I.tensors[slot] = at::Tensor();
  if (const void* key = I.storageKey[slot]) {
    auto it = I.storages.find(key);
    if (it != I.storages.end() && --it->second.first == 0) {
      reportExternal(env, I, -it->second.second);
      I.storages.erase(it);
    }
  }
  I.storageKey[slot] = nullptr;
  I.generation[slot] = (I.generation[slot] + 1) % (1u << 28);
  I.freeSlots.push_back(slot);
  I.live--;
}

// ---------------------------------------------------------------------------------------------
// Errors: every C++ exception becomes a JS Error with ATen's message (without the backtrace).

template <typename F>
Napi::Value guarded(const Napi::CallbackInfo& info, const std::string& where, F&& f) {
  Napi::Env env = info.Env();
  std::string msg;
  try {
    return f(env);
  } catch (const Napi::Error&) {
    throw;
  } catch (const c10::Error& e) {
    msg = e.what_without_backtrace();
  } catch (const VError& e) {
    msg = e.what();
  } catch (const std::bad_alloc&) {
    msg = "out of memory";
  } catch (const std::exception& e) {
    msg = e.what();
  } catch (...) {
    msg = "unknown native error";
  }
  // Keep the first line of ATen's message plus any detail lines, drop trailing whitespace.
  while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
  throw Napi::Error::New(env, where.empty() ? msg : where + ": " + msg);
}

// ---------------------------------------------------------------------------------------------
// Boxed dispatch by schema name.

int64_t toInt(const Napi::Value& v, const std::string& what) {
  if (v.IsBoolean()) return v.As<Napi::Boolean>().Value() ? 1 : 0;
  if (!v.IsNumber()) throw VError(what + ": expected an integer");
  double d = v.As<Napi::Number>().DoubleValue();
  if (!(d == d) || d != static_cast<double>(static_cast<int64_t>(d)) || d > 9007199254740991.0 ||
      d < -9007199254740991.0)
    throw VError(what + ": expected an integer, got " + std::to_string(d));
  return static_cast<int64_t>(d);
}

double toDouble(const Napi::Value& v, const std::string& what) {
  if (!v.IsNumber()) throw VError(what + ": expected a number");
  return v.As<Napi::Number>().DoubleValue();
}

// A JS scalar: integer-valued numbers are ints (Python int), others floats; {float: x} forces a
// float, booleans are bools.
c10::Scalar toScalar(const Napi::Value& v, const std::string& what) {
  if (v.IsBoolean()) return c10::Scalar(v.As<Napi::Boolean>().Value());
  if (v.IsObject() && !v.IsArray()) {
    Napi::Object o = v.As<Napi::Object>();
    if (o.Has("float")) return c10::Scalar(toDouble(o.Get("float"), what));
    if (o.Has("int")) return c10::Scalar(toInt(o.Get("int"), what));
  }
  if (!v.IsNumber()) throw VError(what + ": expected a number");
  double d = v.As<Napi::Number>().DoubleValue();
  if (d == d && std::abs(d) < 9007199254740992.0 && d == static_cast<double>(static_cast<int64_t>(d)) &&
      !(d == 0 && std::signbit(d)))
    return c10::Scalar(static_cast<int64_t>(d));
  return c10::Scalar(d);
}

c10::Device toDevice(const Napi::Value& v, const std::string& what) {
  if (!v.IsString()) throw VError(what + ": expected a device string");
  return c10::Device(v.As<Napi::String>().Utf8Value());
}

c10::IValue toIValue(Napi::Env env, const Napi::Value& v, const c10::TypePtr& type, const c10::Argument& arg,
                     const std::string& what);

c10::IValue toList(Napi::Env env, const Napi::Value& v, const c10::ListTypePtr& lt, const c10::Argument& arg,
                   const std::string& what) {
  const c10::TypePtr& el = lt->getElementType();
  auto kind = el->kind();
  // int[2] given as a single number expands to N copies (as in Python).
  if (!v.IsArray()) {
    if ((kind == c10::TypeKind::IntType || kind == c10::TypeKind::SymIntType) && v.IsNumber() && arg.N()) {
      std::vector<int64_t> r(static_cast<size_t>(*arg.N()), toInt(v, what));
      return c10::IValue(r);
    }
    throw VError(what + ": expected a list");
  }
  Napi::Array a = v.As<Napi::Array>();
  uint32_t n = a.Length();
  if (n > 1000000) throw VError(what + ": list too long");
  switch (kind) {
    case c10::TypeKind::IntType:
    case c10::TypeKind::SymIntType: {
      std::vector<int64_t> r(n);
      for (uint32_t i = 0; i < n; i++) r[i] = toInt(a.Get(i), what);
      return c10::IValue(r);
    }
    case c10::TypeKind::FloatType: {
      std::vector<double> r(n);
      for (uint32_t i = 0; i < n; i++) r[i] = toDouble(a.Get(i), what);
      return c10::IValue(r);
    }
    case c10::TypeKind::BoolType: {
      c10::List<bool> r;
      for (uint32_t i = 0; i < n; i++) r.push_back(a.Get(i).ToBoolean().Value());
      return c10::IValue(r);
    }
    case c10::TypeKind::TensorType: {
      c10::List<at::Tensor> r;
      for (uint32_t i = 0; i < n; i++) r.push_back(getTensor(env, a.Get(i), what.c_str()));
      return c10::IValue(r);
    }
    case c10::TypeKind::OptionalType: {
      auto inner = el->castRaw<c10::OptionalType>()->getElementType();
      if (inner->kind() == c10::TypeKind::TensorType) {
        c10::List<c10::optional<at::Tensor>> r;
        for (uint32_t i = 0; i < n; i++) {
          Napi::Value e = a.Get(i);
          if (e.IsNull() || e.IsUndefined())
            r.push_back(c10::nullopt);
          else
            r.push_back(getTensor(env, e, what.c_str()));
        }
        return c10::IValue(r);
      }
      break;
    }
    default:
      break;
  }
  throw VError(what + ": unsupported list type " + lt->str());
}

c10::IValue toIValue(Napi::Env env, const Napi::Value& v, const c10::TypePtr& type, const c10::Argument& arg,
                     const std::string& what) {
  switch (type->kind()) {
    case c10::TypeKind::TensorType:
      return c10::IValue(getTensor(env, v, what.c_str()));
    case c10::TypeKind::OptionalType: {
      if (v.IsNull() || v.IsUndefined()) return c10::IValue();
      return toIValue(env, v, type->castRaw<c10::OptionalType>()->getElementType(), arg, what);
    }
    case c10::TypeKind::IntType:
    case c10::TypeKind::SymIntType:
      return c10::IValue(toInt(v, what));
    case c10::TypeKind::FloatType:
      return c10::IValue(toDouble(v, what));
    case c10::TypeKind::BoolType:
      if (!v.IsBoolean()) throw VError(what + ": expected a boolean");
      return c10::IValue(v.As<Napi::Boolean>().Value());
    case c10::TypeKind::NumberType:
      return c10::IValue(toScalar(v, what));
    case c10::TypeKind::StringType:
      if (!v.IsString()) throw VError(what + ": expected a string");
      return c10::IValue(v.As<Napi::String>().Utf8Value());
    case c10::TypeKind::DeviceObjType:
      return c10::IValue(toDevice(v, what));
    case c10::TypeKind::ListType:
      return toList(env, v, type->cast<c10::ListType>(), arg, what);
    case c10::TypeKind::GeneratorType: {
      Instance& I = inst(env);
      int64_t g = toInt(v, what);
      if (g < 0 || g >= static_cast<int64_t>(I.generators.size())) throw VError(what + ": invalid generator");
      return c10::IValue(I.generators[static_cast<size_t>(g)]);
    }
    default:
      throw VError(what + ": unsupported argument type " + type->str());
  }
}

Napi::Value fromIValue(Napi::Env env, const c10::IValue& v) {
  if (v.isTensor()) {
    const at::Tensor& t = v.toTensor();
    if (!t.defined()) return env.Null();
    return Napi::Number::New(env, addTensor(env, t));
  }
  if (v.isNone()) return env.Null();
  if (v.isInt()) return Napi::Number::New(env, static_cast<double>(v.toInt()));
  if (v.isDouble()) return Napi::Number::New(env, v.toDouble());
  if (v.isBool()) return Napi::Boolean::New(env, v.toBool());
  if (v.isTensorList()) {
    auto l = v.toTensorList();
    Napi::Array a = Napi::Array::New(env, l.size());
    for (size_t i = 0; i < l.size(); i++) a.Set(i, fromIValue(env, c10::IValue(l.get(i))));
    return a;
  }
  if (v.isTuple()) {
    const auto& els = v.toTupleRef().elements();
    Napi::Array a = Napi::Array::New(env, els.size());
    for (size_t i = 0; i < els.size(); i++) a.Set(i, fromIValue(env, els[i]));
    return a;
  }
  if (v.isIntList()) {
    auto l = v.toIntList();
    Napi::Array a = Napi::Array::New(env, l.size());
    for (size_t i = 0; i < l.size(); i++) a.Set(i, Napi::Number::New(env, static_cast<double>(l.get(i))));
    return a;
  }
  if (v.isScalar()) {
    auto s = v.toScalar();
    if (s.isBoolean()) return Napi::Boolean::New(env, s.toBool());
    return Napi::Number::New(env, s.toDouble());
  }
  throw VError(std::string("unsupported return type ") + v.tagKind());
}

const c10::OperatorHandle& findOp(Napi::Env env, const std::string& name, const std::string& overload) {
  Instance& I = inst(env);
  std::string key = name + "." + overload;
  auto it = I.ops.find(key);
  if (it != I.ops.end()) return it->second;
  auto h = c10::Dispatcher::singleton().findSchema({name, overload});
  if (!h) throw VError("no ATen operator " + key);
  return I.ops.emplace(key, *h).first->second;
}

// opId(name, overload) -> a small integer for callId: the schema lookup and the per-argument
// error prefixes are made once per operator instead of once per call.
Napi::Value OpId(const Napi::CallbackInfo& info) {
  return guarded(info, "opId", [&](Napi::Env env) -> Napi::Value {
    if (info.Length() < 2 || !info[0].IsString() || !info[1].IsString()) throw VError("opId(name, overload) expected");
    std::string name = info[0].As<Napi::String>().Utf8Value(), overload = info[1].As<Napi::String>().Utf8Value();
    Instance& I = inst(env);
    std::string key = name + "." + overload;
    auto it = I.opIds.find(key);
    if (it != I.opIds.end()) return Napi::Number::New(env, static_cast<double>(it->second));
    OpEntry e{findOp(env, name, overload), name, {}};
    for (const auto& a : e.op.schema().arguments()) e.what.push_back("argument '" + a.name() + "'");
    I.opList.push_back(std::move(e));
    I.opIds.emplace(key, I.opList.size() - 1);
    return Napi::Number::New(env, static_cast<double>(I.opList.size() - 1));
  });
}

Napi::Value Invoke(Napi::Env env, const OpEntry& e, const Napi::Value& argsValue, bool discard);

// call(name, overload, args[]): positional arguments in schema order; undefined takes the default.
Napi::Value Call(const Napi::CallbackInfo& info) {
  std::string name = info.Length() > 0 && info[0].IsString() ? info[0].As<Napi::String>().Utf8Value() : "?";
  std::string overload = info.Length() > 1 && info[1].IsString() ? info[1].As<Napi::String>().Utf8Value() : "";
  return guarded(info, name, [&](Napi::Env env) -> Napi::Value {
    if (info.Length() < 3 || !info[2].IsArray()) throw VError("call(name, overload, args[]) expected");
    OpEntry e{findOp(env, name, overload), name, {}};
    for (const auto& a : e.op.schema().arguments()) e.what.push_back("argument '" + a.name() + "'");
    return Invoke(env, e, info[2], info.Length() > 3 && info[3].ToBoolean().Value());
  });
}

// callId(id, args[], discard): call() for an operator resolved by opId.
Napi::Value CallId(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Instance& I = inst(env);
  static const std::string where = "callId";
  const OpEntry* e = nullptr;
  if (info.Length() > 0 && info[0].IsNumber()) {
    double d = info[0].As<Napi::Number>().DoubleValue();
    if (d >= 0 && d < static_cast<double>(I.opList.size()) && d == static_cast<double>(static_cast<size_t>(d)))
      e = &I.opList[static_cast<size_t>(d)];
  }
  return guarded(info, e ? e->label : where, [&](Napi::Env env) -> Napi::Value {
    if (!e) throw VError("callId(id, args[]): unknown operator id");
    if (info.Length() < 2 || !info[1].IsArray()) throw VError("callId(id, args[]) expected");
    return Invoke(env, *e, info[1], info.Length() > 2 && info[2].ToBoolean().Value());
  });
}

Napi::Value Invoke(Napi::Env env, const OpEntry& e, const Napi::Value& argsValue, bool discard) {
  {
    const c10::OperatorHandle& op = e.op;
    const c10::FunctionSchema& schema = op.schema();
    const auto& sargs = schema.arguments();
    Napi::Array a = argsValue.As<Napi::Array>();
    if (a.Length() > sargs.size())
      throw VError("too many arguments (" + std::to_string(a.Length()) + " > " + std::to_string(sargs.size()) + ")");
    torch::jit::Stack stack;
    stack.reserve(sargs.size());
    for (size_t i = 0; i < sargs.size(); i++) {
      const c10::Argument& arg = sargs[i];
      Napi::Value v = i < a.Length() ? a.Get(static_cast<uint32_t>(i)) : env.Undefined();
      if (v.IsUndefined()) {
        if (arg.default_value()) {
          stack.push_back(*arg.default_value());
          continue;
        }
        if (arg.type()->kind() == c10::TypeKind::OptionalType) {
          stack.emplace_back();
          continue;
        }
        throw VError("argument '" + arg.name() + "' is required");
      }
      stack.push_back(toIValue(env, v, arg.type(), arg, e.what[i]));
    }
    op.callBoxed(&stack);
    // discard = true: the caller keeps its own handle (in-place and out= variants).
    if (discard) return env.Undefined();
    if (stack.size() == 0) return env.Undefined();
    if (stack.size() == 1) return fromIValue(env, stack[0]);
    Napi::Array out = Napi::Array::New(env, stack.size());
    for (size_t i = 0; i < stack.size(); i++) out.Set(i, fromIValue(env, stack[i]));
    return out;
  }
}

Napi::Value Schema(const Napi::CallbackInfo& info) {
  return guarded(info, "schema", [&](Napi::Env env) -> Napi::Value {
    std::string name = info[0].As<Napi::String>().Utf8Value();
    std::string overload = info[1].As<Napi::String>().Utf8Value();
    std::ostringstream s;
    s << findOp(env, name, overload).schema();
    return Napi::String::New(env, s.str());
  });
}

// ---------------------------------------------------------------------------------------------
// Tensor helpers.

at::ScalarType toDtype(const Napi::Value& v) {
  int64_t d = toInt(v, "dtype");
  switch (static_cast<at::ScalarType>(d)) {
    case at::kByte: case at::kChar: case at::kShort: case at::kInt: case at::kLong: case at::kHalf:
    case at::kFloat: case at::kDouble: case at::kBool: case at::kBFloat16: case at::kComplexFloat: case at::kComplexDouble:
      return static_cast<at::ScalarType>(d);
    default:
      throw VError("unsupported dtype " + std::to_string(d));
  }
}

// fromBytes(bytes: ArrayBufferView, dtype, shape[]) -> handle (a copy)
Napi::Value FromBytes(const Napi::CallbackInfo& info) {
  return guarded(info, "fromBytes", [&](Napi::Env env) -> Napi::Value {
    if (info.Length() < 3 || !info[0].IsTypedArray() || !info[2].IsArray())
      throw VError("fromBytes(typedArray, dtype, shape) expected");
    Napi::TypedArray ta = info[0].As<Napi::TypedArray>();
    at::ScalarType dt = toDtype(info[1]);
    Napi::Array sh = info[2].As<Napi::Array>();
    std::vector<int64_t> shape(sh.Length());
    int64_t numel = 1;
    for (uint32_t i = 0; i < sh.Length(); i++) {
      shape[i] = toInt(sh.Get(i), "shape");
      if (shape[i] < 0) throw VError("negative size in shape");
      numel *= shape[i];
      if (numel > (int64_t(1) << 40)) throw VError("shape too large");
    }
    size_t bytes = static_cast<size_t>(numel) * c10::elementSize(dt);
    if (ta.ByteLength() != bytes)
      throw VError("data has " + std::to_string(ta.ByteLength()) + " bytes, shape and dtype need " +
                   std::to_string(bytes));
    at::Tensor t = at::empty(shape, at::TensorOptions().dtype(dt));
    if (bytes) {
      const uint8_t* src = static_cast<const uint8_t*>(ta.ArrayBuffer().Data()) + ta.ByteOffset();
      std::memcpy(t.data_ptr(), src, bytes);
    }
    return Napi::Number::New(env, addTensor(env, t));
  });
}

// toBytes(handle) -> ArrayBuffer (contiguous row-major copy on the CPU)
Napi::Value ToBytes(const Napi::CallbackInfo& info) {
  return guarded(info, "toBytes", [&](Napi::Env env) -> Napi::Value {
    at::Tensor t = getTensor(env, info[0]);
    at::NoGradGuard ng;
    at::Tensor c = t.detach().to(at::kCPU).contiguous();
    size_t bytes = c.numel() * c.element_size();
    Napi::ArrayBuffer buf = Napi::ArrayBuffer::New(env, bytes);
    if (bytes) std::memcpy(buf.Data(), c.data_ptr(), bytes);
    return buf;
  });
}

// copyInto(handle, typedArray): write a contiguous copy into a caller's buffer (no allocation).
Napi::Value CopyInto(const Napi::CallbackInfo& info) {
  return guarded(info, "copyInto", [&](Napi::Env env) -> Napi::Value {
    at::Tensor t = getTensor(env, info[0]);
    if (!info[1].IsTypedArray()) throw VError("copyInto(handle, typedArray) expected");
    Napi::TypedArray ta = info[1].As<Napi::TypedArray>();
    size_t bytes = t.numel() * t.element_size();
    if (ta.ByteLength() != bytes) throw VError("buffer size does not match the tensor");
    at::NoGradGuard ng;
    uint8_t* dst = static_cast<uint8_t*>(ta.ArrayBuffer().Data()) + ta.ByteOffset();
    at::Tensor view = at::from_blob(dst, t.sizes(), t.options().device(at::kCPU).requires_grad(false));
    view.copy_(t.detach());
    return env.Undefined();
  });
}

// info(handle) -> [dtype, shape, device, requiresGrad]
Napi::Value Info(const Napi::CallbackInfo& info) {
  return guarded(info, "info", [&](Napi::Env env) -> Napi::Value {
    at::Tensor& t = getTensor(env, info[0]);
    Napi::Array out = Napi::Array::New(env, 4);
    out.Set(0u, Napi::Number::New(env, static_cast<int>(t.scalar_type())));
    Napi::Array sh = Napi::Array::New(env, t.dim());
    for (int64_t i = 0; i < t.dim(); i++) sh.Set(static_cast<uint32_t>(i), Napi::Number::New(env, t.size(i)));
    out.Set(1u, sh);
    out.Set(2u, Napi::String::New(env, t.device().str()));
    out.Set(3u, Napi::Boolean::New(env, t.requires_grad()));
    return out;
  });
}

Napi::Value Strides(const Napi::CallbackInfo& info) {
  return guarded(info, "strides", [&](Napi::Env env) -> Napi::Value {
    at::Tensor& t = getTensor(env, info[0]);
    Napi::Array st = Napi::Array::New(env, t.dim());
    for (int64_t i = 0; i < t.dim(); i++) st.Set(static_cast<uint32_t>(i), Napi::Number::New(env, t.stride(i)));
    return st;
  });
}

Napi::Value IsContiguous(const Napi::CallbackInfo& info) {
  return guarded(info, "isContiguous", [&](Napi::Env env) -> Napi::Value {
    at::Tensor& t = getTensor(env, info[0]);
    bool cl = info.Length() > 1 && info[1].ToBoolean().Value();
    if (cl && t.dim() != 4) return Napi::Boolean::New(env, false);
    return Napi::Boolean::New(env, t.is_contiguous(cl ? at::MemoryFormat::ChannelsLast : at::MemoryFormat::Contiguous));
  });
}

Napi::Value Dispose(const Napi::CallbackInfo& info) {
  return guarded(info, "dispose", [&](Napi::Env env) -> Napi::Value {
    Instance& I = inst(env);
    if (!info[0].IsNumber()) return env.Undefined();
    uint32_t slot = slotOf(I, info[0].As<Napi::Number>().DoubleValue());
    if (slot) releaseSlot(env, slot);
    return env.Undefined();
  });
}

Napi::Value Item(const Napi::CallbackInfo& info) {
  return guarded(info, "item", [&](Napi::Env env) -> Napi::Value {
    at::Tensor& t = getTensor(env, info[0]);
    if (t.numel() != 1) throw VError("item() needs a tensor with one element, got " + std::to_string(t.numel()));
    c10::Scalar s = t.item();
    if (s.isBoolean()) return Napi::Boolean::New(env, s.toBool());
    return Napi::Number::New(env, s.toDouble());
  });
}

Napi::Value Backward(const Napi::CallbackInfo& info) {
  return guarded(info, "backward", [&](Napi::Env env) -> Napi::Value {
    at::Tensor& t = getTensor(env, info[0]);
    bool retain = info.Length() > 2 && info[2].ToBoolean().Value();
    bool create = info.Length() > 3 && info[3].ToBoolean().Value();
    if (!t.requires_grad()) throw VError("tensor does not require grad and has no grad_fn");
    at::Tensor g;
    if (info.Length() > 1 && !info[1].IsNull() && !info[1].IsUndefined()) g = getTensor(env, info[1], "gradient");
    else if (t.numel() != 1) throw VError("grad can be implicitly created only for scalar outputs");
    torch::autograd::backward({t}, g.defined() ? torch::autograd::variable_list{g} : torch::autograd::variable_list{},
                              retain, create);
    return env.Undefined();
  });
}

// autogradGrad(outputs[], inputs[], gradOutputs[]|null, retain, create) -> grads[] (torch.autograd.grad)
Napi::Value AutogradGrad(const Napi::CallbackInfo& info) {
  return guarded(info, "autograd.grad", [&](Napi::Env env) -> Napi::Value {
    auto list = [&](const Napi::Value& v) {
      torch::autograd::variable_list r;
      if (!v.IsArray()) return r;
      Napi::Array a = v.As<Napi::Array>();
      for (uint32_t i = 0; i < a.Length(); i++) r.push_back(getTensor(env, a.Get(i)));
      return r;
    };
    auto outs = list(info[0]);
    auto ins = list(info[1]);
    auto gos = list(info[2]);
    bool retain = info[3].ToBoolean().Value();
    bool create = info[4].ToBoolean().Value();
    bool allowUnused = info.Length() > 5 && info[5].ToBoolean().Value();
    auto grads = torch::autograd::grad(outs, ins, gos, retain, create, allowUnused);
    Napi::Array out = Napi::Array::New(env, grads.size());
    for (size_t i = 0; i < grads.size(); i++)
      out.Set(i, grads[i].defined() ? Napi::Value(Napi::Number::New(env, addTensor(env, grads[i]))) : env.Null());
    return out;
  });
}

Napi::Value Grad(const Napi::CallbackInfo& info) {
  return guarded(info, "grad", [&](Napi::Env env) -> Napi::Value {
    at::Tensor& t = getTensor(env, info[0]);
    const at::Tensor& g = t.grad();
    if (!g.defined()) return env.Null();
    return Napi::Number::New(env, addTensor(env, g));
  });
}

// Tensor.grad = g, with the checks of torch/csrc/autograd/python_variable.cpp (THPVariable_set_grad):
// a gradient of another shape, dtype or device would be accumulated into silently or crash later.
Napi::Value SetGrad(const Napi::CallbackInfo& info) {
  return guarded(info, "setGrad", [&](Napi::Env env) -> Napi::Value {
    at::Tensor& t = getTensor(env, info[0]);
    if (info[1].IsNull() || info[1].IsUndefined()) {
      t.mutable_grad().reset();
      return env.Undefined();
    }
    at::Tensor& g = getTensor(env, info[1], "grad");
    if (g.is_same(t)) throw VError("can't assign Variable as its own grad");
    if (g.scalar_type() != t.scalar_type())
      throw VError(std::string("assigned grad has data of a different type (") + c10::toString(g.scalar_type()) +
                   " for a " + c10::toString(t.scalar_type()) + " tensor)");
    if (g.device() != t.device()) throw VError("assigned grad has data located on a different device");
    if (!g.sizes().equals(t.sizes())) throw VError("assigned grad has data of a different size");
    t.mutable_grad() = g;
    return env.Undefined();
  });
}

Napi::Value SetRequiresGrad(const Napi::CallbackInfo& info) {
  return guarded(info, "requiresGrad_", [&](Napi::Env env) -> Napi::Value {
    at::Tensor& t = getTensor(env, info[0]);
    bool v = info[1].ToBoolean().Value();
    // As Tensor.requires_grad_ in python_variable_methods.cpp: only leaves change their flag.
    if (!t.is_leaf()) {
      if (!v)
        throw VError("you can only change requires_grad flags of leaf variables. If you want to use a computed "
                     "variable in a subgraph that doesn't require differentiation use var_no_grad = var.detach().");
      return env.Undefined();
    }
    t.set_requires_grad(v);
    return env.Undefined();
  });
}

Napi::Value RetainGrad(const Napi::CallbackInfo& info) {
  return guarded(info, "retainGrad", [&](Napi::Env env) -> Napi::Value {
    getTensor(env, info[0]).retain_grad();
    return env.Undefined();
  });
}

Napi::Value IsLeaf(const Napi::CallbackInfo& info) {
  return guarded(info, "isLeaf", [&](Napi::Env env) -> Napi::Value {
    return Napi::Boolean::New(env, getTensor(env, info[0]).is_leaf());
  });
}

Napi::Value SetGradEnabled(const Napi::CallbackInfo& info) {
  return guarded(info, "setGradEnabled", [&](Napi::Env env) -> Napi::Value {
    bool prev = at::GradMode::is_enabled();
    at::GradMode::set_enabled(info[0].ToBoolean().Value());
    return Napi::Boolean::New(env, prev);
  });
}

Napi::Value SameStorage(const Napi::CallbackInfo& info) {
  return guarded(info, "sameStorage", [&](Napi::Env env) -> Napi::Value {
    at::Tensor& a = getTensor(env, info[0]);
    at::Tensor& b = getTensor(env, info[1]);
    return Napi::Boolean::New(env, a.has_storage() && b.has_storage() && a.storage().is_alias_of(b.storage()));
  });
}

// ---------------------------------------------------------------------------------------------
// Threads, seeds, generators, configuration, allocator.

int availableCores() {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    int n = CPU_COUNT(&set);
    if (n > 0) return n;
  }
  unsigned n = std::thread::hardware_concurrency();
  return n ? static_cast<int>(n) : 1;
}

Napi::Value SetNumThreads(const Napi::CallbackInfo& info) {
  return guarded(info, "setNumThreads", [&](Napi::Env env) -> Napi::Value {
    int64_t n = toInt(info[0], "threads");
    if (n < 1 || n > 1024) throw VError("threads must be between 1 and 1024");
    at::set_num_threads(static_cast<int>(n));
    return env.Undefined();
  });
}

Napi::Value GetNumThreads(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), at::get_num_threads());
}

Napi::Value AvailableCores(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), availableCores()); }

Napi::Value ManualSeed(const Napi::CallbackInfo& info) {
  return guarded(info, "manualSeed", [&](Napi::Env env) -> Napi::Value {
    int64_t s = toInt(info[0], "seed");
    at::manual_seed(static_cast<uint64_t>(s));
    return env.Undefined();
  });
}

// generatorNew(seed) -> id of a CPU generator (kept for the life of the instance)
Napi::Value GeneratorNew(const Napi::CallbackInfo& info) {
  return guarded(info, "Generator", [&](Napi::Env env) -> Napi::Value {
    Instance& I = inst(env);
    int64_t s = toInt(info[0], "seed");
    at::Generator g = at::make_generator<at::CPUGeneratorImpl>(static_cast<uint64_t>(s));
    I.generators.push_back(g);
    return Napi::Number::New(env, static_cast<double>(I.generators.size() - 1));
  });
}

Napi::Value GeneratorSeed(const Napi::CallbackInfo& info) {
  return guarded(info, "Generator.manualSeed", [&](Napi::Env env) -> Napi::Value {
    Instance& I = inst(env);
    int64_t g = toInt(info[0], "generator");
    if (g < 0 || g >= static_cast<int64_t>(I.generators.size())) throw VError("invalid generator");
    std::lock_guard<std::mutex> lock(I.generators[g].mutex());
    I.generators[g].set_current_seed(static_cast<uint64_t>(toInt(info[1], "seed")));
    return env.Undefined();
  });
}

Napi::Value GeneratorGetState(const Napi::CallbackInfo& info) {
  return guarded(info, "Generator.getState", [&](Napi::Env env) -> Napi::Value {
    Instance& I = inst(env);
    int64_t g = toInt(info[0], "generator");
    if (g < 0 || g >= static_cast<int64_t>(I.generators.size())) throw VError("invalid generator");
    std::lock_guard<std::mutex> lock(I.generators[g].mutex());
    return Napi::Number::New(env, addTensor(env, I.generators[g].get_state()));
  });
}

Napi::Value GeneratorSetState(const Napi::CallbackInfo& info) {
  return guarded(info, "Generator.setState", [&](Napi::Env env) -> Napi::Value {
    Instance& I = inst(env);
    int64_t g = toInt(info[0], "generator");
    if (g < 0 || g >= static_cast<int64_t>(I.generators.size())) throw VError("invalid generator");
    at::Tensor& s = getTensor(env, info[1], "state");
    if (s.scalar_type() != at::kByte || s.dim() != 1) throw VError("generator state must be a 1-D uint8 tensor");
    std::lock_guard<std::mutex> lock(I.generators[g].mutex());
    I.generators[g].set_state(s);
    return env.Undefined();
  });
}

Napi::Value Config(const Napi::CallbackInfo& info) {
  return guarded(info, "config", [&](Napi::Env env) -> Napi::Value {
    Napi::Object o = Napi::Object::New(env);
    o.Set("version", TORCH_VERSION);
    o.Set("showConfig", at::show_config());
    o.Set("parallelInfo", at::get_parallel_info());
    o.Set("mkldnn", at::hasMKLDNN());
    o.Set("openmp", at::hasOpenMP());
    o.Set("mkl", at::hasMKL());
    o.Set("lapack", at::hasLAPACK());
    o.Set("cuda", at::hasCUDA());
    int cudaDevices = 0;
    if (at::hasCUDA()) {
      try {
        cudaDevices = static_cast<int>(c10::impl::getDeviceGuardImpl(c10::DeviceType::CUDA)->deviceCount());
      } catch (...) {
      }
    }
    o.Set("cudaDevices", cudaDevices);
#if defined(_GLIBCXX_USE_CXX11_ABI)
    o.Set("cxx11abi", _GLIBCXX_USE_CXX11_ABI == 1);
#endif
    o.Set("allocator", vpdsr::cachingAllocatorInstalled() ? "caching" : "default");
    return o;
  });
}

Napi::Value InstallCachingAllocator(const Napi::CallbackInfo& info) {
  return guarded(info, "allocator", [&](Napi::Env env) -> Napi::Value {
    double limit = info.Length() > 0 && info[0].IsNumber() ? info[0].As<Napi::Number>().DoubleValue() : 0;
    vpdsr::installCachingAllocator(limit > 0 ? static_cast<size_t>(limit) : 0);
    return env.Undefined();
  });
}

Napi::Value AllocatorStats(const Napi::CallbackInfo& info) {
  return guarded(info, "allocatorStats", [&](Napi::Env env) -> Napi::Value {
    vpdsr::AllocStats s = vpdsr::allocatorStats();
    Napi::Object o = Napi::Object::New(env);
    o.Set("installed", vpdsr::cachingAllocatorInstalled());
    o.Set("allocated", static_cast<double>(s.allocated));
    o.Set("cached", static_cast<double>(s.cached));
    o.Set("peak", static_cast<double>(s.peak));
    o.Set("hits", static_cast<double>(s.hits));
    o.Set("misses", static_cast<double>(s.misses));
    o.Set("liveTensors", static_cast<double>(inst(env).live));
    return o;
  });
}

Napi::Value EmptyCache(const Napi::CallbackInfo& info) {
  vpdsr::emptyCache();
  return info.Env().Undefined();
}

// V8's running total of external memory as this addon has adjusted it (AdjustExternalMemory(0)),
// and the part of it this instance's live handles account for.
Napi::Value ExternalMemory(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Instance& I = inst(env);
  int64_t mine = 0;
  for (const auto& kv : I.storages) mine += kv.second.second;
  Napi::Object o = Napi::Object::New(env);
  int64_t pending = I.pendingExternal;
  I.pendingExternal = 0;
  o.Set("v8", static_cast<double>(Napi::MemoryManagement::AdjustExternalMemory(env, pending)));
  o.Set("reported", static_cast<double>(mine));
  return o;
}

Napi::Value LiveTensors(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(inst(info.Env()).live));
}

}  // namespace

namespace vpdsr {
at::Tensor tensorArg(Napi::Env env, const Napi::Value& v, const char* what) { return getTensor(env, v, what); }
double newHandle(Napi::Env env, at::Tensor t) { return addTensor(env, std::move(t)); }
}  // namespace vpdsr

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  env.SetInstanceData(new Instance());
  // c10::Error symbolises a C++ backtrace when it is constructed (milliseconds each). The message
  // we pass on never includes it, so skip it unless asked for (VPDSR_CPP_STACKTRACES=1).
  static std::once_flag traceOnce;
  std::call_once(traceOnce, [] {
    const char* e = std::getenv("VPDSR_CPP_STACKTRACES");
    if (!(e && e[0] == '1')) c10::SetStackTraceFetcher([]() -> std::string { return ""; });
  });
  // ATen starts with one intra-op thread inside Node: default to all cores, or VPDSR_THREADS.
  static std::once_flag threadsOnce;
  std::call_once(threadsOnce, [] {
    int n = availableCores();
    if (const char* e = std::getenv("VPDSR_THREADS")) {
      int v = std::atoi(e);
      if (v >= 1 && v <= 1024) n = v;
    }
    at::set_num_threads(n);
  });
  auto fn = [&](const char* name, Napi::Function::Callback cb) { exports.Set(name, Napi::Function::New(env, cb, name)); };
  fn("call", Call);
  fn("opId", OpId);
  fn("callId", CallId);
  fn("schema", Schema);
  fn("fromBytes", FromBytes);
  fn("toBytes", ToBytes);
  fn("copyInto", CopyInto);
  fn("info", Info);
  fn("strides", Strides);
  fn("isContiguous", IsContiguous);
  fn("dispose", Dispose);
  fn("item", Item);
  fn("backward", Backward);
  fn("autogradGrad", AutogradGrad);
  fn("grad", Grad);
  fn("setGrad", SetGrad);
  fn("setRequiresGrad", SetRequiresGrad);
  fn("retainGrad", RetainGrad);
  fn("isLeaf", IsLeaf);
  fn("setGradEnabled", SetGradEnabled);
  fn("sameStorage", SameStorage);
  fn("setNumThreads", SetNumThreads);
  fn("getNumThreads", GetNumThreads);
  fn("availableCores", AvailableCores);
  fn("manualSeed", ManualSeed);
  fn("generatorNew", GeneratorNew);
  fn("generatorSeed", GeneratorSeed);
  fn("generatorGetState", GeneratorGetState);
  fn("generatorSetState", GeneratorSetState);
  fn("config", Config);
  fn("installCachingAllocator", InstallCachingAllocator);
  fn("allocatorStats", AllocatorStats);
  fn("emptyCache", EmptyCache);
  fn("liveTensors", LiveTensors);
  fn("externalMemory", ExternalMemory);
  vpdsr::registerDistributed(env, exports);
  return exports;
}

NODE_API_MODULE(vpdsr, Init)
