// What addon.cc shares with the other files of the addon: tensor handles in and out.
#pragma once
#include <napi.h>

#include <ATen/ATen.h>

namespace vpdsr {

// The at::Tensor behind a handle argument; throws std::runtime_error("<what>: ...") if invalid.
at::Tensor tensorArg(Napi::Env env, const Napi::Value& v, const char* what);
// A new handle owning t (JS thread only).
double newHandle(Napi::Env env, at::Tensor t);

// distributed.cc: process groups on c10d.
void registerDistributed(Napi::Env env, Napi::Object exports);

}  // namespace vpdsr
