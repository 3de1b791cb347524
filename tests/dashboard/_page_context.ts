/** A PageContext on a fresh store and the dashboard tests' jobs.yaml, for page unit tests. */
import { loadConfig } from "../../src/config/load.ts";
import type { PageContext } from "../../src/dashboard/context.ts";
import { CostHistory } from "../../src/dashboard/cost_history.ts";
import { tempDb } from "../db/_helpers.ts";
import { JOBS_YAML, seed } from "./_seed.ts";

/** The time the pages are rendered at. */
export const NOW = Date.UTC(2026, 10, 28, 10, 0, 0);

/** A page context on an empty store, or one seeded by seed(); disposing removes it. */
export async function pageContext(
  options: { seeded?: boolean } = {},
): Promise<PageContext & AsyncDisposable> {
  const store = await tempDb();
  await Deno.writeTextFile(`${store.dir}/jobs.yaml`, JOBS_YAML);
  if (options.seeded) await seed(store.path, NOW);
  return {
    db: store.db,
    config: await loadConfig(`${store.dir}/jobs.yaml`),
    csrfToken: "csrf",
    now: () => NOW,
    costHistory: new CostHistory(),
    [Symbol.asyncDispose]: () => store[Symbol.asyncDispose](),
  };
}

/** The text (whitespace collapsed) up to the first tag inside each element `open` starts. */
export function texts(html: string, open: string): string[] {
  const pattern = new RegExp(`${open}[^>]*>([^<]*)<`, "g");
  return [...html.matchAll(pattern)].map((m) => m[1].replace(/\s+/g, " "));
}
