/**
 * Vega-Lite spec → SVG text, drawn by Vega's headless renderer (no canvas, no browser). Vega is imported here, on
 * first use, so that commands that write no report never load it.
 */
import type { TopLevelSpec } from 'vega-lite';

export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const [vega, vl] = await Promise.all([import('vega'), import('vega-lite')]);
  const view = new vega.View(vega.parse(vl.compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
