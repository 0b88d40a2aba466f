/**
 * Information charged for a canonical artifact: Σ log2(|domain|) over its fields, each domain
 * fixed by the kind's bounds and rounding. Fields whose domain depends on an earlier field
 * (a coordinate's on its scan, a value count on a series' shape) are charged as a prefix code,
 * so the charges satisfy Kraft's inequality (Σ over all artifacts of 2^−bits ≤ 1). That is
 * what makes the budget sound: at most 2^B distinct canonical artifacts cost ≤ B bits, so a
 * team that spends B bits can have told the outside at most B bits, whichever artifacts it
 * chose.
 */

/**
 * Rounds a bit count up to 0.001 bit. The 1e-6 slack (a millionth of that step) absorbs
 * floating-point noise in the sum of logarithms, so an exact 3 bits is charged 3, not 3.001.
 */
export function roundBitsUp(bits: number): number {
  return Math.ceil(bits * 1000 - 1e-6) / 1000;
}
