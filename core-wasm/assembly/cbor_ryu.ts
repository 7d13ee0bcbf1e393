// Exact number <-> decimal conversions, ported from Ryu (Ulf Adams, "Ryu: fast float-to-string
// conversion", PLDI 2018; github.com/ulfjack/ryu, Apache-2.0 / Boost): d2s for printing a double
// as the shortest decimal that reads back to it (closest one on ties, as JavaScript's
// Number#toString), s2d for reading a decimal of up to 17 significant digits correctly rounded.
// AssemblyScript's own dtoa (Grisu2) and strtod are not exact, hence this file.
import { POW5_INV_SPLIT, POW5_SPLIT } from "./cbor_ryu_tables";

const POW5_INV_BITCOUNT: i32 = 125;
const POW5_BITCOUNT: i32 = 125;

// @ts-ignore: decorator
@inline function pow5bits(e: i32): i32 {
  return ((e * 1217359) >>> 19) + 1;
}
// @ts-ignore: decorator
@inline function log10Pow2(e: i32): i32 {
  return (e * 78913) >>> 18;
}
// @ts-ignore: decorator
@inline function log10Pow5(e: i32): i32 {
  return (e * 732923) >>> 20;
}

function pow5Factor(v: u64): i32 {
  let count = 0;
  while (v % 5 == 0) {
    v /= 5;
    count++;
  }
  return count;
}
// @ts-ignore: decorator
@inline function multipleOfPowerOf5(v: u64, p: i32): bool {
  return pow5Factor(v) >= p;
}
// @ts-ignore: decorator
@inline function multipleOfPowerOf2(v: u64, p: i32): bool {
  return (v & ((<u64>1 << <u64>p) - 1)) == 0;
}

/** High 64 bits of the 128-bit product a * b. */
function umulh(a: u64, b: u64): u64 {
  const aLo = a & 0xffffffff;
  const aHi = a >> 32;
  const bLo = b & 0xffffffff;
  const bHi = b >> 32;
  const p0 = aLo * bLo;
  const p1 = aLo * bHi;
  const p2 = aHi * bLo;
  const p3 = aHi * bHi;
  const mid = (p0 >> 32) + (p1 & 0xffffffff) + (p2 & 0xffffffff);
  return p3 + (p1 >> 32) + (p2 >> 32) + (mid >> 32);
}

/** (m * mul) >> j for the 128-bit table entry `mul` (pointer to [low, high]), 64 < j < 128. */
function mulShift64(m: u64, mul: usize, j: i32): u64 {
  const lo = load<u64>(mul);
  const hi = load<u64>(mul, 8);
  const low1 = m * hi;
  let high1 = umulh(m, hi);
  const high0 = umulh(m, lo);
  const sum = high0 + low1;
  if (sum < high0) high1++;
  const dist = <u64>(j - 64);
  return (high1 << (64 - dist)) | (sum >> dist);
}

// "00" "01" ... "99": two digits per step, and 32-bit division where the value allows it
// (64-bit division is several times slower in WASM).
export const DIGITS2 = memory.data(200);
for (let i = 0; i < 100; i++) {
  store<u8>(DIGITS2 + <usize>(i << 1), <u8>(48 + i / 10));
  store<u8>(DIGITS2 + <usize>(i << 1) + 1, <u8>(48 + i % 10));
}

export function digits32(v: u32): usize {
  return v < 100000
    ? v < 100 ? (v < 10 ? 1 : 2) : v < 1000 ? 3 : v < 10000 ? 4 : 5
    : v < 10000000
    ? (v < 1000000 ? 6 : 7)
    : v < 100000000
    ? 8
    : v < 1000000000
    ? 9
    : 10;
}

/** Writes v (< 2^32) as `n` digits ending at p. */
export function put32(p: usize, v: u32): void {
  while (v >= 100) {
    const r = v % 100;
    v /= 100;
    p -= 2;
    store<u16>(p, load<u16>(DIGITS2 + (<usize>r << 1)));
  }
  if (v >= 10) store<u16>(p - 2, load<u16>(DIGITS2 + (<usize>v << 1)));
  else store<u8>(p - 1, <u8>(48 + v));
}

// Results of d2d: value = decMantissa * 10^decExponent.
let decMantissa: u64 = 0;
let decExponent: i32 = 0;

// State of the common-case digit removal, shared with strip().
let sVr: u64 = 0;
let sVp: u64 = 0;
let sVm: u64 = 0;
let sRemoved: i32 = 0;
let roundUp = false;

/** Removes k digits (d = 10^k, a constant after inlining) while vp and vm still differ. */
// @ts-ignore: decorator
@inline function strip(d: u64, k: i32): void {
  while (true) {
    const vpDiv = sVp / d;
    const vmDiv = sVm / d;
    if (vpDiv <= vmDiv) break;
    const vrDiv = sVr / d;
    roundUp = sVr - d * vrDiv >= d >> 1;
    sVr = vrDiv;
    sVp = vpDiv;
    sVm = vmDiv;
    sRemoved += k;
  }
}

// General-case tracking: whether all removed digits of vm were zero, whether all removed
// digits of vr but the last were zero, and that last (most significant) removed digit.
let gVmTz = false;
let gVrTz = false;
let gLast: u64 = 0;

/** Removes k digits (d = 10^k, d10 = 10^(k-1)) while vp and vm differ, tracking digits. */
// @ts-ignore: decorator
@inline function stripTracked(d: u64, d10: u64, k: i32): void {
  while (true) {
    const vpDiv = sVp / d;
    const vmDiv = sVm / d;
    if (vpDiv <= vmDiv) break;
    const vrDiv = sVr / d;
    const vrMod = sVr - d * vrDiv;
    gVmTz = gVmTz && sVm - d * vmDiv == 0;
    gVrTz = gVrTz && gLast == 0 && vrMod % d10 == 0;
    gLast = vrMod / d10;
    sVr = vrDiv;
    sVp = vpDiv;
    sVm = vmDiv;
    sRemoved += k;
  }
}

/** Removes k digits at a time while those of vm are all zero. */
// @ts-ignore: decorator
@inline function stripZeros(d: u64, d10: u64, k: i32): void {
  while (sVm != 0) {
    const vmDiv = sVm / d;
    if (sVm - d * vmDiv != 0) break;
    const vrDiv = sVr / d;
    const vrMod = sVr - d * vrDiv;
    gVrTz = gVrTz && gLast == 0 && vrMod % d10 == 0;
    gLast = vrMod / d10;
    sVr = vrDiv;
    sVp = sVp / d;
    sVm = vmDiv;
    sRemoved += k;
  }
}

/** Ryu's d2d: the shortest, closest decimal for a finite, positive double's bits. */
function d2d(ieeeMantissa: u64, ieeeExponent: i32): void {
  let e2: i32;
  let m2: u64;
  if (ieeeExponent == 0) {
    e2 = 1 - 1023 - 52 - 2;
    m2 = ieeeMantissa;
  } else {
    e2 = ieeeExponent - 1023 - 52 - 2;
    m2 = (<u64>1 << 52) | ieeeMantissa;
  }
  const acceptBounds = (m2 & 1) == 0;
  const mv = m2 << 2;
  const mmShift: u64 = ieeeMantissa != 0 || ieeeExponent <= 1 ? 1 : 0;

  let vr: u64, vp: u64, vm: u64;
  let e10: i32;
  let vmIsTrailingZeros = false;
  let vrIsTrailingZeros = false;
  if (e2 >= 0) {
    const q = log10Pow2(e2) - (e2 > 3 ? 1 : 0);
    e10 = q;
    const k = POW5_INV_BITCOUNT + pow5bits(q) - 1;
    const i = -e2 + q + k;
    const mul = POW5_INV_SPLIT + (<usize>q << 4);
    vr = mulShift64(mv, mul, i);
    vp = mulShift64(mv + 2, mul, i);
    vm = mulShift64(mv - 1 - mmShift, mul, i);
    if (q <= 21) {
      if (mv % 5 == 0) vrIsTrailingZeros = multipleOfPowerOf5(mv, q);
      else if (acceptBounds) vmIsTrailingZeros = multipleOfPowerOf5(mv - 1 - mmShift, q);
      else vp -= multipleOfPowerOf5(mv + 2, q) ? 1 : 0;
    }
  } else {
    const q = log10Pow5(-e2) - (-e2 > 1 ? 1 : 0);
    e10 = q + e2;
    const i = -e2 - q;
    const k = pow5bits(i) - POW5_BITCOUNT;
    const j = q - k;
    const mul = POW5_SPLIT + (<usize>i << 4);
    vr = mulShift64(mv, mul, j);
    vp = mulShift64(mv + 2, mul, j);
    vm = mulShift64(mv - 1 - mmShift, mul, j);
    if (q <= 1) {
      vrIsTrailingZeros = true;
      if (acceptBounds) vmIsTrailingZeros = mmShift == 1;
      else vp--;
    } else if (q < 63) {
      vrIsTrailingZeros = multipleOfPowerOf2(mv, q);
    }
  }

  let removed = 0;
  let lastRemovedDigit: u64 = 0;
  let output: u64;
  if (vmIsTrailingZeros || vrIsTrailingZeros) {
    // General case (~0.7% of random doubles, but most sensor values: exact binary fractions
    // and float32 widened to double), removing 8, 4, 2, then 1 digits at a time as below.
    sVr = vr;
    sVp = vp;
    sVm = vm;
    sRemoved = 0;
    gVmTz = vmIsTrailingZeros;
    gVrTz = vrIsTrailingZeros;
    gLast = 0;
    stripTracked(100000000, 10000000, 8);
    stripTracked(10000, 1000, 4);
    stripTracked(100, 10, 2);
    stripTracked(10, 1, 1);
    if (gVmTz) {
      stripZeros(100000000, 10000000, 8);
      stripZeros(10000, 1000, 4);
      stripZeros(100, 10, 2);
      stripZeros(10, 1, 1);
    }
    vr = sVr;
    vm = sVm;
    removed = sRemoved;
    vmIsTrailingZeros = gVmTz;
    lastRemovedDigit = gLast;
    if (gVrTz && lastRemovedDigit == 5 && vr % 2 == 0) {
      lastRemovedDigit = 4; // round to even when the exact value ends in ...50..0
    }
    output = vr +
      ((vr == vm && (!acceptBounds || !vmIsTrailingZeros)) || lastRemovedDigit >= 5 ? 1 : 0);
  } else {
    // Common case (~99.3%). Ryu removes one or two digits per step; short outputs (sensor
    // values such as 45.1 drop ~14 digits) go faster removing 8, 4, 2, then 1 at a time. Only
    // the most significant removed digit matters for rounding here: remainder >= half.
    sVr = vr;
    sVp = vp;
    sVm = vm;
    sRemoved = 0;
    roundUp = false;
    strip(100000000, 8);
    strip(10000, 4);
    strip(100, 2);
    strip(10, 1);
    vr = sVr;
    vp = sVp;
    vm = sVm;
    removed += sRemoved;
    output = vr + (vr == vm || roundUp ? 1 : 0);
  }
  decMantissa = output;
  decExponent = e10 + removed;
}

function decimalLength(v: u64): i32 {
  if (v <= 0xffffffff) return <i32>digits32(<u32>v);
  let n = 10;
  for (let t: u64 = 10000000000; v >= t && n < 20; t *= 10) n++;
  return n;
}

// 5^0 .. 5^21 (5^21 < 10^15 <= 5^22).
// deno-fmt-ignore
const POW5 = memory.data<u64>([1, 5, 25, 125, 625, 3125, 15625, 78125, 390625, 1953125,
  9765625, 48828125, 244140625, 1220703125, 6103515625, 30517578125, 152587890625,
  762939453125, 3814697265625, 19073486328125, 95367431640625, 476837158203125]);

/**
 * Fast path for doubles that are short exact binary fractions (1013.25, 23.5, 0.0009765625):
 * m * 2^-k equals the decimal m * 5^k * 10^-k exactly. When that has at most 15 significant
 * digits no shorter decimal is within half an ulp (neighbours differ by about 2^-53 relative, a
 * shorter decimal by at least 10^-15), so it is the shortest and closest: Ryu's answer.
 */
function shortExact(bits: u64): bool {
  const be = <i32>(bits >> 52) & 0x7ff;
  if (be == 0) return false;
  let m = (bits & 0xfffffffffffff) | 0x10000000000000;
  const tz = <i32>ctz(m);
  m >>= <u64>tz;
  const k = 1075 - be - tz; // value = m * 2^-k
  if (k <= 0 || k > 21) return false;
  const p5 = load<u64>(POW5 + (<usize>k << 3));
  if (<f64>m * <f64>p5 >= 9.9e14) return false;
  decMantissa = m * p5;
  decExponent = -k;
  return true;
}

// Exact powers of ten 10^0 .. 10^22.
// deno-fmt-ignore
const POW10F = memory.data<f64>([1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
  1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22]);

/**
 * Fast path for doubles that round-trip through 15 significant digits (sensor readings such as
 * 45.1 or -12.345): n = round(v * 10^k) scaled to at most 15 digits, checked exactly by
 * n / 10^k == v (one correctly rounded division of exact operands). Two 15-digit decimals are
 * further apart than an ulp, so at most one rounds to v; with its trailing zeros removed it is
 * the shortest decimal that does, and the only one of its length: Ryu's answer. Anything else
 * (16-17 digit values, very large or small ones) fails the check and goes to Ryu.
 */
function shortDecimal(v: f64): bool {
  const be = <i32>(reinterpret<u64>(v) >> 52);
  // floor(log10(v)) within one: log10(2) ~ 77/256.
  const e10 = ((be - 1023) * 77) >> 8;
  let k = 14 - e10;
  if (k < 0 || k > 22) return false;
  let x = v * load<f64>(POW10F + (<usize>k << 3));
  if (x >= 1e15) {
    if (--k < 0) return false;
    x = v * load<f64>(POW10F + (<usize>k << 3));
  }
  const n = nearest(x);
  if (n >= 1e15 || n / load<f64>(POW10F + (<usize>k << 3)) != v) return false;
  let m = <u64>n;
  if (m == 0) return false;
  while (m % 10000 == 0 && k >= 4) {
    m /= 10000;
    k -= 4;
  }
  while (m % 10 == 0 && k >= 1) {
    m /= 10;
    k--;
  }
  decMantissa = m;
  decExponent = -k;
  return true;
}

/** The k digits of decMantissa at [p, p + k). */
function writeDigits(p: usize, k: i32): void {
  const m = decMantissa;
  if (m <= 0xffffffff) {
    put32(p + <usize>k, <u32>m);
    return;
  }
  // m < 10^17: the low 8 digits zero-padded, the rest (< 10^9) in front.
  let lo = <u32>(m % 100000000);
  put32(p + <usize>k - 8, <u32>(m / 100000000));
  for (let i: usize = 8; i > 0; i -= 2) {
    store<u16>(p + <usize>k - 10 + i, load<u16>(DIGITS2 + (<usize>(lo % 100) << 1)));
    lo /= 100;
  }
}

/**
 * Writes a finite, non-zero double at `out` exactly as JavaScript's Number#toString does (which
 * JSON.stringify uses); returns the number of bytes written (at most 25).
 */
export function writeDouble(out: usize, v: f64): usize {
  const bits = reinterpret<u64>(v);
  let p = out;
  if (bits >> 63) {
    store<u8>(p, 45);
    p++;
  }
  if (!shortExact(bits) && !shortDecimal(reinterpret<f64>(bits & 0x7fffffffffffffff))) {
    d2d(bits & 0xfffffffffffff, <i32>(bits >> 52) & 0x7ff);
  }
  const k = decimalLength(decMantissa);
  const n = decExponent + k; // the decimal point sits after n digits
  // Digits go straight to where the layout puts them (small memory.copy calls are slow in V8).
  if (k <= n && n <= 21) {
    writeDigits(p, k);
    for (let i = k; i < n; i++) store<u8>(p + <usize>i, 48);
    return p + <usize>n - out;
  }
  if (0 < n && n <= 21) {
    writeDigits(p + 1, k);
    for (let i: usize = 0; i < <usize>n; i++) store<u8>(p + i, load<u8>(p + i + 1));
    store<u8>(p + <usize>n, 46);
    return p + <usize>k + 1 - out;
  }
  if (-6 < n && n <= 0) {
    const z = <usize>(2 - n);
    writeDigits(p + z, k);
    store<u8>(p, 48);
    store<u8>(p + 1, 46);
    for (let i: usize = 2; i < z; i++) store<u8>(p + i, 48);
    return p + z + <usize>k - out;
  }
  // Exponent form: d[.ddd]e+x
  writeDigits(p + 1, k);
  store<u8>(p, load<u8>(p + 1));
  let q = p + 1;
  if (k > 1) {
    store<u8>(p + 1, 46);
    q = p + <usize>k + 1;
  }
  store<u8>(q, 101);
  let e = n - 1;
  store<u8>(q + 1, e < 0 ? 45 : 43);
  if (e < 0) e = -e;
  q += 2;
  if (e >= 100) {
    store<u8>(q, <u8>(48 + e / 100));
    q++;
  }
  if (e >= 10) {
    store<u8>(q, <u8>(48 + (e / 10) % 10));
    q++;
  }
  store<u8>(q, <u8>(48 + e % 10));
  return q + 1 - out;
}

/**
 * Ryu's s2d: the double nearest to m10 * 10^e10 (ties to even), m10 < 10^17, m10 > 0.
 */
export function decimalToDouble(m10: u64, e10: i32): f64 {
  const m10digits = decimalLength(m10);
  if (m10digits + e10 <= -324) return 0;
  if (m10digits + e10 >= 310) return Infinity;
  let e2: i32;
  let m2: u64;
  let trailingZeros: bool;
  const floorLog2m10 = 63 - <i32>clz(m10);
  if (e10 >= 0) {
    e2 = floorLog2m10 + e10 + (pow5bits(e10) - 1) - 53;
    const j = e2 - e10 - pow5bits(e10) + POW5_BITCOUNT;
    m2 = mulShift64(m10, POW5_SPLIT + (<usize>e10 << 4), j);
    trailingZeros = e2 < e10 || (e2 - e10 < 64 && multipleOfPowerOf2(m10, e2 - e10));
  } else {
    e2 = floorLog2m10 + e10 - pow5bits(-e10) - 53;
    const j = e2 - e10 + pow5bits(-e10) - 1 + POW5_INV_BITCOUNT;
    m2 = mulShift64(m10, POW5_INV_SPLIT + (<usize>-e10 << 4), j);
    trailingZeros = multipleOfPowerOf5(m10, -e10);
  }
  const ieeeE2 = max(0, e2 + 1023 + (63 - <i32>clz(m2)));
  if (ieeeE2 > 0x7fe) return Infinity;
  const shift = <u64>((ieeeE2 == 0 ? 1 : ieeeE2) - e2 - 1023 - 52);
  trailingZeros = trailingZeros && (m2 & ((<u64>1 << (shift - 1)) - 1)) == 0;
  const lastRemovedBit = (m2 >> (shift - 1)) & 1;
  const roundUp = lastRemovedBit != 0 && (!trailingZeros || ((m2 >> shift) & 1) != 0);
  let ieeeM2 = (m2 >> shift) + (roundUp ? 1 : 0);
  let e = <u64>ieeeE2;
  ieeeM2 &= (<u64>1 << 52) - 1;
  if (ieeeM2 == 0 && roundUp) e++;
  return reinterpret<f64>((e << 52) | ieeeM2);
}
