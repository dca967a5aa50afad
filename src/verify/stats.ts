/**
 * The statistics behind a verification verdict: Pearson's chi-square goodness-of-fit test with its p-value from the
 * regularized upper incomplete gamma function, and adjusted residuals for the per-backend verdicts. Pure.
 */

/** Significance level of every verdict: a distribution is rejected only when p < 0.001 (docs/verification.md). */
export const ALPHA = 0.001;

/** |adjusted residual| above this is a per-backend deviation at two-sided p < 0.001 (informational column). */
export const RESIDUAL_LIMIT = 3.29;

/** ln Γ(x), Lanczos approximation (g = 7, n = 9); accurate to ~1e-15 for x > 0. */
export function lnGamma(x: number): number {
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - lnGamma(1 - x);
  x -= 1;
  let a = c[0]!;
  const t = x + 7.5;
  for (let i = 1; i < 9; i++) a += c[i]! / (x + i);
  return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(a);
}

/** Regularized upper incomplete gamma Q(a, x) = Γ(a, x) / Γ(a) (series below a + 1, continued fraction above). */
export function gammaQ(a: number, x: number): number {
  if (!(a > 0) || x < 0 || Number.isNaN(x)) throw new RangeError(`gammaQ(${a}, ${x}): need a > 0, x >= 0`);
  if (x === 0) return 1;
  const lnPre = -x + a * Math.log(x) - lnGamma(a);
  if (x < a + 1) {
    // P(a, x) by its series; Q = 1 - P
    let sum = 1 / a;
    let term = sum;
    for (let n = 1; n < 1000; n++) {
      term *= x / (a + n);
      sum += term;
      if (Math.abs(term) < Math.abs(sum) * 1e-15) break;
    }
    return Math.max(0, 1 - sum * Math.exp(lnPre));
  }
  // Q(a, x) by Lentz's continued fraction
  const tiny = 1e-300;
  let b = x + 1 - a;
  let c = 1 / tiny;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 1000; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < tiny) d = tiny;
    c = b + an / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < 1e-15) break;
  }
  return Math.min(1, Math.exp(lnPre) * h);
}

/** P(X >= stat) for X ~ chi-square with df degrees of freedom. */
export function chiSquareSurvival(stat: number, df: number): number {
  if (df < 1) return 1;
  return gammaQ(df / 2, stat / 2);
}

export interface ChiSquareResult {
  statistic: number;
  df: number;
  p: number;
  /** smallest expected count: the test is approximate below 5 */
  minExpected: number;
}

/**
 * Pearson's goodness of fit of `observed` counts to `shares` (probabilities summing to 1, all > 0); n = Σ observed.
 * With one category there is nothing to test (p = 1).
 */
export function chiSquareTest(observed: readonly number[], shares: readonly number[]): ChiSquareResult {
  if (observed.length !== shares.length) throw new RangeError('observed and shares differ in length');
  if (shares.some((s) => !(s > 0))) throw new RangeError('every expected share must be > 0 (leave zero-share categories out)');
  const sumShares = shares.reduce((a, b) => a + b, 0);
  const n = observed.reduce((a, b) => a + b, 0);
  let statistic = 0;
  let minExpected = Infinity;
  for (let i = 0; i < observed.length; i++) {
    const e = (n * shares[i]!) / sumShares;
    minExpected = Math.min(minExpected, e);
    if (e > 0) statistic += (observed[i]! - e) ** 2 / e;
  }
  const df = observed.length - 1;
  return { statistic, df, p: n === 0 ? 1 : chiSquareSurvival(statistic, df), minExpected: Number.isFinite(minExpected) ? minExpected : 0 };
}

/** Adjusted (standardized) residual of one category: (O − nπ) / sqrt(nπ(1 − π)); 0 when undefined. */
export function adjustedResidual(observed: number, n: number, share: number): number {
  const e = n * share;
  const v = n * share * (1 - share);
  return v > 0 ? (observed - e) / Math.sqrt(v) : 0;
}
