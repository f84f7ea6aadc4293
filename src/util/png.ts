// SVG → PNG through @resvg/resvg-js (an optional dependency: prebuilt native binaries inside npm
// packages, no network at run time). Without it — or on a platform it has no binary for — plots stay
// SVG only and `svgToPng` returns null. Text uses the system's fonts; a machine with none gets the
// curves and axes but no labels.
import { createRequire } from 'node:module';

type ResvgCtor = new (svg: string, opts?: { font?: { loadSystemFonts?: boolean }; background?: string }) => { render(): { asPng(): Buffer } };

let resvg: ResvgCtor | null | undefined;

function load(): ResvgCtor | null {
  if (resvg !== undefined) return resvg;
  try { resvg = (createRequire(import.meta.url)('@resvg/resvg-js') as { Resvg: ResvgCtor }).Resvg; } catch { resvg = null; }
  return resvg;
}

/** PNG bytes of an SVG image, or null when @resvg/resvg-js is not installed here */
export function svgToPng(svg: string): Buffer | null {
  const R = load();
  return R ? new R(svg, { font: { loadSystemFonts: true }, background: 'white' }).render().asPng() : null;
}
