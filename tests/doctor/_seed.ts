/** Projects (a jobs.yaml, its handler files and a store) to seed problems into for doctor tests. */
import type { Store } from "../../src/db/store.ts";
import { join } from "node:path";

import { openDb } from "../../src/db/mod.ts";

/** A job of "feed" with a module stage "fetch" and a command stage "parse". */
export const FEED_YAML = `db: jobs.sqlite
jobs:
  feed:
    discovery: { strategy: static, items: [{ key: a }] }
    stages:
      - name: fetch
        handler: ./handlers/fetch.ts
      - name: parse
        command: [sh, -c, cat]
`;

/** A temporary folder with a jobs.yaml and handler files; removed on dispose. */
export interface Project extends AsyncDisposable {
  dir: string;
  configPath: string;
  dbPath: string;
  /** Opens the project's store (creating it), closed on dispose unless closed before. */
  open(): Promise<Store>;
}

/** Writes `yaml` as jobs.yaml (default FEED_YAML) and handlers/fetch.ts into a new folder. */
export async function project(yaml: string = FEED_YAML): Promise<Project> {
  const dir = await Deno.makeTempDir({ prefix: "jobs-doctor-" });
  await Deno.mkdir(join(dir, "handlers"));
  await Deno.writeTextFile(join(dir, "handlers/fetch.ts"), "export default () => ({});\n");
  await Deno.writeTextFile(join(dir, "jobs.yaml"), yaml);
  const opened: Store[] = [];
  return {
    dir,
    configPath: join(dir, "jobs.yaml"),
    dbPath: join(dir, "jobs.sqlite"),
    async open() {
      const db = await openDb(join(dir, "jobs.sqlite"));
      opened.push(db);
      return db;
    },
    async [Symbol.asyncDispose]() {
      for (const db of opened) await db.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

/**
 * Claims every claimable row of `stage` and records each outcome: "done" (result made by
 * handler version "1"), or an error text that fails the stage for good.
 */
export async function settle(
  db: Store,
  options: { jobId: string; stage: string; outcomes: Record<string, string> },
): Promise<void> {
  const { jobId, stage, outcomes } = options;
  const runId = "seed";
  const claims = await db.claimBatch({ jobId, stage, runId, limit: 1000, leaseMs: 60_000 });
  const done = claims.filter((c) => outcomes[c.key] === "done");
  await db.markDone({
    jobId,
    runId,
    items: done.map((c) => ({
      itemId: c.itemId,
      stage,
      position: c.position,
      result: { ok: true },
      handlerVersion: "1",
    })),
  });
  await db.markFailed({
    jobId,
    runId,
    items: claims.filter((c) => outcomes[c.key] !== "done").map((c) => ({
      itemId: c.itemId,
      stage,
      error: outcomes[c.key] ?? "unlisted",
      permanent: true,
      retries: 0,
      backoffMs: 1000,
    })),
  });
}
