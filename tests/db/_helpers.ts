/** Fresh temporary databases for store tests. */
import { type Db, openDb } from "../../src/db/mod.ts";

/** A store in a new temporary folder, removed on dispose. */
export interface TempDb extends AsyncDisposable {
  db: Db;
  dir: string;
  path: string;
}

/** Opens a fresh SQLite store in a temporary folder. */
export async function tempDb(): Promise<TempDb> {
  const dir = await Deno.makeTempDir({ prefix: "jobs-test-" });
  const path = `${dir}/jobs.sqlite`;
  const db = await openDb(path);
  return {
    db,
    dir,
    path,
    async [Symbol.asyncDispose]() {
      await db.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

/** `n` items keyed k1…kn with data { n: i }. */
export function makeItems(n: number, from = 1): { key: string; data: Record<string, unknown> }[] {
  return Array.from({ length: n }, (_, i) => ({ key: `k${from + i}`, data: { n: from + i } }));
}

/** A clock the test moves by hand. */
export function fakeClock(
  start = Date.UTC(2026, 0, 1),
): { now: () => number; advance(ms: number): void } {
  let t = start;
  return { now: () => t, advance: (ms) => void (t += ms) };
}
