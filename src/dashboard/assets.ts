/** The stylesheet and script, read from src/dashboard/assets (embedded by `deno compile --include`). */

/** A static file the dashboard serves under /assets/. */
export interface Asset {
  body: string;
  contentType: string;
}

const FILES: Record<string, string> = {
  "dashboard.css": "text/css; charset=utf-8",
  "dashboard.js": "text/javascript; charset=utf-8",
};

/** Reads every asset once, by name. */
export async function loadAssets(): Promise<Map<string, Asset>> {
  const assets = new Map<string, Asset>();
  for (const [name, contentType] of Object.entries(FILES)) {
    const body = await Deno.readTextFile(new URL(`./assets/${name}`, import.meta.url));
    assets.set(name, { body, contentType });
  }
  return assets;
}
