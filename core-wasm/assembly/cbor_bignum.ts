// Exact comparison of a long decimal with the midpoint between two doubles: the rare last step
// of correctly rounded parsing when a JSON number has more than 17 significant digits (Ryu's
// s2d takes 17). Fixed-size little-endian u32 limbs in static memory; no allocation.

const LIMBS: i32 = 192; // 6144 bits: 800 digits (2658 bits) times 2^1130, with room to spare
const A = memory.data(LIMBS << 2, 16);
const B = memory.data(LIMBS << 2, 16);
let na: i32 = 0;
let nb: i32 = 0;

/** x = x * k + add; returns the new length. */
function mulAdd(x: usize, n: i32, k: u32, add: u32): i32 {
  let carry: u64 = add;
  for (let i = 0; i < n; i++) {
    const p = x + (<usize>i << 2);
    const v = <u64>load<u32>(p) * k + carry;
    store<u32>(p, <u32>v);
    carry = v >> 32;
  }
  if (carry && n < LIMBS) {
    store<u32>(x + (<usize>n << 2), <u32>carry);
    n++;
  }
  return n;
}

function mulPow10(x: usize, n: i32, e: i32): i32 {
  for (; e >= 9; e -= 9) n = mulAdd(x, n, 1000000000, 0);
  let k: u32 = 1;
  for (; e > 0; e--) k *= 10;
  return k > 1 ? mulAdd(x, n, k, 0) : n;
}

function mulPow2(x: usize, n: i32, e: i32): i32 {
  const words = e >> 5;
  const bits = e & 31;
  if (bits) n = mulAdd(x, n, <u32>1 << <u32>bits, 0);
  if (words && n > 0) {
    const m = min(n + words, LIMBS);
    for (let i = m - 1; i >= words; i--) {
      store<u32>(x + (<usize>i << 2), load<u32>(x + (<usize>(i - words) << 2)));
    }
    for (let i = 0; i < words; i++) store<u32>(x + (<usize>i << 2), 0);
    n = m;
  }
  return n;
}

function cmp(): i32 {
  while (na > 0 && load<u32>(A + (<usize>(na - 1) << 2)) == 0) na--;
  while (nb > 0 && load<u32>(B + (<usize>(nb - 1) << 2)) == 0) nb--;
  if (na != nb) return na < nb ? -1 : 1;
  for (let i = na - 1; i >= 0; i--) {
    const a = load<u32>(A + (<usize>i << 2));
    const b = load<u32>(B + (<usize>i << 2));
    if (a != b) return a < b ? -1 : 1;
  }
  return 0;
}

// The decimal D * 10^e10 is built digit by digit with bigDigit(), then compared.
export function bigReset(): void {
  na = 0;
}

/** Appends one decimal digit to D. */
export function bigDigit(d: u32): void {
  na = mulAdd(A, na, 10, d);
}

/**
 * Compares D * 10^e10 with (2 * m1 + 1) * 2^(e1 - 1), the midpoint above the double m1 * 2^e1.
 * Returns -1, 0 or 1.
 */
export function bigCompareMidpoint(e10: i32, m1: u64, e1: i32): i32 {
  const mid = (m1 << 1) | 1;
  store<u32>(B, <u32>mid);
  store<u32>(B + 4, <u32>(mid >> 32));
  nb = 2;
  if (e10 >= 0) na = mulPow10(A, na, e10);
  else nb = mulPow10(B, nb, -e10);
  if (e1 - 1 >= 0) nb = mulPow2(B, nb, e1 - 1);
  else na = mulPow2(A, na, 1 - e1);
  return cmp();
}
