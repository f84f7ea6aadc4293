// Minimal SVG line charts (loss and LR curves, scaling fits). Written here rather than pulled from a
// plotting package: charts are a few polylines with axes, and SVG needs no native renderer.
export interface Series {
  name: string; x: number[]; y: number[]; color?: string; dashed?: boolean;
  /** draw a dot at each point (scatter plots); with `noLine`, dots only */
  markers?: boolean; noLine?: boolean;
}
export interface ChartOptions { title: string; xLabel: string; yLabel: string; logX?: boolean; logY?: boolean; width?: number; height?: number }

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b'];

function ticks(lo: number, hi: number, n = 5): number[] {
  if (!(hi > lo)) return [lo];
  const step = Math.pow(10, Math.floor(Math.log10((hi - lo) / n)));
  const m = [1, 2, 5, 10].find((k) => (hi - lo) / (k * step) <= n) ?? 10;
  const s = m * step, out: number[] = [];
  if (lo + s === lo || hi + s === hi) return [lo]; // a range below float resolution would never advance
  for (let v = Math.ceil(lo / s) * s; v <= hi + 1e-12; v += s) out.push(v);
  return out;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
const fmt = (v: number) => (Math.abs(v) >= 1e4 || (Math.abs(v) < 1e-2 && v !== 0) ? v.toExponential(1) : String(+v.toPrecision(3)));

export function lineChart(series: Series[], o: ChartOptions): string {
  const W = o.width ?? 640, H = o.height ?? 400, L = 70, R = 20, T = 40, B = 50;
  const tx = (v: number) => (o.logX ? Math.log10(v) : v), ty = (v: number) => (o.logY ? Math.log10(v) : v);
  const xs = series.flatMap((s) => s.x.map(tx)).filter(Number.isFinite), ys = series.flatMap((s) => s.y.map(ty)).filter(Number.isFinite);
  let [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  // a flat range (or one only rounding wide) gets a unit of room either side
  const flat = (a: number, b: number) => b - a <= 1e-9 * Math.max(1, Math.abs(a));
  if (flat(x0, x1)) { x0 -= 1; x1 += 1; }
  if (flat(y0, y1)) { y0 -= 1; y1 += 1; }
  const pad = (y1 - y0) * 0.05; y0 -= pad; y1 += pad;
  const px = (v: number) => L + ((tx(v) - x0) / (x1 - x0)) * (W - L - R);
  const py = (v: number) => H - B - ((ty(v) - y0) / (y1 - y0)) * (H - T - B);
  const parts = [`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${W / 2}" y="22" text-anchor="middle" font-size="15">${esc(o.title)}</text>`,
    `<line x1="${L}" y1="${H - B}" x2="${W - R}" y2="${H - B}" stroke="black"/><line x1="${L}" y1="${T}" x2="${L}" y2="${H - B}" stroke="black"/>`];
  for (const t of ticks(x0, x1)) {
    const v = o.logX ? Math.pow(10, t) : t, x = px(v);
    parts.push(`<line x1="${x}" y1="${H - B}" x2="${x}" y2="${H - B + 5}" stroke="black"/><text x="${x}" y="${H - B + 18}" text-anchor="middle">${fmt(v)}</text>`);
  }
  for (const t of ticks(y0, y1)) {
    const v = o.logY ? Math.pow(10, t) : t, y = py(v);
    parts.push(`<line x1="${L - 5}" y1="${y}" x2="${W - R}" y2="${y}" stroke="#ddd"/><text x="${L - 8}" y="${y + 4}" text-anchor="end">${fmt(v)}</text>`);
  }
  parts.push(`<text x="${W / 2}" y="${H - 12}" text-anchor="middle">${esc(o.xLabel)}</text>`,
    `<text x="16" y="${H / 2}" text-anchor="middle" transform="rotate(-90 16 ${H / 2})">${esc(o.yLabel)}</text>`);
  series.forEach((s, i) => {
    const c = s.color ?? COLORS[i % COLORS.length];
    const pts = s.x.map((x, j) => [x, s.y[j]]).filter(([x, y]) => Number.isFinite(tx(x)) && Number.isFinite(ty(y)));
    if (!s.noLine) parts.push(`<polyline fill="none" stroke="${c}" stroke-width="1.5"${s.dashed ? ' stroke-dasharray="5,4"' : ''} points="${pts.map(([x, y]) => `${px(x).toFixed(1)},${py(y).toFixed(1)}`).join(' ')}"/>`);
    if (s.markers || s.noLine) for (const [x, y] of pts) parts.push(`<circle cx="${px(x).toFixed(1)}" cy="${py(y).toFixed(1)}" r="3" fill="${c}"/>`);
    if (s.name) parts.push(`<rect x="${W - R - 150}" y="${T + 6 + i * 16}" width="12" height="3" fill="${c}"/><text x="${W - R - 132}" y="${T + 11 + i * 16}">${esc(s.name)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}
