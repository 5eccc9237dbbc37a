// Correctly rounded f64 exp, log and pow for the η schedule (MODEL_SPEC.md §1.2.4).
//
// Why: upstream builds the schedule with Python's math.exp/math.log (glibc, correctly rounded in
// practice) and numpy's power. V8's Math.exp/log/pow (fdlibm ports) are off by an ulp now and then,
// and the schedule raises `increaser` to powers up to T−1, which multiplies a 1-ulp error in the
// base by up to T−1. Evaluating in double-double (≈106 bits) and rounding once gives the correctly
// rounded value, i.e. glibc's answer for exp/log and at most an ulp from numpy's SIMD power.

/** An unevaluated sum hi + lo with |lo| ≤ ulp(hi)/2. */
interface DD { hi: number; lo: number }

function twoSum(a: number, b: number): DD {
  const s = a + b, bb = s - a;
  return { hi: s, lo: (a - (s - bb)) + (b - bb) };
}

function quickTwoSum(a: number, b: number): DD {
  const s = a + b;
  return { hi: s, lo: b - (s - a) };
}

// Veltkamp split (JS has no fma): a = hi + lo with 26-bit halves.
function split(a: number): [number, number] {
  const c = 134217729 * a;
  const hi = c - (c - a);
  return [hi, a - hi];
}

function twoProd(a: number, b: number): DD {
  const p = a * b;
  const [ah, al] = split(a), [bh, bl] = split(b);
  return { hi: p, lo: ((ah * bh - p) + ah * bl + al * bh) + al * bl };
}

function add(a: DD, b: DD): DD {
  const s = twoSum(a.hi, b.hi), t = twoSum(a.lo, b.lo);
  const u = quickTwoSum(s.hi, s.lo + t.hi);
  return quickTwoSum(u.hi, u.lo + t.lo);
}

function mul(a: DD, b: DD): DD {
  const p = twoProd(a.hi, b.hi);
  return quickTwoSum(p.hi, p.lo + (a.hi * b.lo + a.lo * b.hi));
}

function mulD(a: DD, b: number): DD {
  const p = twoProd(a.hi, b);
  return quickTwoSum(p.hi, p.lo + a.lo * b);
}

function divD(a: DD, b: number): DD {
  const q1 = a.hi / b;
  const p = twoProd(q1, b);
  const q2 = ((a.hi - p.hi) - p.lo + a.lo) / b;
  return quickTwoSum(q1, q2);
}

const LN2: DD = { hi: 0.6931471805599453, lo: 2.3190468138462996e-17 };
const SQUARINGS = 10;

/** exp of a double-double, to about 2^-100 relative. */
function expDD(x: DD): DD {
  if (x.hi > 709.8) return { hi: Infinity, lo: 0 };
  if (x.hi < -745.2) return { hi: 0, lo: 0 };
  const k = Math.round(x.hi / LN2.hi);
  // r = (x − k·ln2) / 2^10, so |r| < 3.4e-4 and a short Taylor series suffices.
  const kln2 = add(twoProd(k, LN2.hi), { hi: k * LN2.lo, lo: 0 });
  let r = add(x, { hi: -kln2.hi, lo: -kln2.lo });
  r = { hi: r.hi / 2 ** SQUARINGS, lo: r.lo / 2 ** SQUARINGS };
  // Horner form of 1 + r(1 + r/2(1 + r/3(…))), 14 terms (remainder < 1e-60).
  let p: DD = { hi: 1, lo: 0 };
  for (let n = 14; n >= 1; n--) p = add({ hi: 1, lo: 0 }, divD(mul(r, p), n));
  for (let i = 0; i < SQUARINGS; i++) p = mul(p, p);
  // 2^k may fall outside the double range only for |k| > 1023; split the scaling in two.
  const k1 = Math.trunc(k / 2), k2 = k - k1;
  const s1 = 2 ** k1, s2 = 2 ** k2;
  return { hi: p.hi * s1 * s2, lo: p.lo * s1 * s2 };
}

/** log of a positive double as a double-double: one Newton step y + x·e^−y − 1 from Math.log. */
function logDD(x: number): DD {
  const y0 = Math.log(x);
  const e = expDD({ hi: -y0, lo: 0 });
  const t = add(mulD(e, x), { hi: -1, lo: 0 });
  return add({ hi: y0, lo: 0 }, t);
}

function checkArg(fn: string, x: number): void {
  if (typeof x !== 'number' || Number.isNaN(x)) throw new RangeError(`${fn}(): argument must be a number, got ${String(x)}`);
}

/** exp(x) correctly rounded (glibc's value). */
export function expCR(x: number): number {
  checkArg('expCR', x);
  if (x === 0) return 1;
  if (!Number.isFinite(x)) return x > 0 ? Infinity : 0;
  const r = expDD({ hi: x, lo: 0 });
  return r.hi + r.lo;
}

/** log(x) correctly rounded for x > 0 (glibc's value). */
export function logCR(x: number): number {
  checkArg('logCR', x);
  if (x < 0) return NaN;
  if (x === 0) return -Infinity;
  if (x === 1) return 0;
  if (!Number.isFinite(x)) return Infinity;
  const r = logDD(x);
  return r.hi + r.lo;
}

/** x ** y correctly rounded for x ≥ 0 (the schedule only raises non-negative bases). */
export function powCR(x: number, y: number): number {
  checkArg('powCR', x); checkArg('powCR', y);
  if (y === 0 || x === 1) return 1;
  if (y === 1) return x;
  if (x < 0) throw new RangeError(`powCR(): base must be >= 0, got ${x}`);
  if (x === 0) return y > 0 ? 0 : Infinity;
  if (!Number.isFinite(x) || !Number.isFinite(y)) return Math.pow(x, y);
  const l = logDD(x);
  const r = expDD(mulD(l, y));
  return r.hi + r.lo;
}
