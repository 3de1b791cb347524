import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { runDoctor } from "../../src/doctor/mod.ts";
import { FEED_YAML, project, settle } from "./_seed.ts";
import { admin, PG_ONLY, scratchSchema, TEST_PG_URL } from "../db/_helpers.ts";
import { openDb } from "../../src/db/mod.ts";

import { PG_SCHEMA_VERSION } from "../../src/db/pg/schema.ts";

const HOUR = 3_600_000;

/** A project whose jobs.yaml points at a new schema of the test server; dropped on dispose. */
async function pgProject() {
  const scratch = await scratchSchema(TEST_PG_URL!);
  const p = await project(FEED_YAML.replace("db: jobs.sqlite", `db: "${scratch.url}"`));
  return {
    ...p,
    url: scratch.url,
    async [Symbol.asyncDispose]() {
      await p[Symbol.asyncDispose]();
      await scratch.drop();
    },
  };
}

Deno.test("runDoctor() finds nothing wrong with a healthy PostgreSQL store", PG_ONLY, async () => {
  await using p = await pgProject();
  const db = await openDb(p.url);
  try {
    await db.upsertItems({
      jobId: "feed",
      stages: ["fetch", "parse"],
      items: [{ key: "a", data: {} }],
    });
    await settle(db, { jobId: "feed", stage: "fetch", outcomes: { a: "done" } });
    await settle(db, { jobId: "feed", stage: "parse", outcomes: { a: "done" } });
  } finally {
    await db.close();
  }
  assertEquals(await runDoctor({ configPath: p.configPath }), { findings: [], fixed: [] });
});

Deno.test(
  "runDoctor() reports a PostgreSQL store's expired and long-held claims; --fix releases the expired",
  PG_ONLY,
  async () => {
    await using p = await pgProject();
    const now = Date.now();
    const db = await openDb(p.url);
    try {
      const items = ["a", "b", "c"].map((key) => ({ key, data: {} }));
      await db.upsertItems({ jobId: "feed", stages: ["fetch", "parse"], items });
      await db.registerRun({ runId: "gone", host: "box-1", pid: 99_999_999 });
      await db.registerRun({ runId: "stuck", host: "box-2", pid: 4711 });
      const claim = (runId: string, limit: number, at: number, leaseMs: number) =>
        db.claimBatch({ jobId: "feed", stage: "fetch", runId, limit, leaseMs, now: () => at });
      await claim("gone", 1, now - HOUR, 60_000);
      await claim("stuck", 2, now - 3 * HOUR, 4 * HOUR);
    } finally {
      await db.close();
    }
    const report = await runDoctor({ configPath: p.configPath, now: () => now });
    assertEquals(report.findings.map((f) => [f.id, f.severity, f.job, f.title]), [
      ["leases-expired", "warning", "feed", 'Job "feed" has 1 abandoned claim'],
      [
        "claims-held-long",
        "warning",
        "feed",
        'Job "feed": 2 claims of stage "fetch" held by run stuck for 3h',
      ],
    ]);
    const fixed = await runDoctor({ configPath: p.configPath, now: () => now, fix: true });
    assertEquals(fixed.fixed.map((f) => f.id), ["leases-expired"]);
    assertEquals(fixed.findings.map((f) => f.id), ["claims-held-long"]);
  },
);

Deno.test("runDoctor() refuses a PostgreSQL store with a newer schema", PG_ONLY, async () => {
  await using p = await pgProject();
  await (await openDb(p.url)).close();
  await admin(p.url, (sql) => sql`UPDATE schema_version SET version = version + 1`);
  const { findings } = await runDoctor({ configPath: p.configPath });
  assertEquals(findings.map((f) => [f.id, f.severity, f.title]), [[
    "schema-version",
    "error",
    `The database has schema version ${
      PG_SCHEMA_VERSION + 1
    }, newer than this program's ${PG_SCHEMA_VERSION}`,
  ]]);
});
