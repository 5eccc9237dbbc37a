// The CPU's arithmetic peak, measured: fp32 FMA (AVX-512 vfmadd, or AVX2 without AVX-512) and bf16
// dot products (AVX512_BF16 vdpbf16ps; AMX tiles are not measured) on 1 and on N threads. Each thread runs 12 independent register accumulator chains
// (enough to hide the latency of both instructions), so the loop is bound by throughput alone.
// Prints one JSON object. Built and run by bench/cpu/peak.ts; a dev tool, not part of vpdsr.
#include <immintrin.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CHAINS 12

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

// FLOP per iteration: CHAINS × 16 lanes × 2 (multiply and add).
__attribute__((target("avx512f"), noinline)) static float fp32Loop(long iters) {
  __m512 acc[CHAINS];
  for (int k = 0; k < CHAINS; k++) acc[k] = _mm512_set1_ps((float)k * 1e-3f);
  const __m512 b = _mm512_set1_ps(0.999999f), c = _mm512_set1_ps(1e-6f);
  for (long i = 0; i < iters; i++) {
#pragma GCC unroll 12
    for (int k = 0; k < CHAINS; k++) acc[k] = _mm512_fmadd_ps(acc[k], b, c);
  }
  __m512 s = acc[0];
  for (int k = 1; k < CHAINS; k++) s = _mm512_add_ps(s, acc[k]);
  return _mm512_reduce_add_ps(s);
}

// FLOP per iteration: CHAINS × 32 bf16 products × 2 (each pair of products is summed into one f32 lane).
__attribute__((target("avx512f,avx512bf16"), noinline)) static float bf16Loop(long iters) {
  __m512 acc[CHAINS];
  for (int k = 0; k < CHAINS; k++) acc[k] = _mm512_set1_ps((float)k * 1e-3f);
  const __m512bh x = _mm512_cvtne2ps_pbh(_mm512_set1_ps(1e-3f), _mm512_set1_ps(-1e-3f));
  const __m512bh y = _mm512_cvtne2ps_pbh(_mm512_set1_ps(0.5f), _mm512_set1_ps(0.25f));
  for (long i = 0; i < iters; i++) {
#pragma GCC unroll 12
    for (int k = 0; k < CHAINS; k++) acc[k] = _mm512_dpbf16_ps(acc[k], x, y);
  }
  __m512 s = acc[0];
  for (int k = 1; k < CHAINS; k++) s = _mm512_add_ps(s, acc[k]);
  return _mm512_reduce_add_ps(s);
}

// FLOP per iteration: CHAINS × 8 lanes × 2 (CPUs without AVX-512).
__attribute__((target("avx2,fma"), noinline)) static float avx2Loop(long iters) {
  __m256 acc[CHAINS];
  for (int k = 0; k < CHAINS; k++) acc[k] = _mm256_set1_ps((float)k * 1e-3f);
  const __m256 b = _mm256_set1_ps(0.999999f), c = _mm256_set1_ps(1e-6f);
  for (long i = 0; i < iters; i++) {
#pragma GCC unroll 12
    for (int k = 0; k < CHAINS; k++) acc[k] = _mm256_fmadd_ps(acc[k], b, c);
  }
  float out[8], s = 0;
  for (int k = 1; k < CHAINS; k++) acc[0] = _mm256_add_ps(acc[0], acc[k]);
  _mm256_storeu_ps(out, acc[0]);
  for (int i = 0; i < 8; i++) s += out[i];
  return s;
}

enum Kind { FP32_AVX512, BF16_AVX512, FP32_AVX2 };

typedef struct { int kind; long iters; float sink; } Job;

static void* runJob(void* p) {
  Job* j = (Job*)p;
  j->sink = j->kind == BF16_AVX512 ? bf16Loop(j->iters) : j->kind == FP32_AVX2 ? avx2Loop(j->iters) : fp32Loop(j->iters);
  return NULL;
}

// GFLOP/s of `threads` threads each running `iters` iterations; the best of 5 timings.
static double rate(int kind, int threads, long iters) {
  double best = 1e30;
  for (int rep = 0; rep < 5; rep++) {
    pthread_t tid[64];
    Job jobs[64];
    double t0 = now();
    for (int t = 0; t < threads; t++) {
      jobs[t] = (Job){kind, iters, 0};
      pthread_create(&tid[t], NULL, runJob, &jobs[t]);
    }
    for (int t = 0; t < threads; t++) pthread_join(tid[t], NULL);
    double dt = now() - t0;
    if (dt < best) best = dt;
  }
  double flopPerIter = CHAINS * (kind == BF16_AVX512 ? 64.0 : kind == FP32_AVX2 ? 16.0 : 32.0);
  return flopPerIter * (double)iters * threads / best / 1e9;
}

int main(int argc, char** argv) {
  int threads = argc > 1 ? atoi(argv[1]) : 2;
  if (threads < 1 || threads > 64) { fprintf(stderr, "peak: threads must be in [1, 64]\n"); return 2; }
  const long iters = 20000000;  // about 0.1 s per thread at these rates
  if (!__builtin_cpu_supports("avx512f")) {
    if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) { printf("{\"error\":\"the CPU has neither AVX-512 nor AVX2 with FMA\"}\n"); return 0; }
    printf("{\"threads\":%d,\"isa\":\"avx2\",\"fp32_fma_gflops_1t\":%.1f,\"fp32_fma_gflops\":%.1f", threads, rate(FP32_AVX2, 1, iters), rate(FP32_AVX2, threads, iters));
  } else {
    printf("{\"threads\":%d,\"isa\":\"avx512\",\"fp32_fma_gflops_1t\":%.1f,\"fp32_fma_gflops\":%.1f", threads, rate(FP32_AVX512, 1, iters), rate(FP32_AVX512, threads, iters));
    if (__builtin_cpu_supports("avx512bf16")) {
      printf(",\"bf16_dot_gflops_1t\":%.1f,\"bf16_dot_gflops\":%.1f", rate(BF16_AVX512, 1, iters), rate(BF16_AVX512, threads, iters));
    }
  }
  printf("}\n");
  return 0;
}
