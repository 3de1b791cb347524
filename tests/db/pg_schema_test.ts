import { deepStrictEqual as assertEquals, rejects as assertRejects } from "node:assert/strict";
import {
  admin,
  assertValidatorsPerJob,
  makeItems,
  PG_ONLY,
  scratchSchema,
  TEST_PG_URL,
} from "./_helpers.ts";
import { openDb } from "../../src/db/mod.ts";
import { PG_SCHEMA_VERSION } from "../../src/db/pg/schema.ts";
import { redactUrl } from "../../src/util/url.ts";
import type { StoreError } from "../../src/util/errors.ts";

/** The schema_version row of the scratch schema in `url`. */
async function storedVersion(url: string): Promise<number[]> {
  let versions: number[] = [];
  await admin(url, async (sql) => {
    versions = (await sql<{ version: number }[]>`SELECT version FROM schema_version`)
      .map((r) => r.version);
  });
  return versions;
}

Deno.test(
  "a new PostgreSQL database is migrated, its version kept in schema_version",
  PG_ONLY,
  async () => {
    const scratch = await scratchSchema(TEST_PG_URL!);
    try {
      const db = await openDb(scratch.url);
      assertEquals(db.location, redactUrl(scratch.url));
      await db.upsertItems({ jobId: "j", stages: ["a"], items: makeItems(3) });
      await db.close();
      assertEquals(await storedVersion(scratch.url), [PG_SCHEMA_VERSION]);
      // Reopening keeps the data and migrates nothing.
      const again = await openDb(scratch.url);
      assertEquals((await again.stageStats("j"))[0].pending, 3);
      await again.close();
      assertEquals(await storedVersion(scratch.url), [PG_SCHEMA_VERSION]);
    } finally {
      await scratch.drop();
    }
  },
);

Deno.test(
  "a PostgreSQL database of the version before crashes were counted gets the columns, 0 for every stage",
  PG_ONLY,
  async () => {
    const scratch = await scratchSchema(TEST_PG_URL!);
    try {
      const db = await openDb(scratch.url);
      await db.upsertItems({ jobId: "j", stages: ["a"], items: makeItems(2) });
      await db.close();
      await admin(scratch.url, async (sql) => {
        // The crashes column came one migration before validators were kept per job, two
        // before starts were noted.
        await sql`ALTER TABLE item_stages DROP COLUMN started`;
        await sql`ALTER TABLE item_stages DROP COLUMN crashes`;
        await sql`UPDATE schema_version SET version = ${PG_SCHEMA_VERSION - 3}`;
      });
      const again = await openDb(scratch.url);
      try {
        assertEquals(await storedVersion(scratch.url), [PG_SCHEMA_VERSION]);
        const claims = await again.claimBatch({
          jobId: "j",
          stage: "a",
          runId: "r",
          limit: 5,
          leaseMs: 1000,
        });
        assertEquals(claims.map((c) => [c.attempts, c.crashes]), [[1, 0], [1, 0]]);
        await again.markStarted({ runId: "r", items: [claims[0]] });
      } finally {
        await again.close();
      }
      await admin(scratch.url, async (sql) => {
        const rows = await sql<{ started: number }[]>`
          SELECT started FROM item_stages ORDER BY item_id`;
        assertEquals(rows.map((r) => r.started), [1, 0]);
      });
    } finally {
      await scratch.drop();
    }
  },
);

Deno.test(
  "processes opening a new PostgreSQL database at once migrate it once",
  PG_ONLY,
  async () => {
    const scratch = await scratchSchema(TEST_PG_URL!);
    try {
      const dbs = await Promise.all([1, 2, 3, 4].map(() => openDb(scratch.url)));
      await Promise.all(dbs.map((db) => db.close()));
      assertEquals(await storedVersion(scratch.url), [PG_SCHEMA_VERSION]);
    } finally {
      await scratch.drop();
    }
  },
);

Deno.test(
  "a PostgreSQL database newer than the program is refused with a clear message",
  PG_ONLY,
  async () => {
    const scratch = await scratchSchema(TEST_PG_URL!);
    try {
      await (await openDb(scratch.url)).close();
      await admin(scratch.url, (sql) => sql`UPDATE schema_version SET version = version + 1`);
      await assertRejects(openDb(scratch.url), {
        name: "StoreError",
        message: `Database "${redactUrl(scratch.url)}" has schema version ${
          PG_SCHEMA_VERSION + 1
        }, newer than this program's ${PG_SCHEMA_VERSION}: upgrade jobctl before using it`,
      });
    } finally {
      await scratch.drop();
    }
  },
);

Deno.test(
  "read-only opens refuse an empty PostgreSQL database and every write",
  PG_ONLY,
  async () => {
    const scratch = await scratchSchema(TEST_PG_URL!);
    try {
      // An empty schema holds no store: a read-only caller (a dry run) may treat it as empty.
      const refusal = await openDb(scratch.url, { readOnly: true }).then(
        () => undefined,
        (err: StoreError) => err,
      );
      assertEquals(refusal?.message, `Database "${redactUrl(scratch.url)}" holds no store yet`);
      assertEquals(refusal?.problem, "missing");
      assertEquals(await storedVersion(scratch.url).catch(() => "no table"), "no table");
      await (await openDb(scratch.url)).close();
      const reader = await openDb(scratch.url, { readOnly: true });
      try {
        await assertRejects(
          reader.upsertItems({ jobId: "j", stages: ["a"], items: makeItems(1) }),
          /read-only transaction/,
        );
      } finally {
        await reader.close();
      }
    } finally {
      await scratch.drop();
    }
  },
);

Deno.test("a connection error names the database without its password", PG_ONLY, async () => {
  const url = new URL(TEST_PG_URL!);
  const password = decodeURIComponent(url.password);
  url.password = `${password}-wrong`;
  await assertRejects(openDb(url.toString()), (err: Error) => {
    assertEquals(err.name, "StoreError");
    const shown = new URL(url);
    shown.password = "***";
    assertEquals(err.message.startsWith(`Cannot connect to database "${shown}": `), true);
    assertEquals(err.message.includes(password), false);
    assertEquals(err.message.includes("password authentication failed"), true);
    return true;
  });
  // Nothing listens on port 1.
  url.port = "1";
  await assertRejects(openDb(url.toString()), (err: Error) => {
    assertEquals(err.name, "StoreError");
    assertEquals(err.message.includes(password), false);
    return true;
  });
});

Deno.test("redactUrl() hides the password and keeps the rest", () => {
  assertEquals(
    redactUrl("postgres://jobs:s3cr%40t@db.internal:5433/jobs?sslmode=require"),
    "postgres://jobs:***@db.internal:5433/jobs?sslmode=require",
  );
  assertEquals(redactUrl("postgresql://db.internal/jobs"), "postgresql://db.internal/jobs");
});

Deno.test(
  "a PostgreSQL database whose validators were kept per URL drops them for per-job ones",
  PG_ONLY,
  async () => {
    const scratch = await scratchSchema(TEST_PG_URL!);
    try {
      await (await openDb(scratch.url)).close();
      await admin(scratch.url, async (sql) => {
        await sql`DROP TABLE http_cache`;
        await sql`CREATE TABLE http_cache (url text PRIMARY KEY, etag text, last_modified text,
          checked_at bigint NOT NULL)`;
        await sql`INSERT INTO http_cache VALUES ('https://a.test/feed', '"1"', NULL, 1)`;
        await sql`ALTER TABLE item_stages DROP COLUMN started`;
        await sql`UPDATE schema_version SET version = ${PG_SCHEMA_VERSION - 2}`;
      });
      const again = await openDb(scratch.url);
      try {
        assertEquals(await storedVersion(scratch.url), [PG_SCHEMA_VERSION]);
        await assertValidatorsPerJob(again);
      } finally {
        await again.close();
      }
    } finally {
      await scratch.drop();
    }
  },
);
