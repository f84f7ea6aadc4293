// Least squares with standard errors, and Student-t quantiles for their confidence intervals.
// Written here (no stats package): a straight line, a parabola and the incomplete beta function are
// all the scaling fits need.

export interface LineFit {
  /** y = intercept + slope·x */
  intercept: number;
  slope: number;
  seIntercept: number;
  seSlope: number;
  /** residual standard deviation (n − 2 degrees of freedom) */
  sigma: number;
  r2: number;
  n: number;
  /** mean of x and Σ(x − x̄)², for prediction intervals */
  xMean: number;
  sxx: number;
}

export class FitError extends Error {
  constructor(msg: string) { super(msg); this.name = 'FitError'; }
}

/** ordinary least squares of y on x; needs at least 3 points for a standard error */
export function fitLine(x: number[], y: number[], what = 'line'): LineFit {
  const n = x.length;
  if (n !== y.length) throw new FitError(`${what}: ${n} x values but ${y.length} y values`);
  if (n < 3) throw new FitError(`${what}: ${n} usable point${n === 1 ? '' : 's'}; a fit with a confidence interval needs at least 3`);
  const mx = mean(x), my = mean(y);
  let sxx = 0, sxy = 0, syy = 0;
  for (let i = 0; i < n; i++) { sxx += (x[i] - mx) ** 2; sxy += (x[i] - mx) * (y[i] - my); syy += (y[i] - my) ** 2; }
  if (!(sxx > 0)) throw new FitError(`${what}: all ${n} points have the same x; the slope is undetermined (need at least 2 distinct x values)`);
  const slope = sxy / sxx, intercept = my - slope * mx;
  let sse = 0;
  for (let i = 0; i < n; i++) sse += (y[i] - intercept - slope * x[i]) ** 2;
  const sigma = Math.sqrt(sse / (n - 2));
  return {
    intercept, slope, sigma, n, xMean: mx, sxx,
    seSlope: sigma / Math.sqrt(sxx),
    seIntercept: sigma * Math.sqrt(1 / n + (mx * mx) / sxx),
    r2: syy > 0 ? 1 - sse / syy : 1,
  };
}

export interface ParabolaFit { a: number; b: number; c: number; n: number }

/** y = a + b·x + c·x² by least squares (normal equations, x centred for conditioning) */
export function fitParabola(x: number[], y: number[], what = 'parabola'): ParabolaFit {
  const n = x.length;
  if (n < 3) throw new FitError(`${what}: ${n} usable point${n === 1 ? '' : 's'}; a parabola needs at least 3`);
  if (new Set(x).size < 3) throw new FitError(`${what}: needs at least 3 distinct x values, got ${new Set(x).size}`);
  const m = mean(x);
  const S = [0, 0, 0, 0, 0], T = [0, 0, 0];
  for (let i = 0; i < n; i++) {
    const u = x[i] - m;
    let p = 1;
    for (let k = 0; k < 5; k++) { S[k] += p; if (k < 3) T[k] += p * y[i]; p *= u; }
  }
  const [a0, b0, c0] = solve3([[S[0], S[1], S[2]], [S[1], S[2], S[3]], [S[2], S[3], S[4]]], T);
  // back from u = x − m: a0 + b0(x−m) + c0(x−m)²
  return { a: a0 - b0 * m + c0 * m * m, b: b0 - 2 * c0 * m, c: c0, n };
}

function solve3(A: number[][], b: number[]): number[] {
  const M = A.map((r, i) => [...r, b[i]]);
  for (let col = 0; col < 3; col++) {
    let piv = col;
    for (let r = col + 1; r < 3; r++) if (Math.abs(M[r][col]) > Math.abs(M[piv][col])) piv = r;
    [M[col], M[piv]] = [M[piv], M[col]];
    if (Math.abs(M[col][col]) < 1e-300) throw new FitError('parabola: singular system');
    for (let r = 0; r < 3; r++) {
      if (r === col) continue;
      const f = M[r][col] / M[col][col];
      for (let k = col; k < 4; k++) M[r][k] -= f * M[col][k];
    }
  }
  return [M[0][3] / M[0][0], M[1][3] / M[1][1], M[2][3] / M[2][2]];
}

export const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;

/** ln Γ(x), Lanczos approximation (g = 7, 9 terms) */
function lgamma(x: number): number {
  const g = [0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7];
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - lgamma(1 - x);
  x -= 1;
  let a = g[0];
  const t = x + 7.5;
  for (let i = 1; i < 9; i++) a += g[i] / (x + i);
  return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(a);
}

/** regularized incomplete beta I_x(a, b) by Lentz's continued fraction */
function betaInc(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(lgamma(a + b) - lgamma(a) - lgamma(b) + a * Math.log(x) + b * Math.log(1 - x));
  if (x > (a + 1) / (a + b + 2)) return 1 - betaInc(1 - x, b, a);
  let f = 1, c = 1, d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < 1e-300) d = 1e-300;
  d = 1 / d; f = d;
  for (let m = 1; m <= 300; m++) {
    for (const k of [0, 1]) {
      const num = k === 0 ? (m * (b - m) * x) / ((a + 2 * m - 1) * (a + 2 * m)) : -((a + m) * (a + b + m) * x) / ((a + 2 * m) * (a + 2 * m + 1));
      d = 1 + num * d; if (Math.abs(d) < 1e-300) d = 1e-300; d = 1 / d;
      c = 1 + num / c; if (Math.abs(c) < 1e-300) c = 1e-300;
      f *= c * d;
    }
    if (Math.abs(c * d - 1) < 1e-14) break;
  }
  return (front * f) / a;
}

/** P(T ≤ t) for Student's t with ν degrees of freedom */
export function tCdf(t: number, nu: number): number {
  const p = 0.5 * betaInc(nu / (nu + t * t), nu / 2, 0.5);
  return t >= 0 ? 1 - p : p;
}

/** the t value with P(T ≤ t) = p (bisection; p in (0, 1)) */
export function tQuantile(p: number, nu: number): number {
  let lo = -1e3, hi = 1e3;
  for (let i = 0; i < 200; i++) {
    const mid = (lo + hi) / 2;
    if (tCdf(mid, nu) < p) lo = mid; else hi = mid;
  }
  return (lo + hi) / 2;
}
