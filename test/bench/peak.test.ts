// The CPU peak microbenchmark (bench/cpu/peak.c via bench/cpu/peak.ts): it builds, runs and reports rates.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import os from 'node:os';
import { measurePeak } from '../../bench/cpu/peak.js';

test('measurePeak builds peak.c and reports positive fp32 (and, with AVX512_BF16, bf16) rates', () => {
  const p = measurePeak(1);
  if (os.arch() !== 'x64') {
    assert.match(p.error ?? '', /no peak kernel/);
    return;
  }
  if (/neither AVX-512 nor AVX2/.test(p.error ?? '')) return; // no kernel for this CPU: said so, not a failure
  assert.equal(p.error, undefined, p.error);
  assert.equal(p.threads, 1);
  assert.ok(p.isa === 'avx512' || p.isa === 'avx2');
  assert.ok(p.fp32_fma_gflops! > 1 && p.fp32_fma_gflops_1t! > 1, JSON.stringify(p));
  if (p.bf16_dot_gflops !== undefined) assert.ok(p.bf16_dot_gflops > 1);
});
