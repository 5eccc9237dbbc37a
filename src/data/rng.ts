// Seeded random choices for the degradation pipeline: the Python `random` / `np.random` calls of
// upstream (random.random, uniform, choice, choices, randint), on xoshiro128**.
//
// NOT bit-compatible with CPython's Mersenne Twister or numpy: the same seed does not give the
// same draws as upstream. What is kept is the draw structure (which call, which range, which
// probabilities, in which order), so that every sampled value has upstream's distribution.
// Tensor noise does not come from here: it comes from a torch.Generator (LibTorch's CPU
// generator, the same streams as PyTorch for a seed), as upstream draws it from torch.

/** What the samplers need; a recording or scripted source can stand in for Rng in tests. */
export interface RandomSource {
  /** random.random(): uniform in [0, 1). */
  random(): number;
  /** random.uniform(a, b) / np.random.uniform(a, b): a + (b − a)·random(). */
  uniform(a: number, b: number): number;
  /** random.choice(seq). */
  choice<T>(seq: readonly T[]): T;
  /** random.choices(population, weights)[0]. */
  choices<T>(population: readonly T[], weights: readonly number[]): T;
  /** random.randint(a, b): an integer in [a, b], both ends included. */
  randint(a: number, b: number): number;
}

/** 32-bit FNV-1a of a string (for deriving stream seeds from names). */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

function splitmix32(state: { s: number }): number {
  state.s = (state.s + 0x9e3779b9) >>> 0;
  let z = state.s;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
  return (z ^ (z >>> 16)) >>> 0;
}

/**
 * Derives a 31-bit seed from a base seed and a path of labels (numbers or strings), e.g.
 * deriveSeed(seed, 'image', name). Used so that each image / batch has its own stream whatever
 * the order or the thread that processes it.
 */
export function deriveSeed(seed: number, ...labels: (number | string)[]): number {
  if (!Number.isSafeInteger(seed) || seed < 0) throw new RangeError(`deriveSeed(): seed must be a non-negative integer, got ${seed}`);
  const st = { s: (seed % 0x100000000) >>> 0 };
  let h = splitmix32(st) ^ Math.floor(seed / 0x100000000);
  for (const l of labels) {
    st.s = (h ^ (typeof l === 'number' ? (l >>> 0) ^ Math.floor(l / 0x100000000) : hashString(l))) >>> 0;
    h = splitmix32(st);
    st.s = (h ^ 0x5bd1e995) >>> 0;
    h = splitmix32(st);
  }
  return h & 0x7fffffff;
}

/** xoshiro128** with a splitmix32-expanded seed. */
export class Rng implements RandomSource {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  constructor(seed: number) {
    if (!Number.isSafeInteger(seed) || seed < 0) throw new RangeError(`Rng: seed must be a non-negative integer, got ${seed}`);
    const st = { s: (seed ^ Math.floor(seed / 0x100000000)) >>> 0 };
    this.s0 = splitmix32(st); this.s1 = splitmix32(st); this.s2 = splitmix32(st); this.s3 = splitmix32(st);
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /** The next 32 random bits as an unsigned integer. */
  nextUint32(): number {
    const r = Math.imul(rotl(Math.imul(this.s1, 5) >>> 0, 7), 9) >>> 0;
    const t = (this.s1 << 9) >>> 0;
    this.s2 = (this.s2 ^ this.s0) >>> 0;
    this.s3 = (this.s3 ^ this.s1) >>> 0;
    this.s1 = (this.s1 ^ this.s2) >>> 0;
    this.s0 = (this.s0 ^ this.s3) >>> 0;
    this.s2 = (this.s2 ^ t) >>> 0;
    this.s3 = rotl(this.s3, 11);
    return r;
  }

  /** 53-bit double in [0, 1), built like CPython's genrand_res53. */
  random(): number {
    const a = this.nextUint32() >>> 5, b = this.nextUint32() >>> 6;
    return (a * 67108864 + b) / 9007199254740992;
  }

  uniform(a: number, b: number): number {
    return a + (b - a) * this.random();
  }

  choice<T>(seq: readonly T[]): T {
    if (seq.length === 0) throw new RangeError('choice(): empty sequence');
    return seq[Math.min(seq.length - 1, Math.floor(this.random() * seq.length))]!;
  }

  // random.choices: cumulative weights, bisect_right(cum, random()·total) over the first n−1.
  choices<T>(population: readonly T[], weights: readonly number[]): T {
    if (population.length === 0 || population.length !== weights.length) throw new RangeError('choices(): population and weights must be non-empty and of equal length');
    const cum: number[] = [];
    let total = 0;
    for (const w of weights) {
      if (!(w >= 0) || !Number.isFinite(w)) throw new RangeError(`choices(): weights must be finite and >= 0, got ${w}`);
      total += w;
      cum.push(total);
    }
    if (!(total > 0)) throw new RangeError('choices(): the weights sum to zero');
    const x = this.random() * total;
    let lo = 0, hi = population.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (x < cum[mid]!) hi = mid; else lo = mid + 1;
    }
    return population[lo]!;
  }

  randint(a: number, b: number): number {
    if (!Number.isSafeInteger(a) || !Number.isSafeInteger(b) || b < a) throw new RangeError(`randint(): needs integers a <= b, got ${a}, ${b}`);
    return a + Math.min(b - a, Math.floor(this.random() * (b - a + 1)));
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** One recorded upstream call: which function, its arguments, what it returned. */
export interface RecordedDraw {
  fn: string;
  args: unknown[];
  value: unknown;
}

function sameArgs(a: unknown, b: unknown): boolean {
  if (typeof a === 'number' && typeof b === 'number') return a === b || Math.abs(a - b) <= 1e-12 * Math.max(1, Math.abs(a));
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => sameArgs(x, b[i]));
  return a === b;
}

/**
 * Replays recorded draws (golden cases' `draws` / `python_random_calls`), checking that each call
 * is the one upstream made (same function family and arguments), so a replay proves the draw order.
 * np.random.uniform() with no arguments is recorded as uniform(0, 1) and answers random().
 */
export class ScriptedSource implements RandomSource {
  private i = 0;
  constructor(private readonly draws: readonly RecordedDraw[]) {}

  get remaining(): number { return this.draws.length - this.i; }

  private next(fns: string[], args: unknown[]): unknown {
    const d = this.draws[this.i];
    if (!d) throw new Error(`scripted draws exhausted: wanted ${fns[0]}(${JSON.stringify(args)}) as call ${this.i + 1}`);
    if (!fns.includes(d.fn) || !sameArgs(d.args, args)) {
      throw new Error(`draw ${this.i + 1}: upstream called ${d.fn}(${JSON.stringify(d.args)}), vpdsr wanted ${fns.join('|')}(${JSON.stringify(args)})`);
    }
    this.i++;
    return d.value;
  }

  random(): number {
    const d = this.draws[this.i];
    if (d && d.fn === 'np.random.uniform') return this.next(['np.random.uniform'], [0.0, 1.0]) as number;
    return this.next(['random.random'], []) as number;
  }

  uniform(a: number, b: number): number { return this.next(['random.uniform', 'np.random.uniform'], [a, b]) as number; }
  choice<T>(seq: readonly T[]): T { return this.next(['random.choice'], [seq]) as T; }
  choices<T>(population: readonly T[], weights: readonly number[]): T {
    const v = this.next(['random.choices'], [population, weights]);
    return (Array.isArray(v) ? v[0] : v) as T;
  }
  randint(a: number, b: number): number { return this.next(['random.randint'], [a, b]) as number; }
}
